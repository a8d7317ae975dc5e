// Three brokers in the simulated world, each a voter of the metadata group: they register and
// are unfenced; a client's CreateTopics (sent to any broker: forwarded to the controller) makes
// every broker host the topic's partitions, and Metadata from any broker shows them with their
// leaders; Kafka's errors come back for bad creates; DeleteTopics removes the replicas; a broker
// that crashes rejoins under a new incarnation.
#include "core/broker/broker.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/delete_topics.h"
#include "core/kafka/generated/metadata.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker {
namespace {

using clients::BrokerConnection;
using clients::Reply;

struct Cluster {
  explicit Cluster(uint64_t seed) : world(sim::SimWorldOptions{.seed = seed}) {
    world.SetLifecycleHandlers([this](runtime::NodeId id) { brokers[id].reset(); },
                               [this](runtime::NodeId id) { Build(id); });
    for (runtime::NodeId id : world.node_ids()) Build(id);
  }
  void Build(runtime::NodeId id) {
    BrokerOptions options;
    options.controllers = world.node_ids();
    options.advertised = world.address(id);
    options.topic_defaults = {.num_partitions = 3, .replication_factor = 3};
    brokers[id] = std::make_unique<Broker>(world.node(id), options);
    brokers[id]->Start();
  }
  bool AllJoined() {
    for (auto& [id, b] : brokers) {
      if (b == nullptr) return false;
      for (auto& [other, o] : brokers) {
        // Every broker's image shows every broker joined.
        const controller::BrokerInfo* info = b->image().broker(static_cast<int32_t>(other));
        if (o == nullptr || info == nullptr || info->incarnation != o->incarnation() ||
            info->fenced) {
          return false;
        }
      }
    }
    return true;
  }
  template <typename Done>
  bool RunUntil(Duration bound, Done done) {
    const Instant deadline = world.Now() + bound;
    while (!done() && world.Now() < deadline) world.RunFor(Duration::Milliseconds(10));
    return done();
  }

  sim::SimWorld world;
  std::map<runtime::NodeId, std::unique_ptr<Broker>> brokers;
};

template <typename Request, typename Response>
absl::StatusOr<Reply<Response>> Ask(Cluster& c, BrokerConnection& connection,
                                    const Request& request, int16_t version) {
  std::optional<absl::StatusOr<Reply<Response>>> out;
  connection.Call<Request, Response>(request, version, [&](auto o) { out = std::move(o); });
  c.RunUntil(Duration::Seconds(30), [&] { return out.has_value(); });
  if (!out.has_value()) return absl::DeadlineExceededError("no answer");
  return *std::move(out);
}

kafka::CreateTopicsRequest CreateRequest(const std::string& name, int32_t partitions,
                                         int16_t rf) {
  kafka::CreateTopicsRequest request;
  request.topics.emplace_back();
  request.topics.back().name = name;
  request.topics.back().num_partitions = partitions;
  request.topics.back().replication_factor = rf;
  request.timeout_ms = 10'000;
  return request;
}

absl::StatusOr<kafka::MetadataResponse> Metadata(Cluster& c, sim::SimClient& client,
                                                 runtime::NodeId broker) {
  BrokerConnection connection(client, c.world.address(broker));
  kafka::MetadataRequest all;
  all.topics = std::nullopt;
  auto reply = Ask<kafka::MetadataRequest, kafka::MetadataResponse>(c, connection, all, 12);
  if (!reply.ok()) return reply.status();
  return reply->response;
}

bool EveryPartitionLed(const kafka::MetadataResponse& m, const std::string& topic,
                       size_t partitions) {
  for (const auto& t : m.topics) {
    if (t.name != topic) continue;
    if (t.partitions.size() != partitions) return false;
    for (const auto& p : t.partitions) {
      if (p.leader_id < 1 || p.error_code != 0) return false;
    }
    return true;
  }
  return false;
}

TEST(BrokerTest, BrokersJoinAndACreatedTopicIsHostedAndListedEverywhere) {
  Cluster c(1);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  // Sent to broker 3: if it is not the controller it forwards.
  BrokerConnection connection(client, c.world.address(3));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, connection, CreateRequest("orders", 3, 3), 5);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->response.topics.size(), 1u);
  EXPECT_EQ(created->response.topics[0].error_code, 0)
      << created->response.topics[0].error_message.value_or("");
  // Every broker hosts the three partitions, and each has a leader.
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    for (auto& [id, b] : c.brokers) {
      if (b->node().groups().size() != 4) return false;  // the metadata group + 3
    }
    auto m = Metadata(c, client, 1);
    return m.ok() && EveryPartitionLed(*m, "orders", 3);
  }));
  for (runtime::NodeId id : c.world.node_ids()) {
    auto m = Metadata(c, client, id);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->brokers.size(), 3u);
    EXPECT_GE(m->controller_id, 1);
    ASSERT_TRUE(m->cluster_id.has_value());
    EXPECT_EQ(m->cluster_id->size(), 22u);
    EXPECT_EQ(*m->cluster_id, c.brokers[1]->image().cluster_id());
    ASSERT_EQ(m->topics.size(), 1u);
    EXPECT_EQ(m->topics[0].name, "orders");
    for (const auto& p : m->topics[0].partitions) EXPECT_EQ(p.replica_nodes.size(), 3u);
  }
  // Kafka's errors.
  auto again = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, connection, CreateRequest("orders", 1, 1), 5);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->response.topics[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kTopicAlreadyExists));
  auto too_many = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, connection, CreateRequest("wide", 1, 4), 5);
  ASSERT_TRUE(too_many.ok());
  EXPECT_EQ(too_many->response.topics[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kInvalidReplicationFactor));
  auto defaults = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, connection, CreateRequest("defaults", -1, -1), 5);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->response.topics[0].error_code, 0);
  // Deleted: the replicas go.
  kafka::DeleteTopicsRequest del;
  del.topic_names = {"orders", "defaults", "nope"};
  del.timeout_ms = 10'000;
  auto deleted = Ask<kafka::DeleteTopicsRequest, kafka::DeleteTopicsResponse>(c, connection, del, 5);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_EQ(deleted->response.responses.size(), 3u);
  EXPECT_EQ(deleted->response.responses[0].error_code, 0);
  EXPECT_EQ(deleted->response.responses[2].error_code,
            kafka::ToWire(kafka::ErrorCode::kUnknownTopicOrPartition));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    for (auto& [id, b] : c.brokers) {
      if (b->node().groups().size() != 1) return false;
    }
    return true;
  }));
}

TEST(BrokerTest, ACrashedBrokerRejoinsUnderANewIncarnation) {
  Cluster c(2);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  const uint64_t before = c.brokers[2]->incarnation();
  c.world.Crash(2);
  c.world.RunFor(Duration::Seconds(1));
  c.world.Restart(2);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  EXPECT_NE(c.brokers[2]->incarnation(), before);
  const controller::BrokerInfo* info = c.brokers[1]->image().broker(2);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->retired_incarnations, std::vector<uint64_t>{before});
}

}  // namespace
}  // namespace eddy::broker
