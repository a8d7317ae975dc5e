// SimWallClock: one simulated node's wall clock (core/runtime/wall_clock.h), read off its
// SimNodeClock.
//
// It reads WallClockOptions::epoch_ms plus the node's skew (drawn once, in [-skew_max,
// skew_max]) at a given local instant (the node's start) and advances with its local time, so the node's drift, jumps
// and pauses move it too. On top of that it is STEPPED, both ways, as NTP or an operator steps
// a real clock:
//   * at random: the next step falls after a uniform draw in [1 ms, 2 * step_interval_mean] of
//     local time, and moves the clock by a uniform draw in [-step_max, step_max];
//   * on demand: Step(delta), for tests and the fault injector.
// Random steps are applied lazily, when the clock is read: they cost no event, and a run whose
// code never reads the wall clock is the same run, event for event, with steps on or off. The
// steps and the skew come from a generator of their own, so they shift no other stream.
//
// OWNERSHIP: the node clock outlives this. Single threaded, like everything in sim/.
#pragma once

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "core/base/random.h"
#include "core/base/units.h"
#include "core/runtime/wall_clock.h"
#include "sim/clock/sim_node_clock.h"

namespace eddy::sim {

struct WallClockOptions {
  // Where every node's wall clock starts before its skew: 2026-01-01T00:00:00Z.
  int64_t epoch_ms = 1'767'225'600'000;
  // Each node's clock is off by a draw in [-skew_max, skew_max] from the start.
  Duration skew_max = Duration::Zero();
  // Mean local time between random steps (zero: no random steps, else >= 1 ms).
  Duration step_interval_mean = Duration::Zero();
  // Each random step moves the clock by a draw in [-step_max, step_max].
  Duration step_max = Duration::Zero();
};

class SimWallClock final : public runtime::WallClock {
 public:
  // Steps larger than this are not a clock, they are a misconfigured host (10 years).
  static constexpr int64_t kStepMsMax = int64_t{10} * 366 * 24 * 3600 * 1000;
  // The shortest gap between two random steps.
  static constexpr Duration kStepGapMin = Duration::Milliseconds(1);

  // The clock reads epoch_ms (plus skew) when `local` reads `origin`. `on_step` (optional) is
  // told of every step as it takes effect, with its size.
  SimWallClock(SimNodeClock& local, Instant origin, const WallClockOptions& options,
               uint64_t seed, absl::AnyInvocable<void(Duration step)> on_step = nullptr);
  SimWallClock(const SimWallClock&) = delete;
  SimWallClock& operator=(const SimWallClock&) = delete;

  int64_t NowMs() override;

  // Moves the clock by `delta` now (either way). REQUIRES: |delta| <= kStepMsMax ms.
  void Step(Duration delta);
  // The clock's offset from epoch + local time elapsed: skew plus every step so far.
  Duration offset() const { return offset_; }
  uint64_t steps() const { return steps_; }

 private:
  // Applies the random steps due by local time `now`.
  void CatchUp(Instant now);
  void DrawNextStep(Instant after);

  SimNodeClock& local_;
  const WallClockOptions options_;
  const Instant origin_;  // local time at the epoch
  Random random_;
  Duration offset_ = Duration::Zero();
  Instant next_step_at_;  // local time of the next random step (none without random steps)
  uint64_t steps_ = 0;
  absl::AnyInvocable<void(Duration step)> on_step_;
};

}  // namespace eddy::sim
