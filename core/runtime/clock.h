// The clock part of the runtime seam: monotonic time and one-shot timers.
//
// LOOP AFFINITY: a Clock belongs to exactly one event loop. Every method must be called on that
// loop, and every callback runs on it, later, exactly once (never inline from ScheduleAfter),
// unless cancelled first. Callbacks due at the same instant run in the order they were scheduled.
//
// Real world: steady_clock + asio timers (net/). Simulated world: virtual time advanced by the
// simulator's event queue (sim/), so a timer of one hour costs nothing to wait for.
#pragma once

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "core/base/units.h"

namespace eddy::runtime {

// Identifies a scheduled callback for Cancel(). Never reused within one Clock's lifetime;
// 0 is never a valid id.
using TimerId = uint64_t;
inline constexpr TimerId kNoTimer = 0;

class Clock {
 public:
  using Callback = absl::AnyInvocable<void() &&>;

  virtual ~Clock() = default;

  // Monotonic: never decreases between two calls on the same loop.
  virtual Instant Now() const = 0;

  // Runs `callback` on the loop once, no earlier than `delay` from Now(). A zero or negative
  // delay means "as soon as possible, but after the current callback returns".
  virtual TimerId ScheduleAfter(Duration delay, Callback callback) = 0;

  // Cancels a callback that has not run yet and returns true; returns false if it already ran,
  // was already cancelled, or never existed. The callback (and what it captured) is destroyed
  // before Cancel returns or, at the latest, before the loop runs anything else.
  virtual bool Cancel(TimerId timer) = 0;

  // Shorthand for ScheduleAfter(Duration::Zero(), callback): defers work to the loop.
  void Post(Callback callback) { ScheduleAfter(Duration::Zero(), std::move(callback)); }
};

}  // namespace eddy::runtime
