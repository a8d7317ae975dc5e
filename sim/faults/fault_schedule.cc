#include "sim/faults/fault_schedule.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::sim {
namespace {

Duration DrawDuration(Random& random, Duration low, Duration high) {
  EDDY_CHECK_LE(low, high);
  return Duration::Nanoseconds(random.UniformInRange(low.nanoseconds(), high.nanoseconds()));
}

}  // namespace

std::vector<FaultPhase> DrawFaultSchedule(const FaultProfile& profile, Random& random,
                                          Instant start, Duration run_duration) {
  EDDY_CHECK_GT(run_duration, Duration::Zero());
  const Instant end = start + run_duration;
  std::vector<FaultPhase> phases;
  Instant at = start;
  bool healed = true;
  while (at < end) {
    const Duration length =
        healed ? DrawDuration(random, profile.healed_phase_min, profile.healed_phase_max)
               : DrawDuration(random, profile.fault_phase_min, profile.fault_phase_max);
    Instant phase_end = std::min(end, at + std::max(length, Duration::Nanoseconds(1)));
    // A fault phase must leave room for the closing healed phase; otherwise stop here and let
    // the previous healed phase run to the end.
    if (!healed && end - phase_end < profile.healed_phase_min) {
      phase_end = end - profile.healed_phase_min;
      if (phase_end <= at) break;
    }
    phases.push_back({.start = at, .end = phase_end, .healed = healed});
    at = phase_end;
    healed = !healed;
  }
  if (phases.back().healed) {
    phases.back().end = end;
  } else {
    phases.push_back({.start = at, .end = end, .healed = true});
  }
  EDDY_CHECK_EQ(phases.front().start, start);
  EDDY_CHECK_EQ(phases.back().end, end);
  EDDY_CHECK(phases.back().healed);
  return phases;
}

std::string FormatSchedule(const std::vector<FaultPhase>& schedule) {
  std::string out;
  for (const FaultPhase& phase : schedule) {
    absl::StrAppend(&out, phase.healed ? "healed " : "FAULTS ",
                    (phase.start - Instant()).milliseconds(), "-",
                    (phase.end - Instant()).milliseconds(), "ms\n");
  }
  return out;
}

}  // namespace eddy::sim
