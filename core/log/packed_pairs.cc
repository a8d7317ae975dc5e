#include "core/log/packed_pairs.h"

#include <algorithm>
#include <bit>

namespace eddy::log {
namespace {

constexpr size_t kWordBits = 64;

uint64_t Mask(uint8_t width) {
  return width >= kWordBits ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
}

uint8_t WidthOf(uint64_t value) { return static_cast<uint8_t>(std::bit_width(value)); }

// b - a as an unsigned distance (a < b; may exceed INT64_MAX).
uint64_t Delta(int64_t a, int64_t b) { return static_cast<uint64_t>(b) - static_cast<uint64_t>(a); }

int64_t Advance(int64_t a, uint64_t delta) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + delta);
}

}  // namespace

static_assert(PackedPairs::kBlockEntryCountMax <= UINT16_MAX);
static_assert(PackedPairs::kDecodedSlotCount >= 1);

PackedPairs::Cursor::Cursor(const PackedPairs& pairs, const Block& block)
    : pairs_(pairs), block_(block), bit_(block.bit_offset), pair_{block.first_a, block.first_b} {}

uint64_t PackedPairs::Cursor::ReadBits(uint8_t width) {
  const uint64_t value = pairs_.ReadBitsAt(bit_, width);
  bit_ += width;
  return value;
}

void PackedPairs::Cursor::Next() {
  const uint64_t delta_a = block_.min_delta_a + ReadBits(block_.width_a);
  const uint64_t delta_b = block_.min_delta_b + ReadBits(block_.width_b);
  pair_.a = Advance(pair_.a, delta_a);
  pair_.b = Advance(pair_.b, delta_b);
}

void PackedPairs::Append(Pair pair) {
  if (!empty()) {
    const Pair last = back();
    EDDY_CHECK_GT(pair.a, last.a);
    EDDY_CHECK_GT(pair.b, last.b);
  }
  tail_.push_back(pair);
  back_ = pair;
  if (tail_.size() == kBlockEntryCountMax) PackTail();
}

PackedPairs::Pair PackedPairs::back() const {
  EDDY_CHECK(!empty());
  return back_;
}

size_t PackedPairs::BlockOf(size_t index) const {
  EDDY_CHECK_LT(index, packed_count_);
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), index,
                             [](size_t value, const Block& block) {
                               return value < size_t{block.first_index};
                             });
  EDDY_CHECK(it != blocks_.begin());
  return static_cast<size_t>(std::prev(it) - blocks_.begin());
}

PackedPairs::Pair PackedPairs::At(size_t index) const {
  EDDY_CHECK_LT(index, size());
  if (index >= packed_count_) return tail_[index - packed_count_];
  const size_t b = BlockOf(index);
  return Decoded(b)[index - blocks_[b].first_index];
}

const std::vector<PackedPairs::Pair>& PackedPairs::Decoded(size_t b) const {
  EDDY_CHECK_LT(b, blocks_.size());
  DecodedSlot* victim = &decoded_[0];
  for (DecodedSlot& slot : decoded_) {
    if (slot.block == b) {
      slot.last_use = ++decoded_uses_;
      return slot.pairs;
    }
    if (slot.last_use < victim->last_use) victim = &slot;
  }
  DecodeBlock(b, victim->pairs);
  victim->block = b;
  victim->last_use = ++decoded_uses_;
  return victim->pairs;
}

void PackedPairs::DecodeBlock(size_t b, std::vector<Pair>& out) const {
  const Block& block = blocks_[b];
  const uint64_t step_bits = uint64_t{block.width_a} + block.width_b;
  // Every read below stays inside the written bits (checked once for the block, not per read).
  EDDY_CHECK_LE(block.bit_offset + (block.count - 1u) * step_bits, bit_count_);
  out.reserve(kBlockEntryCountMax);
  out.resize(block.count);
  const uint64_t* words = bits_.data();
  // One pass with the reads inlined: ReadBitsAt's per-read call and check were ~30 % of the
  // simulator's instructions when lookups still decoded through Cursor.
  auto read = [words](uint64_t bit, uint8_t width) -> uint64_t {
    if (width == 0) return 0;
    const size_t word = bit / kWordBits;
    const size_t shift = bit % kWordBits;
    uint64_t value = words[word] >> shift;
    if (shift + width > kWordBits) value |= words[word + 1] << (kWordBits - shift);
    return value & Mask(width);
  };
  Pair pair{block.first_a, block.first_b};
  out[0] = pair;
  uint64_t bit = block.bit_offset;
  if (step_bits <= kWordBits) {
    // The usual case: an entry's two deltas are adjacent and fit one word, so one read each.
    const uint8_t width = static_cast<uint8_t>(step_bits);
    const uint64_t mask_a = Mask(block.width_a);
    const uint64_t mask_b = Mask(block.width_b);
    for (size_t j = 1; j < block.count; ++j) {
      const uint64_t both = read(bit, width);
      bit += step_bits;
      const uint64_t high = block.width_a >= kWordBits ? 0 : both >> block.width_a;
      pair.a = Advance(pair.a, block.min_delta_a + (both & mask_a));
      pair.b = Advance(pair.b, block.min_delta_b + (high & mask_b));
      out[j] = pair;
    }
  } else {
    for (size_t j = 1; j < block.count; ++j) {
      pair.a = Advance(pair.a, block.min_delta_a + read(bit, block.width_a));
      bit += block.width_a;
      pair.b = Advance(pair.b, block.min_delta_b + read(bit, block.width_b));
      bit += block.width_b;
      out[j] = pair;
    }
  }
  EDDY_CHECK_EQ(bit, block.bit_offset + (block.count - 1u) * step_bits);
}

void PackedPairs::ForgetDecoded() const {
  for (DecodedSlot& slot : decoded_) {
    slot.block = SIZE_MAX;
    slot.last_use = 0;  // reused first
  }
}

size_t PackedPairs::LowerBoundA(int64_t a) const {
  return PartitionPoint([a](size_t, const Pair& pair) { return pair.a >= a; });
}

void PackedPairs::WriteBits(uint64_t value, uint8_t width) {
  if (width == 0) return;
  EDDY_CHECK_EQ(value & ~Mask(width), 0u);
  const size_t word = bit_count_ / kWordBits;
  const size_t shift = bit_count_ % kWordBits;
  if (word >= bits_.size()) bits_.push_back(0);
  bits_[word] |= value << shift;
  if (shift + width > kWordBits) {
    bits_.push_back(value >> (kWordBits - shift));
  }
  bit_count_ += width;
  EDDY_CHECK_EQ(bits_.size(), (bit_count_ + kWordBits - 1) / kWordBits);
}

uint64_t PackedPairs::ReadBitsAt(uint64_t bit, uint8_t width) const {
  if (width == 0) return 0;
  EDDY_CHECK_LE(bit + width, bit_count_);
  const size_t word = bit / kWordBits;
  const size_t shift = bit % kWordBits;
  uint64_t value = bits_[word] >> shift;
  if (shift + width > kWordBits) value |= bits_[word + 1] << (kWordBits - shift);
  return value & Mask(width);
}

void PackedPairs::PackTail() {
  EDDY_CHECK(!tail_.empty());
  EDDY_CHECK_LE(tail_.size(), kBlockEntryCountMax);
  Block block{};
  block.first_a = tail_.front().a;
  block.first_b = tail_.front().b;
  block.first_index = static_cast<uint32_t>(packed_count_);
  EDDY_CHECK_EQ(size_t{block.first_index}, packed_count_);  // fits 32 bits
  block.count = static_cast<uint16_t>(tail_.size());
  block.bit_offset = bit_count_;
  uint64_t min_a = UINT64_MAX, max_a = 0, min_b = UINT64_MAX, max_b = 0;
  for (size_t j = 1; j < tail_.size(); ++j) {
    const uint64_t da = Delta(tail_[j - 1].a, tail_[j].a);
    const uint64_t db = Delta(tail_[j - 1].b, tail_[j].b);
    min_a = std::min(min_a, da);
    max_a = std::max(max_a, da);
    min_b = std::min(min_b, db);
    max_b = std::max(max_b, db);
  }
  if (tail_.size() > 1) {
    block.min_delta_a = min_a;
    block.min_delta_b = min_b;
    block.width_a = WidthOf(max_a - min_a);
    block.width_b = WidthOf(max_b - min_b);
  }
  for (size_t j = 1; j < tail_.size(); ++j) {
    WriteBits(Delta(tail_[j - 1].a, tail_[j].a) - block.min_delta_a, block.width_a);
    WriteBits(Delta(tail_[j - 1].b, tail_[j].b) - block.min_delta_b, block.width_b);
  }
  blocks_.push_back(block);
  packed_count_ += tail_.size();
  // Pair-check the packing: the block's last entry decodes to the tail's last.
  const Pair last = tail_.back();
  tail_.clear();
  EDDY_CHECK(At(packed_count_ - 1) == last);
}

void PackedPairs::Truncate(size_t count) {
  ForgetDecoded();  // the last block may change
  EDDY_CHECK_LE(count, size());
  if (count >= packed_count_) {
    tail_.resize(count - packed_count_);
    if (count > 0) back_ = At(count - 1);
    return;
  }
  // The cut falls inside a block: its surviving prefix becomes the tail (still in order).
  const size_t b = BlockOf(count);
  const Block block = blocks_[b];
  std::vector<Pair> prefix;
  prefix.reserve(kBlockEntryCountMax);
  Cursor cursor(*this, block);
  for (size_t j = block.first_index; j < count; ++j) {
    if (j > block.first_index) cursor.Next();
    prefix.push_back(cursor.pair());
  }
  blocks_.resize(b);
  bit_count_ = block.bit_offset;
  bits_.resize((bit_count_ + kWordBits - 1) / kWordBits);
  if (bit_count_ % kWordBits != 0) bits_.back() &= Mask(bit_count_ % kWordBits);
  packed_count_ = block.first_index;
  tail_ = std::move(prefix);
  EDDY_CHECK_EQ(size(), count);
  if (count > 0) back_ = At(count - 1);
}

void PackedPairs::Compact() {
  ForgetDecoded();
  for (DecodedSlot& slot : decoded_) {
    slot.pairs.clear();
    slot.pairs.shrink_to_fit();
  }
  if (!tail_.empty()) PackTail();
  tail_.shrink_to_fit();
  blocks_.shrink_to_fit();
  bits_.shrink_to_fit();
}

size_t PackedPairs::memory_bytes() const {
  size_t bytes = blocks_.capacity() * sizeof(Block) + bits_.capacity() * sizeof(uint64_t) +
                 tail_.capacity() * sizeof(Pair);
  for (const DecodedSlot& slot : decoded_) bytes += slot.pairs.capacity() * sizeof(Pair);
  return bytes;
}

void PackedPairs::CheckInvariants() const {
  size_t expected_index = 0;
  for (const Block& block : blocks_) {
    EDDY_CHECK_EQ(size_t{block.first_index}, expected_index);
    EDDY_CHECK_GE(block.count, 1u);
    EDDY_CHECK_LE(block.count, kBlockEntryCountMax);
    expected_index += block.count;
  }
  EDDY_CHECK_EQ(expected_index, packed_count_);
  EDDY_CHECK_LE(tail_.size(), kBlockEntryCountMax);
  bool has_previous = false;
  Pair previous;
  ScanFrom(0, [&](size_t, const Pair& pair) {
    if (has_previous) {
      EDDY_CHECK_GT(pair.a, previous.a);
      EDDY_CHECK_GT(pair.b, previous.b);
    }
    previous = pair;
    has_previous = true;
    return true;
  });
  if (has_previous) EDDY_CHECK(back_ == previous);
  // A kept decoded block equals a fresh sequential decode (Cursor) of it.
  for (const DecodedSlot& slot : decoded_) {
    if (slot.block == SIZE_MAX) continue;
    EDDY_CHECK_LT(slot.block, blocks_.size());
    const Block& block = blocks_[slot.block];
    EDDY_CHECK_EQ(slot.pairs.size(), size_t{block.count});
    Cursor cursor(*this, block);
    for (size_t j = 0; j < block.count; ++j) {
      if (j > 0) cursor.Next();
      EDDY_CHECK(slot.pairs[j] == cursor.pair());
    }
  }
}

}  // namespace eddy::log
