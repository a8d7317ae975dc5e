// Reading RecordBatch v2 bytes that came from a peer, a client or a disk, i.e. bytes that are
// trusted for nothing. RecordBatchReader::Open() checks the whole batch up front (header, size,
// CRC, every record, the record count), so iteration afterwards cannot fail.
//
// Error codes (what the caller should do):
//   kDataLoss         truncated batch, impossible header, or CRC mismatch: the bytes are damaged.
//   kUnimplemented    a compressed batch (codec 1-4): valid Kafka, but Eddy does not decode it.
//   kInvalidArgument  the CRC matches but the contents break the format: undefined codec 5-7,
//                     malformed varints, lengths beyond their record, negative lengths other than
//                     -1, record count mismatch, offset deltas not strictly increasing within
//                     [0, last_offset_delta], trailing bytes. A buggy or hostile writer.
// Memory: nothing is allocated from an untrusted count beyond what the bytes present can back.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/record/batch_header.h"
#include "core/record/byte_reader.h"
#include "core/record/record.h"

namespace eddy::record {

// Zero-copy iteration over the records of one validated batch.
// Does not own the bytes: the batch must outlive the reader and every RecordView it fills.
class RecordBatchReader {
 public:
  // `batch`: exactly one whole batch (header.size_bytes() bytes). See the error codes above.
  static absl::StatusOr<RecordBatchReader> Open(std::span<const uint8_t> batch);

  const BatchHeader& header() const { return header_; }

  // Fills `record` with the next record (spans into the batch; its headers vector is reused) and
  // returns true, or returns false once all header().record_count records have been read.
  bool Next(RecordView* record);

 private:
  RecordBatchReader(const BatchHeader& header, std::span<const uint8_t> records_bytes)
      : header_(header), records_(records_bytes) {}

  BatchHeader header_;
  ByteReader records_;
  int32_t records_read_count_ = 0;
};

// Open() without the iteration: OK iff the batch is well-formed and intact.
absl::Status ValidateRecordBatch(std::span<const uint8_t> batch);

// A decoded batch that owns copies of everything (the slow path: tools, tests).
struct DecodedRecordBatch {
  BatchHeader header;
  std::vector<Record> records;
};
absl::StatusOr<DecodedRecordBatch> DecodeRecordBatch(std::span<const uint8_t> batch);

// A record's absolute offset. Cannot overflow for a record of a validated batch.
inline int64_t RecordOffset(const BatchHeader& header, int32_t offset_delta) {
  return header.base_offset + offset_delta;
}

// A record's timestamp as Kafka defines it: the batch's max_timestamp for LogAppendTime
// batches, else base_timestamp + timestamp_delta (two's complement wrap-around on overflow, as
// in Java; only a hostile writer produces one).
int64_t RecordTimestamp(const BatchHeader& header, int64_t timestamp_delta);

}  // namespace eddy::record
