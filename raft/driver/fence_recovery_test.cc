#include "raft/driver/fence_recovery.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::raft::driver {
namespace {

TEST(LogEndTest, OrdersByTermThenOffset) {
  EXPECT_TRUE(AtLeastAsUpToDate({5, 2}, {9, 1}));
  EXPECT_FALSE(AtLeastAsUpToDate({9, 1}, {5, 2}));
  EXPECT_TRUE(AtLeastAsUpToDate({5, 2}, {5, 2}));
  EXPECT_FALSE(AtLeastAsUpToDate({4, 2}, {5, 2}));
  EXPECT_EQ(MoreUpToDate({5, 2}, {9, 1}), (LogEnd{5, 2}));
  EXPECT_EQ(LessUpToDate({5, 2}, {9, 1}), (LogEnd{9, 1}));
}

TEST(FenceRecoveryTest, WaitsForEveryOtherVoter) {
  FenceRecovery r(1, {{1, 2, 3}}, 0, /*mark=*/{20, 3}, /*log_end=*/{10, 3});
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
  EXPECT_TRUE(r.OnReport(2, {12, 3}, 0));
  EXPECT_EQ(r.LoweredMark(), std::nullopt);  // 3 may hold what a quorum {1, 3} committed
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{3}));
  EXPECT_TRUE(r.OnReport(3, {15, 3}, 0));
  EXPECT_EQ(r.LoweredMark(), (LogEnd{15, 3}));
}

TEST(FenceRecoveryTest, NeverRaisesTheMarkNorGoesBelowTheLog) {
  FenceRecovery above(1, {{1, 2, 3}}, 0, {20, 3}, {10, 3});
  above.OnReport(2, {40, 5}, 0);  // a newer leader's log: the fence stays as it is
  above.OnReport(3, {5, 2}, 0);
  EXPECT_EQ(above.LoweredMark(), (LogEnd{20, 3}));
  FenceRecovery below(1, {{1, 2, 3}}, 0, {20, 3}, {10, 3});
  below.OnReport(2, {4, 3}, 0);
  below.OnReport(3, {30, 2}, 0);  // longer but older: less up to date than our log
  EXPECT_EQ(below.LoweredMark(), (LogEnd{10, 3}));
}

TEST(FenceRecoveryTest, IgnoresNonVotersAndItself) {
  FenceRecovery r(1, {{1, 2, 3}}, 0, {20, 3}, {10, 3});
  EXPECT_FALSE(r.OnReport(1, {20, 3}, 0));
  EXPECT_FALSE(r.OnReport(7, {20, 3}, 0));
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
}

TEST(FenceRecoveryTest, AnotherConfigurationKeepsTheFence) {
  FenceRecovery r(1, {{1, 2, 3}}, 0, {20, 3}, {10, 3});
  r.OnReport(2, {10, 3}, 5);  // 2 holds a change we lack
  r.OnReport(3, {10, 3}, 0);
  EXPECT_TRUE(r.configuration_differs());
  EXPECT_EQ(r.LoweredMark(), std::nullopt);
}

TEST(FenceRecoveryTest, AnUncommittedChangeAsksTheVotersOfBothConfigurations) {
  // Committed {1, 2}; our log holds "promote 3", not yet committed.
  FenceRecovery r(1, {{1, 2}, {1, 2, 3}}, 0, {20, 3}, {10, 3});
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
  r.OnReport(2, {12, 3}, 0);
  EXPECT_EQ(r.LoweredMark(), std::nullopt);
  r.OnReport(3, {11, 3}, -1);  // 3 is behind (its newest change ends before ours): counts
  EXPECT_EQ(r.LoweredMark(), (LogEnd{12, 3}));
  FenceRecovery later(1, {{1, 2}, {1, 2, 3}}, 0, {20, 3}, {10, 3});
  later.OnReport(2, {12, 3}, 5);  // a change beyond ours
  later.OnReport(3, {12, 3}, 0);
  EXPECT_EQ(later.LoweredMark(), std::nullopt);
}

TEST(FenceRecoveryTest, ASingleVoterHasNobodyToAsk) {
  FenceRecovery r(1, {{1}}, 0, {20, 3}, {10, 3});
  EXPECT_TRUE(r.Missing().empty());
  EXPECT_EQ(r.LoweredMark(), (LogEnd{10, 3}));
}

// The model: one history of terms (entry i ends at offset i; terms never decrease), committed
// up to `commit` by a quorum holding prefixes of it at least that long. The fenced replica
// holds a shorter prefix than it declared; every other voter reports the end of its prefix.
// Whatever the reports, the lowered mark still covers every committed entry (a candidate lacking
// one is refused) and lies between the replica's log and its mark.
RC_GTEST_PROP(FenceRecoveryProperty, LoweredMarkCoversEveryCommittedEntry, ()) {
  const int voters = *rc::gen::inRange(1, 8);
  const int length = *rc::gen::inRange(1, 40);
  std::vector<Term> terms(static_cast<size_t>(length));
  Term term = 1;
  for (Term& t : terms) {
    if (*rc::gen::inRange(0, 4) == 0) term += static_cast<Term>(*rc::gen::inRange(1, 3));
    t = term;
  }
  const auto end_of = [&](int64_t last) {
    return last < 0 ? LogEnd{kNoOffset, 0} : LogEnd{last, terms[static_cast<size_t>(last)]};
  };
  const int64_t commit = *rc::gen::inRange<int64_t>(-1, length);
  const size_t quorum = static_cast<size_t>(voters) / 2 + 1;
  // Voter ids 1..voters; voter 1 is the fenced replica, in the committing quorum or not.
  std::vector<NodeId> ids;
  for (int i = 1; i <= voters; ++i) ids.push_back(static_cast<NodeId>(i));
  std::vector<NodeId> in_quorum =
      *rc::gen::unique<std::vector<NodeId>>(quorum, rc::gen::elementOf(ids));
  std::sort(in_quorum.begin(), in_quorum.end());
  const auto holds_commit = [&](NodeId id) {
    return std::binary_search(in_quorum.begin(), in_quorum.end(), id);
  };
  const int64_t declared = holds_commit(1) ? *rc::gen::inRange<int64_t>(commit, length)
                                           : *rc::gen::inRange<int64_t>(-1, length);
  const int64_t kept = *rc::gen::inRange<int64_t>(-1, declared + 1);
  const LogEnd mark = end_of(declared);
  const LogEnd log_end = end_of(kept);
  FenceRecovery recovery(1, {ids}, 0, mark, log_end);
  for (NodeId id : recovery.Missing()) {
    const int64_t low = holds_commit(id) ? commit : -1;
    const int64_t held = *rc::gen::inRange<int64_t>(low, length);
    RC_ASSERT(recovery.OnReport(id, end_of(held), 0));
  }
  const std::optional<LogEnd> lowered = recovery.LoweredMark();
  RC_ASSERT(lowered.has_value());
  RC_ASSERT(AtLeastAsUpToDate(mark, *lowered));
  RC_ASSERT(AtLeastAsUpToDate(*lowered, log_end));
  // The fenced replica never counted for entries beyond what it declared; what the quorum
  // committed that it declared must stay covered.
  if (holds_commit(1) && commit >= 0 && voters > 1)
    RC_ASSERT(AtLeastAsUpToDate(*lowered, end_of(commit)));
  if (!holds_commit(1) && commit >= 0 && voters > 1) {
    // Committed without it: its vote matters only through the fence; still covered.
    RC_ASSERT(AtLeastAsUpToDate(*lowered, LessUpToDate(end_of(commit), mark)));
  }
}

}  // namespace
}  // namespace eddy::raft::driver
