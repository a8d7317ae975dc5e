// Snapshot files (snapshot_file.h, FORMAT.md §4). The write is a fixed sequence of disk steps,
// each started by the previous one's completion; any error ends it with that error (the temp
// file may remain: the next open's cleanup removes it).
#include "raft/driver/snapshot_file.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/crc32c.h"

namespace eddy::raft::driver {
namespace {

void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void PutU64(std::vector<uint8_t>& out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t GetU32(std::span<const uint8_t> in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in[at + i];
  return v;
}
uint64_t GetU64(std::span<const uint8_t> in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[at + i];
  return v;
}

// Header layout (big-endian): magic, version, last_offset, term, size_bytes, state CRC, then the
// CRC of the 36 bytes before it.
constexpr size_t kHeaderCrcAt = 36;
static_assert(kHeaderCrcAt + 4 == kSnapshotFileHeaderSizeBytes);

using Done = absl::AnyInvocable<void(absl::Status) &&>;

struct WriteJob {
  runtime::Disk& disk;
  std::string directory;
  std::string temp;
  std::string path;
  std::vector<uint8_t> bytes;
  runtime::FileHandle file = runtime::kNoFile;
  std::shared_ptr<bool> alive;
  Done done;
  int attempts = 0;
};

void Finish(std::shared_ptr<WriteJob> job, absl::Status s) {
  if (!*job->alive) return;
  std::move(job->done)(std::move(s));
}

void RenameAndSync(std::shared_ptr<WriteJob> job) {
  job->disk.Rename(job->temp, job->path, [job](absl::Status s) {
    if (!s.ok()) return Finish(job, s);
    job->disk.SyncDirectory(job->directory, [job](absl::Status s) { Finish(job, s); });
  });
}

void WriteSyncVerify(std::shared_ptr<WriteJob> job) {
  job->disk.Truncate(job->file, 0, [job](absl::Status s) {
    if (!s.ok()) return Finish(job, s);
    job->disk.Append(job->file, job->bytes, [job](absl::StatusOr<uint64_t> at) {
      if (!at.ok()) return Finish(job, at.status());
      job->disk.Sync(job->file, [job](absl::Status s) {
        if (!s.ok()) {
          job->disk.Close(job->file, [](absl::Status) {});
          return Finish(job, s);
        }
        // Read back what the disk now holds: a misdirected or corrupted write shows here, and
        // the file is written again rather than renamed into place damaged.
        job->disk.ReadAt(job->file, 0, job->bytes.size() + 1,
                         [job](absl::StatusOr<std::vector<uint8_t>> back) {
                           const bool same = back.ok() && *back == job->bytes;
                           if (!same && ++job->attempts < kSnapshotWriteAttemptsMax) {
                             return WriteSyncVerify(job);
                           }
                           job->disk.Close(job->file, [](absl::Status) {});
                           if (!same) {
                             return Finish(job, absl::DataLossError(absl::StrCat(
                                                    job->temp, " reads back damaged after ",
                                                    job->attempts, " writes")));
                           }
                           RenameAndSync(job);
                         });
      });
    });
  });
}

}  // namespace

std::string SnapshotFileName(int64_t point) {
  EDDY_CHECK_GE(point, 0);
  char name[32];
  std::snprintf(name, sizeof(name), "%020lld.snap", static_cast<long long>(point));
  return name;
}

std::vector<uint8_t> EncodeSnapshotFile(const SnapshotMeta& meta, std::span<const uint8_t> state) {
  EDDY_CHECK_EQ(meta.size_bytes(), state.size());
  EDDY_CHECK_EQ(meta.state_crc32c(), record::Crc32c(state));
  std::vector<uint8_t> out(kSnapshotFileHeaderSizeBytes + state.size());
  PutU32(out, 0, kSnapshotFileMagic);
  PutU32(out, 4, kSnapshotFileVersion);
  PutU64(out, 8, static_cast<uint64_t>(meta.last_offset()));
  PutU64(out, 16, meta.term());
  PutU64(out, 24, meta.size_bytes());
  PutU32(out, 32, meta.state_crc32c());
  PutU32(out, kHeaderCrcAt, record::Crc32c(std::span<const uint8_t>(out.data(), kHeaderCrcAt)));
  std::copy(state.begin(), state.end(), out.begin() + kSnapshotFileHeaderSizeBytes);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> DecodeSnapshotFile(std::span<const uint8_t> file,
                                                        const SnapshotMeta& meta) {
  const std::string what = absl::StrCat("snapshot file of offset ", meta.last_offset());
  if (file.size() < kSnapshotFileHeaderSizeBytes) {
    return absl::DataLossError(absl::StrCat(what, ": ", file.size(), " bytes, no header"));
  }
  if (GetU32(file, 0) != kSnapshotFileMagic || GetU32(file, 4) != kSnapshotFileVersion ||
      GetU32(file, kHeaderCrcAt) != record::Crc32c(file.subspan(0, kHeaderCrcAt))) {
    return absl::DataLossError(absl::StrCat(what, ": bad header"));
  }
  if (static_cast<int64_t>(GetU64(file, 8)) != meta.last_offset() ||
      GetU64(file, 16) != meta.term() || GetU64(file, 24) != meta.size_bytes() ||
      GetU32(file, 32) != meta.state_crc32c()) {
    return absl::DataLossError(absl::StrCat(what, ": describes another snapshot"));
  }
  const std::span<const uint8_t> state = file.subspan(kSnapshotFileHeaderSizeBytes);
  if (state.size() != meta.size_bytes() || record::Crc32c(state) != meta.state_crc32c()) {
    return absl::DataLossError(absl::StrCat(what, ": state bytes torn or corrupt (",
                                            state.size(), " of ", meta.size_bytes(), ")"));
  }
  return std::vector<uint8_t>(state.begin(), state.end());
}

void WriteSnapshotFile(runtime::Disk& disk, std::string directory, const SnapshotMeta& meta,
                       std::span<const uint8_t> state, std::shared_ptr<bool> alive,
                       absl::AnyInvocable<void(absl::Status) &&> done) {
  const std::string name = SnapshotFileName(meta.last_offset());
  auto job = std::make_shared<WriteJob>(WriteJob{
      disk, directory, runtime::JoinPath(directory, name + ".tmp"),
      runtime::JoinPath(directory, name), EncodeSnapshotFile(meta, state), runtime::kNoFile,
      std::move(alive), std::move(done)});
  disk.CreateDirectories(directory, [job](absl::Status s) {
    if (!s.ok()) return Finish(job, s);
    job->disk.Open(job->temp, runtime::OpenMode::kCreateIfMissing,
                   [job](absl::StatusOr<runtime::FileHandle> file) {
                     if (!file.ok()) return Finish(job, file.status());
                     job->file = *file;
                     WriteSyncVerify(job);
                   });
  });
}

void ReadSnapshotFile(runtime::Disk& disk, std::string directory, const SnapshotMeta& meta,
                      std::shared_ptr<bool> alive,
                      absl::AnyInvocable<void(absl::StatusOr<std::vector<uint8_t>>) &&> done) {
  using ReadDone = absl::AnyInvocable<void(absl::StatusOr<std::vector<uint8_t>>) &&>;
  auto shared_done = std::make_shared<ReadDone>(std::move(done));
  const std::string path = runtime::JoinPath(directory, SnapshotFileName(meta.last_offset()));
  disk.Open(path, runtime::OpenMode::kExisting, [&disk, meta, alive, shared_done, path](
                                                    absl::StatusOr<runtime::FileHandle> file) {
    if (!*alive) return;
    if (!file.ok()) {
      // The saved point's file must exist (it is written before the point is saved).
      return std::move(*shared_done)(
          absl::IsNotFound(file.status())
              ? absl::DataLossError(absl::StrCat("snapshot file ", path, " missing"))
              : file.status());
    }
    const uint64_t length = kSnapshotFileHeaderSizeBytes + kSnapshotStateSizeBytesMax + 1;
    disk.ReadAt(*file, 0, length, [&disk, f = *file, meta, alive, shared_done](
                                      absl::StatusOr<std::vector<uint8_t>> bytes) {
      disk.Close(f, [](absl::Status) {});
      if (!*alive) return;
      if (!bytes.ok()) return std::move(*shared_done)(bytes.status());
      std::move(*shared_done)(DecodeSnapshotFile(*bytes, meta));
    });
  });
}

void RemoveSnapshotFilesExcept(runtime::Disk& disk, std::string directory, std::string keep,
                               bool older_only, std::shared_ptr<bool> alive,
                               absl::AnyInvocable<void(absl::Status) &&> done) {
  auto shared_done = std::make_shared<Done>(std::move(done));
  disk.List(directory, [&disk, directory, keep, older_only, alive,
                        shared_done](absl::StatusOr<std::vector<std::string>> names) {
    if (!*alive) return;
    if (!names.ok()) {
      return std::move(*shared_done)(absl::IsNotFound(names.status()) ? absl::OkStatus()
                                                                      : names.status());
    }
    auto first_error = std::make_shared<absl::Status>();
    bool removed = false;
    for (const std::string& name : *names) {
      if (name == keep || (older_only && name > keep)) continue;
      removed = true;
      disk.Remove(runtime::JoinPath(directory, name), [first_error](absl::Status s) {
        if (first_error->ok() && !s.ok() && !absl::IsNotFound(s)) *first_error = s;
      });
    }
    if (!removed) return std::move(*shared_done)(absl::OkStatus());
    // Namespace operations complete in order: this one reports after every Remove.
    disk.SyncDirectory(directory, [alive, first_error, shared_done](absl::Status s) {
      if (!*alive) return;
      std::move(*shared_done)(first_error->ok() ? s : *first_error);
    });
  });
}

}  // namespace eddy::raft::driver
