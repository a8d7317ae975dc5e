// GroupListener: what the owner of one replica (a broker's partition, the controller's metadata)
// acts on, pushed by its GroupDriver. Unlike DriverObserver (facts for checkers and coverage),
// these are the events a broker needs: leadership to route produce requests, the high watermark
// to complete long-poll fetches, "ready to serve" to start a new leader's work, and the replica's
// end states.
//
// LOOP AFFINITY: called on the runtime's loop, from inside the driver: an implementation must not
// call back into the driver synchronously (post instead). OWNERSHIP: the listener outlives the
// driver, or is unset first (SetListener(nullptr)). Default: ignore.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace eddy::raft::driver {

class GroupListener {
 public:
  virtual ~GroupListener() = default;
  // Role, leader or term changed.
  virtual void OnLeadership(const SoftState& /*soft*/) {}
  // The Kafka high watermark (GroupDriver::kafka_high_watermark) advanced; it never goes back.
  virtual void OnHighWatermark(int64_t /*kafka_high_watermark*/) {}
  // This replica leads `term` and has applied that term's no-op: everything committed by earlier
  // leaders is applied here, so it can serve reads and build state on it.
  virtual void OnReadyToServe(Term /*term*/) {}
  // The replica stopped (disk error, corruption, a leader reset) and will reopen by itself.
  virtual void OnStopped(const absl::Status& /*status*/) {}
  // The replica stopped for good: its hard state may have gone back, or its directory belongs to
  // another replica. An operator rebuilds it.
  virtual void OnHalted(const absl::Status& /*status*/) {}
  // NodeDriver::RemoveGroup stopped the replica; its files are being deleted.
  virtual void OnRemoved() {}
};

}  // namespace eddy::raft::driver
