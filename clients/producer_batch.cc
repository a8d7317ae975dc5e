#include "clients/producer_batch.h"

#include <utility>

#include "core/base/check.h"
#include "core/record/batch_header.h"

namespace eddy::clients {

ProducerBatch::ProducerBatch(TopicPartition tp, uint64_t ordinal, uint64_t first_record_index,
                             Instant created, Instant deadline, size_t size_bytes_soft_max)
    : tp_(std::move(tp)),
      ordinal_(ordinal),
      first_record_index_(first_record_index),
      created_(created),
      deadline_(deadline),
      // Producer fields are stamped when the batch is first sent, once its sequence is known.
      builder_(std::make_unique<record::RecordBatchBuilder>(record::BatchHeader{},
                                                            size_bytes_soft_max)) {}

absl::Status ProducerBatch::Append(int64_t timestamp_ms,
                                   std::optional<std::span<const uint8_t>> key,
                                   std::optional<std::span<const uint8_t>> value,
                                   std::span<const record::HeaderView> headers,
                                   SendCallback& callback) {
  EDDY_CHECK(!sealed());
  const absl::Status appended = builder_->Append(timestamp_ms, key, value, headers);
  if (!appended.ok()) return appended;
  callbacks_.push_back(std::move(callback));
  EDDY_CHECK_EQ(builder_->record_count(), record_count());
  return absl::OkStatus();
}

void ProducerBatch::Seal() {
  if (sealed()) return;
  EDDY_CHECK_GT(record_count(), 0);
  bytes_ = builder_->Finish();
  builder_.reset();
  EDDY_CHECK_GE(bytes_.size(), record::kBatchHeaderSizeBytes);
}

void ProducerBatch::Stamp(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  EDDY_CHECK(sealed());
  absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(bytes_);
  EDDY_CHECK_OK(header.status());
  header->producer_id = producer_id;
  header->producer_epoch = producer_epoch;
  header->base_sequence = base_sequence;
  record::EncodeBatchHeader(*header, bytes_);
  record::WriteBatchCrc(bytes_);
  producer_id_ = producer_id;
  base_sequence_ = base_sequence;
  stamped_without_sequence_ = base_sequence == -1;
  EDDY_CHECK_OK(record::VerifyBatchCrc(bytes_));
}

void ProducerBatch::Complete(const absl::StatusOr<int64_t>& base_offset) {
  EDDY_CHECK(!completed_);
  completed_ = true;
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    if (!base_offset.ok()) {
      std::move(callbacks_[i])(base_offset.status());
      continue;
    }
    const int64_t offset = *base_offset < 0 ? -1 : *base_offset + static_cast<int64_t>(i);
    std::move(callbacks_[i])(RecordMetadata{tp_.partition, offset});
  }
  callbacks_.clear();
}

}  // namespace eddy::clients
