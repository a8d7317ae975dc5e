// HardStateStore: the durable home of one group's Raft hard state (term, vote, commit offset,
// membership) plus the driver's durable-offset mark, on the same disk as the partition log.
//
// FORMAT (FORMAT.md): two append-only files, "state.a" and "state.b", each a sequence of
// records [magic][length][crc32c][PersistedState]. Every Save() appends the same record, with a
// new sequence number, to BOTH files and syncs both; Load() takes the valid record with the
// highest sequence from either file (a record that fails its CRC ends that file's scan). Two
// copies mean one damaged write (bit flip, misdirected write, latent sector error) or a torn
// tail never loses the state; a file is compacted (truncated, then the current record
// appended) when it holds kRecordsPerFileMax records, and the two files compact at different
// saves, so at every instant one of them holds the latest durable record.
//
// ORDERING: Save() completes only once both copies are synced: the caller sends nothing that
// depends on the state before that (persist BEFORE send). A failed Save (a failed sync, no
// space) leaves the files unknown: the owner must stop using the store and reopen the group.
//
// LOOP AFFINITY: the disk's loop. OWNERSHIP: the disk must outlive the store; destroying the
// store with a Save pending is allowed (its completion is then never called).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/runtime/disk.h"
#include "raft/driver/driver.pb.h"

namespace eddy::raft::driver {

struct LoadedState {
  std::optional<PersistedState> state;  // nullopt: no valid record anywhere (a new replica)
  uint64_t damaged_records = 0;  // records that failed their CRC (counted, never used)
};

class HardStateStore {
 public:
  static constexpr uint32_t kRecordMagic = 0x45485331;  // "EHS1"
  static constexpr size_t kRecordHeaderSizeBytes = 12;
  static constexpr uint32_t kRecordSizeBytesMax = 64 * 1024;
  static constexpr uint64_t kRecordsPerFileMax = 256;
  using Done = absl::AnyInvocable<void(absl::Status) &&>;

  // Opens (creating) both files under `directory` and reads them. The store is usable once
  // `done` runs with OK.
  static void Open(runtime::Disk& disk, std::string directory,
                   absl::AnyInvocable<void(absl::StatusOr<std::pair<std::unique_ptr<HardStateStore>,
                                                                    LoadedState>>) &&>
                       done);

  ~HardStateStore();
  HardStateStore(const HardStateStore&) = delete;
  HardStateStore& operator=(const HardStateStore&) = delete;

  // Writes `state` (its sequence is assigned here) to both files and syncs them.
  // REQUIRES: no other Save pending (the driver saves once per Ready).
  void Save(PersistedState state, Done done);
  bool save_pending() const { return save_pending_; }

  // Encodes one record (exposed for tests and FORMAT.md's example).
  static std::vector<uint8_t> EncodeRecord(const PersistedState& state);
  // Decodes the records of one file's bytes; stops at the first bad one.
  static void DecodeRecords(const std::vector<uint8_t>& bytes, LoadedState* into);

 private:
  struct File {
    std::string path;
    runtime::FileHandle handle = runtime::kNoFile;
    uint64_t records = 0;
  };
  HardStateStore(runtime::Disk& disk, std::string directory);
  void OpenFiles(absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&> done);
  void WriteOne(size_t index, std::vector<uint8_t> record, absl::AnyInvocable<void(absl::Status) &&> done);

  runtime::Disk& disk_;
  const std::string directory_;
  std::array<File, 2> files_;
  uint64_t sequence_ = 0;
  bool save_pending_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
