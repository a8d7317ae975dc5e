// The snapshot file of a replica hosting a state machine: the machine's state bytes as of the
// replica's snapshot point, in `g<group>/snapshot/<point>.snap` (FORMAT.md §4).
//
// A file is written whole to `<point>.snap.tmp`, synced, renamed to `<point>.snap` and the
// directory synced (WriteSnapshotFile): after a crash the name refers to a complete, synced file
// or to nothing. The replica writes it BEFORE its hard state saves the point, and removes older
// files only AFTER, so the saved point always has its file (raft/driver/README.md, "State
// machines", for the whole crash argument).
//
// LOOP AFFINITY: the disk's loop. Encode/Decode are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "core/base/limits.h"
#include "core/runtime/disk.h"
#include "raft/raft.pb.h"

namespace eddy::raft::driver {

inline constexpr uint32_t kSnapshotFileMagic = 0x45534d31;  // "ESM1"
inline constexpr uint32_t kSnapshotFileVersion = 1;
inline constexpr size_t kSnapshotFileHeaderSizeBytes = 40;
// A machine's state is held in memory whole (the leader serves chunks from it) and read back in
// one disk read.
inline constexpr uint64_t kSnapshotStateSizeBytesMax = 32ULL * 1024 * 1024;
// A write that reads back damaged (misdirected, corrupted) is written again, this many times in
// all, before it fails with kDataLoss.
inline constexpr int kSnapshotWriteAttemptsMax = 4;
static_assert(kSnapshotStateSizeBytesMax + kSnapshotFileHeaderSizeBytes <=
              limits::kDiskReadSizeBytesMax);

// "<point, 20 digits>.snap" (sorts by point). REQUIRES: point >= 0.
std::string SnapshotFileName(int64_t point);

// The file's bytes: header (point, term, size, state CRC, header CRC) then `state`.
// REQUIRES: meta.size_bytes() == state.size(), meta.state_crc32c() == Crc32c(state).
std::vector<uint8_t> EncodeSnapshotFile(const SnapshotMeta& meta, std::span<const uint8_t> state);

// The state bytes of a file that must describe exactly `meta` (point, term, size, CRC);
// kDataLoss otherwise (torn, corrupt, or a file of another snapshot).
absl::StatusOr<std::vector<uint8_t>> DecodeSnapshotFile(std::span<const uint8_t> file,
                                                        const SnapshotMeta& meta);

// Writes `state` as `directory/SnapshotFileName(meta.last_offset())` durably (temp file, sync,
// read back and compare — written again if it differs — rename, directory sync); `directory` is created if missing. `alive` guards the completions:
// once false, `done` is never called.
void WriteSnapshotFile(runtime::Disk& disk, std::string directory, const SnapshotMeta& meta,
                       std::span<const uint8_t> state, std::shared_ptr<bool> alive,
                       absl::AnyInvocable<void(absl::Status) &&> done);

// Reads and decodes the file of `meta` in `directory`: kDataLoss if it is missing, torn or does
// not match `meta`; other codes for disk errors.
void ReadSnapshotFile(runtime::Disk& disk, std::string directory, const SnapshotMeta& meta,
                      std::shared_ptr<bool> alive,
                      absl::AnyInvocable<void(absl::StatusOr<std::vector<uint8_t>>) &&> done);

// Removes every file in `directory` but `keep` (a name; empty: none) — only those whose names
// sort before `keep` (older points) if `older_only`, so a write of a newer point that races with
// the listing is never touched — then syncs the directory. A missing directory is fine.
void RemoveSnapshotFilesExcept(runtime::Disk& disk, std::string directory, std::string keep,
                               bool older_only, std::shared_ptr<bool> alive,
                               absl::AnyInvocable<void(absl::Status) &&> done);

}  // namespace eddy::raft::driver
