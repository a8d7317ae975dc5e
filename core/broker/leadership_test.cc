// LeadershipDirectory keeps the newest term's hint and forgets stale ones; IsrTracker follows
// Kafka's caught-up-within-the-lag-time rule.
#include <map>
#include <vector>

#include "core/broker/isr_tracker.h"
#include "core/broker/leadership_directory.h"
#include "core/broker/testing/broker_cluster.h"
#include "core/kafka/generated/incremental_alter_configs.h"
#include "gtest/gtest.h"

namespace eddy::broker {
namespace {

Instant At(int64_t ms) { return Instant() + Duration::Milliseconds(ms); }

Leadership Hint(raft::Term term, int32_t leader) {
  return Leadership{.group = 1024, .term = term, .leader = leader, .isr = {leader}};
}

TEST(LeadershipDirectoryTest, TheNewestTermWinsUntilItGoesStale) {
  LeadershipDirectory d;
  EXPECT_FALSE(d.Find(1024, At(0)).has_value());
  d.Learn(Hint(5, 2), At(0));
  d.Learn(Hint(4, 1), At(100));  // an old leader still announcing itself
  ASSERT_TRUE(d.Find(1024, At(200)).has_value());
  EXPECT_EQ(d.Find(1024, At(200))->leader, 2);
  d.Learn(Hint(6, 3), At(300));
  EXPECT_EQ(d.Find(1024, At(300))->leader, 3);
  // Not repeated for longer than the lifetime: unknown, never a guess.
  const Duration life = LeadershipDirectory::kHintLifetime;
  EXPECT_TRUE(d.Find(1024, At(300) + life).has_value());
  EXPECT_FALSE(d.Find(1024, At(301) + life).has_value());
  // Once stale, even a lower term (the group's ids restarted? a reset) replaces it.
  d.Learn(Hint(2, 1), At(301) + life);
  EXPECT_EQ(d.Find(1024, At(302) + life)->leader, 1);
  d.Forget(1024);
  EXPECT_EQ(d.size(), 0u);
}

TEST(IsrTrackerTest, FollowersJoinWhenCaughtUpAndLeaveAfterTheLagTime) {
  IsrTracker isr(/*leader=*/1, /*log_end=*/100, At(0));
  EXPECT_EQ(isr.InSync(At(0)), std::vector<int32_t>{1});
  // Broker 2 has reached the log end of the previous sample (100); broker 3 has not.
  isr.Sample({{1, 150}, {2, 100}, {3, 60}}, /*log_end=*/150, At(500));
  EXPECT_EQ(isr.InSync(At(500)), (std::vector<int32_t>{1, 2}));
  isr.Sample({{2, 120}, {3, 150}}, 200, At(1000));
  EXPECT_EQ(isr.InSync(At(1000)), (std::vector<int32_t>{1, 2, 3}));
  // Broker 2 last caught up at 500 ms (at 1000 it was behind the log end of 500 ms): in sync
  // for the lag time after that, then out.
  for (int64_t t = 1500; t <= 30'500; t += 500) {
    isr.Sample({{2, 120}, {3, 1'000'000}}, 1'000'000, At(t));
  }
  EXPECT_EQ(isr.InSync(At(30'500)), (std::vector<int32_t>{1, 2, 3}));
  isr.Sample({{2, 120}, {3, 1'000'000}}, 1'000'000, At(31'000));
  EXPECT_EQ(isr.InSync(At(31'000)), (std::vector<int32_t>{1, 3}));
}

using test_support::Ask;
using test_support::Cluster;
using test_support::CreateRequest;
using test_support::Metadata;
using test_support::ProduceTo;
using test_support::Records;

// The topic's partition 0 as `broker` lists it.
kafka::MetadataResponse::Topic::Partition PartitionZero(Cluster& c, sim::SimClient& client,
                                                        runtime::NodeId broker) {
  auto m = Metadata(c, client, broker);
  for (const auto& t : m.ok() ? m->topics : std::vector<kafka::MetadataResponse::Topic>{}) {
    if (t.name == "spread" && !t.partitions.empty()) return t.partitions[0];
  }
  return {};
}

TEST(LeadershipClusterTest, EveryBrokerNamesTheLeaderAndTheIsrFollowsTheReplicas) {
  Cluster c(21, /*nodes=*/5);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  clients::BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("spread", 1, 3), 5);
  ASSERT_TRUE(created.ok());
  // Two of the five brokers host no replica of it, yet every broker names its leader, and
  // once the followers caught up every replica is in sync.
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    for (runtime::NodeId id : c.world.node_ids()) {
      const auto p = PartitionZero(c, client, id);
      if (p.leader_id < 1 || p.error_code != 0 || p.isr_nodes.size() != 3) return false;
    }
    return true;
  }));
  const auto p = PartitionZero(c, client, 1);
  const auto leader = static_cast<runtime::NodeId>(p.leader_id);
  int32_t follower = -1;
  for (int32_t r : p.replica_nodes) {
    if (r != p.leader_id) follower = r;
  }
  // min.insync.replicas=3 holds while all three are in sync.
  kafka::IncrementalAlterConfigsRequest alter;
  auto& resource = alter.resources.emplace_back();
  resource.resource_type = 2;  // TOPIC
  resource.resource_name = "spread";
  auto& entry = resource.configs.emplace_back();
  entry.name = "min.insync.replicas";
  entry.config_operation = 0;  // SET
  entry.value = "3";
  auto altered = Ask<kafka::IncrementalAlterConfigsRequest, kafka::IncrementalAlterConfigsResponse>(
      c, admin, alter, 1);
  ASSERT_TRUE(altered.ok());
  ASSERT_EQ(altered->response.responses[0].error_code, 0);
  clients::BrokerConnection to_leader(client, c.world.address(leader));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(10), [&] {
    return c.brokers[leader]->image().FindTopic("spread")->configs.contains("min.insync.replicas");
  }));
  auto ok = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
      c, to_leader, ProduceTo("spread", Records(1)), 9);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->response.responses[0].partition_responses[0].error_code, 0);
  // A follower goes down: after the lag time it leaves the ISR everywhere, and acks=all is
  // refused with NOT_ENOUGH_REPLICAS (a quorum of two could still commit).
  c.world.Crash(static_cast<runtime::NodeId>(follower));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    for (runtime::NodeId id : c.world.node_ids()) {
      if (id == static_cast<runtime::NodeId>(follower)) continue;
      if (PartitionZero(c, client, id).isr_nodes.size() != 2) return false;
    }
    return true;
  }));
  auto refused = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
      c, to_leader, ProduceTo("spread", Records(1)), 9);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->response.responses[0].partition_responses[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kNotEnoughReplicas));
  auto plain = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
      c, to_leader, ProduceTo("spread", Records(1), /*acks=*/1), 9);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->response.responses[0].partition_responses[0].error_code, 0)
      << "acks=1 does not need the ISR";
  // Back and caught up: in sync again.
  c.world.Restart(static_cast<runtime::NodeId>(follower));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    return PartitionZero(c, client, 1).isr_nodes.size() == 3;
  }));
  for (auto& [id, b] : c.brokers) {
    if (id != leader) {
      EXPECT_GT(b->stats().hints_received, 0u) << id;
    }
  }
}

}  // namespace
}  // namespace eddy::broker
