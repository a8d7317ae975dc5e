// Power loss in the middle of a durability round: every node stops at the instant the group's
// leader has its pending mark durable and the log flush it names not yet (PersistReady saves
// the two in parallel; raft/driver/fence_recovery.h). The leader reopens below its pending mark
// and fences itself (it cannot tell an interrupted flush from damage); the other voters'
// reports bring its fence down to what they hold, so the group elects a leader again and
// nothing acknowledged is lost. Before the reports existed such a replica stayed fenced until
// a leader repaired it — forever when no other replica could win without its vote.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/driver/driver.pb.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

constexpr runtime::NodeId kNodes[] = {1, 2, 3};

// Cuts the power everywhere at the instant group 1's leader has a pending mark durable ahead of
// its log flush (armed: once), and counts group 1's events.
struct PowerCut {
  bool armed = false;
  bool cut = false;
  std::map<std::string, int> events;
  runtime::NodeId fenced = runtime::kNoNode;  // the last node fenced on open (this power loss)
  int64_t pending = -1;  // the leader's pending mark at the cut (its last offset)
  runtime::NodeId leader = runtime::kNoNode;  // whose pending mark it was
};

constexpr const char* kFenced = "log below its pending mark on open: replica fenced";

// A fence report no query of this incarnation asked for (id 1: not this incarnation's random
// base), from another voter, claiming it holds nothing: it must be counted stale and ignored.
void SendStaleFenceReport(Cluster& cluster, runtime::NodeId to) {
  const raft::driver::GroupDriver* fenced = cluster.node(to)->group(1);
  if (fenced == nullptr || fenced->raft() == nullptr) return;
  for (raft::NodeId voter : fenced->raft()->membership().voters()) {
    const runtime::NodeId from = raft::driver::NodeOfReplica(voter);
    if (from == to || !cluster.world().node(from).up()) continue;
    raft::Message report;
    report.set_type(raft::MSG_FENCE_REPORT);
    report.set_from(voter);
    report.set_to(fenced->raft()->id());
    report.set_last_log_offset(-1);
    report.set_conf_change_end(-1);
    report.set_fence_query_id(1);
    raft::driver::Envelope envelope;
    raft::driver::GroupMessage* gm = envelope.add_messages();
    gm->set_group_id(1);
    *gm->mutable_message() = std::move(report);
    const std::string bytes = envelope.SerializeAsString();
    cluster.world().node(from).transport().SendToPeer(
        to, std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return;
  }
}

void Watch(Cluster& cluster, PowerCut& power) {
  cluster.SetPendingMarkHook(
      [&cluster, &power](runtime::NodeId node, raft::driver::GroupId group, int64_t pending) {
        const raft::NodeId leader = cluster.LeaderOf(1);
        if (group != 1 || !power.armed || leader == raft::kNoNode ||
            raft::driver::NodeOfReplica(leader) != node) {
          return;
        }
        power.armed = false;
        power.cut = true;
        power.pending = pending;
        power.leader = node;
        // After the hook returns (the driver is still in its callback).
        cluster.world().loop().ScheduleAfter(Duration::Zero(), [&cluster] {
          for (runtime::NodeId n : kNodes) cluster.world().Crash(n);
        });
      });
  cluster.SetEventHook(
      [&cluster, &power](runtime::NodeId node, raft::driver::GroupId group, const char* name) {
        if (group != 1) return;
        ++power.events[name];
        if (std::string(name) != kFenced) return;
        power.fenced = node;
        // One hop, ahead of the real reports (a query and its answer: two).
        cluster.world().loop().ScheduleAfter(Duration::Zero(), [&cluster, node] {
          SendStaleFenceReport(cluster, node);
        });
      });
}

ClusterOptions PowerLossOptions(uint64_t seed) {
  ClusterOptions options = QuietOptions(seed);
  // Small segments: a flush that rolls a segment syncs the directory after the file, so a
  // power loss can land between the pending mark's save and the entries' durability (the
  // simulated disk makes a sync durable when it is submitted, and the log's sync is submitted
  // before the state round's).
  options.segment_size_bytes_max = 2048;
  return options;
}

// Jitter lets a state round finish before the log flush started with it.
void JitterDisks(Cluster& cluster) {
  for (runtime::NodeId n : kNodes) {
    cluster.world().node(n).sim_disk().SetFaults(
        DiskFaultOptions{.latency_jitter_max = Duration::Microseconds(400)});
  }
}

// Arms the cut and runs until it happened.
::testing::AssertionResult CutPower(Cluster& cluster, PowerCut& power) {
  power.armed = true;
  power.cut = false;
  power.fenced = runtime::kNoNode;
  if (RunUntil(cluster, Duration::Seconds(20), [&] { return power.cut; })) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "the leader never had a pending mark ahead of its flush";
}

TEST(PowerLossTest, EveryNodeStopsMidRoundAndTheFencedLeaderIsLiftedByItsPeers) {
  Cluster cluster(PowerLossOptions(71));
  JitterDisks(cluster);
  PowerCut power;
  Watch(cluster, power);
  cluster.StartWorkload();
  int power_losses = 0;
  constexpr const char* kLowered = "repair fence lowered by the peers' reports";
  uint64_t stale_reports = 0;
  while (power.events[kLowered] == 0 && power_losses < 30) {
    ASSERT_TRUE(CutPower(cluster, power));
    ++power_losses;
    cluster.world().RunFor(Duration::Milliseconds(300));
    for (runtime::NodeId n : kNodes) cluster.world().Restart(n);
    // The group serves again: a new batch is acknowledged.
    const uint64_t acked = cluster.checker().acked_count();
    ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(10),
                         [&] { return cluster.checker().acked_count() > acked; }))
        << "no acknowledgement 10 s after power loss " << power_losses;
    if (power.fenced != runtime::kNoNode && cluster.node(power.fenced) != nullptr) {
      const raft::driver::GroupDriver* g = cluster.node(power.fenced)->group(1);
      if (g != nullptr) stale_reports += g->stats().fence_reports_stale;
    }
    ExpectSafe(cluster);
  }
  EXPECT_GT(power.events[kFenced], 0);
  EXPECT_GT(stale_reports, 0u) << "no fenced replica saw the stale report";
  EXPECT_GT(power.events[kLowered], 0) << "after " << power_losses << " power losses";
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  ExpectSafe(cluster);
}

// Five-node seed 3884: a fenced voter waited for good on the report of a voter whose replica
// was gone from its node (its removal committed only on a leader that then lost it; the replica
// wiped and rejoining under a new id). The node now answers for the old id: an empty log.
// Here: the power cut fences the leader; before the last node restarts, its replica of the
// group is wiped (it comes back as a new incarnation, no voter). The fenced leader cannot be
// elected without the lowered fence, and no one can be elected without the fenced leader's vote.
TEST(PowerLossTest, AVoterWhoseReplicaIsGoneIsAnsweredForByItsNode) {
  Cluster cluster(PowerLossOptions(73));
  JitterDisks(cluster);
  PowerCut power;
  Watch(cluster, power);
  cluster.StartWorkload();
  bool wiped = false;
  runtime::NodeId gone = runtime::kNoNode;
  for (int power_losses = 1; !wiped && power_losses <= 30; ++power_losses) {
    ASSERT_TRUE(CutPower(cluster, power));
    const runtime::NodeId leader = power.leader;
    gone = leader == kNodes[2] ? kNodes[1] : kNodes[2];
    cluster.world().RunFor(Duration::Milliseconds(300));
    for (runtime::NodeId n : kNodes) {
      if (n != gone) cluster.world().Restart(n);
    }
    const runtime::NodeId other = 6 - leader - gone;  // the third node
    auto running = [&cluster](runtime::NodeId n) {
      const raft::driver::GroupDriver* g =
          cluster.node(n) == nullptr ? nullptr : cluster.node(n)->group(1);
      return g != nullptr && g->running();
    };
    RunUntil(cluster, Duration::Seconds(2), [&] { return running(leader) && running(other); });
    const raft::driver::GroupDriver* o = running(other) ? cluster.node(other)->group(1) : nullptr;
    // Only a fence the reports must lower: the other voter's log is below the fenced leader's
    // mark, so it gets no vote from the leader until then.
    if (power.fenced == leader && o != nullptr &&
        o->log_last_offset() < power.pending) {
      cluster.WipeReplica(gone, 1);  // down: the wipe happens as it restarts
      wiped = true;
    }
    cluster.world().Restart(gone);
    const uint64_t acked = cluster.checker().acked_count();
    ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(10),
                         [&] { return cluster.checker().acked_count() > acked; }))
        << "no acknowledgement 10 s after power loss " << power_losses
        << (wiped ? " (with a voter's replica wiped)" : "");
    ExpectSafe(cluster);
  }
  ASSERT_TRUE(wiped) << "the power cut never fenced the leader";
  EXPECT_GT(cluster.node(gone)->stats().fence_queries_answered_absent, 0u);
  EXPECT_GT(power.events["repair fence lowered by the peers' reports"], 0);
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  ExpectSafe(cluster);
}

}  // namespace
}  // namespace eddy::sim::cluster
