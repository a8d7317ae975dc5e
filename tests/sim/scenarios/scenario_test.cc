// Story-style scenarios for the replicated partition, each a short, scripted run of the
// simulated cluster (sim/cluster) without random faults: the script injects exactly one
// situation and asserts the recovery path the driver must take, while the checker verifies
// every safety property throughout and the cluster must converge (every acknowledged batch on
// every replica) afterwards. One scenario turns retention on and shows the snapshot path end to
// end: a follower behind the leader's log start installs a snapshot and catches up.
#include <string>

#include "gtest/gtest.h"
#include "raft/driver/entry_batch.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {
namespace {

constexpr char kSegment[] = "g1/log/00000000000000000000.log";

ClusterOptions Quiet(uint64_t seed) {
  ClusterOptions options;
  options.seed = seed;
  options.node_count = 3;
  options.group_count = 1;
  options.faults = FaultMode::kNone;
  options.batches_per_second = 200;
  options.transfer_interval_mean = Duration::Zero();
  return options;
}

uint64_t CountOf(const Cluster& cluster, const std::string& name) {
  auto it = cluster.recovery_counts().find(name);
  return it == cluster.recovery_counts().end() ? 0 : it->second;
}

// Runs until every acknowledged batch is on every replica, or fails after `bound`.
void ExpectConverges(Cluster& cluster, Duration bound) {
  cluster.StopWorkload();
  const Instant deadline = cluster.world().Now() + bound;
  while (!cluster.Converged() && cluster.world().Now() < deadline) {
    cluster.world().RunFor(Duration::Milliseconds(100));
  }
  EXPECT_TRUE(cluster.Converged()) << "not converged within the bound";
  cluster.checker().CheckFinal();
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  EXPECT_GT(cluster.checker().acked_count(), 100u);
}

raft::NodeId AFollower(Cluster& cluster) {
  const raft::NodeId leader = cluster.LeaderOf(1);
  EXPECT_NE(leader, raft::kNoNode);
  return leader == 2 ? 3 : 2;
}

// Reads every batch `node` serves for group 1 from its log start up to its applied offset, feeding
// each to the checker (which fails on any batch that is not the committed one). Returns the
// offsets covered, checking that they are contiguous from the log start.
struct Coverage {
  int64_t start = -1;
  int64_t next = -1;
  size_t batches = 0;
};
Coverage ReadEverythingCommitted(Cluster& cluster, raft::NodeId node) {
  raft::driver::GroupDriver* g = cluster.node(node)->group(1);
  Coverage c;
  c.start = g->log_start_offset();
  c.next = c.start;
  while (c.next <= g->applied_offset()) {
    bool done = false;
    absl::StatusOr<raft::driver::GroupDriver::Batches> got;
    g->ReadCommitted(c.next, 64 * kKiB, [&](absl::StatusOr<raft::driver::GroupDriver::Batches> b) {
      got = std::move(b);
      done = true;
    });
    while (!done) cluster.world().RunFor(Duration::Milliseconds(1));
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || got->empty()) break;
    for (const std::vector<uint8_t>& batch : *got) {
      const absl::StatusOr<raft::EntryMeta> meta = raft::driver::DecodeEntryMeta(batch);
      EXPECT_TRUE(meta.ok());
      if (!meta.ok()) return c;
      EXPECT_EQ(meta->base_offset, c.next) << "reads must be contiguous from the log start";
      cluster.checker().OnRead(node, 1, batch);
      c.next = meta->last_offset + 1;
      ++c.batches;
    }
  }
  return c;
}

TEST(ScenarioTest, FollowerDownWhileLeaderTruncatesItsPrefixCatchesUpFromASnapshot) {
  ClusterOptions options = Quiet(31);
  options.retention_offsets = 32;
  options.segment_size_bytes_max = 4 * kKiB;
  Cluster cluster(options);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  const raft::NodeId victim = AFollower(cluster);
  const int64_t victim_last = cluster.node(victim)->group(1)->log_last_offset();
  cluster.world().Crash(static_cast<runtime::NodeId>(victim));
  // The others go on; retention moves their snapshot points, and segment files go, well past
  // the end of the victim's log.
  cluster.world().RunFor(Duration::Seconds(4));
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_NE(leader, victim);
  EXPECT_GT(cluster.node(leader)->group(1)->log_start_offset(), victim_last + 1);
  EXPECT_FALSE(cluster.world().node(static_cast<runtime::NodeId>(leader)).sim_disk().FileExists(
      kSegment));
  EXPECT_GT(CountOf(cluster, "log prefix truncated to the snapshot point"), 0u);
  const uint64_t sent_before = CountOf(cluster, "snapshot sent");
  const uint64_t installed_before = CountOf(cluster, "snapshot installed");
  cluster.world().Restart(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(2));
  // The leader could not send the entries after the victim's log: it sent its snapshot point,
  // the victim installed it (its log restarted there) and caught up by appends.
  EXPECT_GT(CountOf(cluster, "snapshot sent"), sent_before);
  EXPECT_GT(CountOf(cluster, "snapshot installed"), installed_before);
  ExpectConverges(cluster, Duration::Seconds(60));
  // Every replica serves every committed batch from its log start on, contiguously, up to every
  // acknowledged offset; below its log start, a read is refused with kOutOfRange.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    const Coverage c = ReadEverythingCommitted(cluster, id);
    EXPECT_GT(c.start, 0) << "node " << id;
    EXPECT_GT(c.next, cluster.checker().max_acked_offset(1)) << "node " << id;
    EXPECT_GT(c.batches, 0u);
    bool refused = false;
    cluster.node(id)->group(1)->ReadCommitted(
        c.start - 1, 4 * kKiB, [&](absl::StatusOr<raft::driver::GroupDriver::Batches> b) {
          refused = b.status().code() == absl::StatusCode::kOutOfRange;
        });
    EXPECT_TRUE(refused) << "node " << id;
  }
  const raft::driver::GroupDriver* g = cluster.node(victim)->group(1);
  EXPECT_GT(g->log_start_offset(), victim_last + 1);
  EXPECT_GT(g->stats().snapshots_installed, 0u);
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

TEST(ScenarioTest, CrashMidAppendCorruptTailRestartTruncatesAndRepairsFromLeader) {
  Cluster cluster(Quiet(7));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  const raft::NodeId victim = AFollower(cluster);
  // Crash node 2 in the middle of the workload: appends are in flight, a torn tail is kept.
  cluster.world().Crash(static_cast<runtime::NodeId>(victim),
                        CrashOptions{.keep_unsynced_prefix = true, .tear_last_sector = true});
  // Corrupt its tail: flip a bit near the end of the (durable) segment.
  SimDisk& disk = cluster.world().node(static_cast<runtime::NodeId>(victim)).sim_disk();
  ASSERT_TRUE(disk.FileExists(kSegment));
  const uint64_t size = disk.DurableContents(kSegment).size();
  ASSERT_GT(size, 200u);
  disk.CorruptByte(kSegment, size - 100, 0x10);
  cluster.NoteManualDamage(victim);
  const uint64_t truncations_before = CountOf(cluster, "recovery truncated a torn or corrupt tail");
  cluster.world().RunFor(Duration::Seconds(1));
  cluster.world().Restart(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(2));
  // Recovery cut the corrupt tail; the replica then fenced itself (it had acknowledged those
  // entries) and was repaired from the leader.
  EXPECT_GT(CountOf(cluster, "recovery truncated a torn or corrupt tail"), truncations_before);
  EXPECT_GT(CountOf(cluster, "data loss detected on open: replica fenced until repaired"), 0u);
  ExpectConverges(cluster, Duration::Seconds(60));
  EXPECT_GT(CountOf(cluster, "repair fence lifted: log repaired from the leader"), 0u);
}

TEST(ScenarioTest, ReplicaWhoseLogSpansManyReadsRestartsWithAllOfIt) {
  // The scan on open must read the whole log however many reads it takes (it once stopped after
  // the first read, because the replica was not running yet, and lost the control entries and
  // term starts of the rest). A story test of restarts with a log of many reads; the schedules
  // that caught the bug are pinned in tests/sim/sweep/regression_seeds_test.cc.
  ClusterOptions options = Quiet(11);
  options.read_size_bytes_max = 512;
  options.transfer_interval_mean = Duration::Milliseconds(700);  // many terms in the log
  Cluster cluster(options);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(4));
  const raft::NodeId victim = AFollower(cluster);
  for (int restart = 0; restart < 2; ++restart) {
    cluster.world().Crash(static_cast<runtime::NodeId>(victim), CrashOptions{});
    cluster.world().RunFor(Duration::Milliseconds(300));
    cluster.world().Restart(static_cast<runtime::NodeId>(victim));
    cluster.world().RunFor(Duration::Seconds(2));
  }
  EXPECT_EQ(CountOf(cluster, "corrupt batch found on open: log cut there"), 0u);
  EXPECT_EQ(CountOf(cluster, "data loss detected on open: replica fenced until repaired"), 0u);
  ExpectConverges(cluster, Duration::Seconds(60));
}

TEST(ScenarioTest, IsolatedLeaderLosesItsUncommittedSuffixOnHeal) {
  Cluster cluster(Quiet(11));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  const raft::NodeId old_leader = cluster.LeaderOf(1);
  ASSERT_NE(old_leader, raft::kNoNode);
  // Cut the leader off. Proposals sent to it before the majority notices are never committed.
  cluster.world().network().Isolate(static_cast<runtime::NodeId>(old_leader));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cluster.ProposeOne(1));
  cluster.world().RunFor(Duration::Seconds(3));
  const raft::NodeId new_leader = cluster.LeaderOf(1);
  ASSERT_NE(new_leader, raft::kNoNode);
  EXPECT_NE(new_leader, old_leader);
  cluster.world().network().HealAll();
  cluster.world().RunFor(Duration::Seconds(3));
  // The old leader's suffix conflicted with the new leader's log and gave way (§5.3).
  EXPECT_GT(CountOf(cluster, "conflicting suffix truncated"), 0u);
  ExpectConverges(cluster, Duration::Seconds(60));
}

TEST(ScenarioTest, FollowerLosingAcknowledgedDataIsFencedFromVotingUntilRepaired) {
  Cluster cluster(Quiet(23));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(4));
  const raft::NodeId victim = AFollower(cluster);
  cluster.world().Crash(static_cast<runtime::NodeId>(victim));
  // Bit rot in the middle of its durable log: recovery must cut there, below what it acked.
  SimDisk& disk = cluster.world().node(static_cast<runtime::NodeId>(victim)).sim_disk();
  const uint64_t size = disk.DurableContents(kSegment).size();
  disk.CorruptByte(kSegment, size / 2, 0x01);
  cluster.NoteManualDamage(victim);
  cluster.world().Restart(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(1));
  EXPECT_GT(CountOf(cluster, "data loss detected on open: replica fenced until repaired"), 0u);
  // The leader notices the follower has less than it acknowledged and restarts to reset its
  // progress; the new leader repairs the follower.
  ExpectConverges(cluster, Duration::Seconds(60));
  EXPECT_GT(CountOf(cluster, "repair fence lifted: log repaired from the leader"), 0u);
  const raft::driver::GroupDriver* g = cluster.node(victim)->group(1);
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(g->fenced());
}

}  // namespace
}  // namespace eddy::sim::cluster
