#include "core/log/retention_policy.h"

#include "core/base/check.h"

namespace eddy::log {

size_t RetentionPolicy::SegmentsToDelete(const std::vector<SegmentSummary>& segments,
                                         int64_t now_timestamp_ms) const {
  uint64_t total_size_bytes = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) EDDY_CHECK_GT(segments[i].base_offset, segments[i - 1].base_offset);
    total_size_bytes += segments[i].size_bytes;
  }
  size_t count = 0;
  // The last segment is the active one: it stays, whatever its age or size.
  while (count + 1 < segments.size()) {
    const SegmentSummary& segment = segments[count];
    if (!ExpiredBySize(total_size_bytes, segment.size_bytes) &&
        !ExpiredByAge(segment, now_timestamp_ms)) {
      break;
    }
    total_size_bytes -= segment.size_bytes;
    ++count;
  }
  EDDY_CHECK_LT(count, segments.size() == 0 ? 1 : segments.size());
  return count;
}

bool RetentionPolicy::ExpiredBySize(uint64_t total_size_bytes, uint64_t segment_size_bytes) const {
  if (!options_.retention_size_bytes.has_value()) return false;
  EDDY_CHECK_GE(total_size_bytes, segment_size_bytes);
  return total_size_bytes - segment_size_bytes >= *options_.retention_size_bytes;
}

bool RetentionPolicy::ExpiredByAge(const SegmentSummary& segment, int64_t now_timestamp_ms) const {
  if (!options_.retention_age_ms.has_value() || !segment.max_timestamp_ms.has_value()) {
    return false;
  }
  return *segment.max_timestamp_ms < now_timestamp_ms - *options_.retention_age_ms;
}

}  // namespace eddy::log
