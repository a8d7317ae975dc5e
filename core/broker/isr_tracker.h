// IsrTracker: a partition leader's in-sync replicas, by Kafka's rule (replica.lag.time.max.ms):
// a follower is in sync if it caught up with the leader's log end within the last
// kLagTimeMax. "Caught up" is judged at each Sample: a follower whose match offset reached the
// log end the leader had at the previous sample caught up then (Kafka's lastCaughtUpTime, with
// the fetch replaced by Raft's match offset). The leader is always in sync. Pure logic.
//
// Eddy's acks=all needs a Raft quorum, not the ISR: the ISR is what Metadata reports and what
// min.insync.replicas is checked against.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/base/units.h"

namespace eddy::broker {

class IsrTracker {
 public:
  // Kafka's replica.lag.time.max.ms default.
  static constexpr Duration kLagTimeMax = Duration::Seconds(30);

  // Starts tracking for a new leadership at `now`: nobody but the leader has caught up yet,
  // and the first sample judges followers against `log_end` (the log end at election).
  IsrTracker(int32_t leader, int64_t log_end, Instant now);

  // The match offsets (by broker) of the followers heard from lately, and the leader's log end.
  void Sample(const std::map<int32_t, int64_t>& match_offsets, int64_t log_end, Instant now);
  // The leader, then the followers in sync at `now`, by broker id.
  std::vector<int32_t> InSync(Instant now) const;

 private:
  int32_t leader_;
  int64_t previous_log_end_;
  std::map<int32_t, Instant> caught_up_;
};

}  // namespace eddy::broker
