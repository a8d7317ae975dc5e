// HardStateStore: the durable home of one group's Raft hard state (term, vote, commit offset,
// membership) plus the driver's durable-offset mark, on the same disk as the partition log.
//
// FORMAT (FORMAT.md): two append-only files, "state.a" and "state.b", each a sequence of
// records [magic][length][crc32c][PersistedState]. Every Save() appends the same record, with a
// new sequence number, to BOTH files and syncs both; Load() takes the valid record with the
// highest sequence from either file (a damaged record is skipped and the scan resynchronises on
// the next magic). Two copies mean one damaged write (bit flip, misdirected write, latent sector
// error) or a torn tail never loses the state; a file is compacted (truncated, then the current
// record appended) when it holds kRecordsPerFileMax records or took damage, and the two files
// never compact in the same save, so at every instant one of them holds the latest durable
// record.
//
// Every save is read back after its sync and compared (a misdirected or corrupted write is
// caught while the previous record is still intact in the other file); a mismatch appends again.
//
// REPAIR ON OPEN: Open() always saves the loaded state again (both files, synced, read back; a
// damaged file is rewritten whole) before reporting it, so what the owner acts on is as durable
// as any completed save — also after a failed fsync in the same process, when both files may
// read back a record that was never made durable.
//
// CERTAINTY: a file "vouches" for its newest valid record when nothing after that record is
// unreadable (a torn or garbled tail is an unacknowledged save; an unreadable sector may have
// held an acknowledged one). Load reports `newest_certain = false` when neither file vouches:
// the newest surviving record may be older than the last acknowledged save, so the term and
// vote may have gone backwards. Raft cannot run safely on such a replica (it could vote twice in
// a term); its owner must halt it until it is rebuilt (wiped and re-added as a new member).
//
// ORDERING: Save() completes only once both copies are synced and read back: the caller sends nothing that
// depends on the state before that (persist BEFORE send). A failed Save (a failed sync, no
// space) leaves the files unknown: the owner must stop using the store and reopen the group.
//
// LOOP AFFINITY: the disk's loop. OWNERSHIP: the disk must outlive the store; destroying the
// store with a Save pending is allowed (its completion is then never called).
#pragma once

#include <array>
#include <span>
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
  uint64_t damaged_records = 0;     // records that failed their CRC (counted, never used)
  uint64_t unreadable_sectors = 0;  // sectors that failed to read (latent sector errors)
  // False if the newest record may have been lost (see CERTAINTY above): do not run Raft.
  bool newest_certain = true;
};

// What one scan of one file's bytes found.
struct FileScan {
  std::optional<PersistedState> newest;  // the valid record with the highest sequence
  uint64_t newest_end_bytes = 0;         // where the newest record's bytes end
  uint64_t damaged_records = 0;          // runs of bytes that were not a valid record
};

class HardStateStore {
 public:
  static constexpr uint32_t kRecordMagic = 0x45485331;  // "EHS1"
  static constexpr size_t kRecordHeaderSizeBytes = 12;
  static constexpr uint32_t kRecordSizeBytesMax = 64 * 1024;
  static constexpr uint64_t kRecordsPerFileMax = 256;
  // Appends of one record to one file before a save gives up (each read back and compared).
  static constexpr int kWriteAttemptsMax = 4;
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
  // Scans one file's bytes for valid records, resynchronising after damage.
  static FileScan ScanRecords(std::span<const uint8_t> bytes);
  // Combines both files' scans and their unreadable sectors (sorted sector numbers) into what
  // Load() reports, deciding CERTAINTY.
  static LoadedState Combine(const std::array<FileScan, 2>& scans,
                             const std::array<std::vector<uint64_t>, 2>& unreadable_sectors);

 private:
  struct File {
    std::string path;
    runtime::FileHandle handle = runtime::kNoFile;
    uint64_t records = 0;
    // Took damage (found at open, or a write that did not read back): rewrite it whole at the
    // next save, so bad sectors and garbage do not accumulate.
    bool damaged = false;
  };
  // One file as read at open: unreadable sectors read as zeros and are listed.
  struct FileImage {
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> unreadable_sectors;
  };
  using ImageDone = absl::AnyInvocable<void(absl::StatusOr<FileImage>) &&>;
  // Reads a whole file in chunks; a chunk that fails is read again sector by sector, so one bad
  // sector costs the bytes on it, not the chunk.
  void ReadImage(size_t index, ImageDone done);
  void ReadSectors(size_t index, uint64_t at, uint64_t length, std::shared_ptr<FileImage> image,
                   absl::AnyInvocable<void() &&> done);
  // Reads and scans a file; a scan that met damage is repeated once with a fresh read (a bit
  // flipped on the way from the disk is not on the disk) and the better scan kept.
  void LoadFile(size_t index,
                absl::AnyInvocable<void(absl::StatusOr<std::pair<FileScan, FileImage>>) &&> done);
  HardStateStore(runtime::Disk& disk, std::string directory);
  void OpenFiles(absl::AnyInvocable<void(absl::StatusOr<LoadedState>) &&> done);
  void WriteOne(size_t index, bool compact, std::vector<uint8_t> record,
                absl::AnyInvocable<void(absl::Status) &&> done);
  void AppendVerified(size_t index, std::shared_ptr<std::vector<uint8_t>> record,
                      int attempts_left,
                      std::shared_ptr<absl::AnyInvocable<void(absl::Status) &&>> done);

  runtime::Disk& disk_;
  const std::string directory_;
  std::array<File, 2> files_;
  uint64_t sequence_ = 0;
  bool save_pending_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
