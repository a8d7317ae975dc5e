// PartitionLog: the segmented, append-only log of record batches of one partition, which is also
// that partition's Raft log (see FORMAT.md for how Raft positions map onto offsets).
//
// OFFSETS are dense: batch i+1 starts at batch i's last offset + 1; the first batch ever appended
// starts at 0. first_offset() is the log start offset (moves up with TruncatePrefix/retention),
// next_offset() the log end offset; the log is empty when they are equal. These are RAFT
// positions, and they are what the stored batches carry.
//
// KAFKA OFFSETS (FORMAT.md "Kafka offsets") are what clients see: dense over data batches only.
// The owner's classifier (LogOptions::is_hidden) marks Raft's own entries HIDDEN; each covers
// one Raft offset and no Kafka offset. Kafka offset of Raft offset r = r - H(r), H(r) = hidden
// batches below r in the partition's whole history = hidden_base + HiddenCountBefore(r), where
// hidden_base (hidden batches below first_offset()) comes from the owner's snapshot point
// through HiddenBaseFor(). The log derives everything else from its own index (one bit per
// batch), so there is no counter to persist or to drift; every mutator keeps it exact.
//
// STATE CHANGES AT SUBMISSION: an append, a suffix truncation or a prefix truncation changes what
// the log reports (offsets, terms, what a later Read returns) as soon as the call returns; the
// disk operations behind it are issued at once and, thanks to the disk seam's per-file FIFO,
// every later operation sees their effects. DURABILITY is only ever promised by Flush(): its
// completion says every batch up to the given offset, and every suffix truncation before it,
// survives a crash. flushed_offset() is that durable point.
//
// FAILURES: a failed disk write or sync leaves the file in an unknown state (fsyncgate), so the
// log stops: every later call fails with the first error (status()), pending flushes fail, and
// the owner must drop the log and open it again (recovery repairs the files).
//
// OWNERSHIP AND LIFETIME: Open() hands the log to its caller (std::unique_ptr). The Clock and
// the Disk must outlive the log. Destroying the log with operations pending is allowed: their
// completions are then never called (a crash drops them the same way); an owner that needs every
// callback must wait for them before destroying the log.
//
// LOOP AFFINITY: single-threaded; every method is called on the loop of `clock`/`disk`, every
// completion runs on that loop, later (never inline), exactly once unless the log is destroyed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/log/log_options.h"
#include "core/log/log_recovery.h"
#include "core/log/segment.h"
#include "core/log/serial_queue.h"
#include "core/record/batch_header.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"

namespace eddy::log {

// Offsets of a batch the log accepted.
struct AppendResult {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
};

// Whole batches, concatenated, as stored on disk (Kafka's fetch answer format).
struct ReadResult {
  std::vector<uint8_t> bytes;
  int64_t next_offset = 0;  // offset after the last batch returned (where to read next)
  size_t batch_count = 0;
};

// Pins the Kafka offset mapping to the partition's history: `hidden_count` hidden batches lie
// below Raft offset `offset`. The owner keeps one with its snapshot point (offset = point + 1,
// hidden_count = H(point + 1)) and hands it to followers that install the snapshot.
struct KafkaAnchor {
  int64_t offset = 0;
  int64_t hidden_count = 0;
};

// One batch with its Kafka offsets.
struct KafkaBatch {
  BatchLocation location;  // in Raft offsets
  int64_t kafka_base_offset = 0;
  // kafka_base_offset + last - base for a data batch; kafka_base_offset - 1 for a hidden one (an
  // empty range: it takes no Kafka offset, and the next data batch starts at kafka_base_offset).
  int64_t kafka_last_offset = 0;
};

// Data batches only, concatenated, each one's baseOffset rewritten to its Kafka offset (the rest
// of every batch is byte for byte as stored; baseOffset is outside the CRC).
struct KafkaReadResult {
  std::vector<uint8_t> bytes;
  int64_t next_kafka_offset = 0;  // after the last batch returned; the asked offset if none
  size_t batch_count = 0;
};

struct LogStats {
  uint64_t batches_appended = 0;
  uint64_t bytes_appended = 0;
  uint64_t reads = 0;
  uint64_t corrupt_reads = 0;  // reads that found a bad batch and returned kDataLoss
  uint64_t flush_rounds = 0;   // sync rounds (each covers every flush waiting when it started)
  uint64_t syncs = 0;          // file syncs issued
  uint64_t segments_rolled = 0;
  uint64_t segments_deleted = 0;
  uint64_t resets = 0;  // ResetTo calls accepted
};

class PartitionLog {
 public:
  struct Opened;
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  template <typename T>
  using DoneWith = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  // Largest term a batch can carry: the header's partitionLeaderEpoch is an int32.
  static constexpr int64_t kTermMax = INT32_MAX;

  // Opens (creating if needed) the log in `directory` of `disk`, running recovery first.
  static void Open(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
                   LogOptions options, DoneWith<Opened> done);

  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // --- Appending -------------------------------------------------------------------------------
  // Leader append: `batch` is exactly one RecordBatch v2 with a valid CRC; the log gives it the
  // next offset (SetBaseOffset) and `term` (SetPartitionLeaderEpoch), which the CRC does not
  // cover. Errors: kInvalidArgument malformed batch or term outside [0, kTermMax];
  // kFailedPrecondition term lower than the last batch's term (a stale leader); the log's
  // failure status.
  absl::StatusOr<AppendResult> AppendAsLeader(std::vector<uint8_t> batch, int64_t term);
  // Follower append: the batch keeps its offsets and term. Errors: kInvalidArgument malformed
  // batch or term lower than the last batch's; kFailedPrecondition base offset != next_offset().
  absl::StatusOr<AppendResult> AppendAsFollower(std::vector<uint8_t> batch);

  // --- Reading ---------------------------------------------------------------------------------
  // Whole batches starting with the one containing `offset`, up to `size_bytes_max` bytes but
  // always at least one batch (as Kafka does), all from one segment. Reading at next_offset()
  // returns nothing. Every batch is CRC-checked: a bad one fails the read with kDataLoss and is
  // counted, never served. Errors: kOutOfRange outside [first_offset(), next_offset()].
  void Read(int64_t offset, uint64_t size_bytes_max, DoneWith<ReadResult> done);

  // Kafka's fetch: the data batches from the one holding Kafka offset `kafka_offset` (or the
  // first after it), hidden batches left out, every baseOffset rewritten to the Kafka offset
  // (KafkaReadResult). Only whole batches entirely below `kafka_end_offset` (the high watermark
  // for a consumer; anything >= the Kafka log end for everything), at most `size_bytes_max`
  // bytes of stored batches but at least one data batch when one qualifies, all from one
  // segment. Every batch is checked as Read() checks it. REQUIRES: 0 <= hidden_base <=
  // first_offset() (what HiddenBaseFor returns). Errors: kOutOfRange if kafka_offset is outside
  // [KafkaOffsetFor(first_offset()), KafkaOffsetFor(next_offset())]; kDataLoss; the log's failure
  // status.
  void ReadKafka(int64_t kafka_offset, int64_t kafka_end_offset, uint64_t size_bytes_max,
                 int64_t hidden_base, DoneWith<KafkaReadResult> done);

  // --- Truncation ------------------------------------------------------------------------------
  // Raft conflict: removes the batch containing `offset` and every later batch; returns the new
  // next_offset() (the removed batch's base offset). offset == next_offset() is a no-op.
  // Durable with the next Flush(). Errors: kOutOfRange outside [first_offset(), next_offset()].
  absl::StatusOr<int64_t> TruncateSuffix(int64_t offset);
  // Retention / snapshot: deletes every segment all of whose offsets are below `offset` (whole
  // segments only, so first_offset() becomes the base of the first segment kept, <= offset;
  // with offset == next_offset() everything goes and the log is empty). `done` runs once the
  // deletions are durable. Errors: kOutOfRange if offset > next_offset().
  void TruncatePrefix(int64_t offset, Done done);
  // Snapshot install (Kafka's truncate-fully-and-start-at): discards EVERY batch and restarts
  // the log empty with first_offset() == next_offset() == `next_offset` (any offset >= 0, below,
  // inside or beyond the current log). The new state holds at once (appends continue from
  // `next_offset`); `done` runs once the reset is durable, and so does every Flush submitted
  // after this call.
  // CRASH ATOMICITY: a crash at any point leaves either the old log (as durable as it was) or
  // the new empty log at `next_offset` (plus whatever later appends a flush made durable) —
  // never a mix. The commit point is a durable marker file "<next_offset>.reset" (FORMAT.md);
  // recovery completes a reset whose marker it finds.
  // Errors: kInvalidArgument next_offset < 0; the log's failure status.
  void ResetTo(int64_t next_offset, Done done);
  // Applies the options' retention rules (RetentionPolicy) with the caller's wall-clock time.
  void EnforceRetention(int64_t now_timestamp_ms, Done done);

  // --- Durability ------------------------------------------------------------------------------
  // Completes once every batch up to min(offset, last_offset()) is durable, and every suffix
  // truncation submitted before this call (even one below the flushed offset). Flushes that arrive
  // while a sync round is running share the next round (group commit): one sync per dirty file
  // per round, however many callers wait.
  void Flush(int64_t offset, Done done);

  // --- Raft's synchronous view (O(log n), no I/O) ------------------------------------------------
  int64_t first_offset() const;
  int64_t next_offset() const;
  int64_t last_offset() const { return next_offset() - 1; }
  // Term of the last batch; 0 when the log has no batch.
  int64_t last_term() const;
  // Term of the batch containing `offset`; 0 for offset -1 (the position before the first
  // offset of a partition); std::nullopt otherwise outside [first_offset(), last_offset()].
  std::optional<int64_t> TermAt(int64_t offset) const;
  // Last offset of the batch before the one containing `offset` (for offset == next_offset():
  // last_offset()). std::nullopt outside [first_offset(), next_offset()].
  std::optional<int64_t> LastOffsetBefore(int64_t offset) const;
  // The batch containing `offset`, or std::nullopt outside [first_offset(), last_offset()].
  std::optional<BatchLocation> FindBatch(int64_t offset) const;
  // Base offset of the segment (file name) holding `offset`; std::nullopt outside
  // [first_offset(), last_offset()].
  std::optional<int64_t> SegmentBaseFor(int64_t offset) const;

  // --- Kafka offsets (see the top of this file; O(log n), no I/O) -----------------------------
  // Hidden batches with offsets in [first_offset(), offset): for an offset inside a batch, those
  // before the batch. std::nullopt outside [first_offset(), next_offset()].
  std::optional<int64_t> HiddenCountBefore(int64_t offset) const;
  // hidden_base for the other calls: anchor.hidden_count - HiddenCountBefore(anchor.offset).
  // std::nullopt if anchor.offset is outside [first_offset(), next_offset()] or the result is
  // impossible (< 0, or > first_offset()): the anchor does not describe this log.
  std::optional<int64_t> HiddenBaseFor(const KafkaAnchor& anchor) const;
  // Kafka offset of Raft offset `offset` in [first_offset(), next_offset()] (of next_offset():
  // the Kafka log end; of commit + 1: the Kafka high watermark); std::nullopt outside.
  // REQUIRES (all three): 0 <= hidden_base <= first_offset() (what HiddenBaseFor returns; at most
  // one hidden batch per offset below the log start, so Kafka offsets are never negative).
  std::optional<int64_t> KafkaOffsetFor(int64_t offset, int64_t hidden_base) const;
  // The batch containing Raft offset `offset`, with its Kafka range; std::nullopt outside
  // [first_offset(), last_offset()].
  std::optional<KafkaBatch> KafkaBatchAt(int64_t offset, int64_t hidden_base) const;
  // The first DATA batch whose Kafka range contains `kafka_offset` or lies after it (where a
  // fetch at `kafka_offset` starts); std::nullopt if kafka_offset >= the Kafka log end.
  std::optional<KafkaBatch> FindKafkaBatch(int64_t kafka_offset, int64_t hidden_base) const;

  // Base offset of the first batch holding a record with timestamp >= `timestamp_ms`
  // (batch granularity, see TimeIndex); std::nullopt if there is none.
  std::optional<int64_t> OffsetForTimestamp(int64_t timestamp_ms) const;

  int64_t flushed_offset() const { return flushed_offset_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  const absl::Status& status() const { return failure_; }
  const LogStats& stats() const { return stats_; }

 private:
  PartitionLog(runtime::Clock& clock, runtime::Disk& disk, std::string directory,
               LogOptions options, RecoveredLog recovered);

  absl::StatusOr<AppendResult> AppendValidated(std::vector<uint8_t> batch,
                                               const record::BatchHeader& header);
  absl::StatusOr<record::BatchHeader> ValidateBatch(const std::vector<uint8_t>& batch) const;
  // What one read fetches: whole batches of one segment, as the index knows them when planned.
  struct ReadPlan {
    std::shared_ptr<Segment> segment;
    int64_t base_offset = 0;  // of the first batch
    uint32_t position = 0;
    uint64_t size_bytes = 0;
    // Per batch: term and last offset (re-checked against the bytes read), hidden bit.
    std::vector<int64_t> terms;
    std::vector<int64_t> last_offsets;
    std::vector<bool> hidden;
  };
  // `first` and the batches after it in its segment, within the byte budget and with base
  // offsets below `offset_end`. REQUIRES: first.base_offset < offset_end.
  ReadPlan PlanRead(const BatchLocation& first, uint64_t size_bytes_max, int64_t offset_end) const;
  void ExecuteRead(ReadPlan plan, DoneWith<ReadResult> done);
  // The offset after the last batch if `bytes` are exactly the planned batches, intact.
  static absl::StatusOr<int64_t> VerifyReadBytes(const ReadPlan& plan,
                                                 std::span<const uint8_t> bytes);
  void CheckHiddenBase(int64_t hidden_base) const;
  KafkaBatch MakeKafkaBatch(const Segment& segment, const BatchLocation& location,
                            int64_t hidden_base) const;
  template <typename T>
  void PostResult(DoneWith<T> done, absl::StatusOr<T> result);

  Segment& active() const { return *segments_.back(); }
  std::shared_ptr<Segment> SharedSegmentFor(int64_t offset) const;
  // As SharedSegmentFor, without the reference count traffic of a shared_ptr copy (every index
  // lookup passes here).
  const Segment* SegmentFor(int64_t offset) const;
  void MaybeRoll(uint64_t batch_size_bytes, int64_t batch_last_offset);
  void Roll();
  void StartSeal(std::shared_ptr<Segment> segment);
  void WriteIndexFiles(std::shared_ptr<Segment> segment, uint64_t generation,
                       SerialQueue::Next next);
  void Unseal(Segment& segment);
  void DeleteSegment(std::shared_ptr<Segment> segment, bool sync_directory_after);
  // Detaches `segment` from the log (no file is removed here).
  void RetireSegment(Segment& segment);
  // The directory steps of ResetTo, run on directory_operations_ (see partition_log.cc).
  // `paths`: every old segment's files (removed popping from the back).
  void RunReset(int64_t next_offset, std::vector<std::string> paths,
                std::shared_ptr<Segment> fresh, Done done, SerialQueue::Next next);
  // Lowers the flushed offset to `new_last` and makes every pending flush wait for a sync round
  // that starts after now (a truncation or reset must be durable before they complete).
  void RekeyFlushWaiters(int64_t new_last);
  // Runs `then` once every one of `segments` (each Close()d) is closed.
  static void WhenAllClosed(std::vector<std::shared_ptr<Segment>> segments,
                            absl::AnyInvocable<void() &&> then);
  // Removes `paths` one after another (from the back; missing files are fine), then runs `then`.
  void RemoveFilesThen(std::vector<std::string> paths, SerialQueue::Next then);
  void StartFlushRound();
  void FinishFlushRound();
  void Fail(absl::Status status);
  void PostDone(Done done, absl::Status status);
  void CheckInvariants() const;

  // Wraps a completion so it does nothing once the log is gone.
  template <typename F>
  auto Guarded(F f);

  runtime::Clock& clock_;
  runtime::Disk& disk_;
  const std::string directory_;
  const LogOptions options_;
  // Ascending base offsets, contiguous; the last is active. A deque (not a map keyed by base
  // offset) so that Kafka lookups can binary-search by a derived key.
  std::deque<std::shared_ptr<Segment>> segments_;
  // Segments that left the log (retention, truncation, reset) and may still be closing.
  static constexpr size_t kRetiredSegmentCountMax = 64;
  std::vector<std::weak_ptr<Segment>> retired_;
  SerialQueue directory_operations_;
  bool directory_dirty_ = false;  // entries created or removed since the last directory sync

  // A flush waiter needs every batch up to `offset` durable, and every suffix truncation
  // submitted before it (up to `truncation_epoch`): the flushed offset alone cannot say that a
  // file was cut, so truncations are counted in epochs.
  struct FlushWaiter {
    uint64_t truncation_epoch;
    Done done;
  };
  int64_t flushed_offset_ = -1;
  uint64_t truncation_epoch_ = 0;          // suffix truncations submitted so far
  uint64_t durable_truncation_epoch_ = 0;  // ... of which a completed sync round covered
  std::multimap<int64_t, FlushWaiter> flush_waiters_;  // by the offset each one waits for
  bool flush_round_running_ = false;
  int64_t flush_round_target_ = -1;
  uint64_t flush_round_truncation_epoch_ = 0;

  absl::Status failure_;
  LogStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct PartitionLog::Opened {
  std::unique_ptr<PartitionLog> log;
  RecoveryReport report;
};

}  // namespace eddy::log
