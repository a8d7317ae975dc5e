// Cost of idle partitions (issue 8 §4, quiescence): 3 simulated brokers host G Raft groups with
// no traffic at all. After the elections settle (and, with quiescence, every group went quiet),
// each iteration runs one simulated second; the counters are per simulated second over the whole
// cluster: transport messages (envelopes), Raft messages inside them, bytes, and group ticks, and
// the benchmark's CPU time per iteration is the CPU cost of one simulated second (simulator
// included), and sim_events_per_s counts the world loop's events (one per node wake-up) in it.
// settle_sim_s: simulated seconds the cluster took to open its replicas and settle. Arguments: G, quiesce (0: NodeOptions::quiesce off, every group heartbeats every
// tick — "before"; 1: on — "after"). Target: with quiescence, messages/s independent of G.
// Run: bazel run -c opt //bench/sim:quiescence_bench
#include <cstdint>
#include <memory>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"

namespace eddy {
namespace {

constexpr runtime::NodeId kNodes[] = {1, 2, 3};

struct Totals {
  uint64_t envelopes = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t group_ticks = 0;
};

Totals Sum(sim::cluster::Cluster& cluster) {
  Totals t;
  for (runtime::NodeId n : kNodes) {
    const raft::driver::NodeStats& s = cluster.node(n)->stats();
    t.envelopes += s.envelopes_sent;
    t.messages += s.messages_sent;
    t.bytes += s.bytes_sent;
    t.group_ticks += s.group_ticks;
  }
  return t;
}

// One settled cluster per (G, quiesce), kept across repetitions: each repetition measures the
// next simulated seconds of the same idle cluster (settling 10,000 groups costs far more than
// measuring them). Only the latest is kept, to bound memory.
struct Settled {
  int groups = 0;
  bool quiesce = false;
  std::unique_ptr<sim::cluster::Cluster> cluster;
  int led = 0;
  int settle_seconds = 0;  // simulated seconds until every group was led (and quiet)
};
Settled& SettledCluster(int groups, bool quiesce) {
  static Settled settled;
  if (settled.cluster != nullptr && settled.groups == groups && settled.quiesce == quiesce) {
    return settled;
  }
  settled.cluster.reset();
  sim::cluster::ClusterOptions options;
  options.seed = 8;
  options.node_count = 3;
  options.group_count = groups;
  options.faults = sim::cluster::FaultMode::kNone;
  options.transfer_interval_mean = Duration::Zero();
  options.membership_interval_mean = Duration::Zero();
  options.quiesce = quiesce;
  settled = Settled{groups, quiesce, std::make_unique<sim::cluster::Cluster>(options), 0, 0};
  // Replicas open and elections settle: every group has a leader (and, with quiescence, every
  // replica went quiet), checked every simulated second, for at most a minute.
  sim::cluster::Cluster& cluster = *settled.cluster;
  for (int second = 0; second < 60; ++second) {
    cluster.world().RunFor(Duration::Seconds(1));
    settled.settle_seconds = second + 1;
    settled.led = 0;
    for (int g = 1; g <= groups; ++g) {
      settled.led += cluster.LeaderOf(static_cast<raft::driver::GroupId>(g)) != raft::kNoNode;
    }
    size_t awake = 0;
    for (runtime::NodeId n : kNodes) awake += cluster.node(n)->awake_group_count();
    if (settled.led == groups && (!quiesce || awake == 0)) break;
  }
  cluster.world().RunFor(Duration::Seconds(1));
  return settled;
}

void BM_IdleGroups(benchmark::State& state) {
  const int groups = static_cast<int>(state.range(0));
  const bool quiesce = state.range(1) != 0;
  Settled& settled = SettledCluster(groups, quiesce);
  sim::cluster::Cluster& cluster = *settled.cluster;
  size_t awake = 0;
  for (runtime::NodeId n : kNodes) awake += cluster.node(n)->awake_group_count();
  const Totals before = Sum(cluster);
  const uint64_t events_before = cluster.world().loop().events_processed();
  int64_t seconds = 0;
  for (auto _ : state) {
    cluster.world().RunFor(Duration::Seconds(1));
    ++seconds;
  }
  const Totals after = Sum(cluster);
  const uint64_t events = cluster.world().loop().events_processed() - events_before;
  EDDY_CHECK(!cluster.checker().failed());
  const double s = static_cast<double>(seconds);
  state.counters["groups_led"] = settled.led;
  state.counters["awake_groups"] = static_cast<double>(awake);
  state.counters["envelopes_per_s"] = static_cast<double>(after.envelopes - before.envelopes) / s;
  state.counters["raft_msgs_per_s"] = static_cast<double>(after.messages - before.messages) / s;
  state.counters["bytes_per_s"] = static_cast<double>(after.bytes - before.bytes) / s;
  state.counters["group_ticks_per_s"] =
      static_cast<double>(after.group_ticks - before.group_ticks) / s;
  state.counters["sim_events_per_s"] = static_cast<double>(events) / s;
  state.counters["settle_sim_s"] = settled.settle_seconds;
}

BENCHMARK(BM_IdleGroups)
    ->ArgNames({"groups", "quiesce"})
    ->ArgsProduct({{100, 1000, 10000}, {0, 1}})
    ->Iterations(2)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy

BENCHMARK_MAIN();
