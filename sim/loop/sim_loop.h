// SimLoop: the simulator's event queue and virtual clock.
//
// A single-threaded discrete-event loop: callbacks are ordered by (due time, scheduling
// sequence), so two runs that schedule the same callbacks run them in the same order, bit for
// bit. Time only moves when the loop takes the next event, so waiting costs nothing.
//
// OWNERSHIP: owns pending callbacks; destroying the loop destroys them unrun. Not thread-safe
// (nothing in the simulator is: there is one thread).
#pragma once

#include <cstdint>

#include "core/runtime/clock.h"
#include "sim/loop/timer_queue.h"

namespace eddy::sim {

class SimLoop final : public runtime::Clock {
 public:
  // Guards against runaway runs (a callback that reschedules itself forever at zero delay).
  static constexpr uint64_t kRunUntilIdleEventsMax = uint64_t{1} << 32;
  // More pending callbacks than this means something schedules without bound.
  static constexpr size_t kPendingCallbacksMax = size_t{1} << 24;

  explicit SimLoop(Instant start = Instant::FromNanoseconds(0)) : now_(start) {}
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  Instant Now() const override { return now_; }
  runtime::TimerId ScheduleAfter(Duration delay, Callback callback) override;
  bool Cancel(runtime::TimerId timer) override;

  // Runs the earliest pending callback, first advancing Now() to its due time. Returns false
  // if nothing is pending.
  bool RunOne();

  // Runs callbacks until none is pending; returns how many ran. Checks against
  // kRunUntilIdleEventsMax so a livelock fails loudly instead of hanging.
  uint64_t RunUntilIdle();

  // Runs every callback due at or before `deadline` (including ones they schedule), then sets
  // Now() to `deadline`. REQUIRES: deadline >= Now().
  void RunUntil(Instant deadline);
  void RunFor(Duration duration) { RunUntil(now_ + duration); }

  size_t pending_count() const { return queue_.size(); }
  uint64_t events_processed() const { return events_processed_; }
  // Due time of the earliest pending callback. REQUIRES: pending_count() > 0.
  Instant next_due();

 private:
  Instant now_;
  uint64_t events_processed_ = 0;
  TimerQueue queue_;
};

}  // namespace eddy::sim
