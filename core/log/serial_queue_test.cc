// SerialQueue: proves steps run one at a time in order whether they finish inline or later from
// the loop, and that a queue destroyed with work pending neither runs it nor crashes.

#include "core/log/serial_queue.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

TEST(SerialQueueTest, InlineStepsRunInOrder) {
  SerialQueue queue;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    queue.Enqueue([&order, i](SerialQueue::Next next) {
      order.push_back(i);
      std::move(next)();
    });
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(SerialQueueTest, AsyncStepsDoNotOverlap) {
  sim::SimLoop loop;
  SerialQueue queue;
  std::vector<std::string> events;
  for (int i = 0; i < 3; ++i) {
    queue.Enqueue([&, i](SerialQueue::Next next) {
      events.push_back("start" + std::to_string(i));
      loop.ScheduleAfter(Duration::Milliseconds(10 - 3 * i),
                         [&events, i, next = std::move(next)]() mutable {
                           events.push_back("end" + std::to_string(i));
                           std::move(next)();
                         });
    });
  }
  EXPECT_EQ(events, (std::vector<std::string>{"start0"}));
  EXPECT_EQ(queue.size(), 3u);
  loop.RunUntilIdle();
  EXPECT_EQ(events,
            (std::vector<std::string>{"start0", "end0", "start1", "end1", "start2", "end2"}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(SerialQueueTest, DestroyedQueueDropsPendingWork) {
  sim::SimLoop loop;
  bool second_ran = false;
  {
    auto queue = std::make_unique<SerialQueue>();
    queue->Enqueue([&loop](SerialQueue::Next next) {
      loop.ScheduleAfter(Duration::Milliseconds(1), std::move(next));
    });
    queue->Enqueue([&second_ran](SerialQueue::Next next) {
      second_ran = true;
      std::move(next)();
    });
  }
  loop.RunUntilIdle();  // the first step's `next` runs against a destroyed queue: a no-op
  EXPECT_FALSE(second_ran);
}

// The last step may hold the only reference to the queue's owner; finishing it destroys the
// queue while the queue is still running its loop (the pattern LogRecovery uses).
TEST(SerialQueueTest, StepMayOwnTheQueue) {
  sim::SimLoop loop;
  struct Owner {
    SerialQueue queue;
  };
  auto owner = std::make_shared<Owner>();
  bool finished = false;
  owner->queue.Enqueue([&loop](SerialQueue::Next next) {
    loop.ScheduleAfter(Duration::Milliseconds(1), std::move(next));
  });
  owner->queue.Enqueue([owner, &finished](SerialQueue::Next next) mutable {
    finished = true;
    std::move(next)();
  });
  owner.reset();  // only the second step keeps it alive now
  loop.RunUntilIdle();
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace eddy::log
