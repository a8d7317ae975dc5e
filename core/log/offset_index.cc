#include "core/log/offset_index.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/log/byte_order.h"
#include "core/record/batch_header.h"
#include "core/record/crc32c.h"

namespace eddy::log {

using internal::Load32;
using internal::Load64;
using internal::Put32;
using internal::Put64;

OffsetIndex::OffsetIndex(int64_t base_offset) : base_offset_(base_offset) {
  EDDY_CHECK_GE(base_offset, 0);
}

int64_t OffsetIndex::next_offset() const {
  if (entries_.empty()) return base_offset_;
  return base_offset_ + int64_t{entries_.back().relative_last_offset} + 1;
}

int64_t OffsetIndex::last_term() const {
  EDDY_CHECK(!entries_.empty());
  return entries_.back().term;
}

bool OffsetIndex::HasRoomFor(int64_t last_offset, uint64_t size_bytes) const {
  return last_offset - base_offset_ <= int64_t{UINT32_MAX} - 1 &&
         end_position_ + size_bytes <= uint64_t{UINT32_MAX};
}

void OffsetIndex::Append(int64_t base_offset, int64_t last_offset, uint32_t size_bytes,
                         int64_t term, bool hidden) {
  EDDY_CHECK_EQ(base_offset, next_offset());
  EDDY_CHECK_GE(last_offset, base_offset);
  EDDY_CHECK(HasRoomFor(last_offset, size_bytes));
  EDDY_CHECK_GE(term, 0);
  EDDY_CHECK_LE(term, int64_t{INT32_MAX});
  if (!entries_.empty()) EDDY_CHECK_GE(term, last_term());
  if (hidden) EDDY_CHECK_EQ(last_offset, base_offset);
  const size_t index = entries_.size();
  if (index % kBitsPerWord == 0) {
    hidden_bits_.push_back(0);
    hidden_before_word_.push_back(static_cast<uint32_t>(hidden_count_));
  }
  if (hidden) {
    hidden_bits_[index / kBitsPerWord] |= uint64_t{1} << (index % kBitsPerWord);
    ++hidden_count_;
  }
  entries_.push_back(Entry{static_cast<uint32_t>(last_offset - base_offset_),
                           static_cast<uint32_t>(end_position_), static_cast<int32_t>(term)});
  end_position_ += size_bytes;
  EDDY_CHECK_EQ(hidden_bits_.size(), (entries_.size() + kBitsPerWord - 1) / kBitsPerWord);
}

bool OffsetIndex::IsHidden(size_t index) const {
  EDDY_CHECK_LT(index, entries_.size());
  return ((hidden_bits_[index / kBitsPerWord] >> (index % kBitsPerWord)) & 1) != 0;
}

uint64_t OffsetIndex::HiddenCountBefore(size_t batch_count) const {
  EDDY_CHECK_LE(batch_count, entries_.size());
  if (batch_count == entries_.size()) return hidden_count_;
  const size_t word = batch_count / kBitsPerWord;
  const uint64_t below = (uint64_t{1} << (batch_count % kBitsPerWord)) - 1;
  return uint64_t{hidden_before_word_[word]} +
         static_cast<uint64_t>(std::popcount(hidden_bits_[word] & below));
}

uint64_t OffsetIndex::data_offset_count() const {
  const uint64_t offsets = static_cast<uint64_t>(next_offset() - base_offset_);
  EDDY_CHECK_LE(hidden_count_, offsets);
  return offsets - hidden_count_;
}

std::optional<BatchLocation> OffsetIndex::FindDataOffset(uint64_t n) const {
  if (n >= data_offset_count()) return std::nullopt;
  // Data offsets covered by batches [0, i] never decrease with i, and stay equal across a hidden
  // batch (one offset, one hidden), so the first batch covering more than n is a data batch.
  size_t low = 0;
  size_t high = entries_.size() - 1;
  while (low < high) {
    const size_t mid = low + (high - low) / 2;
    const uint64_t covered =
        uint64_t{entries_[mid].relative_last_offset} + 1 - HiddenCountBefore(mid + 1);
    if (covered > n) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  BatchLocation location = At(low);
  EDDY_CHECK(!location.hidden);
  EDDY_CHECK_LE(static_cast<uint64_t>(location.base_offset - base_offset_) -
                    HiddenCountBefore(low),
                n);
  return location;
}

std::optional<BatchLocation> OffsetIndex::Find(int64_t offset) const {
  if (offset < base_offset_ || offset >= next_offset()) return std::nullopt;
  const uint32_t relative = static_cast<uint32_t>(offset - base_offset_);
  // First batch whose last offset is >= offset: it contains offset because offsets are dense.
  const auto it = std::lower_bound(
      entries_.begin(), entries_.end(), relative,
      [](const Entry& entry, uint32_t value) { return entry.relative_last_offset < value; });
  EDDY_CHECK(it != entries_.end());
  return At(static_cast<size_t>(it - entries_.begin()));
}

BatchLocation OffsetIndex::At(size_t index) const {
  EDDY_CHECK_LT(index, entries_.size());
  const Entry& entry = entries_[index];
  BatchLocation location;
  location.index = index;
  location.base_offset = index == 0
                             ? base_offset_
                             : base_offset_ + int64_t{entries_[index - 1].relative_last_offset} + 1;
  location.last_offset = base_offset_ + int64_t{entry.relative_last_offset};
  location.position = entry.position;
  const uint64_t end = index + 1 < entries_.size() ? entries_[index + 1].position : end_position_;
  location.size_bytes = static_cast<uint32_t>(end - entry.position);
  location.term = entry.term;
  location.hidden = IsHidden(index);
  return location;
}

void OffsetIndex::Truncate(size_t batch_count) {
  EDDY_CHECK_LE(batch_count, entries_.size());
  if (batch_count == entries_.size()) return;
  hidden_count_ = HiddenCountBefore(batch_count);
  end_position_ = entries_[batch_count].position;
  entries_.resize(batch_count);
  const size_t words = (batch_count + kBitsPerWord - 1) / kBitsPerWord;
  hidden_bits_.resize(words);
  hidden_before_word_.resize(words);
  if (batch_count % kBitsPerWord != 0) {
    hidden_bits_.back() &= (uint64_t{1} << (batch_count % kBitsPerWord)) - 1;
  }
  CheckInvariants();
}

std::vector<uint8_t> OffsetIndex::Encode(uint32_t last_batch_crc) const {
  CheckInvariants();
  std::vector<uint8_t> out;
  out.reserve(kHeaderSizeBytes + entries_.size() * kEntrySizeBytes + kTrailerSizeBytes);
  Put32(out, kMagic);
  Put32(out, kVersion);
  Put64(out, static_cast<uint64_t>(base_offset_));
  Put64(out, end_position_);
  Put32(out, last_batch_crc);
  Put32(out, static_cast<uint32_t>(entries_.size()));
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    Put32(out, entry.relative_last_offset);
    Put32(out, entry.position);
    Put32(out, static_cast<uint32_t>(entry.term) | (IsHidden(i) ? kHiddenTermBit : 0));
  }
  Put32(out, record::Crc32c(out));
  return out;
}

absl::StatusOr<OffsetIndex::Decoded> OffsetIndex::Decode(int64_t base_offset,
                                                         std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSizeBytes + kTrailerSizeBytes) {
    return absl::DataLossError(absl::StrCat("offset index too short: ", bytes.size()));
  }
  const size_t body_size = bytes.size() - kTrailerSizeBytes;
  if (record::Crc32c(bytes.first(body_size)) != Load32(bytes.data() + body_size)) {
    return absl::DataLossError("offset index checksum mismatch");
  }
  const uint8_t* p = bytes.data();
  if (Load32(p) != kMagic || Load32(p + 4) != kVersion) {
    return absl::DataLossError("offset index has a bad magic or version");
  }
  if (static_cast<int64_t>(Load64(p + 8)) != base_offset) {
    return absl::DataLossError("offset index belongs to another segment");
  }
  const uint64_t end_position = Load64(p + 16);
  const uint32_t last_batch_crc = Load32(p + 24);
  const uint64_t entry_count = Load32(p + 28);
  if (body_size != kHeaderSizeBytes + entry_count * kEntrySizeBytes) {
    return absl::DataLossError("offset index entry count does not match its size");
  }
  Decoded decoded{OffsetIndex(base_offset), last_batch_crc};
  OffsetIndex& index = decoded.index;
  for (uint64_t i = 0; i < entry_count; ++i) {
    const uint8_t* entry = p + kHeaderSizeBytes + i * kEntrySizeBytes;
    const uint32_t relative_last = Load32(entry);
    const uint32_t position = Load32(entry + 4);
    const uint32_t term_word = Load32(entry + 8);
    const int32_t term = static_cast<int32_t>(term_word & ~kHiddenTermBit);
    const bool hidden = (term_word & kHiddenTermBit) != 0;
    const uint64_t end = i + 1 < entry_count ? Load32(entry + kEntrySizeBytes + 4) : end_position;
    const int64_t base = index.next_offset();
    const int64_t last = base_offset + int64_t{relative_last};
    // Validate before Append, whose checks are for our own bugs, not for file contents.
    if (position != index.end_position() || end < position + record::kBatchHeaderSizeBytes ||
        last < base || (hidden && last != base) ||
        (!index.empty() && term < index.last_term()) || !index.HasRoomFor(last, end - position)) {
      return absl::DataLossError(absl::StrCat("offset index entry ", i, " is inconsistent"));
    }
    index.Append(base, last, static_cast<uint32_t>(end - position), term, hidden);
  }
  if (index.end_position() != end_position) {
    return absl::DataLossError("offset index end position mismatch");
  }
  return decoded;
}

void OffsetIndex::CheckInvariants() const {
  uint64_t previous_position = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) {
      EDDY_CHECK_GT(entries_[i].relative_last_offset, entries_[i - 1].relative_last_offset);
      EDDY_CHECK_GT(entries_[i].position, previous_position);
      EDDY_CHECK_GE(entries_[i].term, entries_[i - 1].term);
    } else {
      EDDY_CHECK_EQ(entries_[i].position, 0u);
    }
    previous_position = entries_[i].position;
  }
  if (!entries_.empty()) EDDY_CHECK_GT(end_position_, previous_position);
  // The bitset and its cumulative counts describe exactly the entries.
  EDDY_CHECK_EQ(hidden_bits_.size(), (entries_.size() + kBitsPerWord - 1) / kBitsPerWord);
  EDDY_CHECK_EQ(hidden_before_word_.size(), hidden_bits_.size());
  uint64_t hidden = 0;
  for (size_t w = 0; w < hidden_bits_.size(); ++w) {
    EDDY_CHECK_EQ(hidden_before_word_[w], hidden);
    hidden += static_cast<uint64_t>(std::popcount(hidden_bits_[w]));
  }
  EDDY_CHECK_EQ(hidden, hidden_count_);
  if (entries_.size() % kBitsPerWord != 0) {
    EDDY_CHECK_EQ(hidden_bits_.back() >> (entries_.size() % kBitsPerWord), 0u);
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (IsHidden(i)) {
      const uint32_t previous_last = i == 0 ? UINT32_MAX : entries_[i - 1].relative_last_offset;
      EDDY_CHECK_EQ(entries_[i].relative_last_offset, previous_last + 1);  // one offset
    }
  }
}

}  // namespace eddy::log
