#include "core/record/batch_header.h"

#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"
#include "core/record/big_endian.h"
#include "core/record/crc32c.h"

namespace eddy::record {
namespace {

using internal::LoadBigEndian16;
using internal::LoadBigEndian32;
using internal::LoadBigEndian64;
using internal::StoreBigEndian16;
using internal::StoreBigEndian32;
using internal::StoreBigEndian64;

constexpr int64_t kBatchLengthMax =
    static_cast<int64_t>(limits::kBatchSizeBytesMax - kBatchLengthPrefixSizeBytes);
static_assert(kBatchLengthMax <= std::numeric_limits<int32_t>::max());
static_assert(kBatchLengthMin == 49);

BatchHeader LoadHeaderFields(const uint8_t* p) {
  BatchHeader header;
  header.base_offset = static_cast<int64_t>(LoadBigEndian64(p + kBaseOffsetPosition));
  header.batch_length = static_cast<int32_t>(LoadBigEndian32(p + kBatchLengthPosition));
  header.partition_leader_epoch =
      static_cast<int32_t>(LoadBigEndian32(p + kPartitionLeaderEpochPosition));
  header.magic = static_cast<int8_t>(p[kMagicPosition]);
  header.crc = LoadBigEndian32(p + kCrcPosition);
  header.attributes = static_cast<int16_t>(LoadBigEndian16(p + kAttributesPosition));
  header.last_offset_delta = static_cast<int32_t>(LoadBigEndian32(p + kLastOffsetDeltaPosition));
  header.base_timestamp = static_cast<int64_t>(LoadBigEndian64(p + kBaseTimestampPosition));
  header.max_timestamp = static_cast<int64_t>(LoadBigEndian64(p + kMaxTimestampPosition));
  header.producer_id = static_cast<int64_t>(LoadBigEndian64(p + kProducerIdPosition));
  header.producer_epoch = static_cast<int16_t>(LoadBigEndian16(p + kProducerEpochPosition));
  header.base_sequence = static_cast<int32_t>(LoadBigEndian32(p + kBaseSequencePosition));
  header.record_count = static_cast<int32_t>(LoadBigEndian32(p + kRecordCountPosition));
  return header;
}

absl::Status ValidateHeader(const BatchHeader& header) {
  if (header.magic != kMagicV2) {
    return absl::DataLossError(absl::StrCat(
        "record batch has magic ", static_cast<int>(header.magic), ", only magic 2 is supported"));
  }
  if (header.batch_length < kBatchLengthMin || header.batch_length > kBatchLengthMax) {
    return absl::DataLossError(absl::StrCat("record batch length ", header.batch_length,
                                            " outside [", kBatchLengthMin, ", ", kBatchLengthMax,
                                            "]"));
  }
  if (header.last_offset_delta < 0) {
    return absl::DataLossError(
        absl::StrCat("record batch last offset delta ", header.last_offset_delta, " < 0"));
  }
  if (header.base_offset < 0 ||
      header.base_offset > std::numeric_limits<int64_t>::max() - header.last_offset_delta) {
    return absl::DataLossError(absl::StrCat("record batch base offset ", header.base_offset,
                                            " with last offset delta ", header.last_offset_delta,
                                            " is out of range"));
  }
  if (header.record_count < 0 ||
      static_cast<uint32_t>(header.record_count) > limits::kBatchRecordCountMax) {
    return absl::DataLossError(absl::StrCat("record batch record count ", header.record_count,
                                            " outside [0, ", limits::kBatchRecordCountMax, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const BatchHeader& header) {
  return out << "{base_offset=" << header.base_offset << " batch_length=" << header.batch_length
             << " partition_leader_epoch=" << header.partition_leader_epoch
             << " magic=" << static_cast<int>(header.magic) << " crc=0x" << std::hex << header.crc
             << std::dec << " attributes=" << header.attributes
             << " last_offset_delta=" << header.last_offset_delta
             << " base_timestamp=" << header.base_timestamp
             << " max_timestamp=" << header.max_timestamp << " producer_id=" << header.producer_id
             << " producer_epoch=" << header.producer_epoch
             << " base_sequence=" << header.base_sequence << " record_count=" << header.record_count
             << "}";
}

absl::StatusOr<BatchHeader> ParseBatchHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kBatchHeaderSizeBytes) {
    return absl::OutOfRangeError(absl::StrCat("record batch header needs ", kBatchHeaderSizeBytes,
                                              " bytes, have ", bytes.size()));
  }
  const BatchHeader header = LoadHeaderFields(bytes.data());
  if (absl::Status status = ValidateHeader(header); !status.ok()) return status;
  EDDY_CHECK_GE(header.size_bytes(), kBatchHeaderSizeBytes);
  EDDY_CHECK_LE(header.size_bytes(), limits::kBatchSizeBytesMax);
  return header;
}

uint32_t ComputeBatchCrc(std::span<const uint8_t> batch) {
  EDDY_CHECK_GE(batch.size(), kBatchHeaderSizeBytes);
  return Crc32c(batch.subspan(kAttributesPosition));
}

absl::Status VerifyBatchCrc(std::span<const uint8_t> batch) {
  if (batch.size() < kBatchHeaderSizeBytes) {
    return absl::DataLossError(
        absl::StrCat("record batch of ", batch.size(), " bytes is shorter than its header"));
  }
  absl::StatusOr<BatchHeader> header = ParseBatchHeader(batch);
  if (!header.ok()) return absl::DataLossError(header.status().message());
  if (header->size_bytes() != batch.size()) {
    return absl::DataLossError(absl::StrCat("record batch header says ", header->size_bytes(),
                                            " bytes, buffer holds ", batch.size()));
  }
  const uint32_t actual_crc = ComputeBatchCrc(batch);
  if (actual_crc != header->crc) {
    return absl::DataLossError(absl::StrCat("record batch at offset ", header->base_offset,
                                            " has CRC32C ", absl::Hex(actual_crc), ", header says ",
                                            absl::Hex(header->crc)));
  }
  return absl::OkStatus();
}

void EncodeBatchHeader(const BatchHeader& header, std::span<uint8_t> batch) {
  EDDY_CHECK_GE(batch.size(), kBatchHeaderSizeBytes);
  uint8_t* p = batch.data();
  StoreBigEndian64(p + kBaseOffsetPosition, static_cast<uint64_t>(header.base_offset));
  StoreBigEndian32(p + kBatchLengthPosition, static_cast<uint32_t>(header.batch_length));
  StoreBigEndian32(p + kPartitionLeaderEpochPosition,
                   static_cast<uint32_t>(header.partition_leader_epoch));
  p[kMagicPosition] = static_cast<uint8_t>(header.magic);
  StoreBigEndian32(p + kCrcPosition, header.crc);
  StoreBigEndian16(p + kAttributesPosition, static_cast<uint16_t>(header.attributes));
  StoreBigEndian32(p + kLastOffsetDeltaPosition, static_cast<uint32_t>(header.last_offset_delta));
  StoreBigEndian64(p + kBaseTimestampPosition, static_cast<uint64_t>(header.base_timestamp));
  StoreBigEndian64(p + kMaxTimestampPosition, static_cast<uint64_t>(header.max_timestamp));
  StoreBigEndian64(p + kProducerIdPosition, static_cast<uint64_t>(header.producer_id));
  StoreBigEndian16(p + kProducerEpochPosition, static_cast<uint16_t>(header.producer_epoch));
  StoreBigEndian32(p + kBaseSequencePosition, static_cast<uint32_t>(header.base_sequence));
  StoreBigEndian32(p + kRecordCountPosition, static_cast<uint32_t>(header.record_count));
  EDDY_CHECK_EQ(LoadHeaderFields(p), header);
}

uint32_t WriteBatchCrc(std::span<uint8_t> batch) {
  const uint32_t crc = ComputeBatchCrc(batch);
  StoreBigEndian32(batch.data() + kCrcPosition, crc);
  EDDY_CHECK_EQ(LoadBigEndian32(batch.data() + kCrcPosition), crc);
  return crc;
}

void SetBaseOffset(std::span<uint8_t> batch, int64_t base_offset) {
  EDDY_CHECK_GE(batch.size(), kBatchHeaderSizeBytes);
  EDDY_CHECK_GE(base_offset, 0);
  StoreBigEndian64(batch.data() + kBaseOffsetPosition, static_cast<uint64_t>(base_offset));
}

void SetPartitionLeaderEpoch(std::span<uint8_t> batch, int32_t epoch) {
  EDDY_CHECK_GE(batch.size(), kBatchHeaderSizeBytes);
  StoreBigEndian32(batch.data() + kPartitionLeaderEpochPosition, static_cast<uint32_t>(epoch));
}

}  // namespace eddy::record
