// OffsetIndex: where every batch of one segment starts, which offsets it covers, and its term.
//
// One 12-byte entry per batch (relative last offset, file position, term). This is the log's
// answer to Raft's synchronous questions ("term of the entry containing X", "last offset of the
// entry before X") and to "where in the file does offset X start"; see FORMAT.md for why it is
// per batch rather than sparse over bytes. A segment's index lives in memory; it is written to
// "<base>.index" only when the segment is sealed, and rebuilt by scanning otherwise.
//
// HIDDEN BATCHES (Raft's own entries, never shown to Kafka clients; FORMAT.md "Kafka offsets"):
// one bit per batch, kept apart from the entries as a bitset with a cumulative count per 64-bit
// word (12 bytes per 64 batches), so "hidden batches before batch i" is O(1) (a popcount) and
// "the data batch holding the segment's n-th data offset" is O(log batch_count). A hidden batch
// covers exactly one offset (REQUIRES on Append, checked on Decode).
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
  bool hidden = false;  // a Raft-internal batch: no Kafka offset (FORMAT.md "Kafka offsets")
};

class OffsetIndex {
 public:
  // Bytes of one encoded entry and of the file's header and trailer (FORMAT.md).
  static constexpr size_t kEntrySizeBytes = 12;
  static constexpr size_t kHeaderSizeBytes = 32;
  static constexpr size_t kTrailerSizeBytes = 4;
  static constexpr uint32_t kMagic = 0x45444f49;  // "EDOI"
  static constexpr uint32_t kVersion = 2;
  // Bit of an encoded entry's term word that marks a hidden batch (terms are <= INT32_MAX).
  static constexpr uint32_t kHiddenTermBit = 0x80000000u;

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
  // term >= 0 and >= last_term() when not empty; last_offset == base_offset if `hidden`.
  void Append(int64_t base_offset, int64_t last_offset, uint32_t size_bytes, int64_t term,
              bool hidden);

  // Hidden batches among the first `batch_count` batches. REQUIRES: batch_count <=
  // this->batch_count(). O(1).
  uint64_t HiddenCountBefore(size_t batch_count) const;
  uint64_t hidden_count() const { return hidden_count_; }
  // Offsets covered by data (non-hidden) batches: next_offset() - base_offset() - hidden_count().
  uint64_t data_offset_count() const;
  // The data batch holding the segment's data offset number `n` (0-based, counting only the
  // offsets of data batches, in order), or std::nullopt if n >= data_offset_count().
  // O(log batch_count).
  std::optional<BatchLocation> FindDataOffset(uint64_t n) const;

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

  static constexpr size_t kBitsPerWord = 64;

  bool IsHidden(size_t index) const;
  void CheckInvariants() const;

  int64_t base_offset_;
  uint64_t end_position_ = 0;
  std::vector<Entry> entries_;
  // Bit (i % 64) of word i / 64 is set when batch i is hidden; bits past the last batch are 0.
  std::vector<uint64_t> hidden_bits_;
  // hidden_before_word_[w]: hidden batches among batches [0, 64 * w).
  std::vector<uint32_t> hidden_before_word_;
  uint64_t hidden_count_ = 0;
};

struct OffsetIndex::Decoded {
  OffsetIndex index;
  uint32_t last_batch_crc = 0;
};

}  // namespace eddy::log
