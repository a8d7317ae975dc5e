#include "sim/clock/sim_wall_clock.h"

#include <utility>

#include "core/base/check.h"

namespace eddy::sim {

SimWallClock::SimWallClock(SimNodeClock& local, Instant origin, const WallClockOptions& options,
                           uint64_t seed, absl::AnyInvocable<void(Duration step)> on_step)
    : local_(local),
      options_(options),
      origin_(origin),
      random_(seed),
      on_step_(std::move(on_step)) {
  EDDY_CHECK_GE(options.skew_max.nanoseconds(), 0);
  EDDY_CHECK(options.step_interval_mean == Duration::Zero() ||
             options.step_interval_mean >= kStepGapMin);
  EDDY_CHECK_GE(options.step_max.nanoseconds(), 0);
  EDDY_CHECK_LE(options.step_max.milliseconds(), kStepMsMax);
  const int64_t skew_ms = options.skew_max.milliseconds();
  if (skew_ms > 0) offset_ = Duration::Milliseconds(random_.UniformInRange(-skew_ms, skew_ms));
  if (options.step_interval_mean > Duration::Zero()) DrawNextStep(origin_);
}

int64_t SimWallClock::NowMs() {
  const Instant now = local_.Now();
  CatchUp(now);
  return options_.epoch_ms + (now - origin_).milliseconds() + offset_.milliseconds();
}

void SimWallClock::Step(Duration delta) {
  EDDY_CHECK_LE(delta.milliseconds(), kStepMsMax);
  EDDY_CHECK_GE(delta.milliseconds(), -kStepMsMax);
  CatchUp(local_.Now());  // earlier random steps first, in their order
  offset_ += delta;
  ++steps_;
  if (on_step_) on_step_(delta);
}

void SimWallClock::CatchUp(Instant now) {
  if (options_.step_interval_mean == Duration::Zero()) return;
  const int64_t step_ms = options_.step_max.milliseconds();
  while (next_step_at_ <= now) {
    const Duration step = Duration::Milliseconds(random_.UniformInRange(-step_ms, step_ms));
    offset_ += step;
    ++steps_;
    if (on_step_) on_step_(step);
    DrawNextStep(next_step_at_);
  }
}

void SimWallClock::DrawNextStep(Instant after) {
  const int64_t span_ns = 2 * options_.step_interval_mean.nanoseconds();
  next_step_at_ = after + Duration::Nanoseconds(random_.UniformInRange(kStepGapMin.nanoseconds(), span_ns));
}

}  // namespace eddy::sim
