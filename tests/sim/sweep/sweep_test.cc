// The CI sweep: 200 fixed seeds of a 3-node, 2-group replicated partition under swarm-drawn
// faults (every fault kind appears across the sweep), each checked for every safety property
// during the run and for liveness after the final healed phase (sim/cluster/checker.h). A
// failing seed prints its violation, the event trace before it, and the eddy-sim command that
// replays it.
//
// It also proves the sweep is worth something: the coverage it accumulates must include every
// fault kind the injector has and every recovery path the driver has (torn tail truncated,
// corruption detected, replica fenced after data loss and repaired, conflicting suffix
// truncated, leader stepped down, leadership transferred, hard-state copy damaged, membership
// change committed, learner promoted, replica wiped and rejoined under a new id, snapshot sent
// and installed, partitions created and deleted, crashes inside a removal and right after a
// fresh replica's identity save, groups quiesced and woken by node liveness, ...). A path the
// sweep no longer reaches fails the test, so coverage cannot silently rot.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/sweep/sweep_options.h"

namespace eddy::sim::cluster {
namespace {

constexpr uint64_t kFirstSeed = 1;
constexpr uint64_t kSeedCount = 200;

TEST(SweepTest, TwoHundredSeedsKeepEveryPropertyAndCoverEveryPath) {
  std::map<std::string, uint64_t> coverage;
  std::vector<std::string> failures;
  uint64_t acked = 0;
  for (uint64_t seed = kFirstSeed; seed < kFirstSeed + kSeedCount; ++seed) {
    Cluster cluster(SweepOptions(seed));
    const RunResult r = cluster.Run();
    acked += r.acked;
    for (const auto& [name, count] : r.coverage) coverage[name] += count;
    if (r.violation.has_value()) {
      std::string report = "seed " + std::to_string(seed) + ": " + r.violation->property + ": " +
                           r.violation->detail + "\n";
      for (const std::string& line : r.trace) report += "    " + line + "\n";
      report += "  replay: " + r.replay_command + "\n";
      failures.push_back(report);
    }
  }
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(acked, kSeedCount * 100) << "the workload barely ran";

  const std::vector<std::string> required = {
      // Faults injected (sim/faults via the world's counters).
      "process.crash", "process.crash_keeping_unsynced_tail", "process.pause",
      "process.clock_jump", "process.clock_drift", "process.slow", "net.partitions", "net.clogs",
      "net.flaps", "net.connection_resets", "net.lost", "net.duplicated", "net.reordered",
      "net.corrupted", "net.latency_spikes", "disk.latency_spikes", "disk.read_corruptions",
      "disk.write_corruptions", "disk.misdirected_writes", "disk.latent_sector_errors",
      "disk.injected_no_space", "disk.sync_failures", "buggify.fired", "process.power_loss",
      // Recovery paths taken by the driver and the cluster.
      "recovery: leader elected",
      "recovery: leader stepped down (check-quorum or transfer)",
      "recovery: leadership transfer started",
      "recovery: conflicting suffix truncated",
      "recovery: recovery truncated a torn or corrupt tail",
      "recovery: corruption detected on read",
      "recovery: corruption detected: replica stopped",
      "recovery: read refused: corruption detected",
      "recovery: disk error: replica stopped",
      "recovery: data loss detected on open: replica fenced until repaired",
      "recovery: repair fence lifted: log repaired from the leader",
      "recovery: vote suppressed by repair fence",
      "recovery: hard state copy damaged, other copy used",
      "recovery: leader restarted to reset a damaged follower's progress",
      "recovery: durable mark lowered before a conflict truncation",
      // Membership cycles (sim/cluster/membership_cycle.h) under the same faults.
      "recovery: membership change committed",
      "recovery: learner promoted",
      "recovery: replica wiped and rejoined",
      // Snapshots (retention on): prefix dropped, snapshot sent by a leader and installed by a
      // follower behind the leader's log start, reads below the log start refused.
      "recovery: log prefix truncated to the snapshot point",
      "recovery: snapshot sent",
      "recovery: snapshot installed",
      "recovery: read below the log start refused",
      // Partition lifecycle (sim/cluster/cluster.h, PARTITION LIFECYCLE): groups created and
      // deleted at runtime, with brokers down, soon after creation, during a membership cycle
      // (cancelled); crashes in the lifecycle windows (a removal in progress, a fresh replica
      // right after its identity save); leftovers of an interrupted removal erased on restart.
      "recovery: group created",
      "recovery: group created while a host was down",
      "recovery: group deleted",
      "recovery: group deleted while a host was down",
      "recovery: group deleted soon after its creation",
      "recovery: group deleted during its membership cycle",
      "recovery: membership cycle cancelled: group deleted",
      "recovery: group deletion completed",
      "recovery: fresh replica: identity saved",
      "recovery: crash while a replica removal was in progress",
      "recovery: crash after a fresh replica saved its identity, before its next durable step",
      "recovery: deleted group's files erased before its node's broker started",
      // Quiescence (idle periods in the workload): idle groups go quiet, wake on a message or a
      // proposal, and wake when node liveness finds the peer node they depend on silent.
      "recovery: workload idle period",
      "recovery: group quiesced",
      "recovery: quiesced group woken",
      "recovery: quiesced group woken: a peer node went silent",
      "quiescence: peer node declared down",
  };
  std::string report;
  for (const auto& [name, count] : coverage) {
    report += "  " + name + " = " + std::to_string(count) + "\n";
  }
  std::printf("coverage over %llu seeds:\n%s", static_cast<unsigned long long>(kSeedCount),
              report.c_str());
  for (const std::string& name : required) {
    auto it = coverage.find(name);
    EXPECT_TRUE(it != coverage.end() && it->second > 0) << "the sweep never hit: " << name;
  }
}

}  // namespace
}  // namespace eddy::sim::cluster
