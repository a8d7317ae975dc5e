// Proves the batch header codec against hand-written big-endian bytes (every field at its
// published offset), that each validation rule rejects with the documented code (kOutOfRange
// for "need more bytes", kDataLoss for an impossible header), that VerifyBatchCrc() accepts a
// batch whose CRC was computed by the independent software CRC32C and rejects any corruption
// inside the CRC's coverage, and that the two in-place setters leave the CRC valid.
#include "core/record/batch_header.h"

#include <cstdint>
#include <vector>

#include "core/base/limits.h"
#include "core/base/status_matchers.h"
#include "core/record/crc32c_software.h"
#include "gtest/gtest.h"

namespace eddy::record {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

// A header-only batch (no records), written out byte by byte from the published layout.
std::vector<uint8_t> HandWrittenEmptyBatch() {
  std::vector<uint8_t> bytes = {
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,  // baseOffset = 258
      0x00, 0x00, 0x00, 0x31,                          // batchLength = 49
      0x00, 0x00, 0x00, 0x07,                          // partitionLeaderEpoch = 7
      0x02,                                            // magic = 2
      0x00, 0x00, 0x00, 0x00,                          // crc (filled below)
      0x00, 0x30,                                      // attributes: control | transactional
      0x00, 0x00, 0x00, 0x04,                          // lastOffsetDelta = 4
      0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,  // baseTimestamp = 1700000000000
      0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x6B, 0xE8,  // maxTimestamp = 1700000001000
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39,  // producerId = 12345
      0x00, 0x03,                                      // producerEpoch = 3
      0x00, 0x00, 0x00, 0x0A,                          // baseSequence = 10
      0x00, 0x00, 0x00, 0x00,                          // recordsCount = 0
  };
  const uint32_t crc = Crc32cSoftware(std::span<const uint8_t>(bytes).subspan(kAttributesPosition));
  bytes[17] = static_cast<uint8_t>(crc >> 24);
  bytes[18] = static_cast<uint8_t>(crc >> 16);
  bytes[19] = static_cast<uint8_t>(crc >> 8);
  bytes[20] = static_cast<uint8_t>(crc);
  return bytes;
}

TEST(BatchHeaderTest, ParsesHandWrittenBytes) {
  const std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  ASSERT_EQ(bytes.size(), kBatchHeaderSizeBytes);
  EDDY_ASSERT_OK_AND_ASSIGN(const BatchHeader header, ParseBatchHeader(bytes));
  EXPECT_EQ(header.base_offset, 258);
  EXPECT_EQ(header.batch_length, 49);
  EXPECT_EQ(header.partition_leader_epoch, 7);
  EXPECT_EQ(header.magic, 2);
  EXPECT_EQ(header.crc, Crc32cSoftware(std::span<const uint8_t>(bytes).subspan(21)));
  EXPECT_EQ(header.attributes, 0x30);
  EXPECT_TRUE(header.is_control());
  EXPECT_TRUE(header.is_transactional());
  EXPECT_FALSE(header.is_compressed());
  EXPECT_EQ(header.timestamp_type(), TimestampType::kCreateTime);
  EXPECT_EQ(header.last_offset_delta, 4);
  EXPECT_EQ(header.last_offset(), 262);
  EXPECT_EQ(header.base_timestamp, 1700000000000);
  EXPECT_EQ(header.max_timestamp, 1700000001000);
  EXPECT_EQ(header.producer_id, 12345);
  EXPECT_EQ(header.producer_epoch, 3);
  EXPECT_EQ(header.base_sequence, 10);
  EXPECT_EQ(header.record_count, 0);
  EXPECT_EQ(header.size_bytes(), kBatchHeaderSizeBytes);
  EXPECT_THAT(VerifyBatchCrc(bytes), IsOk());
}

TEST(BatchHeaderTest, EncodeWritesTheSameBytes) {
  const std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  EDDY_ASSERT_OK_AND_ASSIGN(const BatchHeader header, ParseBatchHeader(bytes));
  std::vector<uint8_t> encoded(kBatchHeaderSizeBytes, 0xEE);
  EncodeBatchHeader(header, encoded);
  EXPECT_EQ(encoded, bytes);
  // WriteBatchCrc recomputes exactly the CRC the software implementation produced.
  encoded[17] = encoded[18] = encoded[19] = encoded[20] = 0;
  EXPECT_EQ(WriteBatchCrc(encoded), header.crc);
  EXPECT_EQ(encoded, bytes);
}

TEST(BatchHeaderTest, AttributeBits) {
  BatchHeader header;
  header.attributes = 0x0B;  // lz4 (3) | log append time (bit 3)
  EXPECT_TRUE(header.is_compressed());
  EXPECT_EQ(header.compression_codec_bits(), static_cast<uint8_t>(CompressionCodec::kLz4));
  EXPECT_EQ(header.timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_FALSE(header.is_control());
  EXPECT_FALSE(header.is_transactional());
}

TEST(BatchHeaderTest, ParsesFirstOfSeveralBatches) {
  std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  const std::vector<uint8_t> second = HandWrittenEmptyBatch();
  bytes.insert(bytes.end(), second.begin(), second.end());
  EDDY_ASSERT_OK_AND_ASSIGN(const BatchHeader header, ParseBatchHeader(bytes));
  EXPECT_EQ(header.size_bytes(), kBatchHeaderSizeBytes);
  EXPECT_THAT(ParseBatchHeader(std::span<const uint8_t>(bytes).subspan(header.size_bytes())),
              IsOk());
}

TEST(BatchHeaderTest, DoesNotRequireTheWholeBatch) {
  std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  bytes[11] = 100;  // batchLength = 100: 51 record bytes announced but absent
  EDDY_ASSERT_OK_AND_ASSIGN(const BatchHeader header, ParseBatchHeader(bytes));
  EXPECT_EQ(header.size_bytes(), 112u);
  EXPECT_THAT(VerifyBatchCrc(bytes), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(BatchHeaderTest, ShortInputIsOutOfRange) {
  const std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  for (size_t size = 0; size < kBatchHeaderSizeBytes; ++size) {
    EXPECT_THAT(ParseBatchHeader(std::span<const uint8_t>(bytes).first(size)),
                StatusIs(absl::StatusCode::kOutOfRange))
        << size;
    EXPECT_THAT(VerifyBatchCrc(std::span<const uint8_t>(bytes).first(size)),
                StatusIs(absl::StatusCode::kDataLoss))
        << size;
  }
}

// Returns the hand-written batch with one header field replaced (big-endian, `width` bytes).
std::vector<uint8_t> WithField(size_t position, size_t width, uint64_t value) {
  std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  for (size_t i = 0; i < width; ++i) {
    bytes[position + i] = static_cast<uint8_t>(value >> (8 * (width - 1 - i)));
  }
  return bytes;
}

TEST(BatchHeaderTest, RejectsImpossibleHeaders) {
  const auto data_loss = StatusIs(absl::StatusCode::kDataLoss);
  EXPECT_THAT(ParseBatchHeader(WithField(kMagicPosition, 1, 1)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kMagicPosition, 1, 0)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kMagicPosition, 1, 3)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, 48)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, 0)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, 0xFFFFFFFF)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, 0x7FFFFFFF)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, limits::kBatchSizeBytesMax - 11)),
              data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBatchLengthPosition, 4, limits::kBatchSizeBytesMax - 12)),
              IsOk());
  EXPECT_THAT(ParseBatchHeader(WithField(kLastOffsetDeltaPosition, 4, 0xFFFFFFFF)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kRecordCountPosition, 4, 0xFFFFFFFF)), data_loss);
  EXPECT_THAT(
      ParseBatchHeader(WithField(kRecordCountPosition, 4, limits::kBatchRecordCountMax + 1)),
      data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kRecordCountPosition, 4, limits::kBatchRecordCountMax)),
              IsOk());
  EXPECT_THAT(ParseBatchHeader(WithField(kBaseOffsetPosition, 8, 0xFFFFFFFFFFFFFFFF)), data_loss);
  // base_offset + last_offset_delta (4) would overflow int64.
  EXPECT_THAT(ParseBatchHeader(WithField(kBaseOffsetPosition, 8, 0x7FFFFFFFFFFFFFFD)), data_loss);
  EXPECT_THAT(ParseBatchHeader(WithField(kBaseOffsetPosition, 8, 0x7FFFFFFFFFFFFFFB)), IsOk());
}

TEST(BatchHeaderTest, VerifyRejectsEveryFlipInsideCrcCoverage) {
  const std::vector<uint8_t> good = HandWrittenEmptyBatch();
  for (size_t position = kCrcPosition; position < good.size(); ++position) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> bad = good;
      bad[position] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_THAT(VerifyBatchCrc(bad), StatusIs(absl::StatusCode::kDataLoss))
          << "byte " << position << " bit " << bit;
    }
  }
}

TEST(BatchHeaderTest, VerifyRejectsWrongSize) {
  std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  bytes.push_back(0);
  EXPECT_THAT(VerifyBatchCrc(bytes), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(BatchHeaderTest, SettersKeepCrcValid) {
  std::vector<uint8_t> bytes = HandWrittenEmptyBatch();
  SetBaseOffset(bytes, 0x0102030405060708);
  SetPartitionLeaderEpoch(bytes, 99);
  EXPECT_THAT(VerifyBatchCrc(bytes), IsOk());
  EDDY_ASSERT_OK_AND_ASSIGN(const BatchHeader header, ParseBatchHeader(bytes));
  EXPECT_EQ(header.base_offset, 0x0102030405060708);
  EXPECT_EQ(header.partition_leader_epoch, 99);
  EXPECT_EQ(bytes[0], 0x01);
  EXPECT_EQ(bytes[7], 0x08);
  EXPECT_EQ(bytes[15], 99);
  EXPECT_EQ(header.producer_id, 12345);  // neighbours untouched
}

TEST(BatchHeaderDeathTest, SettersCheckTheBufferSize) {
  std::vector<uint8_t> bytes(kBatchHeaderSizeBytes - 1);
  EXPECT_DEATH(SetBaseOffset(bytes, 1), "EDDY_CHECK failed");
  EXPECT_DEATH(SetPartitionLeaderEpoch(bytes, 1), "EDDY_CHECK failed");
}

}  // namespace
}  // namespace eddy::record
