// Proves the loop's ordering contract (time, then scheduling order), that callbacks never run
// inline, that cancellation works, and that virtual time advances only through events.
#include "sim/loop/sim_loop.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace eddy::sim {
namespace {

TEST(SimLoopTest, RunsByTimeThenBySchedulingOrder) {
  SimLoop loop;
  std::string order;
  loop.ScheduleAfter(Duration::Milliseconds(5), [&] { order += "c"; });
  loop.ScheduleAfter(Duration::Milliseconds(1), [&] { order += "a"; });
  loop.ScheduleAfter(Duration::Milliseconds(1), [&] { order += "b"; });
  loop.Post([&] { order += "0"; });
  EXPECT_EQ(order, "");  // Never inline.
  EXPECT_EQ(loop.RunUntilIdle(), 4u);
  EXPECT_EQ(order, "0abc");
  EXPECT_EQ(loop.Now(), Instant::FromNanoseconds(0) + Duration::Milliseconds(5));
}

TEST(SimLoopTest, CancelPreventsRunAndReportsWhetherPending) {
  SimLoop loop;
  bool ran = false;
  const runtime::TimerId timer = loop.ScheduleAfter(Duration::Seconds(1), [&] { ran = true; });
  EXPECT_TRUE(loop.Cancel(timer));
  EXPECT_FALSE(loop.Cancel(timer));
  loop.RunUntilIdle();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(loop.Cancel(12345));
}

TEST(SimLoopTest, RunUntilStopsAtDeadlineAndAdvancesTime) {
  SimLoop loop;
  std::vector<int> ran;
  loop.ScheduleAfter(Duration::Seconds(1), [&] {
    ran.push_back(1);
    loop.ScheduleAfter(Duration::Seconds(1), [&] { ran.push_back(2); });
  });
  loop.ScheduleAfter(Duration::Seconds(10), [&] { ran.push_back(10); });
  loop.RunUntil(Instant::FromNanoseconds(0) + Duration::Seconds(5));
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
  EXPECT_EQ(loop.Now(), Instant::FromNanoseconds(0) + Duration::Seconds(5));
  EXPECT_EQ(loop.pending_count(), 1u);
  EXPECT_EQ(loop.next_due(), Instant::FromNanoseconds(0) + Duration::Seconds(10));
}

TEST(SimLoopTest, NegativeDelayRunsNowNotInThePast) {
  SimLoop loop;
  loop.RunFor(Duration::Seconds(3));
  Instant seen;
  loop.ScheduleAfter(Duration::Seconds(-1), [&] { seen = loop.Now(); });
  loop.RunUntilIdle();
  EXPECT_EQ(seen, Instant::FromNanoseconds(0) + Duration::Seconds(3));
}

}  // namespace
}  // namespace eddy::sim
