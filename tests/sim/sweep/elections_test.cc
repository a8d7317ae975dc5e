// 100,000 elections on one group: round-robin leadership transfers on 3 brokers (no faults, a
// batch now and then so terms have entries), then a restart of every broker. The replicas' hard
// state must keep one size however many terms pass: it used to list the start of every term
// with entries, outgrew its 64 KiB record at about 8,000 terms and aborted every replica, for
// good, since the log scan on restart rebuilt the same list. Checks: the hard-state files stay
// small (a bound independent of the term count), every replica restarts and the group serves,
// and the checker saw no violation.
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {
namespace {

constexpr uint64_t kElections = 100'000;
// The node's state files are compacted past NodeStateStoreOptions::compact_bytes; a round
// appends well under 1 KiB for one group.
constexpr uint64_t kHardStateFileSizeBytesMax =
    raft::driver::NodeStateStoreOptions{}.compact_bytes + 64 * 1024;

uint64_t HardStateSizeBytes(Cluster& cluster, runtime::NodeId node) {
  SimDisk& disk = cluster.world().node(node).sim_disk();
  uint64_t size = 0;
  for (const char* name : {"state/state.a", "state/state.b"}) {
    if (disk.FileExists(name)) size = std::max<uint64_t>(size, disk.DurableContents(name).size());
  }
  return size;
}

TEST(ElectionsTest, HardStateStaysBoundedOverAHundredThousandElections) {
  ClusterOptions options;
  options.seed = 81;
  options.node_count = 3;
  options.group_count = 1;
  options.faults = FaultMode::kNone;
  options.transfer_interval_mean = Duration::Zero();
  options.membership_interval_mean = Duration::Zero();
  options.lifecycle_interval_mean = Duration::Zero();
  Cluster cluster(options);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  raft::Term term = 0;
  uint64_t transfers = 0;
  int leaderless_ms = 0;
  while (term < kElections) {
    const raft::NodeId leader = cluster.LeaderOf(1);
    if (leader == raft::kNoNode) {
      ASSERT_LT(++leaderless_ms, 5'000) << "no leader for 5 s at term " << term;
      cluster.world().RunFor(Duration::Milliseconds(1));
      continue;
    }
    leaderless_ms = 0;
    raft::driver::GroupDriver* g = cluster.node(leader)->group(1);
    term = g->raft()->term();
    if (transfers % 16 == 0) cluster.ProposeOne(1);
    static_cast<void>(g->TransferLeadership(leader % 3 + 1));
    ++transfers;
    for (int i = 0; i < 200 && cluster.LeaderOf(1) == leader; ++i) {
      cluster.world().RunFor(Duration::Milliseconds(1));
    }
    if (transfers % 10'000 == 0) {
      for (runtime::NodeId node : {1, 2, 3}) {
        ASSERT_LE(HardStateSizeBytes(cluster, node), kHardStateFileSizeBytesMax)
            << "node " << node << " at term " << term;
      }
    }
  }
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  // Every broker restarts (the log scan runs over every term) and the group serves again.
  for (runtime::NodeId node : {1, 2, 3}) {
    cluster.world().Crash(node);
    cluster.world().Restart(node);
    cluster.world().RunFor(Duration::Seconds(1));
  }
  const uint64_t acked = cluster.checker().acked_count();
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.StopWorkload();
  EXPECT_GT(cluster.checker().acked_count(), acked + 100);
  for (runtime::NodeId node : {1, 2, 3}) {
    EXPECT_NE(cluster.node(node)->group(1)->raft(), nullptr) << "node " << node;
    EXPECT_LE(HardStateSizeBytes(cluster, node), kHardStateFileSizeBytesMax);
  }
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

}  // namespace
}  // namespace eddy::sim::cluster
