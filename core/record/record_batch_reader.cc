#include "core/record/record_batch_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/record/record_codec.h"

namespace eddy::record {
namespace {

// The smallest record on the wire: length, attributes, timestamp delta, offset delta, key
// length, value length, header count; one byte each.
constexpr size_t kRecordSizeBytesMin = 7;

absl::Status ValidateCodec(const BatchHeader& header) {
  const uint8_t codec = header.compression_codec_bits();
  if (codec == static_cast<uint8_t>(CompressionCodec::kNone)) return absl::OkStatus();
  if (codec <= static_cast<uint8_t>(CompressionCodec::kZstd)) {
    return absl::UnimplementedError(absl::StrCat("record batch at offset ", header.base_offset,
                                                 " is compressed (codec ", static_cast<int>(codec),
                                                 "); Eddy reads only uncompressed batches"));
  }
  return absl::InvalidArgumentError(absl::StrCat("record batch at offset ", header.base_offset,
                                                 " has undefined compression codec ",
                                                 static_cast<int>(codec)));
}

absl::Status BadRecord(const BatchHeader& header, int32_t index, const absl::Status& cause) {
  return absl::InvalidArgumentError(absl::StrCat("record batch at offset ", header.base_offset,
                                                 ", record ", index, ": ", cause.message()));
}

// Walks every record once: structure, offset-delta order and the record count.
absl::Status ValidateRecords(const BatchHeader& header, std::span<const uint8_t> records_bytes) {
  if (static_cast<size_t>(header.record_count) > records_bytes.size() / kRecordSizeBytesMin) {
    return absl::InvalidArgumentError(absl::StrCat("record batch at offset ", header.base_offset,
                                                   " claims ", header.record_count, " records in ",
                                                   records_bytes.size(), " bytes"));
  }
  ByteReader reader(records_bytes);
  RecordView record;
  int32_t index = 0;
  int64_t previous_offset_delta = -1;
  while (!reader.empty()) {
    if (index == header.record_count) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record batch at offset ", header.base_offset, " has ", reader.remaining_bytes(),
          " bytes after its ", header.record_count, " records"));
    }
    if (absl::Status status = internal::ParseRecord(reader, &record); !status.ok()) {
      return BadRecord(header, index, status);
    }
    if (record.offset_delta <= previous_offset_delta ||
        record.offset_delta > header.last_offset_delta) {
      return BadRecord(header, index,
                       absl::InvalidArgumentError(absl::StrCat(
                           "offset delta ", record.offset_delta, " after ", previous_offset_delta,
                           ", must increase strictly within [0, ", header.last_offset_delta, "]")));
    }
    previous_offset_delta = record.offset_delta;
    ++index;
  }
  if (index != header.record_count) {
    return absl::InvalidArgumentError(absl::StrCat("record batch at offset ", header.base_offset,
                                                   " holds ", index, " records, header says ",
                                                   header.record_count));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecordBatchReader> RecordBatchReader::Open(std::span<const uint8_t> batch) {
  // VerifyBatchCrc checks size and header first (all kDataLoss), so the parse below succeeds.
  EDDY_RETURN_IF_ERROR(VerifyBatchCrc(batch));
  const absl::StatusOr<BatchHeader> header = ParseBatchHeader(batch);
  EDDY_CHECK_OK(header.status());
  EDDY_CHECK_EQ(header->size_bytes(), batch.size());
  EDDY_RETURN_IF_ERROR(ValidateCodec(*header));
  const std::span<const uint8_t> records_bytes = batch.subspan(kBatchHeaderSizeBytes);
  EDDY_RETURN_IF_ERROR(ValidateRecords(*header, records_bytes));
  return RecordBatchReader(*header, records_bytes);
}

bool RecordBatchReader::Next(RecordView* record) {
  if (records_read_count_ == header_.record_count) {
    EDDY_CHECK(records_.empty());
    return false;
  }
  // Open() parsed these very bytes successfully; failing now would be a bug, not bad input.
  EDDY_CHECK_OK(internal::ParseRecord(records_, record));
  EDDY_CHECK_LE(record->offset_delta, header_.last_offset_delta);
  ++records_read_count_;
  return true;
}

absl::Status ValidateRecordBatch(std::span<const uint8_t> batch) {
  return RecordBatchReader::Open(batch).status();
}

absl::StatusOr<DecodedRecordBatch> DecodeRecordBatch(std::span<const uint8_t> batch) {
  EDDY_ASSIGN_OR_RETURN(RecordBatchReader reader, RecordBatchReader::Open(batch));
  DecodedRecordBatch decoded;
  decoded.header = reader.header();
  // Bounded: Open() proved record_count records are present.
  decoded.records.reserve(static_cast<size_t>(decoded.header.record_count));
  RecordView view;
  while (reader.Next(&view)) decoded.records.push_back(view.ToRecord());
  EDDY_CHECK_EQ(decoded.records.size(), static_cast<size_t>(decoded.header.record_count));
  return decoded;
}

int64_t RecordTimestamp(const BatchHeader& header, int64_t timestamp_delta) {
  if (header.timestamp_type() == TimestampType::kLogAppendTime) return header.max_timestamp;
  return static_cast<int64_t>(static_cast<uint64_t>(header.base_timestamp) +
                              static_cast<uint64_t>(timestamp_delta));
}

}  // namespace eddy::record
