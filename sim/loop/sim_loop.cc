#include "sim/loop/sim_loop.h"

#include "core/base/check.h"

namespace eddy::sim {

runtime::TimerId SimLoop::ScheduleAfter(Duration delay, Callback callback) {
  EDDY_CHECK_LT(queue_.size(), kPendingCallbacksMax);
  const Instant due = delay > Duration::Zero() ? now_ + delay : now_;
  return queue_.Push(due, std::move(callback));
}

bool SimLoop::Cancel(runtime::TimerId timer) { return queue_.Cancel(timer); }

bool SimLoop::RunOne() {
  if (queue_.empty()) return false;
  TimerQueue::Popped next = queue_.Pop();
  EDDY_CHECK_GE(next.key.due, now_);
  now_ = next.key.due;
  ++events_processed_;
  std::move(next.callback)();
  return true;
}

uint64_t SimLoop::RunUntilIdle() {
  uint64_t ran = 0;
  while (RunOne()) {
    ++ran;
    EDDY_CHECK_LT(ran, kRunUntilIdleEventsMax);
  }
  return ran;
}

void SimLoop::RunUntil(Instant deadline) {
  EDDY_CHECK_GE(deadline, now_);
  while (!queue_.empty() && queue_.NextKey().due <= deadline) RunOne();
  now_ = deadline;
}

Instant SimLoop::next_due() {
  EDDY_CHECK(!queue_.empty());
  return queue_.NextKey().due;
}

}  // namespace eddy::sim
