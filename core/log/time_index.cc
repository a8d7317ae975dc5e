#include "core/log/time_index.h"

#include <algorithm>

#include "absl/status/status.h"
#include "core/base/check.h"
#include "core/log/byte_order.h"
#include "core/record/crc32c.h"

namespace eddy::log {

using internal::Load32;
using internal::Load64;
using internal::Put32;
using internal::Put64;

TimeIndex::TimeIndex(int64_t base_offset) : base_offset_(base_offset) {
  EDDY_CHECK_GE(base_offset, 0);
}

std::optional<int64_t> TimeIndex::max_timestamp() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().a;
}

std::optional<int64_t> TimeIndex::last_entry_offset() const {
  if (entries_.empty()) return std::nullopt;
  return base_offset_ + entries_.back().b;
}

void TimeIndex::Observe(int64_t batch_base_offset, int64_t batch_max_timestamp) {
  EDDY_CHECK_GE(batch_base_offset, base_offset_);
  EDDY_CHECK_LE(batch_base_offset - base_offset_, int64_t{UINT32_MAX});
  const int64_t relative = batch_base_offset - base_offset_;
  if (!entries_.empty()) {
    const PackedPairs::Pair last = entries_.back();
    EDDY_CHECK_GT(relative, last.b);
    if (batch_max_timestamp <= last.a) return;
  }
  entries_.Append(PackedPairs::Pair{batch_max_timestamp, relative});
}

std::optional<int64_t> TimeIndex::Lookup(int64_t timestamp) const {
  const size_t index = entries_.LowerBoundA(timestamp);
  if (index == entries_.size()) return std::nullopt;
  return base_offset_ + entries_.At(index).b;
}

void TimeIndex::TruncateFrom(int64_t offset) {
  const int64_t relative = offset - base_offset_;
  entries_.Truncate(entries_.PartitionPoint(
      [relative](size_t, const PackedPairs::Pair& pair) { return pair.b >= relative; }));
}

std::vector<uint8_t> TimeIndex::Encode() const {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSizeBytes + entries_.size() * kEntrySizeBytes + kTrailerSizeBytes);
  Put32(out, kMagic);
  Put32(out, kVersion);
  Put64(out, static_cast<uint64_t>(base_offset_));
  Put32(out, static_cast<uint32_t>(entries_.size()));
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes);
  entries_.ScanFrom(0, [&out](size_t, const PackedPairs::Pair& pair) {
    Put64(out, static_cast<uint64_t>(pair.a));
    Put32(out, static_cast<uint32_t>(pair.b));
    return true;
  });
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes + entries_.size() * kEntrySizeBytes);
  Put32(out, record::Crc32c(out));
  return out;
}

absl::StatusOr<TimeIndex> TimeIndex::Decode(int64_t base_offset, std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSizeBytes + kTrailerSizeBytes) {
    return absl::DataLossError("time index too short");
  }
  const size_t body_size = bytes.size() - kTrailerSizeBytes;
  if (record::Crc32c(bytes.first(body_size)) != Load32(bytes.data() + body_size)) {
    return absl::DataLossError("time index checksum mismatch");
  }
  const uint8_t* p = bytes.data();
  if (Load32(p) != kMagic || Load32(p + 4) != kVersion ||
      static_cast<int64_t>(Load64(p + 8)) != base_offset) {
    return absl::DataLossError("time index has a bad magic, version or base offset");
  }
  const uint64_t entry_count = Load32(p + 16);
  if (body_size != kHeaderSizeBytes + entry_count * kEntrySizeBytes) {
    return absl::DataLossError("time index entry count does not match its size");
  }
  TimeIndex index(base_offset);
  for (uint64_t i = 0; i < entry_count; ++i) {
    const uint8_t* entry = p + kHeaderSizeBytes + i * kEntrySizeBytes;
    const int64_t timestamp = static_cast<int64_t>(Load64(entry));
    const uint32_t relative = Load32(entry + 8);
    if (!index.entries_.empty() && (timestamp <= index.entries_.back().a ||
                                    int64_t{relative} <= index.entries_.back().b)) {
      return absl::DataLossError("time index entries are not increasing");
    }
    index.entries_.Append(PackedPairs::Pair{timestamp, int64_t{relative}});
  }
  index.Compact();
  return index;
}

}  // namespace eddy::log
