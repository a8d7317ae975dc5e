#include "sim/disk/sim_disk.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"
#include "sim/base/rate.h"
#include "sim/trace/digest.h"

namespace eddy::sim {
namespace {

using runtime::FileHandle;

constexpr uint64_t kSector = runtime::kSectorSizeBytes;
// Order key of namespace operations (Open, Rename, Remove, directories); never a valid handle.
constexpr uint64_t kNamespaceKey = runtime::kNoFile;

absl::Status BadHandle(FileHandle file) {
  return absl::InvalidArgumentError(absl::StrCat("invalid file handle ", file));
}

// Operation codes folded into the trace.
enum Operation : uint32_t {
  kOpOpen = 1,
  kOpClose,
  kOpSize,
  kOpAppend,
  kOpWriteAt,
  kOpReadAt,
  kOpSync,
  kOpTruncate,
  kOpRename,
  kOpRemove,
  kOpCreateDirectories,
  kOpList,
  kOpSyncDirectory,
};

void FlipRandomBit(Random& random, uint8_t* bytes, uint64_t size) {
  EDDY_CHECK_GT(size, 0u);
  const uint64_t bit = random.Uniform(size * 8);
  bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
}

// What every path directly in `directory` starts with ("" for the root).
std::string ChildPrefix(const std::string& directory) {
  return directory.empty() ? std::string() : absl::StrCat(directory, "/");
}

// The first entry of `files` at or after `it` that lies directly in the directory whose paths
// start with `prefix` (its name holds no further '/', so runtime::ParentDirectory of it is the
// directory), or files.end(). A path inside a subdirectory jumps past the whole subdirectory
// ('0' is the character after '/'), so a walk costs one step per entry and per subdirectory,
// not per file below the directory.
template <typename Files, typename Iterator>
Iterator SkipToChild(Files& files, const std::string& prefix, Iterator it) {
  while (it != files.end() && it->first.starts_with(prefix)) {
    const size_t slash = it->first.find('/', prefix.size());
    if (slash == std::string::npos) return it;
    it = files.lower_bound(absl::StrCat(absl::string_view(it->first).substr(0, slash), "0"));
  }
  return files.end();
}

}  // namespace

SimDisk::SimDisk(runtime::Clock& clock, SimDiskOptions options)
    : clock_(clock), options_(options), fault_random_(options.fault_seed) {
  directories_.insert("");
}

Duration SimDisk::DrawLatency() {
  Duration latency = options_.operation_latency + faults_.extra_latency;
  if (faults_.latency_jitter_max > Duration::Zero()) {
    latency += Duration::Nanoseconds(
        static_cast<int64_t>(fault_random_.Uniform(faults_.latency_jitter_max.nanoseconds() + 1)));
  }
  if (faults_.latency_spike_max > Duration::Zero() &&
      DrawPpm(fault_random_, faults_.latency_spike_ppm)) {
    latency += Duration::Nanoseconds(
        static_cast<int64_t>(fault_random_.Uniform(faults_.latency_spike_max.nanoseconds() + 1)));
    ++stats_.latency_spikes;
  }
  return latency;
}

template <typename Completion>
void SimDisk::Complete(uint64_t order_key, Completion completion) {
  ++stats_.operations;
  const Instant now = clock_.Now();
  // FIFO per key, exactly disk.h's promise and no more: with variable latency, operations on
  // different files may complete out of submission order, so code that silently relies on
  // cross-file ordering is caught here.
  auto [last, inserted] = last_due_by_key_.try_emplace(order_key, now);
  const Instant due = std::max(now + DrawLatency(), last->second);
  last->second = due;
  if (last_due_by_key_.size() > kOrderKeysMax) {
    // Forget keys whose last completion is due already: nothing can be ordered after it anymore.
    std::erase_if(last_due_by_key_, [&](const auto& entry) { return entry.second <= now; });
  }
  // One callable per operation: the crash check is folded into the operation's own completion
  // rather than wrapping it in a second one.
  clock_.ScheduleAfter(
      due - now, [this, generation = generation_, completion = std::move(completion)]() mutable {
        if (generation != generation_) return;  // Crashed since submission.
        std::move(completion)();
      });
}

void SimDisk::TraceOperation(uint32_t operation, uint64_t size, const std::string& path) {
  if (trace_ == nullptr) return;
  const std::span<const uint8_t> name(reinterpret_cast<const uint8_t*>(path.data()), path.size());
  const Instant now = trace_time_source_ != nullptr ? trace_time_source_->Now() : clock_.Now();
  trace_->Fold(now, trace_node_, TraceEvent::kDiskOperation,
               MixWord(Digest64(name, operation), size));
}

void SimDisk::Release(Inode& inode) {
  // Space is held by every file that has a name or an open handle; counting it when the last of
  // them goes keeps this O(1) per operation (a recount would cost O(files on the disk)).
  if (inode.named || inode.handle_count > 0) return;
  EDDY_CHECK_GE(used_bytes_, inode.data.size());
  used_bytes_ -= inode.data.size();
}

bool SimDisk::PoweredOff() {
  if (powered_on_) return false;
  ++stats_.ignored_while_powered_off;
  return true;
}

SimDisk::Inode& SimDisk::InodeAt(const std::string& path) const {
  auto it = files_.find(path);
  EDDY_CHECK_MSG(it != files_.end(), "no file " << path);
  return *it->second;
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
    return absl::ResourceExhaustedError(
        absl::StrCat("disk full: ", used_bytes_, " of ", options_.capacity_bytes, " bytes used"));
  }
  used_bytes_ = used_bytes_ + new_size - old_size;
  return absl::OkStatus();
}

void SimDisk::Open(std::string path, runtime::OpenMode mode, DoneWith<FileHandle> done) {
  if (PoweredOff()) return;
  TraceOperation(kOpOpen, static_cast<uint64_t>(mode), path);
  absl::StatusOr<FileHandle> result = [&]() -> absl::StatusOr<FileHandle> {
    if (absl::Status status = CheckPath(path); !status.ok()) return status;
    if (open_files_.size() >= kOpenFilesMax) {
      return absl::ResourceExhaustedError(
          absl::StrCat("too many open files (", kOpenFilesMax, ")"));
    }
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
    ++it->second->handle_count;
    return handle;
  }();
  Complete(kNamespaceKey, [done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

void SimDisk::Close(FileHandle file, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpClose, file, "");
  absl::Status status = BadHandle(file);
  if (auto it = open_files_.find(file); it != open_files_.end()) {
    InodePtr inode = std::move(it->second);
    open_files_.erase(it);
    EDDY_CHECK_GT(inode->handle_count, 0u);
    --inode->handle_count;
    Release(*inode);  // The last handle of a removed file frees its bytes.
    status = absl::OkStatus();
  }
  Complete(file, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Size(FileHandle file, DoneWith<uint64_t> done) {
  if (PoweredOff()) return;
  TraceOperation(kOpSize, file, "");
  Inode* inode = Find(file);
  absl::StatusOr<uint64_t> result =
      inode == nullptr ? absl::StatusOr<uint64_t>(BadHandle(file)) : inode->data.size();
  Complete(file, [done = std::move(done), result]() mutable { std::move(done)(result); });
}

void SimDisk::Append(FileHandle file, std::vector<uint8_t> data, DoneWith<uint64_t> done) {
  if (PoweredOff()) return;
  TraceOperation(kOpAppend, MixWord(file, Digest64(data)), "");
  absl::StatusOr<uint64_t> result = [&]() -> absl::StatusOr<uint64_t> {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    const uint64_t position = inode->data.size();
    if (absl::Status status = WriteBytes(*inode, position, data); !status.ok()) return status;
    return position;
  }();
  Complete(file, [done = std::move(done), result]() mutable { std::move(done)(result); });
}

void SimDisk::WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpWriteAt, MixWord(MixWord(file, position), Digest64(data)), "");
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    return WriteBytes(*inode, position, data);
  }();
  Complete(file, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

absl::Status SimDisk::WriteBytes(Inode& inode, uint64_t position,
                                 const std::vector<uint8_t>& data) {
  const uint64_t old_size = inode.data.size();
  const uint64_t size = data.size();
  if (position + size > old_size && DrawPpm(fault_random_, faults_.no_space_ppm)) {
    ++stats_.injected_no_space;
    return absl::ResourceExhaustedError("disk full (injected)");
  }
  uint64_t target = position;
  if (size > 0 && DrawPpm(fault_random_, faults_.misdirected_write_ppm)) {
    // The head lands on another sector of the same file: the bytes go there, and the intended
    // range keeps what it had (zeros where the file grows).
    const uint64_t sectors = std::max<uint64_t>(1, (old_size + kSector - 1) / kSector);
    target = fault_random_.Uniform(sectors) * kSector;
    if (target == position) target += kSector;
    ++stats_.misdirected_writes;
  }
  const uint64_t new_size = std::max({old_size, position + size, target + size});
  if (absl::Status reserve = ReserveBytes(old_size, new_size); !reserve.ok()) return reserve;
  if (target < old_size) inode.appended_only_since_sync = false;
  inode.data.resize(new_size, 0);
  std::copy(data.begin(), data.end(), inode.data.begin() + target);
  if (size > 0) {
    // A drive remaps a bad sector when it is rewritten.
    auto first = inode.bad_sectors.lower_bound(target / kSector);
    auto last = inode.bad_sectors.upper_bound((target + size - 1) / kSector);
    inode.bad_sectors.erase(first, last);
    if (DrawPpm(fault_random_, faults_.write_corruption_ppm)) {
      FlipRandomBit(fault_random_, inode.data.data() + target, size);
      ++stats_.write_corruptions;
    }
  }
  stats_.bytes_written += size;
  EDDY_CHECK_EQ(inode.data.size(), new_size);
  return absl::OkStatus();
}

void SimDisk::ReadAt(FileHandle file, uint64_t position, uint64_t length_bytes,
                     DoneWith<std::vector<uint8_t>> done) {
  if (PoweredOff()) return;
  TraceOperation(kOpReadAt, MixWord(MixWord(file, position), length_bytes), "");
  absl::StatusOr<std::vector<uint8_t>> result = [&]() -> absl::StatusOr<std::vector<uint8_t>> {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    if (length_bytes > limits::kDiskReadSizeBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat("read of ", length_bytes, " bytes too large"));
    }
    return ReadBytes(*inode, position, length_bytes);
  }();
  Complete(file, [done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

absl::StatusOr<std::vector<uint8_t>> SimDisk::ReadBytes(Inode& inode, uint64_t position,
                                                        uint64_t length_bytes) {
  if (position >= inode.data.size() || length_bytes == 0) return std::vector<uint8_t>();
  const uint64_t end = std::min<uint64_t>(inode.data.size(), position + length_bytes);
  const uint64_t first_sector = position / kSector;
  const uint64_t last_sector = (end - 1) / kSector;
  if (DrawPpm(fault_random_, faults_.latent_sector_error_ppm)) {
    inode.bad_sectors.insert(first_sector + fault_random_.Uniform(last_sector - first_sector + 1));
    ++stats_.latent_sector_errors;
  }
  auto bad = inode.bad_sectors.lower_bound(first_sector);
  if (bad != inode.bad_sectors.end() && *bad <= last_sector) {
    ++stats_.latent_sector_read_failures;
    return absl::DataLossError(absl::StrCat("unreadable sector ", *bad, " (EIO)"));
  }
  stats_.bytes_read += end - position;
  std::vector<uint8_t> bytes(inode.data.begin() + position, inode.data.begin() + end);
  if (DrawPpm(fault_random_, faults_.read_corruption_ppm)) {
    FlipRandomBit(fault_random_, bytes.data(), bytes.size());
    ++stats_.read_corruptions;
  }
  EDDY_CHECK_EQ(bytes.size(), end - position);
  return bytes;
}

void SimDisk::Sync(FileHandle file, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpSync, file, "");
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    if (DrawPpm(fault_random_, faults_.sync_failure_ppm)) {
      ++stats_.sync_failures;
      return absl::UnavailableError("fsync failed (injected); unsynced writes may be lost");
    }
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
  Complete(file, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Truncate(FileHandle file, uint64_t size_bytes, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpTruncate, MixWord(file, size_bytes), "");
  absl::Status status = [&]() -> absl::Status {
    Inode* inode = Find(file);
    if (inode == nullptr) return BadHandle(file);
    const uint64_t old_size = inode->data.size();
    if (absl::Status reserve = ReserveBytes(old_size, size_bytes); !reserve.ok()) return reserve;
    if (size_bytes < inode->durable_data.size()) inode->appended_only_since_sync = false;
    inode->data.resize(size_bytes, 0);
    inode->bad_sectors.erase(inode->bad_sectors.lower_bound((size_bytes + kSector - 1) / kSector),
                             inode->bad_sectors.end());
    return absl::OkStatus();
  }();
  Complete(file, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Rename(std::string from, std::string to, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpRename, 0, absl::StrCat(from, "\n", to));
  absl::Status status = [&]() -> absl::Status {
    if (absl::Status check = CheckPath(to); !check.ok()) return check;
    auto it = files_.find(from);
    if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file '", from, "'"));
    InodePtr inode = it->second;
    files_.erase(it);
    InodePtr& destination = files_[to];
    if (destination != nullptr && destination != inode) {
      destination->named = false;
      Release(*destination);  // A replaced destination frees its bytes (unless still open).
    }
    destination = std::move(inode);
    return absl::OkStatus();
  }();
  Complete(kNamespaceKey, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::Remove(std::string path, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpRemove, 0, path);
  absl::Status status = absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  if (auto it = files_.find(path); it != files_.end()) {
    InodePtr inode = std::move(it->second);
    files_.erase(it);
    inode->named = false;
    Release(*inode);
    status = absl::OkStatus();
  }
  Complete(kNamespaceKey, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::CreateDirectories(std::string path, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpCreateDirectories, 0, path);
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
  Complete(kNamespaceKey, [done = std::move(done), status]() mutable { std::move(done)(status); });
}

void SimDisk::List(std::string path, DoneWith<std::vector<std::string>> done) {
  if (PoweredOff()) return;
  TraceOperation(kOpList, 0, path);
  absl::StatusOr<std::vector<std::string>> result =
      [&]() -> absl::StatusOr<std::vector<std::string>> {
    if (!directories_.contains(path)) {
      return absl::NotFoundError(absl::StrCat("no directory '", path, "'"));
    }
    // One step per entry of the directory (and per subdirectory, skipped whole): files_ is
    // ordered, so the names come out sorted.
    const std::string prefix = ChildPrefix(path);
    std::vector<std::string> names;
    for (auto it = SkipToChild(files_, prefix, files_.lower_bound(prefix)); it != files_.end();
         it = SkipToChild(files_, prefix, std::next(it))) {
      names.push_back(it->first.substr(prefix.size()));
    }
    return names;
  }();
  Complete(kNamespaceKey, [done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

void SimDisk::SyncDirectory(std::string path, Done done) {
  if (PoweredOff()) return;
  TraceOperation(kOpSyncDirectory, 0, path);
  absl::Status status = absl::OkStatus();
  if (!directories_.contains(path)) {
    status = absl::NotFoundError(absl::StrCat("no directory '", path, "'"));
  } else {
    // The directory's entries only, in time linear in them rather than in the whole disk.
    const std::string prefix = ChildPrefix(path);
    auto durable = SkipToChild(durable_files_, prefix, durable_files_.lower_bound(prefix));
    while (durable != durable_files_.end()) {
      durable = SkipToChild(durable_files_, prefix, durable_files_.erase(durable));
    }
    for (auto it = SkipToChild(files_, prefix, files_.lower_bound(prefix)); it != files_.end();
         it = SkipToChild(files_, prefix, std::next(it))) {
      durable_files_[it->first] = it->second;
    }
  }
  Complete(kNamespaceKey, [done = std::move(done), status]() mutable { std::move(done)(status); });
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
    // Media faults outlive the crash; sectors past the survivor's end are gone with it.
    fresh->bad_sectors = inode->bad_sectors;
    fresh->bad_sectors.erase(
        fresh->bad_sectors.lower_bound((survivor.size() + kSector - 1) / kSector),
        fresh->bad_sectors.end());
    fresh->data = survivor;
    fresh->durable_data = std::move(survivor);
    used_bytes_ += fresh->data.size();
    inode = std::move(fresh);
  }
  durable_files_ = files_;
}

const std::vector<uint8_t>& SimDisk::FileContents(const std::string& path) const {
  return InodeAt(path).data;
}

const std::vector<uint8_t>& SimDisk::DurableContents(const std::string& path) const {
  return InodeAt(path).durable_data;
}

void SimDisk::MarkSectorBad(const std::string& path, uint64_t sector) {
  InodeAt(path).bad_sectors.insert(sector);
  ++stats_.latent_sector_errors;
}

bool SimDisk::SectorBad(const std::string& path, uint64_t sector) const {
  return InodeAt(path).bad_sectors.contains(sector);
}

void SimDisk::CorruptByte(const std::string& path, uint64_t position, uint8_t xor_mask) {
  auto it = files_.find(path);
  EDDY_CHECK_MSG(it != files_.end(), "no file " << path);
  Inode& inode = *it->second;
  EDDY_CHECK_LT(position, inode.data.size());
  inode.data[position] ^= xor_mask;
  if (position < inode.durable_data.size()) inode.durable_data[position] ^= xor_mask;
}

std::vector<std::string> SimDisk::FilesWithPrefix(const std::string& prefix, bool durable) const {
  const std::map<std::string, InodePtr>& files = durable ? durable_files_ : files_;
  std::vector<std::string> paths;
  for (auto it = files.lower_bound(prefix); it != files.end() && it->first.starts_with(prefix);
       ++it) {
    paths.push_back(it->first);
  }
  return paths;
}

}  // namespace eddy::sim
