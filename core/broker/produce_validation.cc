#include "core/broker/produce_validation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_reader.h"

namespace eddy::broker {
namespace {

using kafka::ErrorCode;

ProducedBatches Fail(ErrorCode code, std::string message) {
  ProducedBatches out;
  out.error = code;
  out.message = std::move(message);
  return out;
}

// Byte 16 of a batch (and of a v0/v1 message) is its magic.
constexpr size_t kMagicPosition = 16;

}  // namespace

ProducedBatches ValidateProduced(std::span<const uint8_t> records,
                                 const controller::TopicConfig& config, int64_t now_ms) {
  if (records.empty()) return Fail(ErrorCode::kInvalidRecord, "no record batch");
  ProducedBatches out;
  size_t position = 0;
  while (position < records.size()) {
    const std::span<const uint8_t> rest = records.subspan(position);
    if (rest.size() > kMagicPosition && rest[kMagicPosition] != record::kMagicV2) {
      return Fail(ErrorCode::kUnsupportedForMessageFormat,
                  absl::StrCat("record batch magic ", rest[kMagicPosition], "; only 2 is served"));
    }
    absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    if (!header.ok() || header->size_bytes() > rest.size()) {
      return Fail(ErrorCode::kCorruptMessage,
                  header.ok() ? "a record batch cut short" : std::string(header.status().message()));
    }
    if (header->size_bytes() > static_cast<size_t>(config.max_message_bytes)) {
      return Fail(ErrorCode::kMessageTooLarge,
                  absl::StrCat("a record batch of ", header->size_bytes(),
                               " bytes; the topic's max.message.bytes is ",
                               config.max_message_bytes));
    }
    const std::span<const uint8_t> batch = rest.first(header->size_bytes());
    const absl::Status valid = record::ValidateRecordBatch(batch);
    if (absl::IsUnimplemented(valid)) {
      return Fail(ErrorCode::kUnsupportedCompressionType, "compressed batches are not served yet");
    }
    if (absl::IsDataLoss(valid)) return Fail(ErrorCode::kCorruptMessage, std::string(valid.message()));
    if (!valid.ok()) return Fail(ErrorCode::kInvalidRecord, std::string(valid.message()));
    if (header->is_control() || header->is_transactional()) {
      return Fail(ErrorCode::kInvalidRecord, "control and transactional batches are not served");
    }
    if (header->producer_id >= 0 && (header->producer_epoch < 0 || header->base_sequence < 0)) {
      return Fail(ErrorCode::kInvalidRecord,
                  absl::StrCat("producer id ", header->producer_id, " with epoch ",
                               header->producer_epoch, " and base sequence ",
                               header->base_sequence));
    }
    if (header->record_count == 0) return Fail(ErrorCode::kInvalidRecord, "an empty batch");
    std::vector<uint8_t> copy(batch.begin(), batch.end());
    if (config.timestamp_type == controller::TimestampType::kLogAppendTime) {
      record::BatchHeader stamped = *header;
      stamped.attributes =
          static_cast<int16_t>(stamped.attributes | record::kAttributesTimestampTypeBit);
      stamped.max_timestamp = now_ms;
      record::EncodeBatchHeader(stamped, copy);
      record::WriteBatchCrc(copy);
      out.log_append_time_ms = now_ms;
    }
    out.batches.push_back(std::move(copy));
    position += header->size_bytes();
  }
  return out;
}

}  // namespace eddy::broker
