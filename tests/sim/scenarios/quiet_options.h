// The cluster shape of the scripted scenarios: no random faults, no random leadership transfers
// or membership cycles (a story scripts what it needs), 200 batches/s when the workload runs.
#pragma once

#include <cstdint>

#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {

inline ClusterOptions QuietOptions(uint64_t seed, int node_count = 3) {
  ClusterOptions options;
  options.seed = seed;
  options.node_count = node_count;
  options.group_count = 1;
  options.faults = FaultMode::kNone;
  options.batches_per_second = 200;
  options.transfer_interval_mean = Duration::Zero();
  options.membership_interval_mean = Duration::Zero();
  options.lifecycle_interval_mean = Duration::Zero();
  return options;
}

}  // namespace eddy::sim::cluster
