// Durability cost of an acknowledged produce, counted on SimDisk (operations, not seconds, so the
// figures are exact and repeatable): a 3-broker cluster with G busy partitions (no faults) runs
// its workload for 10 simulated seconds; the counters are fsyncs per acknowledged batch over the
// whole cluster and per node. With one durability round per node they would fall as partitions
// are added (one round covers every busy partition); today they do not. This is the "before" of issue 8 §4's one durability round per
// node: today every group pays its own log fsync and its own hard-state saves (two copies, each
// synced). Run: bazel run -c opt //bench/raft:durability_bench
#include <cstdint>

#include "benchmark/benchmark.h"
#include "sim/cluster/cluster.h"

namespace eddy {
namespace {

void BM_FsyncsPerAcknowledgedBatch(benchmark::State& state) {
  const int groups = static_cast<int>(state.range(0));
  double syncs_per_ack = 0;
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
    uint64_t syncs_before = 0;
    for (runtime::NodeId n : {1, 2, 3}) syncs_before += cluster.world().node(n).sim_disk().stats().syncs;
    const uint64_t acked_before = cluster.checker().acked_count();
    cluster.StartWorkload();
    cluster.world().RunFor(Duration::Seconds(10));
    cluster.StopWorkload();
    uint64_t syncs = 0;
    for (runtime::NodeId n : {1, 2, 3}) syncs += cluster.world().node(n).sim_disk().stats().syncs;
    acked = static_cast<double>(cluster.checker().acked_count() - acked_before);
    syncs_per_ack = static_cast<double>(syncs - syncs_before) / acked;
  }
  state.counters["acked_batches"] = acked;
  state.counters["fsyncs_per_ack"] = syncs_per_ack;
  state.counters["fsyncs_per_ack_per_node"] = syncs_per_ack / 3;
}
BENCHMARK(BM_FsyncsPerAcknowledgedBatch)->Arg(1)->Arg(100)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy

BENCHMARK_MAIN();
