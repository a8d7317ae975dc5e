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
  // Idle periods (as eddy-sim): groups quiesce and wake under the faults.
  options.idle_one_in = kIdleOneInSweep;
  // Retention keeps ~64 offsets (about 25 batches, half a second of one group's traffic) behind
  // each replica's applied offset, in 16 KiB segments: a follower that is down or cut off for
  // more than a moment needs a snapshot, and retention really deletes segment files.
  options.retention_offsets = 64;
  options.segment_size_bytes_max = 16 * kKiB;
  return options;
}

// The shape of the long local sweeps, `eddy-sim --seeds=1..10000 --duration=20 --rate=50`
// (eddy-sim's defaults otherwise: 1 group, 20 reads/s, no retention), where the seeds pinned in
// regression_seeds_test were found.
inline ClusterOptions LongSweepOptions(uint64_t seed) {
  ClusterOptions options = SweepOptions(seed);
  const ClusterOptions defaults;
  options.group_count = 1;
  options.reads_per_second = defaults.reads_per_second;
  options.retention_offsets = defaults.retention_offsets;
  options.segment_size_bytes_max = defaults.segment_size_bytes_max;
  return options;
}

// The five-broker shape of the long local sweeps, `eddy-sim --seeds=1..10000 --nodes=5
// --groups=3` (eddy-sim's defaults otherwise: 30 s, 100 batches/s, membership cycles every ~6 s,
// half of them with wipes), which has two candidates for back-to-back membership changes.
inline ClusterOptions FiveNodeSweepOptions(uint64_t seed) {
  ClusterOptions options;
  options.seed = seed;
  options.node_count = 5;
  options.group_count = 3;
  options.idle_one_in = kIdleOneInSweep;
  return options;
}

}  // namespace eddy::sim::cluster
