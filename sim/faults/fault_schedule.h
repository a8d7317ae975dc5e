// FaultSchedule: the run's timeline of fault phases and healed phases.
//
// A run opens with a healed phase (so the cluster can form), then alternates fault and healed
// phases, and always ends with a healed phase of at least healed_phase_min: liveness checkers
// demand progress within a bound after faults heal, so the run must leave them room to look.
#pragma once

#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/units.h"
#include "sim/faults/fault_profile.h"

namespace eddy::sim {

struct FaultPhase {
  Instant start;
  Instant end;  // Exclusive; the next phase starts here.
  bool healed = false;
};

// Phases cover [start, start + run_duration) exactly, alternate healed/fault, begin and end
// healed. A run too short for one fault phase is a single healed phase.
// REQUIRES: run_duration > 0.
std::vector<FaultPhase> DrawFaultSchedule(const FaultProfile& profile, Random& random,
                                          Instant start, Duration run_duration);

std::string FormatSchedule(const std::vector<FaultPhase>& schedule);

}  // namespace eddy::sim
