#include "core/record/batch_splitter.h"

#include "core/base/check.h"

namespace eddy::record {

absl::StatusOr<bool> BatchSplitter::Next(std::span<const uint8_t>* batch, BatchHeader* header) {
  const std::span<const uint8_t> rest = bytes_.subspan(position_);
  absl::StatusOr<BatchHeader> parsed = ParseBatchHeader(rest);
  if (!parsed.ok()) {
    // kOutOfRange: fewer bytes than a header, i.e. a partial batch or the end.
    if (parsed.status().code() == absl::StatusCode::kOutOfRange) return false;
    return parsed.status();
  }
  const size_t size_bytes = parsed->size_bytes();
  if (size_bytes > rest.size()) return false;  // partial tail
  EDDY_CHECK_GE(size_bytes, kBatchHeaderSizeBytes);
  *batch = rest.first(size_bytes);
  *header = *parsed;
  position_ += size_bytes;
  EDDY_CHECK_LE(position_, bytes_.size());
  return true;
}

}  // namespace eddy::record
