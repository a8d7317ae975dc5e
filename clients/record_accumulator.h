// RecordAccumulator: the producer's per-partition queues of batches not in flight — the open
// batch records are appended to, full ones waiting to be sent, and batches put back for a retry
// — and the memory they (and the batches in flight) hold.
//
// READY. A partition's head batch may be sent when its retry backoff has passed and it is full
// (it refused a record, reached batch_size, or has a batch behind it), or it has lingered
// `linger` since it was opened, or the caller is flushing. Only heads are sent: a partition's
// batches leave in creation order, and a batch put back for a retry goes back in that order
// (Reenqueue), ahead of every younger batch.
//
// MEMORY. buffered_bytes() counts every batch from its first record until the caller Releases
// it (after its outcome), plus what the caller Reserves for records not yet in a batch. An
// Append that would take it beyond buffer_memory_bytes fails with kResourceExhausted.
//
// Pure (no clock: `now` is passed in); iteration order is the partitions' order.
// LOOP AFFINITY: the producer's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "clients/producer_batch.h"
#include "core/base/units.h"
#include "core/record/record.h"

namespace eddy::clients {

struct AccumulatorOptions {
  size_t batch_size_bytes = 16384;
  Duration linger = Duration::Milliseconds(5);
  Duration delivery_timeout = Duration::Seconds(120);
  size_t buffer_memory_bytes = 32 * kMiB;
};

// Bytes a record adds to a batch at most: the fields plus varint and length overheads, the
// bound Java's DefaultRecord.sizeInUpperBound uses.
size_t EstimateRecordSizeBytes(std::optional<std::span<const uint8_t>> key,
                               std::optional<std::span<const uint8_t>> value,
                               std::span<const record::HeaderView> headers);

class RecordAccumulator {
 public:
  explicit RecordAccumulator(AccumulatorOptions options);

  // Appends to the partition's open batch, opening a new one when there is none or it is full.
  // `callback` is taken only on success. `record_index`: the record's number (Flush).
  // Errors: kResourceExhausted (buffer memory), kInvalidArgument (a record that never fits).
  absl::Status Append(const TopicPartition& tp, int64_t timestamp_ms,
                      std::optional<std::span<const uint8_t>> key,
                      std::optional<std::span<const uint8_t>> value,
                      std::span<const record::HeaderView> headers, uint64_t record_index,
                      Instant now, SendCallback& callback);
  // Whether an Append of a record of `size_bytes` to `tp` would open a new batch (the sticky
  // partitioner's signal).
  bool WouldOpenBatch(const TopicPartition& tp, size_t size_bytes) const;

  // Partitions whose head batch may be sent now (READY), in partition order.
  std::vector<TopicPartition> Ready(Instant now, bool flushing) const;
  // The earliest instant after `now` at which a head becomes ready or a head's delivery
  // deadline passes; nullopt when nothing is queued.
  std::optional<Instant> NextWakeup(Instant now, bool flushing) const;

  // Removes and returns the head batch, sealed. REQUIRES: the partition has a batch.
  std::unique_ptr<ProducerBatch> TakeHead(const TopicPartition& tp);
  // Puts a batch back in creation order (ordinal) among its partition's batches.
  void Reenqueue(std::unique_ptr<ProducerBatch> batch);
  // Removes and returns the batches whose delivery deadline is at or before `now`, each
  // partition's from the head (deadlines grow along a partition's queue).
  std::vector<std::unique_ptr<ProducerBatch>> Expire(Instant now);
  // Removes and returns every batch (Close).
  std::vector<std::unique_ptr<ProducerBatch>> TakeAll();

  // Calls `visit` on the queued batches of `tp`, head first (re-stamping after a producer id
  // reset). `visit` must not add or remove batches.
  void ForEachBatch(const TopicPartition& tp, absl::FunctionRef<void(ProducerBatch&)> visit);
  // Smallest first_record_index among queued batches (Flush), if any.
  std::optional<uint64_t> MinRecordIndex() const;

  // Memory of a batch whose outcome is known. REQUIRES: bytes were counted.
  void Release(size_t bytes);
  // Memory held outside batches (records waiting for metadata). Reserve fails with
  // kResourceExhausted beyond the limit.
  absl::Status Reserve(size_t bytes);

  size_t buffered_bytes() const { return buffered_bytes_; }
  size_t batch_count() const;
  void CheckInvariants() const;

 private:
  using Queue = std::deque<std::unique_ptr<ProducerBatch>>;
  bool HeadReady(const ProducerBatch& head, const Queue& queue, Instant now, bool flushing) const;
  ProducerBatch& OpenBatch(const TopicPartition& tp, uint64_t record_index, Instant now);

  const AccumulatorOptions options_;
  std::map<TopicPartition, Queue> queues_;
  std::map<TopicPartition, uint64_t> next_ordinal_;
  size_t buffered_bytes_ = 0;
};

}  // namespace eddy::clients
