// Durability cost of an acknowledged produce, counted on SimDisk (operations, not seconds, so the
// figures are exact and repeatable): a 3-broker cluster with G busy partitions (no faults) runs
// its workload for 10 simulated seconds. Counters:
//   fsyncs_per_ack        every fsync of the cluster per acknowledged batch;
//   log_fsyncs_per_ack    of which partition-log fsyncs (one per busy partition per round at
//                         best: each partition has its own segment file);
//   state_fsyncs_per_ack  of which hard-state fsyncs (two per node-wide durability round, shared
//                         by every group of the node);
//   state_fsyncs_per_ack_per_partition   the same divided by G;
//   rounds_per_ready      sequential durability rounds a Ready waited for, on average over the
//                         Readys that waited at all (today 1: the log flush with, in parallel,
//                         the record holding a term/vote change and the pending mark).
// Issue 8 §4's "before" (the per-group hard-state store, commit fa784af): 9 fsyncs per ack at G =
// 1 and at G = 100 (3 log + 6 state: every group saved two copies of its own, after its flush),
// 2 sequential rounds per Ready that saved. After (node-wide store, d6bc496): 15.4 at G = 1 (the
// commit offset is saved within 2 ms, not lazily every 100 ms), 8.9 at G = 100 (5.9 state), still
// 2 rounds per Ready (the mark after the flush). One round (pending mark, 4c78412, 2026-12-02):
// 1 round per Ready; 16.5 fsyncs per ack at G = 1 (13.4 state), 14.0 at G = 10, 8.94 at G = 100
// (5.94 state: 0.059 per partition). Run: bazel run -c opt //bench/raft:durability_bench
#include <cstdint>

#include "benchmark/benchmark.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"

namespace eddy {
namespace {

struct Totals {
  uint64_t syncs = 0;
  uint64_t state_rounds = 0;
  uint64_t state_compactions = 0;
  uint64_t readies_waited = 0;
  uint64_t rounds_waited = 0;
};

Totals Count(sim::cluster::Cluster& cluster) {
  Totals t;
  for (runtime::NodeId n : {1, 2, 3}) {
    t.syncs += cluster.world().node(n).sim_disk().stats().syncs;
    const raft::driver::NodeDriver* node = cluster.node(n);
    t.state_rounds += node->state_store().stats().rounds;
    t.state_compactions += node->state_store().stats().compactions;
    for (const auto& [id, group] : node->groups()) {
      t.readies_waited += group->stats().readies_waited;
      t.rounds_waited += group->stats().rounds_waited;
    }
  }
  return t;
}

void BM_FsyncsPerAcknowledgedBatch(benchmark::State& state) {
  const int groups = static_cast<int>(state.range(0));
  Totals before, after;
  double acked = 0;
  for (auto _ : state) {
    sim::cluster::ClusterOptions options;
    options.seed = 7;
    options.node_count = 3;
    options.group_count = groups;
    options.faults = sim::cluster::FaultMode::kNone;
    options.batches_per_second = 20 * groups;  // 20 batches/s per partition
    options.reads_per_second = 0;
    options.transfer_interval_mean = Duration::Zero();
    options.membership_interval_mean = Duration::Zero();
    sim::cluster::Cluster cluster(options);
    cluster.world().RunFor(Duration::Seconds(2));  // elections settle
    before = Count(cluster);
    const uint64_t acked_before = cluster.checker().acked_count();
    cluster.StartWorkload();
    cluster.world().RunFor(Duration::Seconds(10));
    cluster.StopWorkload();
    after = Count(cluster);
    acked = static_cast<double>(cluster.checker().acked_count() - acked_before);
  }
  const double syncs = static_cast<double>(after.syncs - before.syncs);
  // Two fsyncs per round (one per copy); a compaction round is counted among the rounds.
  const double state_syncs = 2.0 * static_cast<double>(after.state_rounds - before.state_rounds);
  state.counters["acked_batches"] = acked;
  state.counters["fsyncs_per_ack"] = syncs / acked;
  state.counters["log_fsyncs_per_ack"] = (syncs - state_syncs) / acked;
  state.counters["state_fsyncs_per_ack"] = state_syncs / acked;
  state.counters["state_fsyncs_per_ack_per_partition"] = state_syncs / acked / groups;
  state.counters["rounds_per_ready"] =
      static_cast<double>(after.rounds_waited - before.rounds_waited) /
      static_cast<double>(after.readies_waited - before.readies_waited);
}
BENCHMARK(BM_FsyncsPerAcknowledgedBatch)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy

BENCHMARK_MAIN();
