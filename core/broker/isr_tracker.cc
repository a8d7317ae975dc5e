#include "core/broker/isr_tracker.h"

namespace eddy::broker {

IsrTracker::IsrTracker(int32_t leader, int64_t log_end, Instant)
    : leader_(leader), previous_log_end_(log_end) {}

void IsrTracker::Sample(const std::map<int32_t, int64_t>& match_offsets, int64_t log_end,
                        Instant now) {
  for (const auto& [broker, match] : match_offsets) {
    if (broker != leader_ && match >= previous_log_end_) caught_up_[broker] = now;
  }
  previous_log_end_ = log_end;
}

std::vector<int32_t> IsrTracker::InSync(Instant now) const {
  std::vector<int32_t> isr = {leader_};
  for (const auto& [broker, at] : caught_up_) {
    if (now - at <= kLagTimeMax) isr.push_back(broker);
  }
  return isr;
}

}  // namespace eddy::broker
