// OffsetIndex: where every batch of one segment starts, which offsets it covers, and its term.
//
// One entry per batch (relative last offset, file position, term; 12 bytes in the file). This is
// the log's
// answer to Raft's synchronous questions ("term of the entry containing X", "last offset of the
// entry before X") and to "where in the file does offset X start"; see FORMAT.md for why it is
// per batch rather than sparse over bytes. A segment's index lives in memory; it is written to
// "<base>.index" only when the segment is sealed, and rebuilt by scanning otherwise.
//
// MEMORY (README.md "Memory and files"): in memory the entries are not 12 bytes each. Offsets
// and positions live in a PackedPairs (blocks of 128 batches, deltas bit-packed: about one to
// three bytes per batch for batches of similar size, far less for identical ones); terms are
// kept as runs (one 8-byte entry per term change in the segment); hidden batches as a sorted
// list of their batch numbers (4 bytes per hidden batch: Raft's no-op and membership entries,
// a handful per term). So a segment's index costs roughly what its number of batches takes to
// write down compactly, and everything stays answerable synchronously.
//
// HIDDEN BATCHES (Raft's own entries, never shown to Kafka clients; FORMAT.md "Kafka offsets"):
// "hidden batches before batch i" is O(log hidden_count()) and "the data batch holding the
// segment's n-th data offset" O(log batch_count + 128 log hidden_count()). A hidden batch covers
// exactly one offset (REQUIRES on Append, checked on Decode).
//
// Pure value type: no I/O, not tied to a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/log/packed_pairs.h"

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
  size_t batch_count() const { return pairs_.size(); }
  bool empty() const { return pairs_.empty(); }
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
  uint64_t hidden_count() const { return hidden_.size(); }
  // Offsets covered by data (non-hidden) batches: next_offset() - base_offset() - hidden_count().
  uint64_t data_offset_count() const;
  // The data batch holding the segment's data offset number `n` (0-based, counting only the
  // offsets of data batches, in order), or std::nullopt if n >= data_offset_count().
  // O(log batch_count).
  std::optional<BatchLocation> FindDataOffset(uint64_t n) const;

  // The batch containing `offset`, or std::nullopt if outside [base_offset(), next_offset()).
  // O(log batch_count).
  std::optional<BatchLocation> Find(int64_t offset) const;
  // Find(offset)->index, without building the location. O(log batch_count).
  std::optional<size_t> IndexOf(int64_t offset) const;
  // REQUIRES: index < batch_count().
  BatchLocation At(size_t index) const;
  // Calls `visit(location)` for the batches from number `first` on, in order, while it returns
  // true (sequential decoding: O(1) per batch).
  template <typename Visit>
  void ScanFrom(size_t first, Visit visit) const;

  // Packs what is still unpacked and releases spare capacity (a sealed or loaded segment).
  void Compact();
  // Heap bytes held by this index.
  size_t memory_bytes() const;
  // Term changes recorded (one run per distinct term, in order).
  size_t term_run_count() const { return term_runs_.size(); }

  // Keeps the first `batch_count` batches. REQUIRES: batch_count <= this->batch_count().
  void Truncate(size_t batch_count);

  // The "<base>.index" file contents; `last_batch_crc` (the CRC field of the last batch) lets
  // the loader check that the file still describes the segment it sits beside.
  std::vector<uint8_t> Encode(uint32_t last_batch_crc) const;

  struct Decoded;
  // Parses and validates an encoded index. kDataLoss if damaged or not self-consistent.
  static absl::StatusOr<Decoded> Decode(int64_t base_offset, std::span<const uint8_t> bytes);

 private:
  // A run of batches with one term, from batch number `first_index` to the next run.
  struct TermRun {
    uint32_t first_index;
    int32_t term;
  };

  bool IsHidden(size_t index) const;
  int64_t TermOf(size_t index) const;
  // The location of batch `index` given its pair and the previous batch's relative last offset
  // (-1 for the first) and the next batch's position (end_position_ for the last).
  BatchLocation MakeLocation(size_t index, const PackedPairs::Pair& pair, int64_t previous_last,
                             uint64_t end) const;
  void CheckInvariants() const;

  int64_t base_offset_;
  uint64_t end_position_ = 0;
  // Per batch: a = relative last offset, b = position.
  PackedPairs pairs_;
  // Ascending first_index, strictly ascending terms; the first starts at batch 0.
  std::vector<TermRun> term_runs_;
  // Batch numbers of the hidden batches, ascending.
  std::vector<uint32_t> hidden_;
};

template <typename Visit>
void OffsetIndex::ScanFrom(size_t first, Visit visit) const {
  if (first >= pairs_.size()) return;
  // One batch of look-ahead: a batch's size is the next one's position minus its own.
  bool has_pending = false;
  size_t pending_index = 0;
  PackedPairs::Pair pending;
  int64_t previous_last = first == 0 ? -1 : pairs_.At(first - 1).a;
  bool stopped = false;
  pairs_.ScanFrom(first, [&](size_t index, const PackedPairs::Pair& pair) {
    if (has_pending) {
      const BatchLocation location =
          MakeLocation(pending_index, pending, previous_last, static_cast<uint64_t>(pair.b));
      previous_last = pending.a;
      if (!visit(location)) {
        stopped = true;
        return false;
      }
    }
    pending = pair;
    pending_index = index;
    has_pending = true;
    return true;
  });
  if (!stopped && has_pending) visit(MakeLocation(pending_index, pending, previous_last, end_position_));
}

struct OffsetIndex::Decoded {
  OffsetIndex index;
  uint32_t last_batch_crc = 0;
};

}  // namespace eddy::log
