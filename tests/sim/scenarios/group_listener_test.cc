// GroupListener through running replicas (3 brokers on SimDisk, no random faults): each
// replica's owner hears leadership changes, a leader's "ready to serve" once it applied its own
// term's no-op, a Kafka high watermark that only goes up and reaches what was acknowledged, a
// stop on disk failure, and its removal.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "raft/driver/group_listener.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {
namespace {

struct Recorder final : raft::driver::GroupListener {
  void OnLeadership(const raft::SoftState& soft) override { leadership.push_back(soft); }
  void OnHighWatermark(int64_t hwm) override {
    EXPECT_GT(hwm, last_hwm) << "the high watermark must only go up";
    last_hwm = hwm;
    ++hwm_updates;
  }
  void OnReadyToServe(raft::Term term) override { ready_terms.push_back(term); }
  void OnStopped(const absl::Status&) override { ++stops; }
  void OnRemoved() override { ++removals; }
  std::vector<raft::SoftState> leadership;
  std::vector<raft::Term> ready_terms;
  int64_t last_hwm = -1;
  int hwm_updates = 0;
  int stops = 0;
  int removals = 0;
};

TEST(GroupListenerTest, OwnerHearsLeadershipReadinessHighWatermarkStopsAndRemoval) {
  ClusterOptions options;
  options.seed = 111;
  options.faults = FaultMode::kNone;
  options.transfer_interval_mean = Duration::Zero();
  options.membership_interval_mean = Duration::Zero();
  options.lifecycle_interval_mean = Duration::Zero();
  Cluster cluster(options);
  Recorder recorders[4];
  for (runtime::NodeId n : {1, 2, 3}) cluster.node(n)->group(1)->SetListener(&recorders[n]);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  const raft::Term term = cluster.node(leader)->group(1)->raft()->term();
  Recorder& lead = recorders[leader];
  ASSERT_FALSE(lead.leadership.empty());
  EXPECT_EQ(lead.leadership.back().role, raft::Role::kLeader);
  ASSERT_FALSE(lead.ready_terms.empty()) << "the leader never said it was ready to serve";
  EXPECT_EQ(lead.ready_terms.back(), term);
  for (runtime::NodeId n : {1, 2, 3}) {
    EXPECT_GT(recorders[n].hwm_updates, 3) << "node " << n;
    if (n != leader) {
      EXPECT_TRUE(recorders[n].ready_terms.empty()) << "a follower was ready";
    }
  }
  // A follower's disk fails: it stops (and reopens by itself).
  const raft::NodeId follower = leader == 1 ? 2 : 1;
  DiskFaultOptions full;
  full.no_space_ppm = 1'000'000;
  cluster.world().node(static_cast<runtime::NodeId>(follower)).sim_disk().SetFaults(full);
  cluster.world().RunFor(Duration::Seconds(1));
  EXPECT_GT(recorders[follower].stops, 0);
  cluster.world().node(static_cast<runtime::NodeId>(follower)).sim_disk().SetFaults({});
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(8));
  // Everything acknowledged is below every replica's high watermark (in Kafka offsets: at
  // least one record per acknowledged batch).
  for (runtime::NodeId n : {1, 2, 3}) {
    EXPECT_GE(recorders[n].last_hwm, static_cast<int64_t>(cluster.checker().acked_count()))
        << "node " << n;
    EXPECT_EQ(recorders[n].last_hwm, cluster.node(n)->group(1)->kafka_high_watermark());
  }
  const raft::NodeId other = leader == 3 ? 2 : 3;
  cluster.node(other)->RemoveGroup(1, [](absl::Status) {});
  EXPECT_EQ(recorders[other].removals, 1);
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

}  // namespace
}  // namespace eddy::sim::cluster
