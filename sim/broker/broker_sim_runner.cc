#include "sim/broker/broker_sim_runner.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "sim/base/run_report.h"

namespace eddy::sim::broker {

uint64_t RunBrokerSeeds(const RunnerFlags& flags) {
  std::map<std::string, uint64_t> coverage;
  uint64_t failures = 0;
  uint64_t runs = 0;
  double simulated_total = 0;
  double real_total = 0;
  for (uint64_t seed = flags.first_seed; seed <= flags.last_seed; ++seed) {
    BrokerSimOptions options = flags.options;
    options.seed = seed;
    // allowed: the runner measures its own wall time for the ratio it reports; nothing inside
    // the run can see it.
    const auto start = std::chrono::steady_clock::now();  // allowed: report only
    const BrokerSimResult r = RunBrokerSim(options);
    const auto end = std::chrono::steady_clock::now();  // allowed: as above
    const double real = std::chrono::duration<double>(end - start).count();
    ++runs;
    simulated_total += r.simulated_seconds;
    real_total += real;
    for (const auto& [name, count] : r.coverage) coverage[name] += count;
    if (!flags.quiet || !r.ok) {
      std::printf("seed=%llu broker %s brokers=%d sim=%.1fs real=%.2fs ratio=%.0fx "
                  "acked=%llu/%llu failed_batches=%llu retried=%llu dedup=%llu errors=%s admin=%llu/%llu/%llu/%llu read=%llu "
                  "groups=%llu/%llu/%llu trace=%016llx %s\n",
                  static_cast<unsigned long long>(seed), r.profile.c_str(), options.brokers,
                  r.simulated_seconds, real, real > 0 ? r.simulated_seconds / real : 0.0,
                  static_cast<unsigned long long>(r.acked_batches),
                  static_cast<unsigned long long>(r.produce_requests),
                  static_cast<unsigned long long>(r.failed_batches),
                  static_cast<unsigned long long>(r.retried_batches),
                  static_cast<unsigned long long>(r.idempotent_duplicates),
                  r.idempotent_errors.empty() ? "-" : r.idempotent_errors.c_str(),
                  static_cast<unsigned long long>(r.topics_created),
                  static_cast<unsigned long long>(r.partitions_added),
                  static_cast<unsigned long long>(r.topics_deleted),
                  static_cast<unsigned long long>(r.leadership_transfers),
                  static_cast<unsigned long long>(r.records_read),
                  static_cast<unsigned long long>(r.group_members_started),
                  static_cast<unsigned long long>(r.group_assignments),
                  static_cast<unsigned long long>(r.group_commits_acked),
                  static_cast<unsigned long long>(r.trace_hash), r.ok ? "ok" : "FAILED");
    }
    if (!r.ok) {
      ++failures;
      std::printf("  VIOLATION: %s\n  replay: eddy-sim --broker --seed=%llu --nodes=%d "
                  "--duration=%lld%s\n",
                  r.violation.c_str(), static_cast<unsigned long long>(seed), options.brokers,
                  static_cast<long long>(options.duration.seconds()),
                  options.faults ? "" : " --faults=none");
    if (options.planted_bug != eddy::broker::BrokerBug::kNone) {
      std::printf("  (planted: --bug=%s)\n", eddy::broker::BrokerBugName(options.planted_bug));
    }
    }
    std::fflush(stdout);
  }
  if (runs > 1 || flags.coverage) {
    eddy::sim::PrintSweepSummary(runs, failures, simulated_total, real_total);
  }
  if (flags.coverage) eddy::sim::PrintCoverage(coverage);
  return failures;
}

}  // namespace eddy::sim::broker
