// The idempotent producer's sequence bookkeeping: sequences advance by record count and wrap at
// INT32_MAX to 0 as Kafka's incrementSequence does; at most in_flight_max batches of a partition
// leave; REWIND holds a partition until everything in flight came back; RESET waits for the
// partition to drain, then restarts it at sequence 0 under the new id while other partitions
// keep theirs. Then a RapidCheck property against a model (a map of ordinal -> base sequence and
// a counter): under random sends, returns, retries and resolutions, base sequences are
// contiguous in creation order, in-flight counts match, and HasUnresolvedBefore is the model's.
#include "clients/sequence_tracker.h"

#include <map>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::clients {
namespace {

const TopicPartition kA{"t", 0};
const TopicPartition kB{"t", 1};

TEST(IncrementSequenceTest, WrapsAtInt32MaxToZero) {
  EXPECT_EQ(IncrementSequence(0, 5), 5);
  EXPECT_EQ(IncrementSequence(INT32_MAX - 5, 5), INT32_MAX);
  EXPECT_EQ(IncrementSequence(INT32_MAX, 1), 0);
  EXPECT_EQ(IncrementSequence(INT32_MAX - 1, 3), 1);
}

TEST(SequenceTrackerTest, AssignsContiguousSequencesPerPartition) {
  SequenceTracker s(5);
  s.SetProducerId({7, 0});
  EXPECT_EQ(s.Assign(kA, 0, 3), 0);
  EXPECT_EQ(s.Assign(kA, 1, 10), 3);
  EXPECT_EQ(s.Assign(kB, 0, 4), 0);
  EXPECT_EQ(s.Assign(kA, 2, 1), 13);
  EXPECT_EQ(s.IdOf(kA), (ProducerIdAndEpoch{7, 0}));
}

TEST(SequenceTrackerTest, AtMostFiveInFlightPerPartition) {
  SequenceTracker s(5);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.CanSend(kA));
    s.OnSent(kA);
  }
  EXPECT_FALSE(s.CanSend(kA));
  EXPECT_TRUE(s.CanSend(kB));
  s.OnReturned(kA);
  EXPECT_TRUE(s.CanSend(kA));
}

TEST(SequenceTrackerTest, RewindHoldsThePartitionUntilNothingIsInFlight) {
  SequenceTracker s(5);
  s.OnSent(kA);
  s.OnSent(kA);
  s.OnReturned(kA);
  s.Rewind(kA);  // the first failed retriably; the second is still out
  EXPECT_FALSE(s.CanSend(kA));
  s.OnReturned(kA);
  EXPECT_TRUE(s.CanSend(kA));
}

TEST(SequenceTrackerTest, UnresolvedBeforeDecidesBetweenRetryAndReset) {
  SequenceTracker s(5);
  s.SetProducerId({7, 0});
  s.Assign(kA, 0, 1);
  s.Assign(kA, 1, 1);
  EXPECT_TRUE(s.HasUnresolvedBefore(kA, 1));
  s.Resolve(kA, 0);  // failed for good
  EXPECT_FALSE(s.HasUnresolvedBefore(kA, 1));
  EXPECT_FALSE(s.HasUnresolvedBefore(kB, 1));
}

TEST(SequenceTrackerTest, ResetWaitsForTheDrainThenRestartsAtZeroUnderTheNewId) {
  SequenceTracker s(5);
  s.SetProducerId({7, 0});
  s.Assign(kA, 0, 4);
  s.Assign(kA, 1, 4);
  s.Assign(kB, 0, 2);
  s.OnSent(kA);
  s.NeedReset(kA);
  EXPECT_FALSE(s.CanSend(kA));
  EXPECT_TRUE(s.ResettableNow().empty()) << "one batch still in flight";
  s.OnReturned(kA);
  ASSERT_EQ(s.ResettableNow(), std::vector<TopicPartition>{kA});
  s.Reset(kA, {9, 0});
  EXPECT_EQ(s.Reassign(kA, 1, 4), 0);  // the queued batch, re-stamped
  EXPECT_EQ(s.Assign(kA, 2, 1), 4);
  EXPECT_EQ(s.IdOf(kA), (ProducerIdAndEpoch{9, 0}));
  EXPECT_EQ(s.IdOf(kB), (ProducerIdAndEpoch{7, 0}));
  EXPECT_EQ(s.Assign(kB, 1, 1), 2) << "other partitions keep their sequence";
  EXPECT_TRUE(s.CanSend(kA));
}

struct Op {
  int kind = 0;   // 0 assign a new batch, 1 send, 2 return, 3 resolve, 4 rewind
  int pick = 0;
  int count = 1;
};

RC_GTEST_PROP(SequenceTrackerProperty, AgreesWithAModel, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 5)), rc::gen::set(&Op::pick, rc::gen::inRange(0, 16)),
      rc::gen::set(&Op::count, rc::gen::inRange(1, 1000))));
  const int32_t start = *rc::gen::element(0, INT32_MAX - 2000, INT32_MAX - 10);
  SequenceTracker s(5);
  s.SetProducerId({1, 0});
  // Start near the wrap: reset the partition onto a sequence close to INT32_MAX.
  s.NeedReset(kA);
  s.Reset(kA, {1, 0});
  uint64_t next_ordinal = 0;
  if (start > 0) s.Assign(kA, next_ordinal++, start);  // resolved at once, below
  s.Resolve(kA, 0);
  int64_t expected_next = start;            // model, as a 64-bit count
  std::set<uint64_t> unresolved;            // model
  int in_flight = 0;                        // model
  bool rewinding = false;                   // model
  for (const Op& op : ops) {
    if (op.kind == 0) {
      const int32_t base = s.Assign(kA, next_ordinal, op.count);
      RC_ASSERT(base == static_cast<int32_t>(expected_next % (int64_t{INT32_MAX} + 1)));
      expected_next += op.count;
      unresolved.insert(next_ordinal++);
    } else if (op.kind == 1) {
      const bool model_can = (!rewinding || in_flight == 0) && in_flight < 5;
      RC_ASSERT(s.CanSend(kA) == model_can);
      if (model_can) rewinding = false;
      if (model_can) {
        s.OnSent(kA);
        ++in_flight;
      }
    } else if (op.kind == 2 && in_flight > 0) {
      s.OnReturned(kA);
      --in_flight;
    } else if (op.kind == 3 && !unresolved.empty()) {
      auto it = unresolved.begin();
      std::advance(it, static_cast<size_t>(op.pick) % unresolved.size());
      s.Resolve(kA, *it);
      unresolved.erase(it);
    } else if (op.kind == 4) {
      s.Rewind(kA);
      rewinding = true;
    }
    RC_ASSERT(s.in_flight(kA) == in_flight);
    const uint64_t probe = static_cast<uint64_t>(op.pick) % (next_ordinal + 1);
    const bool model_before = !unresolved.empty() && *unresolved.begin() < probe;
    RC_ASSERT(s.HasUnresolvedBefore(kA, probe) == model_before);
    s.CheckInvariants();
  }
}

}  // namespace
}  // namespace eddy::clients
