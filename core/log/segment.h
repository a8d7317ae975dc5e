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
// OWNERSHIP: owned by the PartitionLog through std::shared_ptr; completions that touch the
// segment hold a reference. LOOP AFFINITY: the log's loop. The disk must outlive the segment.
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
#include "core/log/offset_index.h"
#include "core/log/time_index.h"
#include "core/runtime/disk.h"

namespace eddy::log {

enum class SealState {
  kActive,   // may still change; no index files on disk
  kSealing,  // full; waiting for its bytes to be durable, then writing the index files
  kSealed,   // index files durable and describing this file exactly
};

class Segment : public std::enable_shared_from_this<Segment> {
 public:
  // Most operations waiting for the file to be attached or unblocked.
  static constexpr size_t kQueuedOperationCountMax = 1 << 20;

  // A segment whose file is not attached yet. `directory` is the log's directory on `disk`.
  Segment(runtime::Disk& disk, std::string directory, OffsetIndex offset_index,
          TimeIndex time_index, Instant created_at);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

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

  // Makes operations go to `file`. REQUIRES: not attached yet.
  void Attach(runtime::FileHandle file);
  // The file could not be opened: every queued and future operation fails with `status`
  // (future ones inline: the log stops submitting once it has failed).
  void FailOpen(absl::Status status);
  // Holds operations in the queue until as many Unblock()s as Block()s.
  void Block();
  // REQUIRES: blocked.
  void Unblock();

  // Disk operations, in FIFO order. Each completion runs on the loop, later, exactly once.
  void Append(std::vector<uint8_t> bytes, runtime::Disk::Done done);
  void Read(uint64_t position, uint64_t length_bytes,
            runtime::Disk::DoneWith<std::vector<uint8_t>> done);
  void Truncate(uint64_t size_bytes, runtime::Disk::Done done);
  void Sync(runtime::Disk::Done done);
  // Closes the file after every queued operation. No operation may follow.
  void Close(runtime::Disk::Done done);

 private:
  using Operation = absl::AnyInvocable<void(absl::StatusOr<runtime::FileHandle>) &&>;

  void Submit(Operation operation);
  void Drain();

  runtime::Disk& disk_;
  const std::string log_path_;
  const std::string index_path_;
  const std::string time_index_path_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  const Instant created_at_;

  runtime::FileHandle file_ = runtime::kNoFile;
  absl::Status open_status_;
  int blocked_count_ = 0;
  bool closed_ = false;
  std::deque<Operation> queued_;

  int64_t hidden_count_before_ = 0;
  SealState seal_state_ = SealState::kActive;
  uint64_t generation_ = 0;
  bool dirty_ = false;
  bool removed_ = false;
};

}  // namespace eddy::log
