#include "sim/loop/sim_loop.h"

#include "core/base/check.h"

namespace eddy::sim {

runtime::TimerId SimLoop::ScheduleAfter(Duration delay, Callback callback) {
  EDDY_CHECK_LT(queue_.size(), kPendingCallbacksMax);
  const Instant due = delay > Duration::Zero() ? now_ + delay : now_;
  const runtime::TimerId timer = next_timer_++;
  const bool inserted = queue_.emplace(Key{due, timer}, std::move(callback)).second;
  EDDY_CHECK(inserted);
  due_by_timer_.emplace(timer, due);
  EDDY_CHECK_EQ(queue_.size(), due_by_timer_.size());
  return timer;
}

bool SimLoop::Cancel(runtime::TimerId timer) {
  auto it = due_by_timer_.find(timer);
  if (it == due_by_timer_.end()) return false;
  const size_t erased = queue_.erase(Key{it->second, timer});
  EDDY_CHECK_EQ(erased, 1u);
  due_by_timer_.erase(it);
  return true;
}

bool SimLoop::RunOne() {
  if (queue_.empty()) return false;
  auto node = queue_.extract(queue_.begin());
  EDDY_CHECK_GE(node.key().first, now_);
  now_ = node.key().first;
  due_by_timer_.erase(node.key().second);
  ++events_processed_;
  std::move(node.mapped())();
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
  while (!queue_.empty() && queue_.begin()->first.first <= deadline) RunOne();
  now_ = deadline;
}

Instant SimLoop::next_due() const {
  EDDY_CHECK(!queue_.empty());
  return queue_.begin()->first.first;
}

}  // namespace eddy::sim
