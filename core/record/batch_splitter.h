// Splits a buffer of back-to-back record batches (a slice of a segment file, the records of a
// fetch response) into whole batches, using their headers alone.
//
// It does NOT verify CRCs or records: hand each batch to VerifyBatchCrc() or
// RecordBatchReader::Open(). A buffer may end in a partial batch (Kafka and Eddy fetches stop
// at a byte budget, a torn write leaves a short tail): Next() stops before it and
// remaining_bytes() tells how much is left. Does not own the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "core/record/batch_header.h"

namespace eddy::record {

class BatchSplitter {
 public:
  explicit BatchSplitter(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // true: `*batch` is the next whole batch (exactly header->size_bytes() bytes, a span into the
  // buffer) and `*header` its parsed header; the splitter moves past it.
  // false: no whole batch remains (the buffer is used up, or ends in a partial batch).
  // kDataLoss: the header at position() is impossible (see ParseBatchHeader); the splitter does
  // not move, so the caller can report or truncate at position().
  absl::StatusOr<bool> Next(std::span<const uint8_t>* batch, BatchHeader* header);

  // Bytes of whole batches returned so far.
  size_t position() const { return position_; }
  size_t remaining_bytes() const { return bytes_.size() - position_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
};

}  // namespace eddy::record
