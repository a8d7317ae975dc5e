// Proves the real loop keeps the Clock contract: callbacks run later (never inline), in due-time
// then scheduling order, exactly once; Cancel works for both timers and posts; Now() advances.
#include "net/loop/asio_loop.h"

#include <string>

#include "gtest/gtest.h"

namespace eddy::net {
namespace {

TEST(AsioLoopTest, PostsRunLaterInOrder) {
  AsioLoop loop;
  std::string order;
  loop.Post([&] { order += "a"; });
  loop.Post([&] { order += "b"; });
  EXPECT_EQ(order, "");
  loop.Run();
  EXPECT_EQ(order, "ab");
  EXPECT_EQ(loop.pending_count(), 0u);
}

TEST(AsioLoopTest, TimersFireAfterTheirDelay) {
  AsioLoop loop;
  const Instant start = loop.Now();
  Instant fired;
  std::string order;
  loop.ScheduleAfter(Duration::Milliseconds(20), [&] {
    order += "late";
    fired = loop.Now();
  });
  loop.Post([&] { order += "now,"; });
  loop.Run();
  EXPECT_EQ(order, "now,late");
  EXPECT_GE(fired - start, Duration::Milliseconds(20));
}

TEST(AsioLoopTest, CancelStopsTimersAndPosts) {
  AsioLoop loop;
  bool timer_ran = false;
  bool post_ran = false;
  const runtime::TimerId timer =
      loop.ScheduleAfter(Duration::Milliseconds(5), [&] { timer_ran = true; });
  const runtime::TimerId post = loop.ScheduleAfter(Duration::Zero(), [&] { post_ran = true; });
  EXPECT_TRUE(loop.Cancel(timer));
  EXPECT_TRUE(loop.Cancel(post));
  EXPECT_FALSE(loop.Cancel(post));
  loop.Run();
  EXPECT_FALSE(timer_ran);
  EXPECT_FALSE(post_ran);
}

TEST(AsioLoopTest, RunUntilStopsEarly) {
  AsioLoop loop;
  int count = 0;
  for (int i = 0; i < 5; ++i) loop.Post([&] { ++count; });
  loop.RunUntil([&] { return count == 2; });
  EXPECT_EQ(count, 2);
  loop.Run();
  EXPECT_EQ(count, 5);
}

}  // namespace
}  // namespace eddy::net
