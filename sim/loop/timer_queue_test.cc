// Proves TimerQueue against a simple model: a std::map keyed by (due, push order). Random
// sequences of Push / Cancel (of live, already-run, cancelled and never-issued ids) / Pop /
// TakeAll must pop the same callbacks in the same order, agree on size and on what Cancel
// returns, destroy a cancelled callback at once, and never hand out kNoTimer or a dead id that
// cancels anything. Garbage left by cancellations (swept by rebuilds) must not change the order.
// Budget: RapidCheck's default 100 cases; RC_PARAMS="max_success=10000 seed=N" for a long run.
#include "sim/loop/timer_queue.h"

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::sim {
namespace {

TEST(TimerQueueTest, PopsByDueThenPushOrder) {
  TimerQueue q;
  std::vector<int> order;
  q.Push(Instant::FromNanoseconds(5), [&] { order.push_back(3); });
  q.Push(Instant::FromNanoseconds(1), [&] { order.push_back(1); });
  q.Push(Instant::FromNanoseconds(1), [&] { order.push_back(2); });
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.NextKey().due, Instant::FromNanoseconds(1));
  while (!q.empty()) std::move(q.Pop().callback)();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(TimerQueueTest, CancelDestroysAtOnceAndIdsAreNeverReused) {
  TimerQueue q;
  auto token = std::make_shared<int>(0);
  const runtime::TimerId a = q.Push(Instant::FromNanoseconds(1), [token] {});
  EXPECT_EQ(token.use_count(), 2);
  EXPECT_TRUE(q.Cancel(a));
  EXPECT_EQ(token.use_count(), 1);  // destroyed by Cancel itself
  EXPECT_FALSE(q.Cancel(a));
  const runtime::TimerId b = q.Push(Instant::FromNanoseconds(1), [] {});  // reuses the slot
  EXPECT_NE(a, b);
  EXPECT_FALSE(q.Cancel(a));  // the old id does not reach the new entry
  EXPECT_NE(b, runtime::kNoTimer);
  EXPECT_FALSE(q.Cancel(q.DeadId()));
  EXPECT_TRUE(q.Cancel(b));
  EXPECT_TRUE(q.empty());
}

RC_GTEST_PROP(TimerQueueProperty, MatchesOrderedMapModel, ()) {
  TimerQueue q;
  std::map<std::pair<int64_t, uint64_t>, int> model;  // (due, push order) -> label
  std::map<int, std::pair<int64_t, uint64_t>> key_of;  // label -> model key, while pending
  std::vector<runtime::TimerId> ids;                   // by label; every id ever issued
  std::vector<int> popped;
  uint64_t pushes = 0;
  const int steps = *rc::gen::inRange(1, 400);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    if (op < 5) {
      const int64_t due = *rc::gen::inRange<int64_t>(0, 20);  // many ties
      const int label = static_cast<int>(ids.size());
      const runtime::TimerId id =
          q.Push(Instant::FromNanoseconds(due), [&popped, label] { popped.push_back(label); });
      RC_ASSERT(id != runtime::kNoTimer);
      ids.push_back(id);
      model[{due, pushes}] = label;
      key_of[label] = {due, pushes};
      ++pushes;
    } else if (op < 8) {
      if (ids.empty()) continue;
      const int label = *rc::gen::inRange<int>(0, static_cast<int>(ids.size()));
      const bool pending = key_of.count(label) == 1;
      RC_ASSERT(q.Cancel(ids[label]) == pending);
      if (pending) {
        model.erase(key_of[label]);
        key_of.erase(label);
      }
    } else if (op < 10) {
      if (model.empty()) {
        RC_ASSERT(q.empty());
        continue;
      }
      RC_ASSERT(q.NextKey().due == Instant::FromNanoseconds(model.begin()->first.first));
      TimerQueue::Popped p = q.Pop();
      std::move(p.callback)();
      RC_ASSERT(popped.back() == model.begin()->second);
      key_of.erase(model.begin()->second);
      model.erase(model.begin());
    }
    RC_ASSERT(q.size() == model.size());
    RC_ASSERT(!q.Cancel(q.DeadId()));
  }
  if (*rc::gen::inRange(0, 2) == 0) {
    RC_ASSERT(q.TakeAll().size() == model.size());
    RC_ASSERT(q.empty());
    for (const runtime::TimerId id : ids) RC_ASSERT(!q.Cancel(id));
  } else {
    while (!model.empty()) {
      std::move(q.Pop().callback)();
      RC_ASSERT(popped.back() == model.begin()->second);
      model.erase(model.begin());
    }
    RC_ASSERT(q.empty());
  }
}

}  // namespace
}  // namespace eddy::sim
