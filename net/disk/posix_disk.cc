#include "net/disk/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/check.h"
#include "core/base/limits.h"

namespace eddy::net {
namespace {

using runtime::FileHandle;

// Retries a system call interrupted by a signal.
template <typename Call>
auto RetryOnEintr(Call call) {
  decltype(call()) result;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  return result;
}

bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == ".." || part.size() > limits::kFileNameLengthMax) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ErrnoToStatus(int error_number, absl::string_view operation, absl::string_view path) {
  const std::string message =
      absl::StrCat(operation, " '", path, "': ", std::strerror(error_number));
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(message);
    case EIO:
      return absl::DataLossError(message);
    case EBADF:
    case EINVAL:
    case EISDIR:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

PosixDisk::PosixDisk(runtime::Clock& clock, std::string root_directory)
    : clock_(clock), root_(std::move(root_directory)) {
  EDDY_CHECK(!root_.empty());
}

PosixDisk::~PosixDisk() {
  for (auto& [handle, file] : open_files_) ::close(file.fd);
}

absl::StatusOr<PosixDisk::OpenFile*> PosixDisk::Find(FileHandle file) {
  auto it = open_files_.find(file);
  if (it == open_files_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid file handle ", file));
  }
  return &it->second;
}

absl::StatusOr<std::string> PosixDisk::Resolve(const std::string& path) const {
  if (!IsSafeRelativePath(path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  return absl::StrCat(root_, "/", path);
}

void PosixDisk::Open(std::string path, runtime::OpenMode mode, DoneWith<FileHandle> done) {
  absl::StatusOr<FileHandle> result = [&]() -> absl::StatusOr<FileHandle> {
    if (open_files_.size() >= kOpenFilesMax) {
      return absl::ResourceExhaustedError(absl::StrCat(open_files_.size(), " files open"));
    }
    auto full_path = Resolve(path);
    if (!full_path.ok()) return full_path.status();
    int flags = O_RDWR | O_CLOEXEC;
    if (mode == runtime::OpenMode::kCreateIfMissing) flags |= O_CREAT;
    if (mode == runtime::OpenMode::kCreateNew) flags |= O_CREAT | O_EXCL;
    const int fd = RetryOnEintr([&] { return ::open(full_path->c_str(), flags, 0644); });
    if (fd < 0) return ErrnoToStatus(errno, "open", path);
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      const int error_number = errno;
      ::close(fd);
      return ErrnoToStatus(error_number, "fstat", path);
    }
    const FileHandle handle = next_handle_++;
    open_files_.emplace(handle, OpenFile{fd, path, static_cast<uint64_t>(info.st_size)});
    return handle;
  }();
  Complete(std::move(done), std::move(result));
}

void PosixDisk::Close(FileHandle file, Done done) {
  absl::Status status = absl::OkStatus();
  auto it = open_files_.find(file);
  if (it == open_files_.end()) {
    status = absl::InvalidArgumentError(absl::StrCat("invalid file handle ", file));
  } else {
    // close() after EINTR must not be retried on Linux: the descriptor is already released.
    if (::close(it->second.fd) != 0 && errno != EINTR) {
      status = ErrnoToStatus(errno, "close", it->second.path);
    }
    open_files_.erase(it);
  }
  Complete(std::move(done), std::move(status));
}

void PosixDisk::Size(FileHandle file, DoneWith<uint64_t> done) {
  absl::StatusOr<uint64_t> result = [&]() -> absl::StatusOr<uint64_t> {
    auto open_file = Find(file);
    if (!open_file.ok()) return open_file.status();
    return (*open_file)->size_bytes;
  }();
  Complete(std::move(done), std::move(result));
}

absl::StatusOr<uint64_t> PosixDisk::DoAppend(FileHandle file, const std::vector<uint8_t>& data) {
  auto open_file = Find(file);
  if (!open_file.ok()) return open_file.status();
  const uint64_t position = (*open_file)->size_bytes;
  if (absl::Status status = DoWriteAt(file, position, data); !status.ok()) return status;
  return position;
}

absl::Status PosixDisk::DoWriteAt(FileHandle file, uint64_t position,
                                  const std::vector<uint8_t>& data) {
  auto open_file = Find(file);
  if (!open_file.ok()) return open_file.status();
  OpenFile& target = **open_file;
  uint64_t written = 0;
  while (written < data.size()) {
    const ssize_t n = RetryOnEintr([&] {
      return ::pwrite(target.fd, data.data() + written, data.size() - written,
                      static_cast<off_t>(position + written));
    });
    if (n < 0) return ErrnoToStatus(errno, "pwrite", target.path);
    EDDY_CHECK_GT(n, 0);  // pwrite of a non-empty buffer to a regular file never returns 0.
    written += static_cast<uint64_t>(n);
  }
  target.size_bytes = std::max(target.size_bytes, position + data.size());
  return absl::OkStatus();
}

void PosixDisk::Append(FileHandle file, std::vector<uint8_t> data, DoneWith<uint64_t> done) {
  Complete(std::move(done), DoAppend(file, data));
}

void PosixDisk::WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data, Done done) {
  Complete(std::move(done), DoWriteAt(file, position, data));
}

absl::StatusOr<std::vector<uint8_t>> PosixDisk::DoReadAt(FileHandle file, uint64_t position,
                                                         uint64_t length_bytes) {
  auto open_file = Find(file);
  if (!open_file.ok()) return open_file.status();
  if (length_bytes > limits::kDiskReadSizeBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("read of ", length_bytes, " bytes too large"));
  }
  OpenFile& source = **open_file;
  const uint64_t available = position < source.size_bytes ? source.size_bytes - position : 0;
  std::vector<uint8_t> buffer(std::min(length_bytes, available));
  uint64_t read = 0;
  while (read < buffer.size()) {
    const ssize_t n = RetryOnEintr([&] {
      return ::pread(source.fd, buffer.data() + read, buffer.size() - read,
                     static_cast<off_t>(position + read));
    });
    if (n < 0) return ErrnoToStatus(errno, "pread", source.path);
    if (n == 0) break;  // Shorter than we thought (changed outside Eddy): return what is there.
    read += static_cast<uint64_t>(n);
  }
  buffer.resize(read);
  return buffer;
}

void PosixDisk::ReadAt(FileHandle file, uint64_t position, uint64_t length_bytes,
                       DoneWith<std::vector<uint8_t>> done) {
  Complete(std::move(done), DoReadAt(file, position, length_bytes));
}

void PosixDisk::Sync(FileHandle file, Done done) {
  absl::Status status = [&]() -> absl::Status {
    auto open_file = Find(file);
    if (!open_file.ok()) return open_file.status();
    // A failed fdatasync leaves the page cache state unknown; disk.h tells callers to treat
    // everything since the last good sync as lost, so report it and never retry silently.
    if (::fdatasync((*open_file)->fd) != 0) {
      return ErrnoToStatus(errno, "fdatasync", (*open_file)->path);
    }
    return absl::OkStatus();
  }();
  Complete(std::move(done), std::move(status));
}

void PosixDisk::Truncate(FileHandle file, uint64_t size_bytes, Done done) {
  absl::Status status = [&]() -> absl::Status {
    auto open_file = Find(file);
    if (!open_file.ok()) return open_file.status();
    if (RetryOnEintr(
            [&] { return ::ftruncate((*open_file)->fd, static_cast<off_t>(size_bytes)); }) != 0) {
      return ErrnoToStatus(errno, "ftruncate", (*open_file)->path);
    }
    (*open_file)->size_bytes = size_bytes;
    return absl::OkStatus();
  }();
  Complete(std::move(done), std::move(status));
}

void PosixDisk::Rename(std::string from, std::string to, Done done) {
  absl::Status status = [&]() -> absl::Status {
    auto full_from = Resolve(from);
    if (!full_from.ok()) return full_from.status();
    auto full_to = Resolve(to);
    if (!full_to.ok()) return full_to.status();
    if (::rename(full_from->c_str(), full_to->c_str()) != 0) {
      return ErrnoToStatus(errno, "rename", from);
    }
    return absl::OkStatus();
  }();
  Complete(std::move(done), std::move(status));
}

void PosixDisk::Remove(std::string path, Done done) {
  absl::Status status = [&]() -> absl::Status {
    auto full_path = Resolve(path);
    if (!full_path.ok()) return full_path.status();
    if (::unlink(full_path->c_str()) != 0) return ErrnoToStatus(errno, "unlink", path);
    return absl::OkStatus();
  }();
  Complete(std::move(done), std::move(status));
}

void PosixDisk::CreateDirectories(std::string path, Done done) {
  absl::Status status = [&]() -> absl::Status {
    if (!IsSafeRelativePath(path)) {
      return absl::InvalidArgumentError(absl::StrCat("bad directory '", path, "'"));
    }
    std::string prefix = root_;
    for (absl::string_view part : absl::StrSplit(path, '/')) {
      absl::StrAppend(&prefix, "/", part);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoToStatus(errno, "mkdir", path);
      }
    }
    // Make the new entries durable right away: disk.h promises directories are (the simulator
    // does the same), and a log directory that vanishes after a crash would lose synced data.
    return DoSyncDirectory(std::string(runtime::ParentDirectory(path)));
  }();
  Complete(std::move(done), std::move(status));
}

void PosixDisk::List(std::string path, DoneWith<std::vector<std::string>> done) {
  absl::StatusOr<std::vector<std::string>> result =
      [&]() -> absl::StatusOr<std::vector<std::string>> {
    const std::string full_path = path.empty() ? root_ : absl::StrCat(root_, "/", path);
    if (!path.empty() && !IsSafeRelativePath(path)) {
      return absl::InvalidArgumentError(absl::StrCat("bad directory '", path, "'"));
    }
    DIR* directory = ::opendir(full_path.c_str());
    if (directory == nullptr) return ErrnoToStatus(errno, "opendir", path);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(directory)) {
      bool regular = entry->d_type == DT_REG;
      if (entry->d_type == DT_UNKNOWN) {  // Some file systems do not fill d_type.
        struct stat info;
        const std::string entry_path = absl::StrCat(full_path, "/", entry->d_name);
        regular = ::stat(entry_path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
      }
      if (regular) names.emplace_back(entry->d_name);
    }
    ::closedir(directory);
    std::sort(names.begin(), names.end());  // readdir order is arbitrary; callers get bytewise.
    return names;
  }();
  Complete(std::move(done), std::move(result));
}

absl::Status PosixDisk::DoSyncDirectory(const std::string& path) {
  if (!path.empty() && !IsSafeRelativePath(path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad directory '", path, "'"));
  }
  const std::string full_path = path.empty() ? root_ : absl::StrCat(root_, "/", path);
  const int fd = RetryOnEintr([&] { return ::open(full_path.c_str(), O_RDONLY | O_DIRECTORY); });
  if (fd < 0) return ErrnoToStatus(errno, "open directory", path);
  const int result = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (result != 0) return ErrnoToStatus(error_number, "fsync directory", path);
  return absl::OkStatus();
}

void PosixDisk::SyncDirectory(std::string path, Done done) {
  Complete(std::move(done), DoSyncDirectory(path));
}

}  // namespace eddy::net
