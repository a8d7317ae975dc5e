#include "sim/faults/fault_profile.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "sim/base/rate.h"

namespace eddy::sim {
namespace {

// Enabled with probability 1/2; if so, uniform in [low, high] ppm (low > 0 keeps "on" distinct
// from "off").
uint32_t DrawRate(Random& random, uint32_t low_ppm, uint32_t high_ppm) {
  EDDY_CHECK_LT(0u, low_ppm);
  EDDY_CHECK_LE(low_ppm, high_ppm);
  EDDY_CHECK_LE(high_ppm, kPpm);
  if (!random.OneIn(2)) return 0;
  return static_cast<uint32_t>(random.UniformInRange(low_ppm, high_ppm));
}

bool DrawFlag(Random& random) { return random.OneIn(2); }

std::string Percent(uint64_t ppm) { return absl::StrFormat("%.2f%%", ppm / 10000.0); }

}  // namespace

FaultProfile DrawFaultProfile(Random& random) {
  // The order of draws is part of the seed's meaning: append new kinds at the end.
  FaultProfile p;
  p.loss_ppm = DrawRate(random, 1'000, 300'000);
  p.duplicate_ppm = DrawRate(random, 1'000, 500'000);
  p.corruption_ppm = DrawRate(random, 1'000, 100'000);
  p.latency_spike_ppm = DrawRate(random, 1'000, 50'000);
  p.reorder = DrawFlag(random);
  p.partitions = DrawFlag(random);
  p.clogging = DrawFlag(random);
  p.flapping = DrawFlag(random);
  p.connection_resets = DrawFlag(random);
  p.crashes = DrawFlag(random);
  p.torn_write_ppm = p.crashes ? static_cast<uint32_t>(random.UniformInRange(800'000, kPpm)) : 0;
  p.pauses = DrawFlag(random);
  p.clock_jumps = DrawFlag(random);
  p.clock_drift_ppm_max = random.OneIn(2) ? random.UniformInRange(100, 200'000) : 0;
  p.slow_nodes = DrawFlag(random);
  p.disk_latency_spike_ppm = DrawRate(random, 1'000, 50'000);
  p.read_corruption_ppm = DrawRate(random, 100, 10'000);
  p.write_corruption_ppm = DrawRate(random, 100, 10'000);
  p.misdirection_ppm = DrawRate(random, 100, 100'000);
  p.latent_sector_error_ppm = DrawRate(random, 100, 5'000);
  p.no_space_ppm = DrawRate(random, 100, 10'000);
  p.sync_failure_ppm = DrawRate(random, 100, 20'000);
  p.buggify = DrawFlag(random);
  p.fault_phase_max = Duration::Seconds(random.UniformInRange(5, 30));
  p.healed_phase_max = Duration::Seconds(random.UniformInRange(5, 15));
  p.action_interval_mean = Duration::Milliseconds(random.UniformInRange(200, 5'000));
  p.duplicate_delay_max = Duration::Milliseconds(random.UniformInRange(10, 5'000));
  p.per_link_rates = DrawFlag(random);
  p.aimed_crash_ppm = p.crashes && DrawFlag(random)
                          ? static_cast<uint32_t>(random.UniformInRange(1'000, 20'000))
                          : 0;
  // Drawn last, so the draws above (and the profiles of pinned seeds) stay what they were.
  p.power_losses = p.crashes && DrawFlag(random);
  EDDY_CHECK_LE(p.fault_phase_min, p.fault_phase_max);
  EDDY_CHECK_LE(p.healed_phase_min, p.healed_phase_max);
  return p;
}

std::vector<std::string> FaultProfile::EnabledKinds() const {
  std::vector<std::string> kinds;
  auto rate = [&](const char* name, uint32_t ppm) {
    if (ppm != 0) kinds.push_back(absl::StrCat(name, "=", Percent(ppm)));
  };
  auto flag = [&](const char* name, bool on) {
    if (on) kinds.push_back(name);
  };
  rate("loss", loss_ppm);
  if (duplicate_ppm != 0) {
    kinds.push_back(absl::StrCat("duplication=", Percent(duplicate_ppm),
                                 "(replay<=", duplicate_delay_max.milliseconds(), "ms)"));
  }
  rate("net_corruption", corruption_ppm);
  rate("net_latency_spikes", latency_spike_ppm);
  flag("reorder", reorder);
  flag("per_link_rates", per_link_rates);
  flag("partitions", partitions);
  flag("clogging", clogging);
  flag("flapping", flapping);
  flag("connection_resets", connection_resets);
  if (crashes) {
    kinds.push_back(absl::StrCat("crashes(torn=", Percent(torn_write_ppm),
                                 aimed_crash_ppm != 0 ? absl::StrCat(", aimed=", Percent(aimed_crash_ppm)) : "",
                                 power_losses ? ", power_losses" : "", ")"));
  }
  flag("pauses", pauses);
  flag("clock_jumps", clock_jumps);
  if (clock_drift_ppm_max != 0) {
    kinds.push_back(absl::StrCat("clock_drift=±", Percent(clock_drift_ppm_max)));
  }
  flag("slow_nodes", slow_nodes);
  rate("disk_latency_spikes", disk_latency_spike_ppm);
  rate("read_corruption", read_corruption_ppm);
  rate("write_corruption", write_corruption_ppm);
  rate("misdirected_writes", misdirection_ppm);
  rate("latent_sector_errors", latent_sector_error_ppm);
  rate("enospc", no_space_ppm);
  rate("fsync_failures", sync_failure_ppm);
  flag("buggify", buggify);
  return kinds;
}

std::string FaultProfile::ToString() const {
  const std::vector<std::string> kinds = EnabledKinds();
  std::string out = "faults:";
  if (kinds.empty()) return out + " none";
  for (const std::string& kind : kinds) absl::StrAppend(&out, " ", kind);
  absl::StrAppend(&out, " | fault phases ", fault_phase_min.milliseconds(), "-",
                  fault_phase_max.milliseconds(), "ms, healed ", healed_phase_min.milliseconds(),
                  "-", healed_phase_max.milliseconds(), "ms, actions every ~",
                  action_interval_mean.milliseconds(), "ms");
  return out;
}

WallClockOptions DrawWallClockFaults(Random& random) {
  WallClockOptions options;
  options.skew_max = Duration::Milliseconds(random.UniformInRange(0, 10'000));
  if (random.OneIn(2)) {
    options.step_interval_mean = Duration::Seconds(random.UniformInRange(5, 120));
    options.step_max = random.OneIn(8) ? Duration::Seconds(random.UniformInRange(3600, 86'400))
                                       : Duration::Milliseconds(random.UniformInRange(1, 5'000));
  }
  return options;
}

}  // namespace eddy::sim
