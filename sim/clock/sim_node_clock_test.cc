// Proves the node clock's fault semantics against the world loop's time: drift makes timers
// fire early or late by exactly the drift; a jump fires everything in the gap at once and keeps
// Now() monotonic; pause holds events until resume, in order; DropAll (crash) destroys pending
// callbacks unrun; events of two nodes due at the same world time interleave
// deterministically; one wake-up runs everything due at its instant (including work the
// callbacks post for "now", in order, cancellations respected) as one world event, bounded; and
// RunOrPost runs work at once only when the node is idle (else it queues behind the node's own).
#include "sim/clock/sim_node_clock.h"

#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {
namespace {

Instant At(Duration d) { return Instant::FromNanoseconds(0) + d; }

TEST(SimNodeClockTest, WithoutFaultsBehavesLikeTheWorldClock) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::string order;
  clock.ScheduleAfter(Duration::Milliseconds(2), [&] { order += "b"; });
  clock.ScheduleAfter(Duration::Milliseconds(1), [&] { order += "a"; });
  clock.Post([&] { order += "0"; });
  EXPECT_EQ(order, "");
  world.RunUntilIdle();
  EXPECT_EQ(order, "0ab");
  EXPECT_EQ(clock.Now(), world.Now());
  EXPECT_EQ(world.Now(), At(Duration::Milliseconds(2)));
}

TEST(SimNodeClockTest, PositiveDriftFiresEarlyInWorldTime) {
  SimLoop world;
  SimNodeClock fast(world, 1);
  SimNodeClock slow(world, 2);
  fast.SetDriftPpm(100'000);   // +10 %
  slow.SetDriftPpm(-200'000);  // -20 %
  Instant fast_fired, slow_fired;
  fast.ScheduleAfter(Duration::Seconds(11), [&] { fast_fired = world.Now(); });
  slow.ScheduleAfter(Duration::Seconds(8), [&] { slow_fired = world.Now(); });
  world.RunUntilIdle();
  EXPECT_EQ(fast_fired, At(Duration::Seconds(10)));
  EXPECT_EQ(slow_fired, At(Duration::Seconds(10)));
  EXPECT_EQ(fast.Now(), At(Duration::Seconds(11)));
  EXPECT_EQ(slow.Now(), At(Duration::Seconds(8)));
}

TEST(SimNodeClockTest, DriftChangeMidwayKeepsLocalTimeContinuous) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  world.RunFor(Duration::Seconds(1));
  clock.SetDriftPpm(500'000);
  world.RunFor(Duration::Seconds(2));  // Local advances 3 s.
  EXPECT_EQ(clock.Now(), At(Duration::Seconds(4)));
  clock.SetDriftPpm(0);
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(clock.Now(), At(Duration::Seconds(5)));
}

TEST(SimNodeClockTest, JumpFiresEverythingInTheGapInOrderAndStaysMonotonic) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::vector<int> fired;
  for (int i = 1; i <= 5; ++i) {
    clock.ScheduleAfter(Duration::Seconds(i * 10), [&fired, i] { fired.push_back(i); });
  }
  const Instant before = clock.Now();
  clock.Jump(Duration::Seconds(35));
  EXPECT_GE(clock.Now(), before);
  world.RunFor(Duration::Zero());
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(world.Now(), At(Duration::Zero()));  // They fired without world time passing.
  world.RunUntilIdle();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(world.Now(), At(Duration::Seconds(15)));  // Local 50 s = world 15 s after the jump.
}

TEST(SimNodeClockTest, PauseHoldsEventsUntilResumeThenRunsThemInOrder) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::vector<std::pair<int, Instant>> fired;
  clock.ScheduleAfter(Duration::Seconds(1), [&] { fired.push_back({1, world.Now()}); });
  clock.ScheduleAfter(Duration::Seconds(2), [&] { fired.push_back({2, world.Now()}); });
  clock.Pause();
  world.RunFor(Duration::Seconds(10));
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(clock.pending_count(), 2u);
  clock.ScheduleAfter(Duration::Zero(), [&] { fired.push_back({3, world.Now()}); });
  clock.Resume();
  world.RunUntilIdle();
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0].first, 1);
  EXPECT_EQ(fired[1].first, 2);
  EXPECT_EQ(fired[2].first, 3);
  for (const auto& [id, when] : fired) EXPECT_EQ(when, At(Duration::Seconds(10)));
}

TEST(SimNodeClockTest, DropAllDestroysPendingCallbacksAndOldIdsStayDead) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  bool ran = false;
  const runtime::TimerId old_timer = clock.ScheduleAfter(Duration::Seconds(1), [&] { ran = true; });
  clock.DropAll();
  EXPECT_EQ(clock.pending_count(), 0u);
  EXPECT_EQ(world.pending_count(), 0u);  // No wake-up left armed.
  const runtime::TimerId new_timer = clock.ScheduleAfter(Duration::Seconds(1), [] {});
  EXPECT_NE(new_timer, old_timer);
  EXPECT_FALSE(clock.Cancel(old_timer));
  world.RunUntilIdle();
  EXPECT_FALSE(ran);
}

TEST(SimNodeClockTest, DownClockDestroysWhatIsScheduledUntilUp) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  int ran = 0;
  clock.ScheduleAfter(Duration::Seconds(1), [&] { ++ran; });
  clock.SetDown(true);
  const runtime::TimerId while_down = clock.ScheduleAfter(Duration::Zero(), [&] { ++ran; });
  EXPECT_NE(while_down, runtime::kNoTimer);
  EXPECT_FALSE(clock.Cancel(while_down));
  EXPECT_EQ(clock.pending_count(), 0u);
  world.RunUntilIdle();
  EXPECT_EQ(ran, 0);
  clock.SetDown(false);
  clock.Post([&] { ++ran; });
  world.RunUntilIdle();
  EXPECT_EQ(ran, 1);
}

TEST(SimNodeClockTest, CancelOfTheEarliestRearmsForTheNext) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::string order;
  const runtime::TimerId first = clock.ScheduleAfter(Duration::Seconds(1), [&] { order += "x"; });
  clock.ScheduleAfter(Duration::Seconds(2), [&] { order += "y"; });
  EXPECT_TRUE(clock.Cancel(first));
  EXPECT_FALSE(clock.Cancel(first));
  world.RunUntilIdle();
  EXPECT_EQ(order, "y");
  EXPECT_EQ(world.Now(), At(Duration::Seconds(2)));
}

TEST(SimNodeClockTest, TwoNodesInterleaveByWorldTime) {
  SimLoop world;
  SimNodeClock a(world, 1);
  SimNodeClock b(world, 2);
  std::string order;
  a.ScheduleAfter(Duration::Milliseconds(3), [&] { order += "a3"; });
  b.ScheduleAfter(Duration::Milliseconds(1), [&] { order += "b1"; });
  a.ScheduleAfter(Duration::Milliseconds(2), [&] { order += "a2"; });
  b.ScheduleAfter(Duration::Milliseconds(4), [&] { order += "b4"; });
  world.RunUntilIdle();
  EXPECT_EQ(order, "b1a2a3b4");
}

TEST(SimNodeClockTest, OneWakeUpRunsEverythingDueAtItsInstantInOrder) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::string order;
  clock.ScheduleAfter(Duration::Milliseconds(1), [&] {
    order += "a";
    clock.Post([&] {
      order += "c";
      clock.Post([&] { order += "e"; });
    });
    clock.Post([&] { order += "X"; });
  });
  clock.ScheduleAfter(Duration::Milliseconds(1), [&] { order += "b"; });
  clock.ScheduleAfter(Duration::Milliseconds(2), [&] { order += "f"; });
  world.RunUntil(At(Duration::Milliseconds(1)));
  EXPECT_EQ(order, "abcXe");
  EXPECT_EQ(world.events_processed(), 1u);  // one wake-up for all five
  EXPECT_EQ(clock.callbacks_run(), 5u);
  EXPECT_EQ(clock.pending_count(), 1u);
  world.RunUntilIdle();
  EXPECT_EQ(order, "abcXef");
  EXPECT_EQ(world.events_processed(), 2u);
}

TEST(SimNodeClockTest, CancelInsideAWakeUpIsRespected) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::string order;
  runtime::TimerId later = runtime::kNoTimer;
  clock.Post([&] {
    order += "a";
    EXPECT_TRUE(clock.Cancel(later));
  });
  later = clock.ScheduleAfter(Duration::Zero(), [&] { order += "X"; });
  clock.Post([&] { order += "b"; });
  world.RunUntilIdle();
  EXPECT_EQ(order, "ab");
  EXPECT_EQ(world.events_processed(), 1u);
}

TEST(SimNodeClockTest, RunOrPostRunsAtOnceOnlyWhenNothingOfTheNodeIsDue) {
  SimLoop world;
  SimNodeClock clock(world, 1);
  std::string order;
  // Idle node: runs in the caller's (world) event, then what it posted for now.
  clock.RunOrPost([&] {
    order += "a";
    clock.Post([&] { order += "b"; });
  });
  EXPECT_EQ(order, "ab");
  EXPECT_EQ(clock.callbacks_run(), 2u);
  EXPECT_EQ(world.pending_count(), 0u);
  // Something of the node's own is due now: it goes first, so the work is posted behind it.
  clock.Post([&] { order += "c"; });
  clock.RunOrPost([&] { order += "d"; });
  EXPECT_EQ(order, "ab");
  world.RunUntilIdle();
  EXPECT_EQ(order, "abcd");
  // Paused: held like any other event; down: dropped.
  clock.Pause();
  clock.RunOrPost([&] { order += "e"; });
  EXPECT_EQ(order, "abcd");
  clock.Resume();
  world.RunUntilIdle();
  EXPECT_EQ(order, "abcde");
  clock.SetDown(true);
  clock.RunOrPost([&] { order += "X"; });
  world.RunUntilIdle();
  EXPECT_EQ(order, "abcde");
}

TEST(SimNodeClockTest, AWakeUpIsBoundedAndOthersGetATurn) {
  SimLoop world;
  SimNodeClock busy(world, 1);
  SimNodeClock other(world, 2);
  size_t ran = 0;
  bool other_ran_before_busy_finished = false;
  const size_t total = 2 * SimNodeClock::kCallbacksPerWakeMax + 10;
  std::function<void()> again = [&] {
    if (++ran < total) busy.Post([&] { again(); });
  };
  busy.Post([&] { again(); });
  other.Post([&] { other_ran_before_busy_finished = ran < total; });
  world.RunUntilIdle();
  EXPECT_EQ(ran, total);
  EXPECT_TRUE(other_ran_before_busy_finished);
  EXPECT_GE(world.events_processed(), 3u + 1u);  // busy needed at least three wake-ups
  EXPECT_EQ(world.Now(), At(Duration::Zero()));  // all at one instant
}

}  // namespace
}  // namespace eddy::sim
