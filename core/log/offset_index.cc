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
  if (pairs_.empty()) return base_offset_;
  return base_offset_ + pairs_.back().a + 1;
}

int64_t OffsetIndex::last_term() const {
  EDDY_CHECK(!pairs_.empty());
  return term_runs_.back().term;
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
  EDDY_CHECK_GT(size_bytes, 0u);
  EDDY_CHECK_GE(term, 0);
  EDDY_CHECK_LE(term, int64_t{INT32_MAX});
  if (!pairs_.empty()) EDDY_CHECK_GE(term, last_term());
  if (hidden) EDDY_CHECK_EQ(last_offset, base_offset);
  const size_t index = pairs_.size();
  EDDY_CHECK_LT(index, size_t{UINT32_MAX});
  if (term_runs_.empty() || term != term_runs_.back().term) {
    term_runs_.push_back(TermRun{static_cast<uint32_t>(index), static_cast<int32_t>(term)});
  }
  if (hidden) hidden_.push_back(static_cast<uint32_t>(index));
  pairs_.Append(PackedPairs::Pair{last_offset - base_offset_, static_cast<int64_t>(end_position_)});
  end_position_ += size_bytes;
  EDDY_CHECK_EQ(pairs_.size(), index + 1);
}

bool OffsetIndex::IsHidden(size_t index) const {
  EDDY_CHECK_LT(index, pairs_.size());
  return std::binary_search(hidden_.begin(), hidden_.end(), static_cast<uint32_t>(index));
}

int64_t OffsetIndex::TermOf(size_t index) const {
  EDDY_CHECK_LT(index, pairs_.size());
  auto it = std::upper_bound(
      term_runs_.begin(), term_runs_.end(), index,
      [](size_t value, const TermRun& run) { return value < size_t{run.first_index}; });
  EDDY_CHECK(it != term_runs_.begin());
  return std::prev(it)->term;
}

uint64_t OffsetIndex::HiddenCountBefore(size_t batch_count) const {
  EDDY_CHECK_LE(batch_count, pairs_.size());
  if (batch_count == pairs_.size()) return hidden_.size();
  return static_cast<uint64_t>(
      std::lower_bound(hidden_.begin(), hidden_.end(), static_cast<uint32_t>(batch_count)) -
      hidden_.begin());
}

uint64_t OffsetIndex::data_offset_count() const {
  const uint64_t offsets = static_cast<uint64_t>(next_offset() - base_offset_);
  EDDY_CHECK_LE(hidden_.size(), offsets);
  return offsets - hidden_.size();
}

std::optional<BatchLocation> OffsetIndex::FindDataOffset(uint64_t n) const {
  if (n >= data_offset_count()) return std::nullopt;
  // Data offsets covered by batches [0, i] never decrease with i, and stay equal across a hidden
  // batch (one offset, one hidden), so the first batch covering more than n is a data batch.
  const size_t found =
      pairs_.PartitionPoint([this, n](size_t index, const PackedPairs::Pair& pair) {
        const uint64_t covered = static_cast<uint64_t>(pair.a) + 1 - HiddenCountBefore(index + 1);
        return covered > n;
      });
  EDDY_CHECK_LT(found, pairs_.size());
  BatchLocation location = At(found);
  EDDY_CHECK(!location.hidden);
  EDDY_CHECK_LE(static_cast<uint64_t>(location.base_offset - base_offset_) -
                    HiddenCountBefore(found),
                n);
  return location;
}

std::optional<size_t> OffsetIndex::IndexOf(int64_t offset) const {
  if (offset < base_offset_ || offset >= next_offset()) return std::nullopt;
  // First batch whose last offset is >= offset: it contains offset because offsets are dense.
  const size_t index = pairs_.LowerBoundA(offset - base_offset_);
  EDDY_CHECK_LT(index, pairs_.size());
  // It ends at or after `offset`, and the one before it ends before `offset`.
  EDDY_CHECK_GE(base_offset_ + pairs_.At(index).a, offset);
  if (index > 0) EDDY_CHECK_LT(base_offset_ + pairs_.At(index - 1).a, offset);
  return index;
}

std::optional<BatchLocation> OffsetIndex::Find(int64_t offset) const {
  const std::optional<size_t> index = IndexOf(offset);
  if (!index.has_value()) return std::nullopt;
  BatchLocation location = At(*index);
  EDDY_CHECK_LE(location.base_offset, offset);
  EDDY_CHECK_GE(location.last_offset, offset);
  return location;
}

BatchLocation OffsetIndex::MakeLocation(size_t index, const PackedPairs::Pair& pair,
                                        int64_t previous_last, uint64_t end) const {
  BatchLocation location;
  location.index = index;
  location.base_offset = base_offset_ + previous_last + 1;
  location.last_offset = base_offset_ + pair.a;
  location.position = static_cast<uint32_t>(pair.b);
  EDDY_CHECK_GT(end, static_cast<uint64_t>(pair.b));
  location.size_bytes = static_cast<uint32_t>(end - static_cast<uint64_t>(pair.b));
  location.term = TermOf(index);
  location.hidden = IsHidden(index);
  return location;
}

BatchLocation OffsetIndex::At(size_t index) const {
  EDDY_CHECK_LT(index, pairs_.size());
  // Three random accesses, not a scan from `index`: a scan decodes its block from the start
  // (Cursor) instead of using PackedPairs' kept decoded blocks, and lookups are most of what
  // the simulator does.
  const int64_t previous_last = index == 0 ? -1 : pairs_.At(index - 1).a;
  const uint64_t end =
      index + 1 < pairs_.size() ? static_cast<uint64_t>(pairs_.At(index + 1).b) : end_position_;
  const BatchLocation location = MakeLocation(index, pairs_.At(index), previous_last, end);
  EDDY_CHECK_EQ(location.index, index);
  return location;
}

void OffsetIndex::Truncate(size_t batch_count) {
  EDDY_CHECK_LE(batch_count, pairs_.size());
  if (batch_count == pairs_.size()) return;
  end_position_ = static_cast<uint64_t>(pairs_.At(batch_count).b);
  hidden_.resize(HiddenCountBefore(batch_count));
  pairs_.Truncate(batch_count);
  while (!term_runs_.empty() && term_runs_.back().first_index >= batch_count) term_runs_.pop_back();
  CheckInvariants();
}

void OffsetIndex::Compact() {
  pairs_.Compact();
  term_runs_.shrink_to_fit();
  hidden_.shrink_to_fit();
}

size_t OffsetIndex::memory_bytes() const {
  return pairs_.memory_bytes() + term_runs_.capacity() * sizeof(TermRun) +
         hidden_.capacity() * sizeof(uint32_t);
}

std::vector<uint8_t> OffsetIndex::Encode(uint32_t last_batch_crc) const {
  CheckInvariants();
  std::vector<uint8_t> out;
  out.reserve(kHeaderSizeBytes + batch_count() * kEntrySizeBytes + kTrailerSizeBytes);
  Put32(out, kMagic);
  Put32(out, kVersion);
  Put64(out, static_cast<uint64_t>(base_offset_));
  Put64(out, end_position_);
  Put32(out, last_batch_crc);
  Put32(out, static_cast<uint32_t>(batch_count()));
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes);
  ScanFrom(0, [this, &out](const BatchLocation& location) {
    Put32(out, static_cast<uint32_t>(location.last_offset - base_offset_));
    Put32(out, location.position);
    Put32(out, static_cast<uint32_t>(location.term) | (location.hidden ? kHiddenTermBit : 0));
    return true;
  });
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes + batch_count() * kEntrySizeBytes);
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
  index.Compact();
  return decoded;
}

void OffsetIndex::CheckInvariants() const {
  pairs_.CheckInvariants();
  if (!pairs_.empty()) {
    EDDY_CHECK_EQ(pairs_.At(0).b, 0);
    EDDY_CHECK_GT(end_position_, static_cast<uint64_t>(pairs_.back().b));
    EDDY_CHECK(!term_runs_.empty());
    EDDY_CHECK_EQ(term_runs_.front().first_index, 0u);
  } else {
    EDDY_CHECK(term_runs_.empty());
    EDDY_CHECK_EQ(end_position_, 0u);
  }
  for (size_t i = 1; i < term_runs_.size(); ++i) {
    EDDY_CHECK_GT(term_runs_[i].first_index, term_runs_[i - 1].first_index);
    EDDY_CHECK_GT(term_runs_[i].term, term_runs_[i - 1].term);
  }
  if (!term_runs_.empty()) EDDY_CHECK_LT(size_t{term_runs_.back().first_index}, pairs_.size());
  for (size_t i = 0; i < hidden_.size(); ++i) {
    if (i > 0) EDDY_CHECK_GT(hidden_[i], hidden_[i - 1]);
    const size_t index = hidden_[i];
    EDDY_CHECK_LT(index, pairs_.size());
    // A hidden batch covers one offset.
    const int64_t previous_last = index == 0 ? -1 : pairs_.At(index - 1).a;
    EDDY_CHECK_EQ(pairs_.At(index).a, previous_last + 1);
  }
}

}  // namespace eddy::log
