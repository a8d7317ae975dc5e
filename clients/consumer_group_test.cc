// Consumer groups end to end: Eddy's Consumer with Subscribe against three simulated Eddy
// brokers (the group coordinator of core/group), records written by the Producer:
//   - two members of one group split a topic's partitions (no partition owned by both), read
//     every record exactly once between them, and commit on the way;
//   - when one member shuts down (commit, LeaveGroup), the other gets its partitions and goes on
//     from the committed offsets: nothing skipped, nothing read twice;
//   - a member that restarts resumes from the group's committed offsets;
//   - the group's coordinator broker crashes: the members find the next one and go on.
#include "clients/consumer.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/producer.h"
#include "core/group/offsets_topic.h"
#include "core/broker/testing/broker_cluster.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::clients {
namespace {

using broker::test_support::Ask;
using broker::test_support::Cluster;
using broker::test_support::CreateRequest;
using broker::test_support::EveryPartitionLed;
using broker::test_support::Metadata;

constexpr int32_t kPartitions = 4;
const std::string kTopic = "events";

void Configure(broker::BrokerOptions& o) {
  o.offsets_topic_partitions = 3;
  o.group_coordinator.initial_rebalance_delay_ms = 200;
}

std::vector<runtime::Address> Bootstrap(Cluster& c) {
  std::vector<runtime::Address> out;
  for (runtime::NodeId id : c.world.node_ids()) out.push_back(c.world.address(id));
  return out;
}

void StartWithTopic(Cluster& c, sim::SimClient& client) {
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  BrokerConnection admin(client, c.world.address(1));
  ASSERT_TRUE((Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
                   c, admin, CreateRequest(kTopic, kPartitions, 3), 5))
                  .ok());
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto m = Metadata(c, client, 1);
    return m.ok() && EveryPartitionLed(*m, kTopic, kPartitions);
  }));
}

void Produce(Cluster& c, sim::SimClient& client, int first, int count) {
  ProducerOptions o;
  o.bootstrap = Bootstrap(c);
  auto producer = Producer::Create(client, o);
  ASSERT_TRUE(producer.ok());
  int acked = 0;
  for (int i = first; i < first + count; ++i) {
    ProducerRecord r;
    r.topic = kTopic;
    const std::string key = "k" + std::to_string(i), value = std::to_string(i);
    r.key = std::vector<uint8_t>(key.begin(), key.end());
    r.value = std::vector<uint8_t>(value.begin(), value.end());
    ASSERT_TRUE((*producer)->Send(std::move(r), [&](auto m) { acked += m.ok(); }).ok());
  }
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return acked == count; }));
}

// A member polling continuously, recording what it read and what it was assigned.
struct Member {
  Member(Cluster& c, sim::SimClient& client, const std::string& id) {
    ConsumerOptions o;
    o.bootstrap = Bootstrap(c);
    o.group_id = "g";
    o.client_id = id;
    o.auto_offset_reset = OffsetResetPolicy::kEarliest;
    o.session_timeout = Duration::Seconds(10);
    o.heartbeat_interval = Duration::Seconds(1);
    o.auto_commit_interval = Duration::Seconds(1);
    auto made = Consumer::Create(client, o);
    EXPECT_TRUE(made.ok());
    consumer = *std::move(made);
    RebalanceListener listener;
    listener.on_assigned = [this](const std::vector<TopicPartition>& p) { assigned = p; };
    listener.on_revoked = [this](const std::vector<TopicPartition>&) { assigned.clear(); };
    EXPECT_TRUE(consumer->Subscribe({kTopic}, std::move(listener)).ok());
    Poll();
  }
  void Poll() {
    consumer->Poll(100, Duration::Milliseconds(200), [this](auto records) {
      if (records.ok()) {
        for (ConsumerRecord& r : *records) read.push_back(std::string(r.value->begin(), r.value->end()));
      }
      if (!stopped) Poll();
    });
  }
  std::unique_ptr<Consumer> consumer;
  std::vector<TopicPartition> assigned;
  std::vector<std::string> read;
  bool stopped = false;
};

std::multiset<std::string> Union(const Member& a, const Member& b) {
  std::multiset<std::string> out(a.read.begin(), a.read.end());
  out.insert(b.read.begin(), b.read.end());
  return out;
}

std::multiset<std::string> Values(int first, int count) {
  std::multiset<std::string> out;
  for (int i = first; i < first + count; ++i) out.insert(std::to_string(i));
  return out;
}

TEST(ConsumerGroupTest, MembersSplitPartitionsAndHandThemOverThroughCommits) {
  Cluster c(21, 3, Configure);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  Produce(c, client, 0, 200);
  Member a(c, client, "a"), b(c, client, "b");
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    return Union(a, b).size() == 200 && !a.assigned.empty() && !b.assigned.empty();
  }));
  EXPECT_EQ(Union(a, b), Values(0, 200)) << "every record read once between the two";
  std::set<TopicPartition> owned(a.assigned.begin(), a.assigned.end());
  for (const TopicPartition& tp : b.assigned) EXPECT_TRUE(owned.insert(tp).second);
  EXPECT_EQ(owned.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(a.consumer->membership()->generation(), b.consumer->membership()->generation());

  // a leaves; b takes everything from the committed offsets.
  bool left = false;
  a.stopped = true;
  a.consumer->Shutdown(Duration::Seconds(10), [&] { left = true; });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    return left && b.assigned.size() == static_cast<size_t>(kPartitions);
  }));
  Produce(c, client, 200, 100);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return Union(a, b).size() >= 300; }));
  c.world.RunFor(Duration::Seconds(2));
  EXPECT_EQ(Union(a, b), Values(0, 300)) << "nothing skipped or read twice across the handover";

  // b restarts (crash-free: Shutdown commits); a new member resumes where b stopped.
  bool b_left = false;
  b.stopped = true;
  b.consumer->Shutdown(Duration::Seconds(10), [&] { b_left = true; });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return b_left; }));
  Produce(c, client, 300, 50);
  Member d(c, client, "d");
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return d.read.size() >= 50; }));
  c.world.RunFor(Duration::Seconds(2));
  EXPECT_EQ(std::multiset<std::string>(d.read.begin(), d.read.end()), Values(300, 50));
}

TEST(ConsumerGroupTest, TheGroupGoesOnWhenItsCoordinatorCrashes) {
  Cluster c(22, 3, Configure);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  Produce(c, client, 0, 100);
  Member a(c, client, "a");
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return a.read.size() >= 100; }));
  // The coordinator: whoever leads the group's partition now.
  runtime::NodeId coordinator = runtime::kNoNode;
  for (auto& [id, broker] : c.brokers) {
    if (broker != nullptr && broker->coordinator().group(
                                 eddy::group::OffsetsPartitionFor("g", 3), "g") != nullptr) {
      coordinator = id;
    }
  }
  ASSERT_NE(coordinator, runtime::kNoNode);
  c.world.Crash(coordinator);
  Produce(c, client, 100, 100);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(120), [&] { return a.read.size() >= 200; }));
  c.world.Restart(coordinator);
  c.world.RunFor(Duration::Seconds(5));
  std::multiset<std::string> read(a.read.begin(), a.read.end());
  EXPECT_EQ(std::set<std::string>(read.begin(), read.end()).size(), 200u);
  bool committed = false;
  a.consumer->CommitPositions([&](absl::Status s) { committed = s.ok(); });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return committed; }));
  std::optional<int64_t> total;
  std::vector<TopicPartition> all;
  for (int32_t p = 0; p < kPartitions; ++p) all.push_back({kTopic, p});
  a.consumer->Committed(all, [&](auto got) {
    ASSERT_TRUE(got.ok()) << got.status();
    total = 0;
    for (auto& [tp, o] : *got) *total += o.offset;
  });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return total.has_value(); }));
  EXPECT_EQ(*total, 200);
}

}  // namespace
}  // namespace eddy::clients
