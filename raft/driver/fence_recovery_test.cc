#include "raft/driver/fence_recovery.h"

#include <algorithm>
#include <utility>
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

constexpr LogEnd kMark{20, 3};
constexpr LogEnd kLog{10, 3};

TEST(FenceRecoveryTest, WaitsForEveryOtherVoter) {
  FenceRecovery r(1, {{1, 2, 3}}, 0);
  EXPECT_EQ(r.Peers(), (std::vector<NodeId>{2, 3}));
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
  EXPECT_TRUE(r.OnReport(2, 1, {12, 3}, 0));
  EXPECT_EQ(r.LoweredMark(kMark, kLog), std::nullopt);  // 3 may hold what {1, 3} committed
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{3}));
  EXPECT_TRUE(r.OnReport(3, 1, {15, 3}, 0));
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{15, 3}));
}

TEST(FenceRecoveryTest, OfFiveVotersEveryOneMustAnswer) {
  // {1, 4, 5} may have committed what 1 lost; 4 and 5 may have lost it to their own damage
  // since (the harness damages two disks of five), so 3, silent, may be its last holder
  // (five-node seeds 259 and 5601 when one silent voter of five was allowed).
  FenceRecovery r(1, {{1, 2, 3, 4, 5}}, 0);
  r.OnReport(2, 1, {12, 3}, 0);
  r.OnReport(4, 1, {10, 3}, 0);
  r.OnReport(5, 1, {4, 3}, 0);
  EXPECT_EQ(r.LoweredMark(kMark, kLog), std::nullopt);
  r.OnReport(3, 1, {15, 3}, 0);
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{15, 3}));
}

TEST(FenceRecoveryTest, AVotersNewestReportReplacesItsOlderOne) {
  // Five-node seed 587: voter 2 answered, then lost entries to its own damage; its first answer
  // held the fence at entries nobody had any more.
  FenceRecovery r(1, {{1, 2, 3}}, 0);
  r.OnReport(2, 1, {18, 3}, 0);
  r.OnReport(3, 1, {12, 3}, 0);
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{18, 3}));
  EXPECT_TRUE(r.OnReport(2, 2, {11, 3}, 0));
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{12, 3}));
  // A duplicate of the older answer, delivered late, does not bring the old claim back.
  EXPECT_FALSE(r.OnReport(2, 1, {18, 3}, 0));
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{12, 3}));
  // The same round answered twice (a duplicated query) is the same statement or a newer one.
  EXPECT_TRUE(r.OnReport(2, 2, {11, 3}, 0));
}

TEST(FenceRecoveryTest, ANewerReportCanClearAConfigurationDifference) {
  FenceRecovery r(1, {{1, 2, 3}}, 0);
  r.OnReport(2, 1, {12, 3}, 5);  // 2 held a change we lack, which was then cut (uncommitted)
  r.OnReport(3, 1, {12, 3}, 0);
  EXPECT_TRUE(r.configuration_differs());
  EXPECT_EQ(r.LoweredMark(kMark, kLog), std::nullopt);
  r.OnReport(2, 2, {12, 3}, 0);
  EXPECT_FALSE(r.configuration_differs());
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{12, 3}));
}

TEST(FenceRecoveryTest, DescribesOnlyItsOwnConfigurations) {
  FenceRecovery r(1, {{1, 2}, {1, 2, 3}}, 7);
  EXPECT_TRUE(r.Describes({{1, 2}, {1, 2, 3}}, 7));
  EXPECT_FALSE(r.Describes({{1, 2, 3}}, 7));
  EXPECT_FALSE(r.Describes({{1, 2}, {1, 2, 3}}, 9));
}

TEST(FenceRecoveryTest, NeverRaisesTheMarkNorGoesBelowTheLog) {
  FenceRecovery above(1, {{1, 2, 3}}, 0);
  above.OnReport(2, 1, {40, 5}, 0);  // a newer leader's log: the fence stays as it is
  above.OnReport(3, 1, {5, 2}, 0);
  EXPECT_EQ(above.LoweredMark(kMark, kLog), kMark);
  FenceRecovery below(1, {{1, 2, 3}}, 0);
  below.OnReport(2, 1, {4, 3}, 0);
  below.OnReport(3, 1, {30, 2}, 0);  // longer but older: less up to date than our log
  EXPECT_EQ(below.LoweredMark(kMark, kLog), kLog);
}

TEST(FenceRecoveryTest, IgnoresNonVotersAndItself) {
  FenceRecovery r(1, {{1, 2, 3}}, 0);
  EXPECT_FALSE(r.OnReport(1, 1, {20, 3}, 0));
  EXPECT_FALSE(r.OnReport(7, 1, {20, 3}, 0));
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
}

TEST(FenceRecoveryTest, AnotherConfigurationKeepsTheFence) {
  FenceRecovery r(1, {{1, 2, 3}}, 0);
  r.OnReport(2, 1, {10, 3}, 5);  // 2 holds a change we lack
  r.OnReport(3, 1, {10, 3}, 0);
  EXPECT_TRUE(r.configuration_differs());
  EXPECT_EQ(r.LoweredMark(kMark, kLog), std::nullopt);
}

TEST(FenceRecoveryTest, AnUncommittedChangeAsksTheVotersOfBothConfigurations) {
  // Committed {1, 2}; our log holds "promote 3", not yet committed.
  FenceRecovery r(1, {{1, 2}, {1, 2, 3}}, 0);
  EXPECT_EQ(r.Missing(), (std::vector<NodeId>{2, 3}));
  r.OnReport(2, 1, {12, 3}, 0);
  EXPECT_EQ(r.LoweredMark(kMark, kLog), std::nullopt);
  r.OnReport(3, 1, {11, 3}, -1);  // 3 is behind (its newest change ends before ours): counts
  EXPECT_EQ(r.LoweredMark(kMark, kLog), (LogEnd{12, 3}));
  FenceRecovery later(1, {{1, 2}, {1, 2, 3}}, 0);
  later.OnReport(2, 1, {12, 3}, 5);  // a change beyond ours
  later.OnReport(3, 1, {12, 3}, 0);
  EXPECT_EQ(later.LoweredMark(kMark, kLog), std::nullopt);
}

TEST(FenceRecoveryTest, ASingleVoterHasNobodyToAsk) {
  FenceRecovery r(1, {{1}}, 0);
  EXPECT_TRUE(r.Peers().empty());
  EXPECT_EQ(r.LoweredMark(kMark, kLog), kLog);
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
  FenceRecovery recovery(1, {ids}, 0);
  // Each voter answers one or more rounds, delivered in any order; a holder of the committed
  // prefix shows it in every answer (committed entries are never cut).
  std::vector<std::pair<NodeId, uint64_t>> answers;
  for (NodeId id : recovery.Peers()) {
    const uint64_t rounds = *rc::gen::inRange<uint64_t>(1, 4);
    for (uint64_t round = 1; round <= rounds; ++round) answers.emplace_back(id, round);
  }
  std::vector<size_t> order(answers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[*rc::gen::inRange<size_t>(0, i)]);
  }
  for (size_t i : order) {
    const auto [id, round] = answers[i];
    const int64_t low = holds_commit(id) ? commit : -1;
    const int64_t held = *rc::gen::inRange<int64_t>(low, length);
    recovery.OnReport(id, round, end_of(held), 0);
  }
  const std::optional<LogEnd> lowered = recovery.LoweredMark(mark, log_end);
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
