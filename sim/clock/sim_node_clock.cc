#include "sim/clock/sim_node_clock.h"

#include "core/base/check.h"

namespace eddy::sim {
namespace {

constexpr int64_t kPpm = 1'000'000;

}  // namespace

SimNodeClock::SimNodeClock(SimLoop& world, uint32_t node, TraceHash* trace)
    : world_(world),
      node_(node),
      trace_(trace),
      world_base_(world.Now()),
      local_base_(world.Now()) {}

SimNodeClock::~SimNodeClock() {
  if (wakeup_ != runtime::kNoTimer) world_.Cancel(wakeup_);
}

Instant SimNodeClock::LocalAt(Instant world) const {
  EDDY_CHECK_GE(world, world_base_);
  const __int128 elapsed = (world - world_base_).nanoseconds();
  const __int128 scaled = elapsed * (kPpm + drift_ppm_) / kPpm;
  return local_base_ + Duration::Nanoseconds(static_cast<int64_t>(scaled));
}

Instant SimNodeClock::WorldWhen(Instant local) const {
  if (local <= local_base_) return world_base_;
  const __int128 elapsed = (local - local_base_).nanoseconds();
  const __int128 rate = kPpm + drift_ppm_;
  // Ceiling division, so LocalAt(WorldWhen(t)) >= t despite integer rounding.
  const __int128 world_elapsed = (elapsed * kPpm + rate - 1) / rate;
  const Instant world = world_base_ + Duration::Nanoseconds(static_cast<int64_t>(world_elapsed));
  EDDY_CHECK_GE(LocalAt(world), local);
  return world;
}

Instant SimNodeClock::Now() const { return LocalAt(world_.Now()); }

void SimNodeClock::Rebase() {
  const Instant now = world_.Now();
  local_base_ = LocalAt(now);
  world_base_ = now;
}

runtime::TimerId SimNodeClock::ScheduleAfter(Duration delay, Callback callback) {
  EDDY_CHECK_LT(queue_.size(), kPendingCallbacksMax);
  if (down_) return next_timer_++;  // `callback` is destroyed on return, unrun.
  const Instant now = Now();
  const Instant due = delay > Duration::Zero() ? now + delay : now;
  const runtime::TimerId timer = next_timer_++;
  queue_.emplace(Key{due, timer}, std::move(callback));
  due_by_timer_.emplace(timer, due);
  if (queue_.begin()->first.second == timer) Arm();
  CheckInvariants();
  return timer;
}

bool SimNodeClock::Cancel(runtime::TimerId timer) {
  auto it = due_by_timer_.find(timer);
  if (it == due_by_timer_.end()) return false;
  const Key key{it->second, timer};
  const bool was_first = queue_.begin()->first == key;
  EDDY_CHECK_EQ(queue_.erase(key), 1u);
  due_by_timer_.erase(it);
  if (was_first) Arm();
  CheckInvariants();
  return true;
}

void SimNodeClock::Arm() {
  if (wakeup_ != runtime::kNoTimer) {
    EDDY_CHECK(world_.Cancel(wakeup_));
    wakeup_ = runtime::kNoTimer;
  }
  if (paused_ || queue_.empty()) return;
  armed_for_ = queue_.begin()->first;
  const Instant world_due = WorldWhen(armed_for_.first);
  wakeup_ = world_.ScheduleAfter(world_due - world_.Now(), [this] { Wake(); });
}

void SimNodeClock::Wake() {
  wakeup_ = runtime::kNoTimer;
  EDDY_CHECK(!paused_);
  EDDY_CHECK(!queue_.empty());
  auto node = queue_.extract(queue_.begin());
  EDDY_CHECK(node.key() == armed_for_);
  EDDY_CHECK_GE(Now(), node.key().first);
  due_by_timer_.erase(node.key().second);
  if (trace_ != nullptr) {
    trace_->Fold(world_.Now(), node_, TraceEvent::kTimer,
                 static_cast<uint64_t>(node.key().first.nanoseconds()));
  }
  // Arm for the next entry BEFORE running the callback: the callback may schedule or cancel,
  // and both keep the invariant from there.
  Arm();
  std::move(node.mapped())();
}

void SimNodeClock::SetDriftPpm(int64_t drift_ppm) {
  EDDY_CHECK_LE(drift_ppm, kDriftPpmMax);
  EDDY_CHECK_GE(drift_ppm, -kDriftPpmMax);
  Rebase();
  drift_ppm_ = drift_ppm;
  Arm();
  CheckInvariants();
}

void SimNodeClock::Jump(Duration forward) {
  EDDY_CHECK_GE(forward, Duration::Zero());
  const Instant before = Now();
  Rebase();
  local_base_ = local_base_ + forward;
  EDDY_CHECK_GE(Now(), before);
  Arm();
  CheckInvariants();
}

void SimNodeClock::Pause() {
  paused_ = true;
  Arm();
  CheckInvariants();
}

void SimNodeClock::Resume() {
  paused_ = false;
  Arm();
  CheckInvariants();
}

void SimNodeClock::DropAll() {
  // Move out first: destroying a callback may run destructors that call back into this clock.
  std::map<Key, Callback> dropped = std::move(queue_);
  queue_.clear();
  due_by_timer_.clear();
  Arm();
  dropped.clear();
  CheckInvariants();
}

void SimNodeClock::SetDown(bool down) {
  down_ = down;
  if (down) DropAll();
  EDDY_CHECK(!down_ || queue_.empty());
}

void SimNodeClock::CheckInvariants() const {
  EDDY_CHECK_EQ(queue_.size(), due_by_timer_.size());
  EDDY_CHECK_EQ(wakeup_ != runtime::kNoTimer, !paused_ && !queue_.empty());
  if (wakeup_ != runtime::kNoTimer) EDDY_CHECK(armed_for_ == queue_.begin()->first);
}

}  // namespace eddy::sim
