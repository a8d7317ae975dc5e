// Quiescence stories on 3 brokers (raft/driver README.md, "Quiescence"): idle groups go quiet
// and only node-level heartbeats flow; a quiet group's leader node crashes and a new leader is
// elected within a bound; the leader's node is cut off from one follower's node and that
// follower's replica wakes while the group keeps committing; a proposal to a quiet leader
// commits everywhere; a follower that was down while its group went quiet catches up when it
// comes back. The checker verifies every safety property throughout.
#include <cstdint>

#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

constexpr int kGroups = 8;
constexpr runtime::NodeId kNodes[] = {1, 2, 3};

ClusterOptions Options(uint64_t seed) {
  ClusterOptions options = QuietOptions(seed);
  options.group_count = kGroups;
  return options;
}

bool Quiet(Cluster& cluster, runtime::NodeId node, raft::driver::GroupId group) {
  raft::driver::NodeDriver* n = cluster.node(node);
  return n != nullptr && n->group(group) != nullptr && n->group(group)->quiesced();
}

bool AllQuiet(Cluster& cluster) {
  for (runtime::NodeId node : kNodes) {
    for (int g = 1; g <= kGroups; ++g) {
      if (!Quiet(cluster, node, static_cast<raft::driver::GroupId>(g))) return false;
    }
  }
  return true;
}

// Some traffic, then idle until every replica of every group is quiet.
void SettleQuiet(Cluster& cluster) {
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(5), [&] { return AllQuiet(cluster); }))
      << "idle groups did not all quiesce";
}

TEST(QuiescenceTest, IdleGroupsGoQuietAndOnlyNodeHeartbeatsFlow) {
  Cluster cluster(Options(201));
  SettleQuiet(cluster);
  uint64_t messages_before[4] = {};
  uint64_t heartbeats_before[4] = {};
  for (runtime::NodeId n : kNodes) {
    messages_before[n] = cluster.node(n)->stats().messages_sent;
    heartbeats_before[n] = cluster.node(n)->stats().node_heartbeats_sent;
  }
  cluster.world().RunFor(Duration::Seconds(5));  // 100 ticks
  for (runtime::NodeId n : kNodes) {
    EXPECT_EQ(cluster.node(n)->stats().messages_sent, messages_before[n])
        << "node " << n << " sent Raft messages while every group was quiet";
    // One heartbeat per peer per tick, whatever the number of groups.
    const uint64_t heartbeats =
        cluster.node(n)->stats().node_heartbeats_sent - heartbeats_before[n];
    EXPECT_GE(heartbeats, 2u * 95);
    EXPECT_LE(heartbeats, 2u * 101);
    // Groups that went quiet leave the tick set at the next tick: nothing is ticked now.
    EXPECT_EQ(cluster.node(n)->awake_group_count(), 0u) << "node " << n << " still ticks groups";
  }
  uint64_t ticks_before[4] = {};
  for (runtime::NodeId n : kNodes) ticks_before[n] = cluster.node(n)->stats().group_ticks;
  cluster.world().RunFor(Duration::Milliseconds(200));
  for (runtime::NodeId n : kNodes) {
    EXPECT_EQ(cluster.node(n)->stats().group_ticks, ticks_before[n]) << "node " << n;
  }
  EXPECT_TRUE(AllQuiet(cluster));
  ExpectSafe(cluster);
}

TEST(QuiescenceTest, QuietLeaderNodeCrashesAndANewLeaderIsElectedWithinABound) {
  Cluster cluster(Options(202));
  SettleQuiet(cluster);
  const raft::NodeId old_leader = cluster.LeaderOf(1);
  ASSERT_NE(old_leader, raft::kNoNode);
  cluster.world().Crash(static_cast<runtime::NodeId>(old_leader));
  // Node liveness notices within peer_timeout_ticks (0.5 s), then a randomized election
  // timeout (0.5..1 s) and maybe a split vote: 3 s is generous.
  const Instant crashed_at = cluster.world().Now();
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(3), [&] {
    const raft::NodeId leader = cluster.LeaderOf(1);
    return leader != raft::kNoNode && leader != old_leader;
  })) << "no new leader 3 s after the quiet leader's node crashed";
  EXPECT_GE(cluster.world().Now() - crashed_at, Duration::Milliseconds(500))
      << "elected before node liveness could have noticed: were the followers not quiet?";
  // The new leader commits.
  const uint64_t acked = cluster.checker().acked_count();
  ASSERT_TRUE(cluster.ProposeOne(1));
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(2),
                       [&] { return cluster.checker().acked_count() > acked; }));
  cluster.world().Restart(static_cast<runtime::NodeId>(old_leader));
  cluster.world().RunFor(Duration::Seconds(3));
  ExpectSafe(cluster);
}

TEST(QuiescenceTest, LeaderNodeCutOffFromOneFollowerNodeWakesThatFollower) {
  Cluster cluster(Options(203));
  SettleQuiet(cluster);
  const runtime::NodeId leader = static_cast<runtime::NodeId>(cluster.LeaderOf(1));
  ASSERT_NE(leader, 0u);
  const runtime::NodeId follower = leader == 1 ? 2 : 1;
  cluster.world().network().Partition({leader}, {follower});
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(2),
                       [&] { return !Quiet(cluster, follower, 1); }))
      << "the follower cut off from its leader's node stayed quiet";
  EXPECT_GT(cluster.node(follower)->stats().peers_declared_down, 0u);
  // Its campaign cannot win (the third node still hears the leader: pre-vote and the lease), and
  // the group keeps committing through the third node.
  cluster.world().RunFor(Duration::Seconds(2));
  const uint64_t acked = cluster.checker().acked_count();
  ASSERT_TRUE(cluster.ProposeOne(1));
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(2),
                       [&] { return cluster.checker().acked_count() > acked; }));
  EXPECT_EQ(cluster.LeaderOf(1), leader) << "a cut-off follower deposed a live leader";
  // Healed, everyone catches up and the group goes quiet again.
  cluster.world().network().HealAll();
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(5), [&] { return AllQuiet(cluster); }));
  const int64_t applied = cluster.node(leader)->group(1)->applied_offset();
  EXPECT_EQ(cluster.node(follower)->group(1)->applied_offset(), applied);
  ExpectSafe(cluster);
}

TEST(QuiescenceTest, ProposalOnAQuietLeaderCommitsEverywhere) {
  Cluster cluster(Options(204));
  SettleQuiet(cluster);
  const runtime::NodeId leader = static_cast<runtime::NodeId>(cluster.LeaderOf(3));
  const uint64_t acked = cluster.checker().acked_count();
  ASSERT_TRUE(cluster.ProposeOne(3));
  EXPECT_FALSE(Quiet(cluster, leader, 3)) << "a proposal must wake its leader at once";
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(1),
                       [&] { return cluster.checker().acked_count() == acked + 1; }));
  const int64_t offset = cluster.checker().max_acked_offset(3);
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(2), [&] {
    for (runtime::NodeId n : kNodes) {
      if (cluster.node(n)->group(3)->applied_offset() < offset) return false;
    }
    return AllQuiet(cluster);
  })) << "every replica applies the proposal, then the group is quiet again";
  // The other groups never woke.
  ExpectSafe(cluster);
}

TEST(QuiescenceTest, FollowerDownWhileItsGroupWentQuietCatchesUp) {
  Cluster cluster(Options(205));
  SettleQuiet(cluster);
  const runtime::NodeId leader = static_cast<runtime::NodeId>(cluster.LeaderOf(2));
  const runtime::NodeId follower = leader == 3 ? 2 : 3;
  cluster.world().Crash(follower);
  // Traffic the follower misses, then idle: the group quiesces without it (it was silent for a
  // whole check-quorum round).
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cluster.ProposeOne(2));
    cluster.world().RunFor(Duration::Milliseconds(20));
  }
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(5), [&] { return Quiet(cluster, leader, 2); }))
      << "the group did not go quiet without its down follower";
  const int64_t applied = cluster.node(leader)->group(2)->applied_offset();
  EXPECT_GE(cluster.checker().max_acked_offset(2), 0);
  cluster.world().Restart(follower);
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(5), [&] {
    raft::driver::NodeDriver* n = cluster.node(follower);
    return n != nullptr && n->group(2) != nullptr && n->group(2)->applied_offset() >= applied &&
           AllQuiet(cluster);
  })) << "the returning follower did not catch up (and the group go quiet again)";
  EXPECT_EQ(cluster.LeaderOf(2), leader);
  ExpectSafe(cluster);
}

// Regression (found by the 5-broker simulation): a follower whose disk lost the tail it had
// acknowledged comes back fenced into a QUIET group. The leader's progress still says the
// follower holds everything, a fenced replica never campaigns, and a quiet group sends it
// nothing: it stayed behind for good. Its fence query now carries its durable log end, and a
// leader that counted on more restarts, so a fresh leader (no match offsets) repairs it.
TEST(QuiescenceTest, AFollowerThatLostItsAcknowledgedTailIsRepairedInAQuietGroup) {
  Cluster cluster(Options(206));
  SettleQuiet(cluster);
  const runtime::NodeId leader = static_cast<runtime::NodeId>(cluster.LeaderOf(1));
  const runtime::NodeId follower = leader == 3 ? 2 : 3;
  const int64_t applied = cluster.node(leader)->group(1)->applied_offset();
  cluster.world().Crash(follower);
  // Media damage near the end of its segment: recovery cuts the tail it acknowledged.
  constexpr char kSegment[] = "g1/log/00000000000000000000.log";
  SimDisk& disk = cluster.world().node(follower).sim_disk();
  ASSERT_TRUE(disk.FileExists(kSegment));
  const uint64_t size = disk.DurableContents(kSegment).size();
  ASSERT_GT(size, 200u);
  disk.CorruptByte(kSegment, size - 100, 0x10);
  cluster.NoteManualDamage(follower);
  cluster.world().Restart(follower);
  EXPECT_TRUE(RunUntil(cluster, Duration::Seconds(30), [&] {
    raft::driver::NodeDriver* n = cluster.node(follower);
    return n != nullptr && n->group(1) != nullptr && !n->group(1)->fenced() &&
           n->group(1)->applied_offset() >= applied;
  })) << "the damaged follower was never repaired";
  ExpectSafe(cluster);
}

}  // namespace
}  // namespace eddy::sim::cluster
