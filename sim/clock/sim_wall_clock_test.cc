// The simulated wall clock: it starts at the epoch plus the node's skew and advances with the
// node's local time (drift and jumps included); random steps go both ways, stay within their
// bounds, depend only on the seed, and cost no event; Step() moves it on demand.
#include "sim/clock/sim_wall_clock.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {
namespace {

constexpr int64_t kEpoch = WallClockOptions{}.epoch_ms;

TEST(SimWallClockTest, WithoutFaultsItIsTheEpochPlusLocalTime) {
  SimLoop world;
  SimNodeClock local(world, 1);
  SimWallClock wall(local, local.Now(), WallClockOptions{}, 7);
  EXPECT_EQ(wall.NowMs(), kEpoch);
  world.RunFor(Duration::Milliseconds(1500));
  EXPECT_EQ(wall.NowMs(), kEpoch + 1500);
  local.Jump(Duration::Seconds(10));  // a VM resumed: its wall clock leaps with it
  EXPECT_EQ(wall.NowMs(), kEpoch + 11'500);
  local.SetDriftPpm(100'000);
  world.RunFor(Duration::Seconds(10));
  EXPECT_EQ(wall.NowMs(), kEpoch + 22'500);
  EXPECT_EQ(wall.steps(), 0u);
}

TEST(SimWallClockTest, EachNodeIsSkewedWithinTheBoundBySeed) {
  SimLoop world;
  SimNodeClock local(world, 1);
  const WallClockOptions options{.skew_max = Duration::Seconds(5)};
  std::vector<int64_t> readings;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimWallClock wall(local, local.Now(), options, seed);
    const int64_t skew = wall.NowMs() - kEpoch;
    EXPECT_LE(skew, 5000);
    EXPECT_GE(skew, -5000);
    readings.push_back(skew);
    SimWallClock again(local, local.Now(), options, seed);
    EXPECT_EQ(again.NowMs(), wall.NowMs());  // the seed decides
  }
  std::sort(readings.begin(), readings.end());
  EXPECT_GT(std::unique(readings.begin(), readings.end()) - readings.begin(), 15);
}

TEST(SimWallClockTest, RandomStepsGoBothWaysWithinBoundsAndCostNoEvent) {
  SimLoop world;
  SimNodeClock local(world, 1);
  const WallClockOptions options{.step_interval_mean = Duration::Seconds(10),
                                 .step_max = Duration::Seconds(2)};
  std::vector<Duration> steps;
  SimWallClock wall(local, local.Now(), options, 3, [&](Duration step) { steps.push_back(step); });
  EXPECT_EQ(world.pending_count(), 0u);
  int backwards = 0;
  int64_t last = wall.NowMs();
  for (int i = 0; i < 600; ++i) {  // ten minutes, read every second
    world.RunFor(Duration::Seconds(1));
    const int64_t now = wall.NowMs();
    if (now < last) ++backwards;
    last = now;
  }
  EXPECT_EQ(world.pending_count(), 0u);
  EXPECT_EQ(wall.steps(), steps.size());
  EXPECT_GT(steps.size(), 30u);  // ~60 expected
  EXPECT_LT(steps.size(), 120u);
  EXPECT_GT(backwards, 0);
  Duration sum = Duration::Zero();
  for (Duration step : steps) {
    EXPECT_LE(step, Duration::Seconds(2));
    EXPECT_GE(step, Duration::Seconds(-2));
    sum += step;
  }
  EXPECT_EQ(wall.offset(), sum);
  EXPECT_EQ(wall.NowMs(), kEpoch + 600'000 + sum.milliseconds());
}

TEST(SimWallClockTest, StepsDependOnlyOnTheSeedNotOnWhenTheClockIsRead) {
  SimLoop world;
  SimNodeClock local(world, 1);
  const WallClockOptions options{.step_interval_mean = Duration::Seconds(1),
                                 .step_max = Duration::Seconds(1)};
  SimWallClock often(local, local.Now(), options, 11);
  SimWallClock once(local, local.Now(), options, 11);
  for (int i = 0; i < 100; ++i) {
    world.RunFor(Duration::Milliseconds(300));
    often.NowMs();
  }
  EXPECT_EQ(once.NowMs(), often.NowMs());
  EXPECT_EQ(once.steps(), often.steps());
}

TEST(SimWallClockTest, StepOnDemandMovesItEitherWay) {
  SimLoop world;
  SimNodeClock local(world, 1);
  std::vector<Duration> seen;
  SimWallClock wall(local, local.Now(), WallClockOptions{}, 1, [&](Duration step) { seen.push_back(step); });
  wall.Step(Duration::Seconds(-3600));  // an hour back
  EXPECT_EQ(wall.NowMs(), kEpoch - 3'600'000);
  wall.Step(Duration::Milliseconds(250));
  EXPECT_EQ(wall.NowMs(), kEpoch - 3'599'750);
  EXPECT_EQ(wall.steps(), 2u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], Duration::Seconds(-3600));
}

}  // namespace
}  // namespace eddy::sim
