// The broker mode of eddy-sim (`eddy-sim --broker`): runs RunBrokerSim for a range of seeds and
// prints, per run, the seed, the fault profile, the counts, the simulated/real ratio and the
// trace hash; on failure the violation and the command that replays it.
#pragma once

#include <cstdint>

#include "sim/broker/broker_sim.h"

namespace eddy::sim::broker {

struct RunnerFlags {
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;
  BrokerSimOptions options;  // seed replaced per run
  bool quiet = false;        // print failed runs only (and the summary)
  bool coverage = false;     // end with the summed fault and recovery counters
};

// Returns the number of failed runs.
uint64_t RunBrokerSeeds(const RunnerFlags& flags);

}  // namespace eddy::sim::broker
