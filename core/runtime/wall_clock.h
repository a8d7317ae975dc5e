// The wall-clock part of the runtime seam: what time the host says it is, in milliseconds since
// the Unix epoch.
//
// For what Kafka defines by the calendar: record timestamps (CreateTime checks, LogAppendTime),
// time-based retention (`retention.ms`) and segment rolling (`segment.ms`). It is NOT monotonic:
// an NTP step or an operator moves it either way, and two nodes' wall clocks disagree. No
// decision that safety depends on may use it — elections, leases, timeouts and every other
// interval are measured on the monotonic Clock.
//
// Real world: the system clock (net/). Simulated world: each node's own, skewed from the others
// and stepped both ways among the faults (sim/clock/sim_wall_clock.h).
#pragma once

#include <cstdint>

namespace eddy::runtime {

class WallClock {
 public:
  virtual ~WallClock() = default;

  // Milliseconds since 1970-01-01T00:00:00Z, as this host's clock has it now. May go backwards
  // between two calls.
  virtual int64_t NowMs() = 0;
};

}  // namespace eddy::runtime
