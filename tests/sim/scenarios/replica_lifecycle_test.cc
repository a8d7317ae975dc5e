// Replica lifecycle at runtime, through NodeDriver on SimDisk: a replica is removed while the node
// runs (its pending work fails as outcome unknown, its files leave the disk, the group id can be
// added again only once that is durable), and a directory is never opened under another
// identity (replica id, group id, bootstrap voters are saved before anything else and checked on
// every open: a reused or mistaken id could vote twice in a term).
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::cluster {
namespace {

using raft::driver::GroupOptions;
using raft::driver::NodeDriver;

TEST(ReplicaLifecycleTest, RemovedReplicaStopsAndItsFilesLeaveTheDisk) {
  ClusterOptions options;
  options.seed = 91;
  options.faults = FaultMode::kNone;
  options.transfer_interval_mean = Duration::Zero();
  options.membership_interval_mean = Duration::Zero();
  options.lifecycle_interval_mean = Duration::Zero();
  Cluster cluster(options);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  const raft::NodeId leader = cluster.LeaderOf(1);
  const runtime::NodeId victim = leader == 3 ? 2 : 3;
  SimDisk& disk = cluster.world().node(victim).sim_disk();
  ASSERT_TRUE(cluster.node(victim)->state_store().holds(1));
  std::optional<absl::Status> removed;
  cluster.node(victim)->RemoveGroup(1, [&](absl::Status s) { removed = s; });
  EXPECT_EQ(cluster.node(victim)->group(1), nullptr);
  GroupOptions again;
  again.group_id = 1;
  again.replica_id = victim;
  again.voters = {1, 2, 3};
  EXPECT_EQ(cluster.node(victim)->AddGroup(again).code(), absl::StatusCode::kFailedPrecondition)
      << "added back before its files were gone";
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(removed->ok()) << *removed;
  EXPECT_FALSE(cluster.node(victim)->state_store().holds(1));
  EXPECT_FALSE(disk.FileExists("g1/log/00000000000000000000.log"));
  std::optional<absl::Status> unknown;
  cluster.node(victim)->RemoveGroup(7, [&](absl::Status s) { unknown = s; });
  cluster.world().RunFor(Duration::Milliseconds(10));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->code(), absl::StatusCode::kNotFound);
  // The other two go on serving.
  const uint64_t acked = cluster.checker().acked_count();
  cluster.world().RunFor(Duration::Seconds(2));
  EXPECT_GT(cluster.checker().acked_count(), acked + 50);
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property;
}

class CountingObserver final : public raft::driver::DriverObserver {
 public:
  void OnEvent(raft::NodeId, raft::driver::GroupId, const char* name) override {
    if (std::string(name) == raft::driver::GroupDriver::kIdentityRefusedEvent) ++refusals;
  }
  int refusals = 0;
};

TEST(ReplicaLifecycleTest, DirectoryIsNeverOpenedUnderAnotherIdentity) {
  SimWorld world({.seed = 5, .nodes = {1}});
  CountingObserver observer;
  GroupOptions first;
  first.group_id = 1;
  first.replica_id = raft::driver::ReplicaId(1, 0);
  first.voters = {1};
  {
    NodeDriver node(world.node(1), {}, &observer);
    ASSERT_TRUE(node.AddGroup(first).ok());
    node.Start();
    world.RunFor(Duration::Seconds(2));
    ASSERT_NE(node.group(1)->raft(), nullptr);
    EXPECT_EQ(node.group(1)->raft()->role(), raft::Role::kLeader);
  }
  // Same directory, another incarnation id: refused, the replica stays stopped.
  GroupOptions other = first;
  other.replica_id = raft::driver::ReplicaId(1, 1);
  {
    NodeDriver node(world.node(1), {}, &observer);
    ASSERT_TRUE(node.AddGroup(other).ok());
    node.Start();
    world.RunFor(Duration::Seconds(1));
    EXPECT_TRUE(node.group(1)->halted());
    EXPECT_EQ(node.group(1)->raft(), nullptr);
    EXPECT_EQ(node.group(1)->stats().identity_refusals, 1u);
  }
  // Another bootstrap configuration: refused too.
  GroupOptions voters = first;
  voters.voters = {1, 2, 3};
  {
    NodeDriver node(world.node(1), {}, &observer);
    ASSERT_TRUE(node.AddGroup(voters).ok());
    node.Start();
    world.RunFor(Duration::Seconds(1));
    EXPECT_TRUE(node.group(1)->halted());
  }
  EXPECT_EQ(observer.refusals, 2);
  // The rightful identity still opens it, with its log and term.
  {
    NodeDriver node(world.node(1), {}, &observer);
    ASSERT_TRUE(node.AddGroup(first).ok());
    node.Start();
    world.RunFor(Duration::Seconds(2));
    ASSERT_NE(node.group(1)->raft(), nullptr);
    EXPECT_FALSE(node.group(1)->halted());
  }
}

}  // namespace
}  // namespace eddy::sim::cluster
