// sim_speed: how fast the deterministic simulator runs the replicated partition.
//
//   bazel run -c opt //bench/sim:sim_speed -- [--seeds=N] [--nodes=3] [--groups=10]
//                                             [--rate=1000] [--duration=60] [--faults=all]
//
// Runs N seeds of the given shape on one core and prints, per seed and in total, the simulated
// to real time ratio and the throughput in seeds per hour per core. The target (issue 4) is a
// ratio >= 200x for 3 nodes, 10 groups, 1,000 batches/s, all faults. The wall clock is read
// only here, to measure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/cluster/cluster.h"

int main(int argc, char** argv) {
  using eddy::sim::cluster::ClusterOptions;
  ClusterOptions options;
  options.node_count = 3;
  options.group_count = 10;
  options.batches_per_second = 1000;
  options.duration = eddy::Duration::Seconds(60);
  options.faults = eddy::sim::cluster::FaultMode::kAll;
  int seeds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string("--") + name + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("seeds")) seeds = std::atoi(v);
    else if (const char* v = value("nodes")) options.node_count = std::atoi(v);
    else if (const char* v = value("groups")) options.group_count = std::atoi(v);
    else if (const char* v = value("rate")) options.batches_per_second = std::atoi(v);
    else if (const char* v = value("duration")) options.duration = eddy::Duration::Seconds(std::atoi(v));
    else if (const char* v = value("faults")) {
      if (!eddy::sim::cluster::ParseFaultMode(v, &options.faults)) return 2;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  double simulated = 0;
  double real = 0;
  int failed = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    options.seed = static_cast<uint64_t>(seed);
    const auto start = std::chrono::steady_clock::now();
    eddy::sim::cluster::RunResult r;
    uint64_t callbacks = 0;  // node-clock callbacks: timers, posted work, disk completions, deliveries
    {
      eddy::sim::cluster::Cluster cluster(options);
      r = cluster.Run();
      for (eddy::runtime::NodeId id : cluster.world().node_ids()) {
        callbacks += cluster.world().node(id).node_clock().callbacks_run();
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    simulated += r.simulated_seconds;
    real += seconds;
    if (r.violation.has_value()) ++failed;
    std::printf("seed %d: simulated %.1fs in %.2fs real = %.0fx, %llu events, %llu node callbacks, "
                "%llu acked (%.1f events, %.1f callbacks per acked batch), trace %016llx%s\n",
                seed, r.simulated_seconds, seconds, r.simulated_seconds / seconds,
                static_cast<unsigned long long>(r.events),
                static_cast<unsigned long long>(callbacks),
                static_cast<unsigned long long>(r.acked),
                static_cast<double>(r.events) / static_cast<double>(std::max<uint64_t>(r.acked, 1)),
                static_cast<double>(callbacks) / static_cast<double>(std::max<uint64_t>(r.acked, 1)),
                static_cast<unsigned long long>(r.trace_hash), r.violation ? " VIOLATION" : "");
  }
  std::printf("%d nodes, %d groups, %d batches/s, faults=%s: %.0fx simulated/real, "
              "%.0f seeds/hour/core (%.0fs runs), %d violations\n",
              options.node_count, options.group_count, options.batches_per_second,
              eddy::sim::cluster::FaultModeName(options.faults), simulated / real,
              3600.0 * seeds / real, options.duration.seconds(), failed);
  return failed == 0 ? 0 : 1;
}
