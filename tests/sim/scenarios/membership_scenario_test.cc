// Scripted membership stories on 5 brokers that need exact timing: two voter changes back to
// back, with a crash aimed into the window between a replica's log flush and its next hard-state
// save (the window the random sweeps had never hit). The checker verifies every safety property
// throughout. The story failed on the driver of its day, which saved a commit-only change
// lazily and took a replica's configuration only from its saved (lagging) commit offset: the
// restarted replica counted votes in a configuration two changes old, whose quorums do not
// overlap the current one's, and overwrote an acknowledged batch (one-value-per-offset). Today
// a commit is saved one durability round after the log covers it, so the window is one round
// wide; raft/raw_node_test's ConfChangeRecoveryTest pins the mechanism itself.
#include <cstdint>

#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

ClusterOptions FiveQuietNodes(uint64_t seed) { return QuietOptions(seed, 5); }

raft::driver::GroupDriver* Group(Cluster& cluster, runtime::NodeId node) {
  return cluster.node(node)->group(1);
}

// Proposes `type` for `replica` through node 3 (the leader throughout) until some replica
// applied it.
void ChangeMembership(Cluster& cluster, raft::ConfChangeType type, raft::NodeId replica) {
  auto applied = [&] {
    const raft::Membership m = cluster.CommittedMembership(1);
    switch (type) {
      case raft::CONF_REMOVE_NODE:
        return !m.Contains(replica);
      case raft::CONF_ADD_LEARNER:
        return m.IsLearner(replica);
      default:
        return m.IsVoter(replica);
    }
  };
  const Instant deadline = cluster.world().Now() + Duration::Seconds(20);
  while (!applied() && cluster.world().Now() < deadline) {
    ASSERT_EQ(cluster.LeaderOf(1), 3u);
    static_cast<void>(Group(cluster, 3)->ProposeConfChange(type, replica));
    cluster.world().RunFor(Duration::Milliseconds(100));
  }
  ASSERT_TRUE(applied()) << raft::ConfChangeType_Name(type) << " " << replica;
}

TEST(MembershipScenarioTest, BackToBackPromotionsWithACrashBetweenLogFlushAndSaveLoseNothing) {
  Cluster cluster(FiveQuietNodes(61));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  if (cluster.LeaderOf(1) != 3) {
    ASSERT_TRUE(Group(cluster, cluster.LeaderOf(1))->TransferLeadership(3).ok());
    ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(3), [&] { return cluster.LeaderOf(1) == 3; }));
  }
  // C0: voters {1, 2, 3}, learners 4 and 5 (caught up).
  for (raft::NodeId n : {4, 5}) ChangeMembership(cluster, raft::CONF_REMOVE_NODE, n);
  for (raft::NodeId n : {4, 5}) ChangeMembership(cluster, raft::CONF_ADD_LEARNER, n);
  cluster.world().RunFor(Duration::Seconds(1));

  // C1 = promote 4. Node 1 saves its hard state when it appends C1 (commit below C1), then
  // learns that C1 committed.
  ChangeMembership(cluster, raft::CONF_PROMOTE_LEARNER, 4);
  const int64_t c1 = Group(cluster, 3)->log_last_offset();
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(2), [&] {
    return Group(cluster, 1)->raft() != nullptr && Group(cluster, 1)->raft()->commit_offset() >= c1;
  }));

  // C2 = promote 5, proposed at once. Node 1 crashes right after its log flush holding C2, in
  // the round that saves its state.
  bool crash_posted = false;
  int64_t c2 = -1;
  cluster.SetLogFlushedHook([&](runtime::NodeId node, raft::driver::GroupId, int64_t last,
                                bool save_next) {
    static_cast<void>(save_next);  // crash whether or not a save of the same round is in flight
    if (node != 1 || crash_posted || c2 < 0 || last < c2) return;
    crash_posted = true;
    cluster.world().loop().ScheduleAfter(Duration::Zero(), [&] { cluster.world().Crash(1); });
  });
  ASSERT_TRUE(Group(cluster, 3)->ProposeConfChange(raft::CONF_PROMOTE_LEARNER, 5).ok());
  c2 = Group(cluster, 3)->log_last_offset();
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(2), [&] { return !cluster.world().node(1).up(); }))
      << "node 1 never flushed C2";
  cluster.SetLogFlushedHook(nullptr);
  // C2 commits on {2, 3, 4} (a quorum of C1's {1, 2, 3, 4}).
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(3), [&] {
    return Group(cluster, 3)->raft()->commit_offset() >= c2;
  }));

  // Split {1, 2} | {3, 4, 5}; leader 3 commits and acknowledges a batch right after C2 with
  // {3, 4, 5}, a quorum of C2.
  cluster.world().network().Partition({1, 2}, {3, 4, 5});
  const uint64_t acked = cluster.checker().acked_count();
  ASSERT_TRUE(cluster.ProposeOne(1));
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(3),
                       [&] { return cluster.checker().acked_count() > acked; }));
  EXPECT_GT(cluster.checker().max_acked_offset(1), c2) << "the batch follows C2";

  // Node 1 restarts beside node 2. Holding C2, it must count votes in C1 at least: {1, 2} is
  // not a quorum of {1, 2, 3, 4}, so it cannot win, and nothing acknowledged is overwritten.
  cluster.world().Restart(1);
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(1), [&] { return Group(cluster, 1)->raft() != nullptr; }));
  EXPECT_TRUE(Group(cluster, 1)->raft()->membership().IsVoter(4))
      << Group(cluster, 1)->raft()->membership().DebugString();
  cluster.world().RunFor(Duration::Seconds(5));
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  for (runtime::NodeId side : {1, 2}) {
    const raft::RawNode* raft = Group(cluster, side)->raft();
    ASSERT_NE(raft, nullptr);
    EXPECT_NE(raft->role(), raft::Role::kLeader) << "node " << side << " won without a quorum";
  }

  cluster.world().network().HealAll();
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(30), [&] { return cluster.Converged(); }));
  cluster.checker().CheckFinal();
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

}  // namespace
}  // namespace eddy::sim::cluster
