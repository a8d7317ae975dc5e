#include "core/record/record_batch_builder.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/record/record_codec.h"

namespace eddy::record {
namespace {

using internal::RecordBodySizeBytes;
using internal::RecordFields;
using internal::RecordSizeBytes;
using internal::ValidateRecordFields;
using internal::WriteRecord;

// Writes the header (with the final batch_length and record_count) and the CRC over the
// finished buffer.
void SealBatch(BatchHeader header, int32_t record_count, std::vector<uint8_t>& buffer) {
  EDDY_CHECK_GE(buffer.size(), kBatchHeaderSizeBytes);
  EDDY_CHECK_LE(buffer.size(), limits::kBatchSizeBytesMax);
  header.batch_length = static_cast<int32_t>(buffer.size() - kBatchLengthPrefixSizeBytes);
  header.record_count = record_count;
  header.crc = 0;
  EncodeBatchHeader(header, buffer);
  header.crc = WriteBatchCrc(buffer);
  // Pair the writer with the reader's first gate: what we emit must parse back to what we meant.
  const absl::StatusOr<BatchHeader> parsed = ParseBatchHeader(buffer);
  EDDY_CHECK_OK(parsed.status());
  EDDY_CHECK_EQ(*parsed, header);
  EDDY_CHECK_EQ(parsed->size_bytes(), buffer.size());
}

absl::Status ValidateEncodeHeader(const BatchHeader& header) {
  if (header.is_compressed()) {
    return absl::UnimplementedError(absl::StrCat("encoding compressed record batches (codec ",
                                                 static_cast<int>(header.compression_codec_bits()),
                                                 ") is not supported"));
  }
  if (header.magic != kMagicV2) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode magic ", static_cast<int>(header.magic)));
  }
  if (header.last_offset_delta < 0 || header.base_offset < 0 ||
      header.base_offset > std::numeric_limits<int64_t>::max() - header.last_offset_delta) {
    return absl::InvalidArgumentError(absl::StrCat("cannot encode base offset ", header.base_offset,
                                                   " with last offset delta ",
                                                   header.last_offset_delta));
  }
  return absl::OkStatus();
}

}  // namespace

RecordBatchBuilder::RecordBatchBuilder(const BatchHeader& fields, size_t size_bytes_soft_max)
    : header_(fields), size_bytes_soft_max_(size_bytes_soft_max) {
  EDDY_CHECK_EQ(static_cast<int>(fields.magic), static_cast<int>(kMagicV2));
  EDDY_CHECK_MSG(!fields.is_compressed(),
                 "compressed batches are not supported, attributes " << fields.attributes);
  EDDY_CHECK_GE(fields.base_offset, 0);
  EDDY_CHECK_GE(size_bytes_soft_max, kBatchHeaderSizeBytes);
  EDDY_CHECK_LE(size_bytes_soft_max, limits::kBatchSizeBytesMax);
  buffer_.resize(kBatchHeaderSizeBytes);
}

absl::Status RecordBatchBuilder::Append(int64_t timestamp,
                                        std::optional<std::span<const uint8_t>> key,
                                        std::optional<std::span<const uint8_t>> value,
                                        std::span<const HeaderView> headers) {
  EDDY_CHECK(!finished_);
  if (static_cast<uint32_t>(record_count_) >= limits::kBatchRecordCountMax ||
      header_.base_offset > std::numeric_limits<int64_t>::max() - record_count_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("record batch already holds ", record_count_, " records"));
  }
  const int64_t base_timestamp = empty() ? timestamp : header_.base_timestamp;
  int64_t timestamp_delta = 0;
  if (__builtin_sub_overflow(timestamp, base_timestamp, &timestamp_delta)) {
    return absl::InvalidArgumentError(absl::StrCat("record timestamp ", timestamp,
                                                   " too far from the batch's base timestamp ",
                                                   base_timestamp));
  }
  const RecordFields<HeaderView> fields{0, timestamp_delta, record_count_, key, value, headers};
  EDDY_RETURN_IF_ERROR(ValidateRecordFields(fields));
  const size_t body_size_bytes = RecordBodySizeBytes(fields);
  // Fields are each below the batch limit, but many headers can add up past int32: check first.
  if (body_size_bytes > limits::kBatchSizeBytesMax - kBatchHeaderSizeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("record of ", body_size_bytes, " bytes can never fit a record batch"));
  }
  const size_t record_size_bytes = RecordSizeBytes(body_size_bytes);
  const size_t new_size_bytes = buffer_.size() + record_size_bytes;
  if (new_size_bytes > limits::kBatchSizeBytesMax) {
    if (empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("record of ", record_size_bytes, " bytes can never fit a record batch"));
    }
    return absl::ResourceExhaustedError("record batch is full");
  }
  if (new_size_bytes > size_bytes_soft_max_ && !empty()) {
    return absl::ResourceExhaustedError("record batch reached its size target");
  }
  const size_t old_size_bytes = buffer_.size();
  buffer_.resize(new_size_bytes);
  uint8_t* const end = WriteRecord(fields, body_size_bytes, buffer_.data() + old_size_bytes);
  EDDY_CHECK_EQ(static_cast<size_t>(end - buffer_.data()), buffer_.size());

  if (empty()) {
    header_.base_timestamp = timestamp;
    header_.max_timestamp = timestamp;
  }
  header_.max_timestamp = std::max(header_.max_timestamp, timestamp);
  header_.last_offset_delta = record_count_;
  ++record_count_;
  return absl::OkStatus();
}

std::vector<uint8_t> RecordBatchBuilder::Finish() {
  EDDY_CHECK(!finished_);
  EDDY_CHECK_GT(record_count_, 0);
  EDDY_CHECK_EQ(header_.last_offset_delta, record_count_ - 1);
  finished_ = true;
  SealBatch(header_, record_count_, buffer_);
  return std::move(buffer_);
}

absl::StatusOr<std::vector<uint8_t>> EncodeRecordBatch(const BatchHeader& header,
                                                       std::span<const Record> records) {
  EDDY_RETURN_IF_ERROR(ValidateEncodeHeader(header));
  if (records.size() > limits::kBatchRecordCountMax) {
    return absl::InvalidArgumentError(absl::StrCat("cannot encode ", records.size(),
                                                   " records in one batch, limit ",
                                                   limits::kBatchRecordCountMax));
  }
  // First pass: validate and size, so the second pass writes into one exact allocation.
  std::vector<size_t> body_sizes_bytes;
  body_sizes_bytes.reserve(records.size());
  size_t size_bytes = kBatchHeaderSizeBytes;
  int64_t previous_offset_delta = -1;
  for (const Record& record : records) {
    const RecordFields<Header> fields = internal::FieldsOf(record);
    EDDY_RETURN_IF_ERROR(ValidateRecordFields(fields));
    if (record.offset_delta <= previous_offset_delta ||
        record.offset_delta > header.last_offset_delta) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record offset delta ", record.offset_delta, " after ", previous_offset_delta,
          ": offset deltas must increase strictly within [0, ", header.last_offset_delta, "]"));
    }
    previous_offset_delta = record.offset_delta;
    const size_t body_size_bytes = RecordBodySizeBytes(fields);
    if (body_size_bytes > limits::kBatchSizeBytesMax ||
        size_bytes + RecordSizeBytes(body_size_bytes) > limits::kBatchSizeBytesMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("records exceed the batch size limit of ", limits::kBatchSizeBytesMax));
    }
    size_bytes += RecordSizeBytes(body_size_bytes);
    body_sizes_bytes.push_back(body_size_bytes);
  }
  std::vector<uint8_t> buffer(size_bytes);
  uint8_t* out = buffer.data() + kBatchHeaderSizeBytes;
  for (size_t i = 0; i < records.size(); ++i) {
    out = WriteRecord(internal::FieldsOf(records[i]), body_sizes_bytes[i], out);
  }
  EDDY_CHECK_EQ(static_cast<size_t>(out - buffer.data()), buffer.size());
  SealBatch(header, static_cast<int32_t>(records.size()), buffer);
  return buffer;
}

}  // namespace eddy::record
