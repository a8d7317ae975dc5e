// OpenGate: at most N replicas of a node recover their logs at once.
//
// A log's recovery (core/log PartitionLog::Open) holds every segment file of the log open until
// it finishes, outside the node's FileCache. A node that opens 10,000 replicas at once (a
// broker restarting) would hold tens of thousands of files, hit the process's open-file limit,
// and crash-loop its replicas until the backoff spread them out (bench/sim
// replica_memory_bench: 72 simulated seconds to settle, 100,000 failed opens). Through the
// gate they open N at a time, first come first served.
//
// Enter runs `start` at once if fewer than N are inside, else later, on the clock, when one
// leaves; whoever entered must Leave exactly once (a replica destroyed while waiting is
// started all the same and must leave at once). LOOP AFFINITY: the clock's loop.
#pragma once

#include <cstddef>
#include <deque>

#include "absl/functional/any_invocable.h"
#include "core/runtime/clock.h"

namespace eddy::raft::driver {

class OpenGate {
 public:
  OpenGate(runtime::Clock& clock, size_t inside_max);

  void Enter(absl::AnyInvocable<void()> start);
  void Leave();

  size_t inside() const { return inside_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  runtime::Clock& clock_;
  const size_t inside_max_;
  size_t inside_ = 0;
  std::deque<absl::AnyInvocable<void()>> waiting_;
};

}  // namespace eddy::raft::driver
