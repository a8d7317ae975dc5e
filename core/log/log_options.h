// Tuning knobs of one partition log. Every one is a limit with a unit in its name.
#pragma once

#include <cstdint>
#include <optional>

#include "core/base/limits.h"
#include "core/base/units.h"

namespace eddy::log {

struct LogOptions {
  // Roll to a new segment when appending a batch would make the active one larger than this.
  uint64_t segment_size_bytes_max = 256 * kMiB;
  // Roll when the active segment (non-empty) has been open this long on the log's Clock.
  Duration segment_age_max = Duration::Seconds(7 * 24 * 3600);
  // Retention (EnforceRetention): delete the oldest segments while the log stays at least this
  // big without them. Unlimited when empty.
  std::optional<uint64_t> retention_size_bytes;
  // Retention: delete segments whose newest record timestamp is older than this many
  // milliseconds before the "now" passed to EnforceRetention. Unlimited when empty.
  std::optional<int64_t> retention_age_ms;
  // Flush rounds wait at most this many flush requests; more fail with kResourceExhausted.
  uint64_t flush_waiter_count_max = 1 << 20;
};

}  // namespace eddy::log
