// RetentionPolicy: which old segments retention deletes (Kafka's retention.bytes/retention.ms).
//
// Works on summaries of the segments, oldest first; deletes only a prefix of them and never the
// active (last) segment. A segment goes when the log without it is still at least
// retention_size_bytes big, or when its newest record is older than retention_age_ms before
// `now_timestamp_ms`. Timestamps are record timestamps (milliseconds since the Unix epoch, from
// the batches' max_timestamp), so "now" is supplied by the caller's wall clock; the log itself
// only knows a monotonic Clock.
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/log/log_options.h"

namespace eddy::log {

struct SegmentSummary {
  int64_t base_offset = 0;
  uint64_t size_bytes = 0;
  std::optional<int64_t> max_timestamp_ms;  // empty for an empty segment
};

class RetentionPolicy {
 public:
  explicit RetentionPolicy(const LogOptions& options) : options_(options) {}

  // How many segments, from the front of `segments`, retention deletes.
  size_t SegmentsToDelete(const std::vector<SegmentSummary>& segments,
                          int64_t now_timestamp_ms) const;

 private:
  bool ExpiredBySize(uint64_t total_size_bytes, uint64_t segment_size_bytes) const;
  bool ExpiredByAge(const SegmentSummary& segment, int64_t now_timestamp_ms) const;

  LogOptions options_;
};

}  // namespace eddy::log
