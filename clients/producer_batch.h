// ProducerBatch: the records of one partition that travel together in one RecordBatch v2, and
// the callbacks of those records. Built record by record (RecordBatchBuilder), sealed into bytes
// the first time it is sent, stamped with the producer id, epoch and base sequence (and
// re-stamped if the partition gets a new producer id, sequence_tracker.h), and completed
// exactly once: every record's callback runs with its offset or with the batch's error.
//
// OWNERSHIP: one owner at a time, moved between the accumulator (queued, awaiting retry) and the
// producer's in-flight table. LOOP AFFINITY: the producer's loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/units.h"
#include "core/record/record.h"
#include "core/record/record_batch_builder.h"

namespace eddy::clients {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

// What a record's callback learns when the record is acknowledged. offset is -1 for acks=0 (the
// broker does not say).
struct RecordMetadata {
  int32_t partition = 0;
  int64_t offset = -1;
};

using SendCallback = absl::AnyInvocable<void(absl::StatusOr<RecordMetadata>) &&>;

class ProducerBatch {
 public:
  // `ordinal`: the batch's place in its partition's creation order (never reused); `index` of
  // its first record in the producer's record numbering (Flush). `deadline`: delivery timeout.
  // REQUIRES: size_bytes_soft_max as RecordBatchBuilder's.
  ProducerBatch(TopicPartition tp, uint64_t ordinal, uint64_t first_record_index, Instant created,
                Instant deadline, size_t size_bytes_soft_max);
  ProducerBatch(const ProducerBatch&) = delete;
  ProducerBatch& operator=(const ProducerBatch&) = delete;

  // Appends one record; `callback` is taken only on success. Errors as RecordBatchBuilder's
  // Append: kResourceExhausted when the batch is full, kInvalidArgument when the record can
  // never fit. REQUIRES: !sealed().
  absl::Status Append(int64_t timestamp_ms, std::optional<std::span<const uint8_t>> key,
                      std::optional<std::span<const uint8_t>> value,
                      std::span<const record::HeaderView> headers, SendCallback& callback);

  // Finishes the bytes. Idempotent. REQUIRES: record_count() > 0.
  void Seal();
  // Writes producer id, epoch and base sequence into the header and recomputes the CRC (the
  // fields sit inside its coverage). REQUIRES: sealed().
  void Stamp(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

  // Runs every record's callback once: offsets base_offset + i, or the error.
  // REQUIRES: not yet completed.
  void Complete(const absl::StatusOr<int64_t>& base_offset);

  const TopicPartition& tp() const { return tp_; }
  uint64_t ordinal() const { return ordinal_; }
  uint64_t first_record_index() const { return first_record_index_; }
  Instant created() const { return created_; }
  Instant deadline() const { return deadline_; }
  int32_t record_count() const { return static_cast<int32_t>(callbacks_.size()); }
  bool sealed() const { return builder_ == nullptr; }
  bool stamped() const { return base_sequence_ != -1 || stamped_without_sequence_; }
  int32_t base_sequence() const { return base_sequence_; }
  int64_t producer_id() const { return producer_id_; }
  // Bytes held: the builder's so far, or the sealed batch's.
  size_t size_bytes() const { return sealed() ? bytes_.size() : builder_->size_bytes(); }
  // REQUIRES: sealed().
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  // Set when the batch refused a record (a new batch follows it): ready at once.
  bool full = false;
  // Times sent so far.
  int32_t attempts = 0;
  // Not to be resent before this (retry backoff).
  Instant retry_at;

 private:
  TopicPartition tp_;
  uint64_t ordinal_;
  uint64_t first_record_index_;
  Instant created_;
  Instant deadline_;
  std::unique_ptr<record::RecordBatchBuilder> builder_;
  std::vector<uint8_t> bytes_;
  std::vector<SendCallback> callbacks_;
  int64_t producer_id_ = -1;
  int32_t base_sequence_ = -1;
  bool stamped_without_sequence_ = false;
  bool completed_ = false;
};

}  // namespace eddy::clients
