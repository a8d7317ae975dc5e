// What the simulation runners (eddy-sim, and its --broker mode) print after a range of seeds:
// the summary line and the summed fault and recovery counters. Output only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace eddy::sim {

inline void PrintSweepSummary(uint64_t runs, uint64_t failures, double simulated_seconds,
                              double real_seconds) {
  std::printf("summary: %llu runs, %llu failed, simulated %.0fs in %.1fs real (%.0fx), "
              "%.0f seeds/hour\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(failures),
              simulated_seconds, real_seconds,
              real_seconds > 0 ? simulated_seconds / real_seconds : 0.0,
              real_seconds > 0 ? 3600.0 * static_cast<double>(runs) / real_seconds : 0.0);
}

inline void PrintCoverage(const std::map<std::string, uint64_t>& coverage) {
  std::printf("coverage:\n");
  for (const auto& [name, count] : coverage) {
    std::printf("  %-60s %llu\n", name.c_str(), static_cast<unsigned long long>(count));
  }
}

}  // namespace eddy::sim
