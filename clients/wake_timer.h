// WakeTimer: the one timer that drives a client's work loop (the producer's sender, the
// consumer's fetcher). Asking for a run moves the timer earlier, never later: a run already due
// sooner is kept. Destroying it (or Cancel) drops the pending run. Loop affinity: the clock's.
#pragma once

#include <algorithm>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "core/base/units.h"
#include "core/runtime/clock.h"

namespace eddy::clients {

class WakeTimer {
 public:
  WakeTimer(runtime::Clock& clock, absl::AnyInvocable<void()> run)
      : clock_(clock), run_(std::move(run)) {}
  ~WakeTimer() { Cancel(); }
  WakeTimer(const WakeTimer&) = delete;
  WakeTimer& operator=(const WakeTimer&) = delete;

  // Runs the callback `delay` from now (at once if negative), unless a run is due sooner.
  void After(Duration delay) {
    const Instant at = clock_.Now() + std::max(delay, Duration::Zero());
    if (timer_ != runtime::kNoTimer) {
      if (at_ <= at) return;  // an earlier run is already due
      clock_.Cancel(timer_);
    }
    at_ = at;
    timer_ = clock_.ScheduleAfter(at - clock_.Now(), [this] {
      timer_ = runtime::kNoTimer;
      run_();
    });
  }

  void Cancel() {
    if (timer_ != runtime::kNoTimer) clock_.Cancel(timer_);
    timer_ = runtime::kNoTimer;
  }

 private:
  runtime::Clock& clock_;
  absl::AnyInvocable<void()> run_;
  runtime::TimerId timer_ = runtime::kNoTimer;
  Instant at_;
};

}  // namespace eddy::clients
