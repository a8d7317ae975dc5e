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
  return entries_.back().timestamp;
}

std::optional<int64_t> TimeIndex::last_entry_offset() const {
  if (entries_.empty()) return std::nullopt;
  return base_offset_ + int64_t{entries_.back().relative_offset};
}

void TimeIndex::Observe(int64_t batch_base_offset, int64_t batch_max_timestamp) {
  EDDY_CHECK_GE(batch_base_offset, base_offset_);
  EDDY_CHECK_LE(batch_base_offset - base_offset_, int64_t{UINT32_MAX});
  const uint32_t relative = static_cast<uint32_t>(batch_base_offset - base_offset_);
  if (!entries_.empty()) {
    EDDY_CHECK_GT(relative, entries_.back().relative_offset);
    if (batch_max_timestamp <= entries_.back().timestamp) return;
  }
  entries_.push_back(Entry{batch_max_timestamp, relative});
}

std::optional<int64_t> TimeIndex::Lookup(int64_t timestamp) const {
  const auto it =
      std::lower_bound(entries_.begin(), entries_.end(), timestamp,
                       [](const Entry& entry, int64_t value) { return entry.timestamp < value; });
  if (it == entries_.end()) return std::nullopt;
  return base_offset_ + int64_t{it->relative_offset};
}

void TimeIndex::TruncateFrom(int64_t offset) {
  while (!entries_.empty() && base_offset_ + int64_t{entries_.back().relative_offset} >= offset) {
    entries_.pop_back();
  }
}

std::vector<uint8_t> TimeIndex::Encode() const {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSizeBytes + entries_.size() * kEntrySizeBytes + kTrailerSizeBytes);
  Put32(out, kMagic);
  Put32(out, kVersion);
  Put64(out, static_cast<uint64_t>(base_offset_));
  Put32(out, static_cast<uint32_t>(entries_.size()));
  EDDY_CHECK_EQ(out.size(), kHeaderSizeBytes);
  for (const Entry& entry : entries_) {
    Put64(out, static_cast<uint64_t>(entry.timestamp));
    Put32(out, entry.relative_offset);
  }
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
    if (!index.entries_.empty() && (timestamp <= index.entries_.back().timestamp ||
                                    relative <= index.entries_.back().relative_offset)) {
      return absl::DataLossError("time index entries are not increasing");
    }
    index.entries_.push_back(Entry{timestamp, relative});
  }
  return index;
}

}  // namespace eddy::log
