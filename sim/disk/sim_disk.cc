#include "sim/disk/sim_disk.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"

namespace eddy::sim {
namespace {

using runtime::FileHandle;

absl::Status BadHandle(FileHandle file) {
  return absl::InvalidArgumentError(absl::StrCat("invalid file handle ", file));
}

}  // namespace

SimDisk::SimDisk(runtime::Clock& clock, SimDiskOptions options)
    : clock_(clock), options_(options) {
  directories_.insert("");
}

void SimDisk::Complete(absl::AnyInvocable<void() &&> completion) {
  ++stats_.operations;
  clock_.ScheduleAfter(options_.operation_latency,
                       [this, generation = generation_, completion = std::move(completion)]() mutable {
                         if (generation != generation_) return;  // Crashed since submission.
                         std::move(completion)();
                       });
}

SimDisk::Inode* SimDisk::Find(FileHandle file) const {
  auto it = open_files_.find(file);
  return it == open_files_.end() ? nullptr : it->second.get();
}

absl::Status SimDisk::CheckPath(const std::string& path) const {
  if (path.empty() || path.size() > 4 * limits::kFileNameLengthMax || path.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  const std::string parent(runtime::ParentDirectory(path));
  if (!directories_.contains(parent)) {
    return absl::NotFoundError(absl::StrCat("no directory '", parent, "'"));
  }
  return absl::OkStatus();
}

absl::Status SimDisk::ReserveBytes(uint64_t old_size, uint64_t new_size) {
  if (new_size > old_size && used_bytes_ + (new_size - old_size) > options_.capacity_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("disk full: ", used_bytes_, " of ",
                                                     options_.capacity_bytes, " bytes used"));
  }
  used_bytes_ = used_bytes_ + new_size - old_size;
  return absl::OkStatus();
}

void SimDisk::Open(std::string path, runtime::OpenMode mode, DoneWith<FileHandle> done) {
  absl::StatusOr<FileHandle> result = [&]() -> absl::StatusOr<FileHandle> {
    if (absl::Status status = CheckPath(path); !status.ok()) return status;
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (mode == runtime::OpenMode::kExisting) {
        return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
      }
      it = files_.emplace(path, std::make_shared<Inode>()).first;
    } else if (mode == runtime::OpenMode::kCreateNew) {
      return absl::AlreadyExistsError(absl::StrCat("file '", path, "' exists"));
    }
    const FileHandle handle = next_handle_++;
    open_files_.emplace(handle, it->second);
    return handle;
  }();
  Complete([done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

void SimDisk::Close(FileHandle file, Done done) {
  const absl::Status status = open_files_.erase(file) == 1 ? absl::OkStatus() : BadHandle(file);
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Size(FileHandle file, DoneWith<uint64_t> done) {
  Inode* inode = Find(file);
  absl::StatusOr<uint64_t> result =
      inode == nullptr ? absl::StatusOr<uint64_t>(BadHandle(file)) : inode->data.size();
  Complete([done = std::move(done), result]() mutable { std::move(done)(result); });
}

void SimDisk::Append(FileHandle file, std::vector<uint8_t> data, DoneWith<uint64_t> done) {
  absl::StatusOr<uint64_t> result = [&]() -> absl::StatusOr<uint64_t> {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    const uint64_t position = inode->data.size();
    if (absl::Status status = ReserveBytes(position, position + data.size()); !status.ok()) {
      return status;
    }
    inode->data.insert(inode->data.end(), data.begin(), data.end());
    stats_.bytes_written += data.size();
    return position;
  }();
  Complete([done = std::move(done), result]() mutable { std::move(done)(result); });
}

void SimDisk::WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data, Done done) {
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    const uint64_t old_size = inode->data.size();
    const uint64_t new_size = std::max<uint64_t>(old_size, position + data.size());
    if (absl::Status reserve = ReserveBytes(old_size, new_size); !reserve.ok()) return reserve;
    if (position < old_size) inode->appended_only_since_sync = false;
    inode->data.resize(new_size, 0);
    std::copy(data.begin(), data.end(), inode->data.begin() + position);
    stats_.bytes_written += data.size();
    return absl::OkStatus();
  }();
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::ReadAt(FileHandle file, uint64_t position, uint64_t length_bytes,
                     DoneWith<std::vector<uint8_t>> done) {
  absl::StatusOr<std::vector<uint8_t>> result =
      [&]() -> absl::StatusOr<std::vector<uint8_t>> {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    if (length_bytes > limits::kDiskReadSizeBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("read of ", length_bytes, " bytes too large"));
    }
    if (position >= inode->data.size()) return std::vector<uint8_t>();
    const uint64_t end = std::min<uint64_t>(inode->data.size(), position + length_bytes);
    stats_.bytes_read += end - position;
    return std::vector<uint8_t>(inode->data.begin() + position, inode->data.begin() + end);
  }();
  Complete([done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

void SimDisk::Sync(FileHandle file, Done done) {
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    if (inode->appended_only_since_sync && inode->durable_data.size() <= inode->data.size()) {
      inode->durable_data.insert(inode->durable_data.end(),
                                 inode->data.begin() + inode->durable_data.size(),
                                 inode->data.end());
    } else {
      inode->durable_data = inode->data;
    }
    inode->appended_only_since_sync = true;
    EDDY_CHECK_EQ(inode->durable_data.size(), inode->data.size());
    ++stats_.syncs;
    return absl::OkStatus();
  }();
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Truncate(FileHandle file, uint64_t size_bytes, Done done) {
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    const uint64_t old_size = inode->data.size();
    if (absl::Status reserve = ReserveBytes(old_size, size_bytes); !reserve.ok()) return reserve;
    if (size_bytes < inode->durable_data.size()) inode->appended_only_since_sync = false;
    inode->data.resize(size_bytes, 0);
    return absl::OkStatus();
  }();
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Rename(std::string from, std::string to, Done done) {
  absl::Status status = [&]() -> absl::Status {
    if (absl::Status check = CheckPath(to); !check.ok()) return check;
    auto it = files_.find(from);
    if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file '", from, "'"));
    InodePtr inode = it->second;
    files_.erase(it);
    files_[to] = std::move(inode);
    return absl::OkStatus();
  }();
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Remove(std::string path, Done done) {
  absl::Status status = files_.erase(path) == 1
                            ? absl::OkStatus()
                            : absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  if (status.ok()) {
    used_bytes_ = 0;
    for (const auto& [name, inode] : files_) used_bytes_ += inode->data.size();
  }
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::CreateDirectories(std::string path, Done done) {
  absl::Status status = absl::OkStatus();
  if (path.empty() || path.front() == '/' || path.back() == '/') {
    status = absl::InvalidArgumentError(absl::StrCat("bad directory '", path, "'"));
  } else if (files_.contains(path)) {
    status = absl::AlreadyExistsError(absl::StrCat("'", path, "' is a file"));
  } else {
    for (absl::string_view dir = path; !dir.empty(); dir = runtime::ParentDirectory(dir)) {
      directories_.insert(std::string(dir));
    }
  }
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::List(std::string path, DoneWith<std::vector<std::string>> done) {
  absl::StatusOr<std::vector<std::string>> result =
      [&]() -> absl::StatusOr<std::vector<std::string>> {
    if (!directories_.contains(path)) {
      return absl::NotFoundError(absl::StrCat("no directory '", path, "'"));
    }
    std::vector<std::string> names;  // files_ is ordered, so names come out sorted.
    for (const auto& [file_path, inode] : files_) {
      if (runtime::ParentDirectory(file_path) == path) {
        names.push_back(file_path.substr(path.empty() ? 0 : path.size() + 1));
      }
    }
    return names;
  }();
  Complete([done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

void SimDisk::SyncDirectory(std::string path, Done done) {
  absl::Status status = absl::OkStatus();
  if (!directories_.contains(path)) {
    status = absl::NotFoundError(absl::StrCat("no directory '", path, "'"));
  } else {
    std::erase_if(durable_files_, [&](const auto& entry) {
      return runtime::ParentDirectory(entry.first) == path;
    });
    for (const auto& [file_path, inode] : files_) {
      if (runtime::ParentDirectory(file_path) == path) durable_files_[file_path] = inode;
    }
  }
  Complete([done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Crash(const CrashOptions& options, Random& random) {
  ++generation_;
  ++stats_.crashes;
  open_files_.clear();
  files_ = durable_files_;
  used_bytes_ = 0;
  for (auto& [path, inode] : files_) {
    // What survives of the unsynced appends: a whole-sector prefix of them, maybe torn after.
    std::vector<uint8_t> survivor = inode->durable_data;
    const uint64_t durable_size = survivor.size();
    if (options.keep_unsynced_prefix && inode->appended_only_since_sync &&
        inode->data.size() > durable_size) {
      const uint64_t first_sector = durable_size / runtime::kSectorSizeBytes;
      const uint64_t end_sector = inode->data.size() / runtime::kSectorSizeBytes;
      if (end_sector > first_sector) {
        const uint64_t keep_end =
            runtime::kSectorSizeBytes * random.UniformInRange(first_sector, end_sector);
        if (keep_end > durable_size) {
          survivor.insert(survivor.end(), inode->data.begin() + durable_size,
                          inode->data.begin() + keep_end);
        }
      }
      if (options.tear_last_sector && random.OneIn(2)) {
        const uint64_t torn_start = survivor.size();
        const uint64_t torn_end =
            (torn_start / runtime::kSectorSizeBytes + 1) * runtime::kSectorSizeBytes;
        for (uint64_t i = torn_start; i < torn_end; ++i) {
          survivor.push_back(static_cast<uint8_t>(random.Next()));
        }
        ++stats_.torn_sectors;
      }
    }
    // The crash happened; what survived is now what is on the platter.
    auto fresh = std::make_shared<Inode>();
    fresh->data = survivor;
    fresh->durable_data = std::move(survivor);
    used_bytes_ += fresh->data.size();
    inode = std::move(fresh);
  }
  durable_files_ = files_;
}

const std::vector<uint8_t>& SimDisk::FileContents(const std::string& path) const {
  auto it = files_.find(path);
  EDDY_CHECK_MSG(it != files_.end(), "no file " << path);
  return it->second->data;
}

void SimDisk::CorruptByte(const std::string& path, uint64_t position, uint8_t xor_mask) {
  auto it = files_.find(path);
  EDDY_CHECK_MSG(it != files_.end(), "no file " << path);
  Inode& inode = *it->second;
  EDDY_CHECK_LT(position, inode.data.size());
  inode.data[position] ^= xor_mask;
  if (position < inode.durable_data.size()) inode.durable_data[position] ^= xor_mask;
}

}  // namespace eddy::sim
