// What the scripted scenarios share: their quiet cluster shape (no random faults, no random
// leadership transfers or membership cycles: a story scripts what it needs; 200 batches/s when
// the workload runs), running until a condition holds, and the checker's verdict.
#pragma once

#include <cstdint>

#include "gtest/gtest.h"
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

// Runs the world in 10 ms steps until `done()` holds or `bound` of simulated time passes;
// returns done().
template <typename Done>
bool RunUntil(Cluster& cluster, Duration bound, Done done) {
  const Instant deadline = cluster.world().Now() + bound;
  while (!done() && cluster.world().Now() < deadline) {
    cluster.world().RunFor(Duration::Milliseconds(10));
  }
  return done();
}

// Fails the test with the checker's first violation, if it found one.
inline void ExpectSafe(Cluster& cluster) {
  ASSERT_FALSE(cluster.checker().failed())
      << cluster.checker().violation()->property << ": " << cluster.checker().violation()->detail;
}

}  // namespace eddy::sim::cluster
