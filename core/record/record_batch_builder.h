// Writing RecordBatch v2 bytes: RecordBatchBuilder (the producer's incremental path) and
// EncodeRecordBatch (every field given; for re-encoding and tests). Both produce uncompressed
// batches with a correct CRC32C, byte for byte what Kafka's Java client writes for the same
// fields (see FORMAT.md and the golden test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/limits.h"
#include "core/record/batch_header.h"
#include "core/record/record.h"

namespace eddy::record {

// Builds one batch record by record into a single growing buffer: one encoding pass, no
// per-record allocation beyond the buffer's own growth. Offsets are assigned as Kafka's
// producer does: offset deltas 0, 1, 2, ...; base_timestamp is the first record's timestamp;
// max_timestamp the largest; last_offset_delta = record_count - 1.
//
// Not thread-safe; single use: after Finish() only destruction is allowed.
class RecordBatchBuilder {
 public:
  // `fields` supplies base_offset, partition_leader_epoch, attributes, producer_id,
  // producer_epoch and base_sequence; its other fields are ignored and computed.
  // `size_bytes_soft_max`: Append() refuses a record that would grow a non-empty batch beyond
  // it (the producer's batch.size); a lone record may exceed it up to the hard limit.
  // REQUIRES: fields.magic == 2, fields.attributes has no compression codec (not supported),
  //           kBatchHeaderSizeBytes <= size_bytes_soft_max <= limits::kBatchSizeBytesMax,
  //           0 <= fields.base_offset.
  explicit RecordBatchBuilder(const BatchHeader& fields,
                              size_t size_bytes_soft_max = limits::kBatchSizeBytesMax);

  // Appends a record with the given absolute timestamp (ms). The views are copied at once.
  // Errors: kResourceExhausted when the batch is full (size or record count; the record is not
  // added, start a new batch); kInvalidArgument when the record can never fit (a field beyond
  // limits::kRecordFieldSizeBytesMax, too many headers, a lone record beyond
  // limits::kBatchSizeBytesMax, or a timestamp whose delta overflows int64).
  absl::Status Append(int64_t timestamp, std::optional<std::span<const uint8_t>> key,
                      std::optional<std::span<const uint8_t>> value,
                      std::span<const HeaderView> headers = {});

  int32_t record_count() const { return record_count_; }
  bool empty() const { return record_count_ == 0; }
  // Size of the finished batch if Finish() were called now.
  size_t size_bytes() const { return buffer_.size(); }

  // Writes the header and CRC and returns the batch. REQUIRES: !empty(), not yet finished.
  std::vector<uint8_t> Finish();

 private:
  BatchHeader header_;
  size_t size_bytes_soft_max_;
  std::vector<uint8_t> buffer_;  // header space + records written so far
  int32_t record_count_ = 0;
  bool finished_ = false;
};

// Encodes a batch from all its fields. Taken from `header`: base_offset, partition_leader_epoch,
// magic, attributes, last_offset_delta, base_timestamp, max_timestamp, producer_id,
// producer_epoch, base_sequence (as given: nothing is recomputed from the records, so a decoded
// batch re-encodes to its original bytes). Computed: batch_length, crc, record_count.
// Errors: kUnimplemented for a compression codec; kInvalidArgument when the result would be
// invalid: magic != 2, base_offset < 0 or base_offset + last_offset_delta overflowing, offset
// deltas not strictly increasing within [0, last_offset_delta], a field or the whole batch
// beyond the named limits, more than limits::kBatchRecordCountMax records.
absl::StatusOr<std::vector<uint8_t>> EncodeRecordBatch(const BatchHeader& header,
                                                       std::span<const Record> records);

}  // namespace eddy::record
