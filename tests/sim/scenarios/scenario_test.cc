// Story-style scenarios for the replicated partition, each a short, scripted run of the
// simulated cluster (sim/cluster) without random faults: the script injects exactly one
// situation and asserts the recovery path the driver must take, while the checker verifies
// every safety property throughout and the cluster must converge (every acknowledged batch on
// every replica) afterwards. The membership stories drive one MembershipCycle by hand (remove a
// replica, maybe wipe it, add it back as a learner, promote it) and then check the configuration,
// the replica's identity, and that the group stays live and readable.
// One scenario turns retention on and shows the snapshot path end to end: a follower behind
// the leader's log start installs a snapshot and catches up.
#include <string>
#include <vector>

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
  options.membership_interval_mean = Duration::Zero();  // scripted by the test when wanted
  options.lifecycle_interval_mean = Duration::Zero();
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
  // Its proposals' acknowledgements say so: definitely not committed (kAborted), and the
  // checker's aborted-never-committed property holds them to it.
  EXPECT_GT(CountOf(cluster, "proposal failed: definitely not committed"), 0u);
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

// Runs until the membership cycle in progress completes, or fails after `bound`.
void ExpectCycleCompletes(Cluster& cluster, Duration bound) {
  const Instant deadline = cluster.world().Now() + bound;
  while (!cluster.membership().idle() && cluster.world().Now() < deadline) {
    cluster.world().RunFor(Duration::Milliseconds(100));
  }
  ASSERT_TRUE(cluster.membership().idle()) << cluster.membership().Describe();
}

// Reads `group`'s whole committed prefix from `node` through the client read path, handing
// every batch to the checker (which fails the run if one differs from the committed batch).
// Returns the offset after the last batch read.
int64_t ReadEverything(Cluster& cluster, raft::NodeId node, raft::driver::GroupId group) {
  int64_t next = 0;
  for (int reads = 0; reads < 100'000; ++reads) {
    raft::driver::GroupDriver* g = cluster.node(node)->group(group);
    if (g == nullptr || next > g->applied_offset()) break;
    bool done = false;
    std::vector<std::vector<uint8_t>> batches;
    g->ReadCommitted(next, 64 * kKiB, [&](absl::StatusOr<raft::driver::GroupDriver::Batches> r) {
      done = true;
      if (r.ok()) batches = *std::move(r);
    });
    while (!done) cluster.world().RunFor(Duration::Milliseconds(1));
    if (batches.empty()) break;
    for (const std::vector<uint8_t>& b : batches) {
      cluster.checker().OnRead(node, group, b);
      next = raft::driver::DecodeEntryMeta(b)->last_offset + 1;
    }
  }
  return next;
}

TEST(ScenarioTest, RemovedReplicaIsWipedRejoinsAsLearnerUnderANewIdAndIsPromoted) {
  Cluster cluster(Quiet(31));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  const uint64_t acked_before = cluster.checker().acked_count();
  // Remove node 3's replica, wipe its directory, add it back as a learner, promote it.
  cluster.membership().Begin(1, 3, /*wipe=*/true);
  ExpectCycleCompletes(cluster, Duration::Seconds(30));
  const raft::NodeId rejoined = raft::driver::ReplicaId(3, 1);
  EXPECT_EQ(cluster.ReplicaIdOf(3, 1), rejoined);
  EXPECT_EQ(cluster.CommittedMembership(1).voters(), (std::vector<raft::NodeId>{1, 2, rejoined}));
  EXPECT_TRUE(cluster.CommittedMembership(1).learners().empty());
  EXPECT_EQ(CountOf(cluster, "replica directory wiped"), 1u);
  EXPECT_EQ(CountOf(cluster, "replica wiped and rejoined"), 1u);
  EXPECT_EQ(CountOf(cluster, "learner promoted"), 1u);
  EXPECT_GE(CountOf(cluster, "membership change committed"), 3u);  // remove, add, promote
  // The new incarnation rebuilt its log from offset 0 (the old files are gone) and serves it.
  const raft::driver::GroupDriver* g3 = cluster.node(3)->group(1);
  ASSERT_NE(g3, nullptr);
  ASSERT_NE(g3->raft(), nullptr);
  EXPECT_EQ(g3->raft()->id(), rejoined);
  EXPECT_GT(cluster.checker().acked_count(), acked_before);

  // Now lose node 1: the group of {2, 3#1} must stay live, and every acknowledged batch must be
  // readable from both survivors, the rejoined one included.
  cluster.world().Crash(1);
  const uint64_t acked_at_crash = cluster.checker().acked_count();
  cluster.world().RunFor(Duration::Seconds(5));
  const raft::NodeId leader = cluster.LeaderOf(1);
  EXPECT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_GT(cluster.checker().acked_count(), acked_at_crash + 100) << "the group stalled";
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  for (raft::NodeId survivor : {raft::NodeId{2}, raft::NodeId{3}}) {
    EXPECT_GT(ReadEverything(cluster, survivor, 1), cluster.checker().max_acked_offset(1))
        << "node " << survivor;
  }
  cluster.checker().CheckFinal();
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  cluster.world().Restart(1);
  ExpectConverges(cluster, Duration::Seconds(60));
}

TEST(ScenarioTest, RemovedReplicaKeepingItsDiskRejoinsUnderItsOwnId) {
  // Without a wipe the replica keeps its term, vote and log, so its id may come back.
  Cluster cluster(Quiet(37));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.membership().Begin(1, 3, /*wipe=*/false);
  ExpectCycleCompletes(cluster, Duration::Seconds(30));
  EXPECT_EQ(cluster.ReplicaIdOf(3, 1), 3u);
  EXPECT_EQ(cluster.CommittedMembership(1).voters(), (std::vector<raft::NodeId>{1, 2, 3}));
  EXPECT_EQ(CountOf(cluster, "replica directory wiped"), 0u);
  EXPECT_EQ(CountOf(cluster, "learner promoted"), 1u);
  ExpectConverges(cluster, Duration::Seconds(60));
}

TEST(ScenarioTest, WipeWhileTheNodeIsDownHappensAtItsRestart) {
  // The replica's node is down when the cycle reaches the wipe: the directory is erased when it
  // comes back, before the broker starts, and the replica rejoins under its new id.
  Cluster cluster(Quiet(41));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.membership().Begin(1, 3, /*wipe=*/true);
  cluster.world().Crash(3);
  cluster.world().RunFor(Duration::Seconds(2));
  // Removed and retired; the new id may be added as a learner already, but it cannot catch up
  // (so cannot be promoted) while its node is down.
  EXPECT_TRUE(cluster.membership().step() == MembershipCycle::Step::kAdd ||
              cluster.membership().step() == MembershipCycle::Step::kPromote)
      << cluster.membership().Describe();
  EXPECT_EQ(CountOf(cluster, "replica directory wiped"), 0u);
  cluster.world().Restart(3);
  ExpectCycleCompletes(cluster, Duration::Seconds(30));
  EXPECT_EQ(CountOf(cluster, "replica directory wiped"), 1u);
  EXPECT_EQ(cluster.ReplicaIdOf(3, 1), raft::driver::ReplicaId(3, 1));
  ExpectConverges(cluster, Duration::Seconds(60));
}

// Why a wiped replica must rejoin under a new id. Node S is cut off; the leader L commits data
// and the removal of node 3 with 3's help; 3 is wiped. Then L is cut off and S meets 3. S never
// learned of the removal, so in its configuration {1, 2, 3} it needs one more vote. Under its
// old id the empty replica grants it (no term, no vote, an empty log is never more up to date),
// S wins and overwrites what L and 3 had committed (the checker reports the id's term going
// backwards as soon as the empty replica opens). Under a new id the request, addressed to
// the old id, is refused, S cannot win, and healing the network lets the cycle finish.
struct Cast {
  raft::NodeId leader = raft::kNoNode;  // leads while the stale node is cut off
  raft::NodeId stale = raft::kNoNode;
  int64_t acked_before_meeting = raft::kNoOffset;  // last acked offset while `leader` led
};

void CutOffStaleNodeWipeNode3ThenLetThemMeet(Cluster& cluster, Cast* cast) {
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  if (cluster.LeaderOf(1) == 3) {
    ASSERT_TRUE(cluster.node(3)->group(1)->TransferLeadership(1).ok());
    cluster.world().RunFor(Duration::Seconds(1));
  }
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_TRUE(leader == 1 || leader == 2) << leader;
  const runtime::NodeId stale = leader == 1 ? 2 : 1;
  cast->leader = leader;
  cast->stale = stale;
  cluster.world().network().Isolate(stale);
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.membership().Begin(1, 3, /*wipe=*/true);
  const Instant deadline = cluster.world().Now() + Duration::Seconds(10);
  while (CountOf(cluster, "replica directory wiped") == 0 && cluster.world().Now() < deadline) {
    cluster.world().RunFor(Duration::Milliseconds(100));
  }
  ASSERT_EQ(CountOf(cluster, "replica directory wiped"), 1u);
  cluster.world().RunFor(Duration::Milliseconds(500));
  cast->acked_before_meeting = cluster.checker().max_acked_offset(1);
  cluster.world().network().HealAll();
  cluster.world().network().Isolate(static_cast<runtime::NodeId>(leader));
  cluster.world().RunFor(Duration::Seconds(5));
}

TEST(ScenarioTest, WipedReplicaReusingItsOldIdLetsAStaleNodeOverwriteCommittedData) {
  ClusterOptions options = Quiet(43);
  options.reuse_wiped_replica_id = true;  // the planted harness bug
  Cluster cluster(options);
  Cast cast;
  CutOffStaleNodeWipeNode3ThenLetThemMeet(cluster, &cast);
  // The checker notices at once: under one id, the replica's persisted term went backwards.
  ASSERT_TRUE(cluster.checker().failed()) << "the reused id went unnoticed";
  EXPECT_EQ(cluster.checker().violation()->property, "term-monotonic")
      << cluster.checker().violation()->detail;
  // And the damage is real: the stale node leads, and its log holds something else where the
  // cut-off leader holds the last acknowledged (committed) batch.
  EXPECT_EQ(cluster.LeaderOf(1), cast.stale);
  const int64_t acked = cast.acked_before_meeting;
  const std::optional<int64_t> committed_term = cluster.node(cast.leader)->group(1)->TermAt(acked);
  const std::optional<int64_t> stale_term = cluster.node(cast.stale)->group(1)->TermAt(acked);
  ASSERT_TRUE(committed_term.has_value()) << "offset " << acked;
  ASSERT_TRUE(stale_term.has_value()) << "offset " << acked;
  EXPECT_NE(*stale_term, *committed_term) << "offset " << acked;
}

TEST(ScenarioTest, WipedReplicaUnderANewIdCannotHelpAStaleNodeWin) {
  Cluster cluster(Quiet(43));
  Cast cast;
  CutOffStaleNodeWipeNode3ThenLetThemMeet(cluster, &cast);
  EXPECT_NE(cluster.LeaderOf(1), cast.stale);
  EXPECT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  cluster.world().network().HealAll();
  ExpectCycleCompletes(cluster, Duration::Seconds(60));
  EXPECT_EQ(cluster.ReplicaIdOf(3, 1), raft::driver::ReplicaId(3, 1));
  ExpectConverges(cluster, Duration::Seconds(60));
}

// Crashes `node`, flips a bit in the middle of its durable log (recovery cuts there, below what
// it acknowledged) and restarts it: it comes back fenced.
void RotMiddleOfLog(Cluster& cluster, runtime::NodeId node) {
  cluster.world().Crash(node);
  SimDisk& disk = cluster.world().node(node).sim_disk();
  const uint64_t size = disk.DurableContents(kSegment).size();
  disk.CorruptByte(kSegment, size / 2, 0x01);
  cluster.NoteManualDamage(node);
  cluster.world().Restart(node);
}

TEST(ScenarioTest, FencedReplicaMovesItsMarkToLaterTermEntriesItAcknowledges) {
  // Node 3 leads while cut off and appends a long uncommitted suffix (its mark: old term, high
  // offset). Its disk rots; it comes back fenced and the new leader replaces that suffix with a
  // shorter log of a later term, which 3 acknowledges, helping commit its last entries while
  // node C is cut off. Its disk rots again, below those entries. Now C, lacking them, asks 3 for
  // its vote with the leader cut off: C's log has a later term than the OLD mark but is shorter
  // than what 3 acknowledged since. The fence must refuse (the mark moved to the later-term
  // entries, §5.4.1's order); had it kept the old mark, C would win and overwrite them (as the
  // driver did until found by membership cycles: eddy-sim --seed=52 --nodes=5 --groups=3
  // --faults=all; with the old mark this test fails with one-value-per-offset).
  Cluster cluster(Quiet(47));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  if (cluster.LeaderOf(1) != 3) {
    ASSERT_TRUE(cluster.node(cluster.LeaderOf(1))->group(1)->TransferLeadership(3).ok());
    cluster.world().RunFor(Duration::Seconds(1));
  }
  ASSERT_EQ(cluster.LeaderOf(1), 3u);
  cluster.world().network().Isolate(3);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(cluster.ProposeOne(1));
  cluster.world().RunFor(Duration::Seconds(3));  // {1, 2} elect a leader; 3 steps down
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_TRUE(leader == 1 || leader == 2) << leader;
  const runtime::NodeId other = leader == 1 ? 2 : 1;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cluster.ProposeOne(1));
  cluster.world().RunFor(Duration::Milliseconds(500));

  RotMiddleOfLog(cluster, 3);
  cluster.world().network().HealAll();
  cluster.world().RunFor(Duration::Seconds(2));
  EXPECT_GT(CountOf(cluster, "data loss detected on open: replica fenced until repaired"), 0u);
  ASSERT_EQ(cluster.LeaderOf(1), leader);
  // The leader commits entries with 3's help only; C (`other`) lacks them.
  cluster.world().network().Isolate(other);
  const uint64_t acked_before = cluster.checker().acked_count();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(cluster.ProposeOne(1));
  cluster.world().RunFor(Duration::Seconds(1));
  ASSERT_GT(cluster.checker().acked_count(), acked_before);
  const int64_t acked = cluster.checker().max_acked_offset(1);
  ASSERT_FALSE(cluster.node(other)->group(1)->TermAt(acked).has_value());

  RotMiddleOfLog(cluster, 3);
  cluster.world().RunFor(Duration::Milliseconds(500));
  cluster.world().network().HealAll();
  cluster.world().network().Isolate(static_cast<runtime::NodeId>(leader));
  cluster.world().RunFor(Duration::Seconds(5));
  EXPECT_NE(cluster.LeaderOf(1), other) << "a leader lacking committed entries was elected";
  EXPECT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  cluster.world().network().HealAll();
  ExpectConverges(cluster, Duration::Seconds(60));
}

}  // namespace
}  // namespace eddy::sim::cluster

namespace eddy::sim::cluster {
namespace {

TEST(ScenarioTest, ReplicaOnAFullDiskReopensWithExponentialBackoff) {
  // Regression: a replica on a disk that refuses every growing write reopened every 200 ms,
  // re-scanning its log five times a second for as long as the disk stayed full.
  Cluster cluster(Quiet(53));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  const raft::NodeId victim = AFollower(cluster);
  DiskFaultOptions full;
  full.no_space_ppm = 1'000'000;
  cluster.world().node(static_cast<runtime::NodeId>(victim)).sim_disk().SetFaults(full);
  const uint64_t opens_before = cluster.node(victim)->group(1)->stats().opens;
  const uint64_t store_opens_before = cluster.node(victim)->state_store().stats().opens;
  cluster.world().RunFor(Duration::Seconds(20));
  const uint64_t opens = cluster.node(victim)->group(1)->stats().opens - opens_before;
  const uint64_t store_opens =
      cluster.node(victim)->state_store().stats().opens - store_opens_before;
  // The node's state store fails its rounds and reopens with the same backoff (0.2, 0.4, 0.8,
  // 1.6, 3.2, then every 5 s: about 8 in 20 s, 100 without backoff); the replica stops at its
  // first failed save and waits for the store in its open, so it re-scans its log at most as
  // often.
  EXPECT_GE(store_opens, 3u);
  EXPECT_LE(store_opens, 12u);
  EXPECT_GE(opens, 1u);
  EXPECT_LE(opens, 12u);
  cluster.world().node(static_cast<runtime::NodeId>(victim)).sim_disk().SetFaults({});
  ExpectConverges(cluster, Duration::Seconds(60));
}

}  // namespace
}  // namespace eddy::sim::cluster
