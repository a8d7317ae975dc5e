#include "raft/driver/open_gate.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/loop/sim_loop.h"

namespace eddy::raft::driver {
namespace {

TEST(OpenGateTest, AtMostNInsideTheRestInOrder) {
  sim::SimLoop loop;
  OpenGate gate(loop, 2);
  std::vector<int> started;
  for (int i = 0; i < 5; ++i) gate.Enter([&started, i] { started.push_back(i); });
  EXPECT_EQ(started, (std::vector<int>{0, 1}));
  EXPECT_EQ(gate.waiting(), 3u);
  gate.Leave();
  EXPECT_EQ(started.size(), 2u);  // the next starts in an event of its own
  loop.RunUntilIdle();
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(gate.inside(), 2u);
  for (int i = 0; i < 4; ++i) gate.Leave();
  loop.RunUntilIdle();
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(gate.inside(), 0u);
}

// Against a model: whatever the interleaving of enters and leaves, never more than N inside and
// everyone who entered starts exactly once (waiting ones in order; one handed a place may be
// overtaken by an Enter that finds a free place before its event runs).
RC_GTEST_PROP(OpenGateProperty, NeverMoreThanNInsideAndEveryoneStartsInOrder, ()) {
  sim::SimLoop loop;
  const size_t max = *rc::gen::inRange<size_t>(1, 5);
  OpenGate gate(loop, max);
  std::vector<int> started;
  int entered = 0;
  size_t inside_model = 0;
  const int steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 3);
    if (op == 0) {
      gate.Enter([&started, &inside_model, i = entered] {
        started.push_back(i);
        ++inside_model;
      });
      ++entered;
    } else if (op == 1 && inside_model > 0) {
      --inside_model;
      gate.Leave();
    } else {
      loop.RunUntilIdle();
    }
    RC_ASSERT(gate.inside() <= max);
    RC_ASSERT(inside_model <= max);
  }
  loop.RunUntilIdle();  // starts already handed a place
  while (inside_model > 0) {
    --inside_model;
    gate.Leave();
    loop.RunUntilIdle();
  }
  RC_ASSERT(static_cast<int>(started.size()) == entered);
  std::sort(started.begin(), started.end());
  for (int i = 0; i < entered; ++i) RC_ASSERT(started[static_cast<size_t>(i)] == i);
}

}  // namespace
}  // namespace eddy::raft::driver
