// PackedPairs: a compact, append-mostly column of pairs (a, b) in which both a and b strictly
// increase — the shape of every in-memory index of a segment (offset index: relative last
// offset and file position per batch; time index: timestamp and relative offset).
//
// MEMORY: the newest entries (up to kBlockEntryCountMax) sit in a plain tail; a full tail is
// packed into a BLOCK: its first pair verbatim, then every later entry as the deltas (a - prev a,
// b - prev b) minus the block's smallest delta, bit-packed at the width of the block's largest
// such value (frame of reference). A block costs sizeof(Block) (48 bytes) plus (width_a +
// width_b) bits per entry: batches of similar size with similar record counts take a few bits
// each, identical ones none. Compact() packs a partial tail and releases spare capacity (done
// when a segment is sealed or loaded).
//
// COST: Append O(1) amortized (packing a block is O(kBlockEntryCountMax) once per block);
// At/LowerBoundA/PartitionPoint O(log blocks + kBlockEntryCountMax), O(log blocks + log
// kBlockEntryCountMax) when the block is one of the kDecodedSlotCount last decoded; back() O(1);
// Truncate O(block) plus what it drops; ScanFrom decodes sequentially, O(1) per entry.
//
// Pure value type: no I/O, not tied to a loop.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/base/check.h"

namespace eddy::log {

class PackedPairs {
 public:
  // Entries per packed block (the tail is packed when it reaches this many).
  static constexpr size_t kBlockEntryCountMax = 128;
  // Decoded blocks kept (least recently used replaced). A replica's lookups come in a few
  // clusters: around its snapshot point (the Kafka anchor's hidden count, asked on every
  // applied batch), its applied offset, its commit and last offsets, and a follower's match
  // point. With one slot they evicted each other and every lookup decoded a whole block; in the
  // simulator's heavy shape two slots still missed 1 lookup in 22, four miss 1 in 500.
  // MEMORY: up to kDecodedSlotCount * kBlockEntryCountMax * 16 bytes (8 KiB) while lookups run;
  // Compact() releases it (sealed and loaded segments).
  static constexpr size_t kDecodedSlotCount = 4;

  struct Pair {
    int64_t a = 0;
    int64_t b = 0;
    friend bool operator==(const Pair&, const Pair&) = default;
  };

  size_t size() const { return packed_count_ + tail_.size(); }
  bool empty() const { return size() == 0; }

  // REQUIRES: empty(), or pair.a > back().a and pair.b > back().b.
  void Append(Pair pair);
  // REQUIRES: index < size().
  Pair At(size_t index) const;
  // REQUIRES: !empty().
  Pair back() const;

  // Index of the first entry with a >= `a`, or size() if none.
  size_t LowerBoundA(int64_t a) const;
  // Index of the first entry for which `predicate(index, pair)` holds, or size() if none.
  // REQUIRES: the predicate is monotone over the entries (false ... false true ... true).
  template <typename Predicate>
  size_t PartitionPoint(Predicate predicate) const;
  // Calls `visit(index, pair)` for entries from `first` on, in order, while it returns true.
  template <typename Visit>
  void ScanFrom(size_t first, Visit visit) const;

  // Keeps the first `count` entries. REQUIRES: count <= size().
  void Truncate(size_t count);
  // Packs the tail (whatever its length) and releases spare capacity.
  void Compact();

  // Heap bytes held (capacity, not just size).
  size_t memory_bytes() const;

  void CheckInvariants() const;

 private:
  struct Block {
    int64_t first_a;
    int64_t first_b;
    uint64_t min_delta_a;
    uint64_t min_delta_b;
    uint64_t bit_offset;  // of entry 1's packed deltas in bits_
    uint32_t first_index;
    uint16_t count;  // entries, 1 ... kBlockEntryCountMax
    uint8_t width_a;
    uint8_t width_b;
  };

  // A decoded block (see Decoded).
  struct DecodedSlot {
    size_t block = SIZE_MAX;  // SIZE_MAX: empty
    uint64_t last_use = 0;
    std::vector<Pair> pairs;
  };

  // Sequential decoder of one block.
  class Cursor {
   public:
    Cursor(const PackedPairs& pairs, const Block& block);
    Pair pair() const { return pair_; }
    void Next();

   private:
    uint64_t ReadBits(uint8_t width);
    const PackedPairs& pairs_;
    const Block& block_;
    uint64_t bit_ = 0;
    Pair pair_;
  };

  void PackTail();
  void WriteBits(uint64_t value, uint8_t width);
  uint64_t ReadBitsAt(uint64_t bit, uint8_t width) const;
  // Index of the block holding packed entry `index`. REQUIRES: index < packed_count_.
  size_t BlockOf(size_t index) const;
  // The entries of block `b`, decoded (the last kDecodedSlotCount blocks decoded are kept:
  // lookups cluster, and a sequential decode of up to kBlockEntryCountMax entries per lookup
  // dominated the simulator's profile). Valid until the next call or a change.
  const std::vector<Pair>& Decoded(size_t b) const;
  // Decodes block `b` into `out` in one pass (the bounds of its bits checked once).
  void DecodeBlock(size_t b, std::vector<Pair>& out) const;
  void ForgetDecoded() const;

  std::vector<Block> blocks_;
  std::vector<uint64_t> bits_;
  uint64_t bit_count_ = 0;
  size_t packed_count_ = 0;
  std::vector<Pair> tail_;
  Pair back_;  // the last entry when !empty() (asked on every append and offset lookup)
  mutable std::array<DecodedSlot, kDecodedSlotCount> decoded_;  // see Decoded
  mutable uint64_t decoded_uses_ = 0;                            // LRU clock of decoded_
};

template <typename Predicate>
size_t PackedPairs::PartitionPoint(Predicate predicate) const {
  // Blocks whose first entry fails the predicate: [0, low).
  size_t low = 0;
  size_t high = blocks_.size();
  while (low < high) {
    const size_t mid = low + (high - low) / 2;
    const Block& block = blocks_[mid];
    if (predicate(size_t{block.first_index}, Pair{block.first_a, block.first_b})) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  if (low > 0) {
    const Block& block = blocks_[low - 1];
    const std::vector<Pair>& entries = Decoded(low - 1);
    // Entry 0 fails (the block search above); binary search the rest.
    size_t entry_low = 1;
    size_t entry_high = block.count;
    while (entry_low < entry_high) {
      const size_t mid = entry_low + (entry_high - entry_low) / 2;
      if (predicate(size_t{block.first_index} + mid, entries[mid])) {
        entry_high = mid;
      } else {
        entry_low = mid + 1;
      }
    }
    if (entry_low < block.count) return block.first_index + entry_low;
  }
  if (low < blocks_.size()) return blocks_[low].first_index;
  // Every packed entry fails: the answer is in the tail.
  size_t tail_low = 0;
  size_t tail_high = tail_.size();
  while (tail_low < tail_high) {
    const size_t mid = tail_low + (tail_high - tail_low) / 2;
    if (predicate(packed_count_ + mid, tail_[mid])) {
      tail_high = mid;
    } else {
      tail_low = mid + 1;
    }
  }
  return packed_count_ + tail_low;
}

template <typename Visit>
void PackedPairs::ScanFrom(size_t first, Visit visit) const {
  size_t index = first;
  if (index < packed_count_) {
    for (size_t b = BlockOf(index); b < blocks_.size(); ++b) {
      const Block& block = blocks_[b];
      Cursor cursor(*this, block);
      for (size_t j = 0; j < block.count; ++j) {
        if (j > 0) cursor.Next();
        if (block.first_index + j < index) continue;
        if (!visit(size_t{block.first_index} + j, cursor.pair())) return;
        ++index;
      }
    }
  }
  EDDY_CHECK_GE(index, packed_count_);
  for (; index < size(); ++index) {
    if (!visit(index, tail_[index - packed_count_])) return;
  }
}

}  // namespace eddy::log
