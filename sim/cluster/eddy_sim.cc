// eddy-sim: runs replicated-partition simulations (sim/cluster) from the command line, and
// with --broker whole brokers with Kafka clients (sim/broker: --nodes, --duration and --faults
// apply; the other flags are the partition simulation's).
//
//   eddy-sim --seed=N | --seeds=A..B  [--nodes=3] [--groups=1] [--duration=30] [--faults=swarm]
//            [--rate=100] [--reads=20] [--membership=6] [--wipe=50] [--lifecycle=5]
//            [--retention=OFFSETS] [--segment_bytes=N] [--machines=PERSIST_EVERY]
//            [--chunk_bytes=N] [--bug=NAME] [--idle=N] [--no_quiesce] [--trace_lines=N]
//            [--coverage] [--quiet]
//
// --idle: each proposal step starts an idle period (0.5-2.5 s without proposals, so groups
// quiesce) with probability 1/N (0: never; default 150); --no_quiesce: groups never quiesce.
// --machines: every replica hosts a HashMachine persisting every N applied entries (0: never);
// --chunk_bytes: snapshot chunk size (sim/cluster/hash_machine.h).
//
// --membership: mean seconds between membership cycles (0: none); --wipe: percent of cycles
// that wipe the replica they remove (sim/cluster/membership_cycle.h); --lifecycle: mean seconds
// between partition creates/deletes (0: none; sim/cluster/cluster.h, PARTITION LIFECYCLE).
//
// Per run it prints the seed, the fault kinds drawn, events processed, the simulated/real time
// ratio and the trace hash; on failure the violated property, the event trace before it and the
// command that replays the run. With --seeds it ends with a summary and, with --coverage, how
// often each fault kind and recovery path was hit. Exit status: 0 if every run passed.
//
// The wall clock is read here, in the runner, only to report speed; nothing the simulation does
// depends on it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sim/base/run_report.h"
#include "core/broker/broker.h"
#include "sim/broker/broker_sim_runner.h"
#include "sim/cluster/cluster.h"

namespace {

using eddy::sim::cluster::Cluster;
using eddy::sim::cluster::ClusterOptions;
using eddy::sim::cluster::RunResult;

struct Flags {
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;
  ClusterOptions options;
  bool coverage = false;
  bool quiet = false;
  bool broker = false;
  eddy::broker::BrokerBug broker_bug = eddy::broker::BrokerBug::kNone;
};

bool ParseFlag(const std::string& arg, const char* name, std::string* value) {
  const std::string prefix = std::string("--") + name + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr,
               "eddy-sim: %s\nusage: eddy-sim [--broker] --seed=N | --seeds=A..B [--nodes=3] [--groups=1] "
               "[--duration=SECONDS] [--faults=none|swarm|all] [--rate=BATCHES_PER_S] "
               "[--reads=READS_PER_S] [--membership=SECONDS] [--wipe=PERCENT] "
               "[--lifecycle=SECONDS] "
               "[--retention=OFFSETS] [--segment_bytes=N] [--machines=PERSIST_EVERY] "
               "[--chunk_bytes=N] [--bug=NAME] [--idle=N] [--no_quiesce] "
               "[--trace_lines=N] [--coverage] [--quiet]\n",
               problem.c_str());
  std::exit(2);
}

template <typename T>
T Number(const std::string& text, const char* flag) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 0) Usage(std::string("bad --") + flag);
  return static_cast<T>(value);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  f.options.idle_one_in = eddy::sim::cluster::kIdleOneInSweep;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string v;
    if (ParseFlag(arg, "seed", &v)) {
      f.first_seed = f.last_seed = Number<uint64_t>(v, "seed");
    } else if (ParseFlag(arg, "seeds", &v)) {
      std::vector<std::string> parts = absl::StrSplit(v, "..");
      if (parts.size() != 2) Usage("--seeds wants A..B");
      f.first_seed = Number<uint64_t>(parts[0], "seeds");
      f.last_seed = Number<uint64_t>(parts[1], "seeds");
      if (f.last_seed < f.first_seed) Usage("--seeds wants A <= B");
    } else if (ParseFlag(arg, "nodes", &v)) {
      f.options.node_count = Number<int>(v, "nodes");
    } else if (ParseFlag(arg, "groups", &v)) {
      f.options.group_count = Number<int>(v, "groups");
    } else if (ParseFlag(arg, "duration", &v)) {
      f.options.duration = eddy::Duration::Seconds(Number<int64_t>(v, "duration"));
    } else if (ParseFlag(arg, "retention", &v)) {
      f.options.retention_offsets = Number<int64_t>(v, "retention");
    } else if (ParseFlag(arg, "machines", &v)) {
      f.options.state_machines = true;
      f.options.machine_persist_every = Number<int64_t>(v, "machines");
    } else if (ParseFlag(arg, "chunk_bytes", &v)) {
      f.options.snapshot_chunk_size_bytes_max = Number<uint64_t>(v, "chunk_bytes");
    } else if (ParseFlag(arg, "segment_bytes", &v)) {
      f.options.segment_size_bytes_max = Number<uint64_t>(v, "segment_bytes");
    } else if (ParseFlag(arg, "rate", &v)) {
      f.options.batches_per_second = Number<int>(v, "rate");
    } else if (ParseFlag(arg, "reads", &v)) {
      f.options.reads_per_second = Number<int>(v, "reads");
    } else if (ParseFlag(arg, "membership", &v)) {
      f.options.membership_interval_mean =
          eddy::Duration::Seconds(Number<int64_t>(v, "membership"));
    } else if (ParseFlag(arg, "lifecycle", &v)) {
      f.options.lifecycle_interval_mean =
          eddy::Duration::Seconds(Number<int64_t>(v, "lifecycle"));
    } else if (ParseFlag(arg, "wipe", &v)) {
      f.options.wipe_percent = Number<uint32_t>(v, "wipe");
      if (f.options.wipe_percent > 100) Usage("--wipe is a percentage");
    } else if (ParseFlag(arg, "faults", &v)) {
      if (!eddy::sim::cluster::ParseFaultMode(v, &f.options.faults)) Usage("bad --faults");
    } else if (ParseFlag(arg, "bug", &v)) {
      // A driver bug, or with --broker also a broker bug (core/broker/broker.h, BrokerBug).
      if (!eddy::raft::driver::ParseDriverBug(v, &f.options.bug) &&
          !eddy::broker::ParseBrokerBug(v, &f.broker_bug)) {
        Usage("bad --bug");
      }
    } else if (arg == "--coverage") {
      f.coverage = true;
    } else if (arg == "--progress") {
      f.options.progress = [](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
      };
    } else if (ParseFlag(arg, "idle", &v)) {
      f.options.idle_one_in = Number<uint64_t>(v, "idle");
    } else if (ParseFlag(arg, "trace_lines", &v)) {
      f.options.trace_lines_max = Number<size_t>(v, "trace_lines");
    } else if (arg == "--no_quiesce") {
      f.options.quiesce = false;
    } else if (arg == "--quiet") {
      f.quiet = true;
    } else if (arg == "--broker") {
      f.broker = true;
    } else {
      Usage("unknown flag " + arg);
    }
  }
  if (f.options.node_count < 1 || f.options.node_count > 7) Usage("--nodes must be 1..7");
  if (f.options.group_count < 1 || f.options.group_count > 1000) Usage("--groups must be 1..1000");
  return f;
}

}  // namespace

int RunBrokerMode(const Flags& flags) {
  eddy::sim::broker::RunnerFlags runner;
  runner.first_seed = flags.first_seed;
  runner.last_seed = flags.last_seed;
  runner.options.brokers = flags.options.node_count;
  runner.options.duration = flags.options.duration;
  runner.options.faults = flags.options.faults != eddy::sim::cluster::FaultMode::kNone;
  runner.options.planted_bug = flags.broker_bug;
  runner.options.driver_bug = flags.options.bug;
  runner.quiet = flags.quiet;
  runner.coverage = flags.coverage;
  return eddy::sim::broker::RunBrokerSeeds(runner) == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  if (flags.broker) return RunBrokerMode(flags);
  std::map<std::string, uint64_t> coverage;
  uint64_t failures = 0;
  uint64_t runs = 0;
  double simulated_total = 0;
  double real_total = 0;
  for (uint64_t seed = flags.first_seed; seed <= flags.last_seed; ++seed) {
    ClusterOptions options = flags.options;
    options.seed = seed;
    // allowed: the runner measures its own wall time for the simulated/real ratio it reports;
    // nothing inside the run can see it.
    const auto start = std::chrono::steady_clock::now();  // allowed: report only
    RunResult r;
    {
      Cluster cluster(options);
      r = cluster.Run();
    }
    const auto end = std::chrono::steady_clock::now();  // allowed: as above
    const double real = std::chrono::duration<double>(end - start).count();
    ++runs;
    simulated_total += r.simulated_seconds;
    real_total += real;
    for (const auto& [name, count] : r.coverage) coverage[name] += count;
    if (!flags.quiet || r.violation.has_value()) {
      std::printf("seed=%llu %s events=%llu sim=%.1fs real=%.2fs ratio=%.0fx acked=%llu/%llu "
                  "trace=%016llx %s\n",
                  static_cast<unsigned long long>(seed), r.profile.c_str(),
                  static_cast<unsigned long long>(r.events), r.simulated_seconds, real,
                  real > 0 ? r.simulated_seconds / real : 0.0,
                  static_cast<unsigned long long>(r.acked),
                  static_cast<unsigned long long>(r.proposed),
                  static_cast<unsigned long long>(r.trace_hash),
                  r.violation.has_value() ? "FAILED" : "ok");
    }
    if (r.violation.has_value()) {
      ++failures;
      std::printf("  VIOLATION %s: %s\n  trace (last events):\n", r.violation->property.c_str(),
                  r.violation->detail.c_str());
      for (const std::string& line : r.trace) std::printf("    %s\n", line.c_str());
      std::printf("  replay: %s\n", r.replay_command.c_str());
    }
    std::fflush(stdout);
  }
  if (runs > 1 || flags.coverage) {
    eddy::sim::PrintSweepSummary(runs, failures, simulated_total, real_total);
  }
  if (flags.coverage) eddy::sim::PrintCoverage(coverage);
  return failures == 0 ? 0 : 1;
}
