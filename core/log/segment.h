// Segment: one segment file of a partition log, its in-memory indexes, and the disk operations
// on it.
//
// A segment covers offsets [base_offset, next_offset) in one file "<base>.log" (FORMAT.md). Its
// OffsetIndex and TimeIndex are always complete in memory; on disk they exist only once the
// segment is SEALED (its bytes durable and its index files written and synced).
//
// Disk operations go to the file in submission order (the seam's per-file FIFO). Until the file
// is attached (its Open completed) or while the segment is blocked (its index files are being
// removed before it may change), operations wait in a queue, still in order; the caller does not
// need to care.
//
// OPEN ON DEMAND (FileCache): while open, the file is registered with the node's FileCache. The
// cache may close it when it is idle — nothing queued or in flight, nothing written since the
// last completed Sync — and the next operation reopens it (OpenMode::kExisting) before running.
// A segment the log has just created is not reopened before its creating Open attached it.
// Closing an idle file never loses data: everything written to it was synced.
//
// OWNERSHIP: owned by the PartitionLog through std::shared_ptr; completions that touch the
// segment hold a reference. LOOP AFFINITY: the log's loop. The clock and the disk must outlive
// the segment.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/units.h"
#include "core/log/file_cache.h"
#include "core/log/offset_index.h"
#include "core/log/time_index.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"

namespace eddy::log {

enum class SealState {
  kActive,   // may still change; no index files on disk
  kSealing,  // full; waiting for its bytes to be durable, then writing the index files
  kSealed,   // index files durable and describing this file exactly
};

class Segment final : public std::enable_shared_from_this<Segment>, public CachedFile {
 public:
  // Most operations waiting for the file to be attached or unblocked.
  static constexpr size_t kQueuedOperationCountMax = 1 << 20;

  // A segment whose file is not attached yet. `directory` is the log's directory on `disk`;
  // open files are counted in `file_cache`. If `file_exists` the file is on disk already and the
  // first operation opens it; otherwise operations wait for Attach() (the log creates the file).
  Segment(runtime::Clock& clock, runtime::Disk& disk, std::shared_ptr<FileCache> file_cache,
          std::string directory, OffsetIndex offset_index, TimeIndex time_index,
          Instant created_at, bool file_exists = false);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  int64_t base_offset() const { return offset_index_.base_offset(); }
  int64_t next_offset() const { return offset_index_.next_offset(); }
  uint64_t size_bytes() const { return offset_index_.end_position(); }
  bool empty() const { return offset_index_.empty(); }
  Instant created_at() const { return created_at_; }

  const std::string& log_path() const { return log_path_; }
  const std::string& index_path() const { return index_path_; }
  const std::string& time_index_path() const { return time_index_path_; }

  OffsetIndex& offset_index() { return offset_index_; }
  const OffsetIndex& offset_index() const { return offset_index_; }
  TimeIndex& time_index() { return time_index_; }
  const TimeIndex& time_index() const { return time_index_; }

  // Hidden batches in the log's segments before this one, counted from an origin the owning
  // PartitionLog fixes (0 for its first segment when it was opened or reset). In memory only:
  // derived from the indexes, never stored, so it cannot drift from them.
  int64_t hidden_count_before() const { return hidden_count_before_; }
  void set_hidden_count_before(int64_t count) { hidden_count_before_ = count; }
  // hidden_count_before() plus this segment's hidden batches.
  int64_t hidden_count_through() const {
    return hidden_count_before_ + static_cast<int64_t>(offset_index_.hidden_count());
  }

  SealState seal_state() const { return seal_state_; }
  void set_seal_state(SealState state) { seal_state_ = state; }
  // Bumped whenever the segment's contents change in a way that invalidates a pending seal.
  uint64_t generation() const { return generation_; }
  void bump_generation() { ++generation_; }
  // Writes (appends, truncations) submitted since the last Sync() was submitted.
  bool dirty() const { return dirty_; }
  void set_dirty(bool dirty) { dirty_ = dirty; }
  // Set once the segment left the log (truncated away or deleted by retention).
  bool removed() const { return removed_; }
  void set_removed() { removed_ = true; }

  // Makes operations go to `file` (and counts it in the file cache). REQUIRES: not attached.
  void Attach(runtime::FileHandle file);
  // Whether the file is open now (attached, not evicted).
  bool file_open() const { return file_ != runtime::kNoFile; }
  // Reopens after evictions (on-demand opens that completed).
  uint64_t reopen_count() const { return reopen_count_; }

  // CachedFile.
  bool Evictable() const override;
  void Evict() override;
  // The file could not be opened: every queued and future operation fails with `status`
  // (future ones inline: the log stops submitting once it has failed).
  void FailOpen(absl::Status status);
  // Holds the operations submitted from now on in the queue until the matching Unblock()
  // (operations submitted before it still run, in order). Blocks end in the order they began.
  void Block();
  // Ends the oldest Block(). REQUIRES: blocked.
  void Unblock();

  // Disk operations, in FIFO order. Each completion runs on the loop, later, exactly once.
  void Append(std::vector<uint8_t> bytes, runtime::Disk::Done done);
  void Read(uint64_t position, uint64_t length_bytes,
            runtime::Disk::DoneWith<std::vector<uint8_t>> done);
  void Truncate(uint64_t size_bytes, runtime::Disk::Done done);
  void Sync(runtime::Disk::Done done);
  // Closes the file after every queued operation. No operation may follow. `done` runs (later)
  // once the file is closed (at once if it was not open).
  void Close(runtime::Disk::Done done);
  // The log is gone: drops every queued operation (their completions would be ignored, and they
  // may hold this segment), closes the file (or the one a reopen in flight brings), and takes
  // no more operations. Operations already at the disk complete there.
  void Abandon();
  // Runs `then` (later) once Close() completed: only then may the file be removed (an
  // on-demand reopen in flight must not find it gone).
  void WhenClosed(absl::AnyInvocable<void() &&> then);

 private:
  using Operation = absl::AnyInvocable<void(absl::StatusOr<runtime::FileHandle>) &&>;
  enum class Kind { kRead, kWrite, kSync, kClose };

  void Submit(Kind kind, Operation operation);
  void Run(Kind kind, Operation operation);
  void Drain();
  bool HeldByBlock(uint64_t sequence) const;
  void StartReopen();
  void OnReopened(absl::StatusOr<runtime::FileHandle> file);
  // Wraps a disk completion: counts the operation in flight until it completes, and offers the
  // file to the cache once idle.
  template <typename Result>
  absl::AnyInvocable<void(Result) &&> Track(absl::AnyInvocable<void(Result) &&> done,
                                           uint64_t synced_write_count);
  void OnIdleMaybe();
  void FinishClose(absl::Status status);

  runtime::Clock& clock_;
  runtime::Disk& disk_;
  const std::shared_ptr<FileCache> file_cache_;
  const std::string log_path_;
  const std::string index_path_;
  const std::string time_index_path_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  const Instant created_at_;

  runtime::FileHandle file_ = runtime::kNoFile;
  absl::Status open_status_;
  bool closed_ = false;
  struct Queued {
    Kind kind;
    uint64_t sequence;  // submission order
    Operation operation;
  };
  std::deque<Queued> queued_;
  uint64_t next_sequence_ = 0;
  // One per Block() not yet unblocked: the sequence of the first operation it holds (operations
  // submitted before it, e.g. still waiting for a reopen, are not held).
  std::vector<uint64_t> barriers_;
  // The file exists on disk and may be (re)opened on demand.
  bool file_exists_ = false;
  bool reopening_ = false;
  uint64_t reopen_count_ = 0;
  // Operations submitted to the disk and not completed.
  uint64_t in_flight_count_ = 0;
  // Writes (appends, truncations) submitted to the disk, and how many of them a completed Sync
  // covers: the file may be closed only when they are equal.
  uint64_t write_count_ = 0;
  uint64_t synced_write_count_ = 0;
  bool close_done_ = false;
  bool abandoned_ = false;
  std::vector<absl::AnyInvocable<void() &&>> closed_waiters_;

  int64_t hidden_count_before_ = 0;
  SealState seal_state_ = SealState::kActive;
  uint64_t generation_ = 0;
  bool dirty_ = false;
  bool removed_ = false;
};

}  // namespace eddy::log
