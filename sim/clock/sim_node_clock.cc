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

Instant SimNodeClock::Now() const {
  // Asked many times per world instant (every schedule, every disk operation): the drifted
  // conversion is computed once per instant and per clock setting.
  const Instant world = world_.Now();
  if (world != now_cache_world_ || !now_cache_valid_) {
    now_cache_local_ = LocalAt(world);
    now_cache_world_ = world;
    now_cache_valid_ = true;
  }
  return now_cache_local_;
}

void SimNodeClock::Rebase() {
  now_cache_valid_ = false;  // the drift or the offset is about to change
  const Instant now = world_.Now();
  local_base_ = LocalAt(now);
  world_base_ = now;
}

runtime::TimerId SimNodeClock::ScheduleAfter(Duration delay, Callback callback) {
  EDDY_CHECK_LT(queue_.size(), kPendingCallbacksMax);
  if (down_) return queue_.DeadId();  // `callback` is destroyed on return, unrun.
  const Instant now = Now();
  const Instant due = delay > Duration::Zero() ? now + delay : now;
  const bool was_empty = queue_.empty();
  const runtime::TimerId timer = queue_.Push(due, std::move(callback));
  // Re-arm only if the new entry comes first: earlier than what the wake-up is armed for.
  if (!waking_ && (was_empty || due < armed_for_.due)) Arm();
  CheckInvariants();
  return timer;
}

bool SimNodeClock::Cancel(runtime::TimerId timer) {
  if (!queue_.Cancel(timer)) return false;
  // The wake-up may now point at a cancelled entry; re-arm if the first entry changed.
  if (!waking_ && (queue_.empty() || !(queue_.NextKey() == armed_for_))) Arm();
  CheckInvariants();
  return true;
}

void SimNodeClock::Arm() {
  if (wakeup_ != runtime::kNoTimer) {
    EDDY_CHECK(world_.Cancel(wakeup_));
    wakeup_ = runtime::kNoTimer;
  }
  if (paused_ || queue_.empty()) return;
  armed_for_ = queue_.NextKey();
  const Instant world_due = WorldWhen(armed_for_.due);
  wakeup_ = world_.ScheduleAfter(world_due - world_.Now(), [this] { Wake(); });
}

void SimNodeClock::Wake() {
  wakeup_ = runtime::kNoTimer;
  EDDY_CHECK(!paused_);
  EDDY_CHECK(!queue_.empty());
  EDDY_CHECK(queue_.NextKey() == armed_for_);
  EDDY_CHECK_GE(Now(), armed_for_.due);
  EDDY_CHECK(!waking_);
  waking_ = true;
  RunDue(0);
}

void SimNodeClock::BeginInlineRun() {
  EDDY_CHECK(!waking_ && !paused_ && !down_);
  waking_ = true;
  if (trace_ != nullptr) {
    trace_->Fold(world_.Now(), node_, TraceEvent::kTimer,
                 static_cast<uint64_t>(Now().nanoseconds()));
  }
  ++callbacks_run_;
}

void SimNodeClock::RunDue(size_t ran) {
  EDDY_CHECK(waking_);
  const Instant now = Now();
  // Everything due by now, in order, including what the callbacks post for now; re-armed once
  // at the end (schedules and cancels from the callbacks do not touch the world loop).
  for (; ran < kCallbacksPerWakeMax && !paused_ && !down_ && !queue_.empty() &&
         queue_.NextKey().due <= now;
       ++ran) {
    TimerQueue::Popped next = queue_.Pop();
    if (trace_ != nullptr) {
      trace_->Fold(world_.Now(), node_, TraceEvent::kTimer,
                   static_cast<uint64_t>(next.key.due.nanoseconds()));
    }
    ++callbacks_run_;
    std::move(next.callback)();
  }
  waking_ = false;
  if (wakeup_ == runtime::kNoTimer || queue_.empty() || !(queue_.NextKey() == armed_for_)) Arm();
  CheckInvariants();
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
  // Take them out first: destroying a callback may run destructors that call back into this
  // clock.
  std::vector<Callback> dropped = queue_.TakeAll();
  Arm();
  dropped.clear();
  CheckInvariants();
}

void SimNodeClock::SetDown(bool down) {
  down_ = down;
  if (down) DropAll();
  EDDY_CHECK(!down_ || queue_.empty());
}

void SimNodeClock::CheckInvariants() {
  if (waking_) return;  // Wake() restores the invariant when it ends.
  EDDY_CHECK_EQ(wakeup_ != runtime::kNoTimer, !paused_ && !queue_.empty());
  if (wakeup_ != runtime::kNoTimer) EDDY_CHECK(armed_for_ == queue_.NextKey());
}

}  // namespace eddy::sim
