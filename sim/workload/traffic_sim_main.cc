// traffic_sim: runs the simulator's self-test world (TrafficCluster) for a range of seeds and
// prints, per seed, the fault kinds drawn, the trace hash, and the command that replays it.
//
//   bazel run //sim/workload:traffic_sim -- --seed=7 [--seeds=20] [--seconds=60] [--no-faults]
//                                           [--verbose] [--twice] [--trace=N]
//
// --twice runs each seed a second time and fails (exit 1) if the trace hashes differ.
// --trace=N prints the last N events of each run (time, node, kind, payload digest, hash after).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "sim/workload/traffic_cluster.h"

namespace {

bool Flag(const char* arg, const char* name, std::string* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(arg, name, length) != 0) return false;
  if (arg[length] == '\0') {
    value->clear();
    return true;
  }
  if (arg[length] != '=') return false;
  *value = arg + length + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first_seed = 1;
  uint64_t seed_count = 1;
  int64_t seconds = 60;
  bool faults = true, verbose = false, twice = false;
  size_t trace_events = 0;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (Flag(argv[i], "--seed", &value)) {
      first_seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (Flag(argv[i], "--seeds", &value)) {
      seed_count = std::strtoull(value.c_str(), nullptr, 10);
    } else if (Flag(argv[i], "--seconds", &value)) {
      seconds = std::strtoll(value.c_str(), nullptr, 10);
    } else if (Flag(argv[i], "--no-faults", &value)) {
      faults = false;
    } else if (Flag(argv[i], "--verbose", &value)) {
      verbose = true;
    } else if (Flag(argv[i], "--twice", &value)) {
      twice = true;
    } else if (Flag(argv[i], "--trace", &value)) {
      trace_events = std::min<size_t>(std::strtoull(value.c_str(), nullptr, 10),
                                      eddy::sim::TraceHash::kRecentEventsMax);
    } else {
      std::cerr << "unknown flag " << argv[i] << "\n";
      return 2;
    }
  }
  if (seconds <= 0 || seed_count == 0) {
    std::cerr << "--seconds and --seeds must be positive\n";
    return 2;
  }
  int failures = 0;
  for (uint64_t seed = first_seed; seed < first_seed + seed_count; ++seed) {
    const eddy::sim::TrafficClusterOptions options{
        .seed = seed, .run_duration = eddy::Duration::Seconds(seconds), .faults = faults};
    eddy::sim::TrafficCluster cluster(options);
    cluster.world().trace().KeepRecent(trace_events);
    const eddy::sim::TrafficRunResult result = cluster.Run();
    std::cout << "seed " << seed << " trace " << std::hex << result.trace_hash << std::dec
              << " events " << result.events << "\n  " << result.profile << "\n";
    if (verbose) {
      std::cout << result.schedule << eddy::sim::FormatCoverage(result.coverage);
      if (cluster.injector() != nullptr) {
        for (const std::string& line : cluster.injector()->log()) std::cout << "  " << line << "\n";
      }
    }
    if (trace_events > 0) std::cout << cluster.world().trace().FormatRecent();
    if (twice) {
      eddy::sim::TrafficCluster again(options);
      const uint64_t replayed = again.Run().trace_hash;
      if (replayed != result.trace_hash) {
        ++failures;
        std::cout << "  NONDETERMINISM: replay gave " << std::hex << replayed << std::dec
                  << "\n  replay: bazel run //sim/workload:traffic_sim -- --seed=" << seed
                  << " --seconds=" << seconds << (faults ? "" : " --no-faults")
                  << " --twice --verbose\n";
      }
    }
  }
  return failures == 0 ? 0 : 1;
}
