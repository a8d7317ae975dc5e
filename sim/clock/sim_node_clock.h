// SimNodeClock: one simulated node's view of time, layered over the world's SimLoop.
//
// Every event that runs "on a node" — its timers, its posted work, its disk completions, the
// messages the network hands it — goes through that node's SimNodeClock. The clock keeps the
// node's pending callbacks in its own queue, ordered by (local due time, scheduling order), and
// keeps exactly one wake-up event armed in the world loop for the earliest of them. That single
// indirection is what makes the process faults cheap and exact:
//   * Drift: local time runs at (1e6 + drift_ppm) / 1e6 of world time, so a node with positive
//     drift sees its timers fire early in world terms, negative drift late.
//   * Jump: local time leaps forward (a VM resumed after a stall); everything due in the gap
//     fires at once, in order. Local time never goes backwards: Now() stays monotonic.
//   * Pause: the wake-up is disarmed; events pile up (their local due times pass) and run in
//     order on Resume(), as after a long GC pause or SIGSTOP.
//   * Crash: DropAll() destroys every pending callback unrun. Timer ids are never reused, so a
//     stale id held by the dead incarnation can never cancel a new incarnation's timer.
//     SetDown(true) does the same and keeps doing it until SetDown(false): whatever the dead
//     process's leftovers (destructors, late calls) schedule is destroyed unrun, so nothing of
//     one incarnation can ever run in the next.
//
// One wake-up runs every entry that is due at that instant — including what those callbacks
// post for "now" — in (local due time, scheduling order), so a burst of work on one node (a
// Ready, its disk completions, its posted follow-ups) costs one world event, not one each. Events
// of different nodes that fall due at the same world instant therefore interleave node by node,
// in the world loop's scheduling order of their wake-ups, which is itself deterministic.
//
// OWNERSHIP: the world loop must outlive this clock. The trace (if given) must too. Single
// threaded, like everything in sim/.
#pragma once

#include <cstdint>

#include "core/runtime/clock.h"
#include "sim/loop/sim_loop.h"
#include "sim/loop/timer_queue.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {

class SimNodeClock final : public runtime::Clock {
 public:
  // Bounds on the injected faults: drift beyond ±50 % is not a clock, it is a different node.
  static constexpr int64_t kDriftPpmMax = 500'000;
  // A node with more pending callbacks than this is in a runaway loop.
  static constexpr size_t kPendingCallbacksMax = size_t{1} << 22;
  // Callbacks one wake-up runs at most; the rest (a node that keeps posting for "now") wait for
  // the next wake-up, re-armed at once, so other nodes' events at the same instant get a turn.
  static constexpr size_t kCallbacksPerWakeMax = 4096;

  SimNodeClock(SimLoop& world, uint32_t node, TraceHash* trace = nullptr);
  ~SimNodeClock() override;
  SimNodeClock(const SimNodeClock&) = delete;
  SimNodeClock& operator=(const SimNodeClock&) = delete;

  // Local (drifted, jumped) time. Monotonic; starts equal to the world's time at construction.
  Instant Now() const override;
  // `delay` is in local time.
  runtime::TimerId ScheduleAfter(Duration delay, Callback callback) override;
  bool Cancel(runtime::TimerId timer) override;

  // For the world's own events handing work to this node (a message arriving): if the node
  // could run it right now — up, not paused, not inside a wake-up, nothing of its own due by
  // now — runs `work` at once as one of its callbacks (traced and counted like one), then
  // whatever it posted for now, exactly as a wake-up would; otherwise posts it. Either way it
  // runs at this instant in the node's order, but without a second world event. Dropped while
  // down, like anything scheduled then.
  template <typename Work>
  void RunOrPost(Work work);

  // Faults. REQUIRES: |drift_ppm| <= kDriftPpmMax.
  void SetDriftPpm(int64_t drift_ppm);
  // REQUIRES: forward >= 0.
  void Jump(Duration forward);
  void Pause();
  void Resume();
  // Crash: destroys every pending callback without running it.
  void DropAll();
  // Down: DropAll(), and every callback scheduled until SetDown(false) is destroyed unrun (its
  // id is still fresh and never valid for Cancel()).
  void SetDown(bool down);
  bool down() const { return down_; }

  bool paused() const { return paused_; }
  int64_t drift_ppm() const { return drift_ppm_; }
  size_t pending_count() const { return queue_.size(); }
  // Callbacks run so far (several may share one world event, see above).
  uint64_t callbacks_run() const { return callbacks_run_; }
  uint32_t node() const { return node_; }

 private:
  using Key = TimerQueue::Key;

  // Local time at world instant `world` (>= the current base).
  Instant LocalAt(Instant world) const;
  // Earliest world instant at which local time reaches `local`.
  Instant WorldWhen(Instant local) const;
  // Moves the drift base to the world's current time (before a rate or offset change).
  void Rebase();
  // Keeps the invariant: the wake-up is armed for the earliest entry iff not paused and not empty.
  void Arm();
  void Wake();
  // Starts running callbacks at this instant (waking_), with one already counted and traced
  // (RunOrPost's work).
  void BeginInlineRun();
  // Runs the entries due by now (after `ran` callbacks already ran in this wake-up), as one
  // wake-up does; ends the wake-up and re-arms once. REQUIRES: waking_.
  void RunDue(size_t ran);
  void CheckInvariants();

  SimLoop& world_;
  const uint32_t node_;
  TraceHash* const trace_;
  Instant world_base_;
  Instant local_base_;
  int64_t drift_ppm_ = 0;
  bool paused_ = false;
  bool down_ = false;
  runtime::TimerId wakeup_ = runtime::kNoTimer;  // World-loop timer id, or none.
  Key armed_for_{};                              // The entry the wake-up was armed for.
  // Now() at the last world instant it was asked (see Now()); invalidated by Rebase().
  mutable bool now_cache_valid_ = false;
  mutable Instant now_cache_world_;
  mutable Instant now_cache_local_;
  bool waking_ = false;  // Inside Wake(): it re-arms once at the end, not per schedule/cancel.
  uint64_t callbacks_run_ = 0;
  TimerQueue queue_;                             // By (local due time, scheduling order).
};

template <typename Work>
void SimNodeClock::RunOrPost(Work work) {
  if (down_) return;  // destroyed unrun, as ScheduleAfter would
  if (paused_ || waking_ || (!queue_.empty() && queue_.NextKey().due <= Now())) {
    Post(std::move(work));
    return;
  }
  BeginInlineRun();
  std::move(work)();
  RunDue(1);
}

}  // namespace eddy::sim
