// OffsetIndex: where every batch of one segment starts, which offsets it covers, and its term.
//
// One 12-byte entry per batch (relative last offset, file position, term). This is the log's
// answer to Raft's synchronous questions ("term of the entry containing X", "last offset of the
// entry before X") and to "where in the file does offset X start"; see FORMAT.md for why it is
// per batch rather than sparse over bytes. A segment's index lives in memory; it is written to
// "<base>.index" only when the segment is sealed, and rebuilt by scanning otherwise.
//
// Pure value type: no I/O, not tied to a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::log {

// One batch as the index knows it.
struct BatchLocation {
  size_t index = 0;  // position of the batch in its segment, 0-based
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  uint32_t position = 0;  // byte position of the batch in the segment file
  uint32_t size_bytes = 0;
  int64_t term = 0;
};

class OffsetIndex {
 public:
  // Bytes of one encoded entry and of the file's header and trailer (FORMAT.md).
  static constexpr size_t kEntrySizeBytes = 12;
  static constexpr size_t kHeaderSizeBytes = 32;
  static constexpr size_t kTrailerSizeBytes = 4;
  static constexpr uint32_t kMagic = 0x45444f49;  // "EDOI"
  static constexpr uint32_t kVersion = 1;

  explicit OffsetIndex(int64_t base_offset);

  int64_t base_offset() const { return base_offset_; }
  // One past the last offset covered (== base_offset() when empty).
  int64_t next_offset() const;
  // Bytes of segment file covered by the indexed batches.
  uint64_t end_position() const { return end_position_; }
  size_t batch_count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Term of the last batch. REQUIRES: !empty().
  int64_t last_term() const;

  // Whether a batch covering [base, last] of `size_bytes` can be appended without overflowing the
  // 32-bit relative fields.
  bool HasRoomFor(int64_t last_offset, uint64_t size_bytes) const;

  // REQUIRES: base_offset == next_offset(), last_offset >= base_offset, HasRoomFor(...),
  // term >= 0 and >= last_term() when not empty.
  void Append(int64_t base_offset, int64_t last_offset, uint32_t size_bytes, int64_t term);

  // The batch containing `offset`, or std::nullopt if outside [base_offset(), next_offset()).
  // O(log batch_count).
  std::optional<BatchLocation> Find(int64_t offset) const;
  // REQUIRES: index < batch_count().
  BatchLocation At(size_t index) const;

  // Keeps the first `batch_count` batches. REQUIRES: batch_count <= this->batch_count().
  void Truncate(size_t batch_count);

  // The "<base>.index" file contents; `last_batch_crc` (the CRC field of the last batch) lets
  // the loader check that the file still describes the segment it sits beside.
  std::vector<uint8_t> Encode(uint32_t last_batch_crc) const;

  struct Decoded;
  // Parses and validates an encoded index. kDataLoss if damaged or not self-consistent.
  static absl::StatusOr<Decoded> Decode(int64_t base_offset, std::span<const uint8_t> bytes);

 private:
  struct Entry {
    uint32_t relative_last_offset;
    uint32_t position;
    int32_t term;
  };

  void CheckInvariants() const;

  int64_t base_offset_;
  uint64_t end_position_ = 0;
  std::vector<Entry> entries_;
};

struct OffsetIndex::Decoded {
  OffsetIndex index;
  uint32_t last_batch_crc = 0;
};

}  // namespace eddy::log
