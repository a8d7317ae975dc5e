// Fault rates in parts per million, drawn from a seeded generator.
//
// Every probabilistic fault in the simulator is an integer rate in ppm, so a profile prints and
// compares exactly (no floating point anywhere near the event order). A zero rate draws nothing
// from the generator: turning a fault off never shifts the stream of a run that had it off.
#pragma once

#include <cstdint>

#include "core/base/random.h"

namespace eddy::sim {

inline constexpr uint32_t kPpm = 1'000'000;

// True with probability ppm / 1e6. REQUIRES: ppm <= kPpm.
inline bool DrawPpm(Random& random, uint32_t ppm) {
  if (ppm == 0) return false;
  if (ppm >= kPpm) return true;
  return random.Chance(ppm, kPpm);
}

}  // namespace eddy::sim
