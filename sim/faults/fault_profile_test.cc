// Proves the swarm draw and the schedule keep their promises over many seeds: every intensity
// stays inside its documented range (loss 0–30 %, duplication 0–50 %, corruption 0–10 %,
// misdirection 0–10 %, torn writes 80–100 % whenever crashes are on); every kind is on for some
// seeds and off for others; the same seed draws the same profile; the printout names exactly the
// enabled kinds; schedules tile the run, alternate, start healed and end with a healed phase long
// enough for liveness checks.
#include "sim/faults/fault_profile.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/base/rate.h"
#include "sim/faults/fault_schedule.h"

namespace eddy::sim {
namespace {

TEST(FaultProfileTest, IntensitiesStayInTheirRangesAndEveryKindIsSometimesOnAndOff) {
  std::map<std::string, int> on_count;
  const int kSeeds = 300;
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random random(seed);
    const FaultProfile p = DrawFaultProfile(random);
    EXPECT_LE(p.loss_ppm, 300'000u);
    EXPECT_LE(p.duplicate_ppm, 500'000u);
    EXPECT_LE(p.corruption_ppm, 100'000u);
    EXPECT_LE(p.misdirection_ppm, 100'000u);
    if (p.crashes) {
      EXPECT_GE(p.torn_write_ppm, 800'000u);
      EXPECT_LE(p.torn_write_ppm, kPpm);
    } else {
      EXPECT_EQ(p.torn_write_ppm, 0u);
    }
    EXPECT_LE(p.clock_drift_ppm_max, 200'000);
    EXPECT_GE(p.duplicate_delay_max, Duration::Milliseconds(10));
    EXPECT_LE(p.duplicate_delay_max, Duration::Seconds(5));
    EXPECT_LE(p.fault_phase_min, p.fault_phase_max);
    EXPECT_LE(p.healed_phase_min, p.healed_phase_max);
    for (const std::string& kind : p.EnabledKinds()) {
      ++on_count[kind.substr(0, kind.find_first_of("=("))];
    }
  }
  const char* kinds[] = {"loss",
                         "duplication",
                         "net_corruption",
                         "net_latency_spikes",
                         "reorder",
                         "per_link_rates",
                         "partitions",
                         "clogging",
                         "flapping",
                         "connection_resets",
                         "crashes",
                         "pauses",
                         "clock_jumps",
                         "clock_drift",
                         "slow_nodes",
                         "disk_latency_spikes",
                         "read_corruption",
                         "write_corruption",
                         "misdirected_writes",
                         "latent_sector_errors",
                         "enospc",
                         "fsync_failures",
                         "buggify"};
  EXPECT_EQ(on_count.size(), std::size(kinds));
  for (const char* kind : kinds) {
    EXPECT_GT(on_count[kind], kSeeds / 4) << kind;      // About half the seeds...
    EXPECT_LT(on_count[kind], 3 * kSeeds / 4) << kind;  // ...not all of them.
  }
}

TEST(FaultProfileTest, SameSeedSameProfileAndPrintoutNamesTheKinds) {
  Random a(77), b(77);
  const FaultProfile pa = DrawFaultProfile(a);
  EXPECT_EQ(pa.ToString(), DrawFaultProfile(b).ToString());
  FaultProfile p = NoFaults();
  EXPECT_EQ(p.ToString(), "faults: none");
  p.loss_ppm = 125'000;
  p.crashes = true;
  p.torn_write_ppm = 900'000;
  EXPECT_EQ(p.EnabledKinds(), (std::vector<std::string>{"loss=12.50%", "crashes(torn=90.00%)"}));
  EXPECT_EQ(p.ToString().rfind("faults: loss=12.50% crashes(torn=90.00%) |", 0), 0u);
}

TEST(FaultProfileTest, WallClockFaultsSkewAlwaysAndStepSometimesByHours) {
  int stepping = 0;
  int by_hours = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Random random(seed);
    const WallClockOptions w = DrawWallClockFaults(random);
    EXPECT_LE(w.skew_max, Duration::Seconds(10));
    if (w.step_interval_mean == Duration::Zero()) {
      EXPECT_EQ(w.step_max, Duration::Zero());
      continue;
    }
    ++stepping;
    EXPECT_GE(w.step_interval_mean, Duration::Seconds(5));
    EXPECT_LE(w.step_max, Duration::Seconds(86'400));
    EXPECT_GE(w.step_max, Duration::Milliseconds(1));
    if (w.step_max >= Duration::Seconds(3600)) ++by_hours;
    Random again(seed);
    EXPECT_EQ(DrawWallClockFaults(again).step_max, w.step_max);
  }
  EXPECT_GT(stepping, 150);
  EXPECT_LT(stepping, 250);
  EXPECT_GT(by_hours, 5);
}

TEST(FaultScheduleTest, PhasesTileTheRunAlternateAndEndHealed) {
  for (int seed = 0; seed < 200; ++seed) {
    Random random(seed);
    const FaultProfile profile = DrawFaultProfile(random);
    const Instant start = Instant() + Duration::Seconds(1);
    const Duration run = Duration::Seconds(10 + seed % 120);
    const std::vector<FaultPhase> phases = DrawFaultSchedule(profile, random, start, run);
    ASSERT_FALSE(phases.empty());
    EXPECT_EQ(phases.front().start, start);
    EXPECT_TRUE(phases.front().healed);
    EXPECT_EQ(phases.back().end, start + run);
    EXPECT_TRUE(phases.back().healed);
    EXPECT_GE(phases.back().end - phases.back().start, profile.healed_phase_min) << seed;
    for (size_t i = 0; i < phases.size(); ++i) {
      EXPECT_LT(phases[i].start, phases[i].end);
      if (i > 0) {
        EXPECT_EQ(phases[i].start, phases[i - 1].end);
        EXPECT_NE(phases[i].healed, phases[i - 1].healed);
      }
      if (!phases[i].healed) {
        EXPECT_LE(phases[i].end - phases[i].start, profile.fault_phase_max);
      }
    }
    if (run >= Duration::Seconds(60)) {
      EXPECT_GE(phases.size(), 3u) << "a minute always holds a fault phase";
    }
  }
}

TEST(FaultScheduleTest, TooShortARunIsOneHealedPhase) {
  Random random(1);
  const std::vector<FaultPhase> phases =
      DrawFaultSchedule(FaultProfile{}, random, Instant(), Duration::Seconds(3));
  ASSERT_EQ(phases.size(), 1u);
  EXPECT_TRUE(phases[0].healed);
  EXPECT_EQ(FormatSchedule(phases), "healed 0-3000ms\n");
}

}  // namespace
}  // namespace eddy::sim
