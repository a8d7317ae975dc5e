// The one cluster shape of the CI sweep, shared by the sweep and the planted-bug test so that
// "caught within 200 seeds" is measured on exactly the runs CI sweeps.
#pragma once

#include <cstdint>

#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {

inline ClusterOptions SweepOptions(uint64_t seed) {
  ClusterOptions options;
  options.seed = seed;
  options.node_count = 3;
  options.group_count = 2;
  options.duration = Duration::Seconds(20);
  options.batches_per_second = 50;
  options.reads_per_second = 10;
  options.faults = FaultMode::kSwarm;
  return options;
}

}  // namespace eddy::sim::cluster
