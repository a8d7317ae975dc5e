// The fixed 61-byte header of a Kafka RecordBatch v2 (magic 2), and the few in-place operations
// the partition log needs on stored batches. See FORMAT.md for the byte layout.
//
// Parsing is zero-copy and validating: nothing here trusts its input bytes. The log uses
// ParseBatchHeader() to walk a buffer batch by batch (size_bytes() steps to the next one) and
// VerifyBatchCrc() to check a whole batch read back from disk or received from a peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::record {

// Size of the fixed RecordBatch v2 header: baseOffset(8) batchLength(4) partitionLeaderEpoch(4)
// magic(1) crc(4) attributes(2) lastOffsetDelta(4) baseTimestamp(8) maxTimestamp(8)
// producerId(8) producerEpoch(2) baseSequence(4) recordsCount(4) = 61 bytes.
inline constexpr size_t kBatchHeaderSizeBytes = 61;
// Bytes before batchLength's coverage starts: baseOffset + batchLength = 12.
inline constexpr size_t kBatchLengthPrefixSizeBytes = 12;

// Byte positions of the header fields inside a batch (big-endian on the wire).
inline constexpr size_t kBaseOffsetPosition = 0;
inline constexpr size_t kBatchLengthPosition = 8;
inline constexpr size_t kPartitionLeaderEpochPosition = 12;
inline constexpr size_t kMagicPosition = 16;
inline constexpr size_t kCrcPosition = 17;
inline constexpr size_t kAttributesPosition = 21;  // the CRC covers [kAttributesPosition, end)
inline constexpr size_t kLastOffsetDeltaPosition = 23;
inline constexpr size_t kBaseTimestampPosition = 27;
inline constexpr size_t kMaxTimestampPosition = 35;
inline constexpr size_t kProducerIdPosition = 43;
inline constexpr size_t kProducerEpochPosition = 51;
inline constexpr size_t kBaseSequencePosition = 53;
inline constexpr size_t kRecordCountPosition = 57;
static_assert(kRecordCountPosition + 4 == kBatchHeaderSizeBytes);
static_assert(kPartitionLeaderEpochPosition == kBatchLengthPrefixSizeBytes);

// The only magic (format version) Eddy reads or writes.
inline constexpr int8_t kMagicV2 = 2;

// Smallest legal batchLength: a header with no records.
inline constexpr int32_t kBatchLengthMin =
    static_cast<int32_t>(kBatchHeaderSizeBytes - kBatchLengthPrefixSizeBytes);

// Values of attributes bits 0-2.
enum class CompressionCodec : uint8_t {
  kNone = 0,
  kGzip = 1,
  kSnappy = 2,
  kLz4 = 3,
  kZstd = 4,
};

// Value of attributes bit 3.
enum class TimestampType : uint8_t {
  kCreateTime = 0,
  kLogAppendTime = 1,
};

// Attribute bits (Kafka's DefaultRecordBatch).
inline constexpr int16_t kAttributesCompressionMask = 0x07;
inline constexpr int16_t kAttributesTimestampTypeBit = 0x08;
inline constexpr int16_t kAttributesTransactionalBit = 0x10;
inline constexpr int16_t kAttributesControlBit = 0x20;
inline constexpr int16_t kAttributesDeleteHorizonBit = 0x40;

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;            // bytes after the batchLength field
  int32_t partition_leader_epoch = 0;  // Eddy stores the Raft term here
  int8_t magic = 2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  int64_t last_offset() const { return base_offset + last_offset_delta; }
  size_t size_bytes() const {
    return kBatchLengthPrefixSizeBytes + static_cast<size_t>(batch_length);
  }
  bool is_control() const { return (attributes & kAttributesControlBit) != 0; }
  bool is_transactional() const { return (attributes & kAttributesTransactionalBit) != 0; }
  // Raw codec bits 0-2; values 5-7 are undefined in Kafka (the decoder rejects them).
  uint8_t compression_codec_bits() const {
    return static_cast<uint8_t>(attributes & kAttributesCompressionMask);
  }
  bool is_compressed() const { return compression_codec_bits() != 0; }
  TimestampType timestamp_type() const {
    return (attributes & kAttributesTimestampTypeBit) != 0 ? TimestampType::kLogAppendTime
                                                           : TimestampType::kCreateTime;
  }

  friend bool operator==(const BatchHeader&, const BatchHeader&) = default;
};

// Prints every field, for check failures and test output.
std::ostream& operator<<(std::ostream& out, const BatchHeader& header);

// Parses the header at the front of `bytes` (which may hold more than one batch) and validates
// magic == 2, batch_length within [kBatchLengthMin, limits::kBatchSizeBytesMax - 12] (so that
// size_bytes() <= kBatchSizeBytesMax, the whole batch including its header),
// 0 <= base_offset <= INT64_MAX - last_offset_delta (so last_offset() cannot overflow),
// last_offset_delta >= 0, 0 <= record_count <= limits::kBatchRecordCountMax. Does NOT check the
// CRC nor require the whole batch to be present.
// Errors: kOutOfRange when `bytes` is shorter than the header (the caller needs more bytes);
// kDataLoss for an impossible header (bad magic, lengths, offsets or counts).
absl::StatusOr<BatchHeader> ParseBatchHeader(std::span<const uint8_t> bytes);

// Checks that `batch` (exactly header.size_bytes() bytes) has a CRC32C matching its contents
// (attributes..end). kDataLoss on mismatch, wrong size or an impossible header.
absl::Status VerifyBatchCrc(std::span<const uint8_t> batch);

// CRC32C of batch[kAttributesPosition, end). REQUIRES: batch.size() >= kBatchHeaderSizeBytes.
uint32_t ComputeBatchCrc(std::span<const uint8_t> batch);

// Writes every field of `header` into batch[0, kBatchHeaderSizeBytes), `crc` as given (call
// WriteBatchCrc() once the records follow). REQUIRES: batch.size() >= kBatchHeaderSizeBytes.
void EncodeBatchHeader(const BatchHeader& header, std::span<uint8_t> batch);

// Computes the CRC over batch[kAttributesPosition, end), stores it in the crc field and returns
// it. REQUIRES: batch.size() >= kBatchHeaderSizeBytes (the caller passes exactly one batch).
uint32_t WriteBatchCrc(std::span<uint8_t> batch);

// In-place rewrites of the two fields outside the CRC's coverage (so no CRC recompute):
// REQUIRES: batch.size() >= kBatchHeaderSizeBytes.
void SetBaseOffset(std::span<uint8_t> batch, int64_t base_offset);
void SetPartitionLeaderEpoch(std::span<uint8_t> batch, int32_t epoch);

}  // namespace eddy::record
