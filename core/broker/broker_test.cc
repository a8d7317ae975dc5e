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
#include "core/broker/testing/broker_cluster.h"
#include "core/kafka/generated/alter_configs.h"
#include "core/kafka/generated/create_partitions.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/describe_configs.h"
#include "core/kafka/generated/incremental_alter_configs.h"
#include "core/kafka/generated/delete_topics.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/list_offsets.h"
#include "core/kafka/generated/offset_for_leader_epoch.h"
#include "core/kafka/generated/produce.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "core/kafka/generated/metadata.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker {
namespace {

using clients::BrokerConnection;
using clients::Reply;

using test_support::Ask;
using test_support::BaseOffsets;
using test_support::Cluster;
using test_support::CreateRequest;
using test_support::EveryPartitionLed;
using test_support::FetchFrom;
using test_support::Metadata;
using test_support::ProduceTo;
using test_support::Records;

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
  // v5+ reports what was created (Kafka's AdminClient reads it).
  EXPECT_EQ(created->response.topics[0].num_partitions, 3);
  EXPECT_EQ(created->response.topics[0].replication_factor, 3);
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
  EXPECT_EQ(defaults->response.topics[0].num_partitions, 3) << "the broker's default";
  EXPECT_EQ(defaults->response.topics[0].replication_factor, 3);
  // kafkajs sends CreateTopics v3 with -1 for both: the broker's defaults, as Kafka's broker
  // takes them at every version (this was refused with INVALID_REQUEST, which broke kafkajs).
  auto defaults_v3 = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, connection, CreateRequest("defaults-v3", -1, -1), 3);
  ASSERT_TRUE(defaults_v3.ok());
  EXPECT_EQ(defaults_v3->response.topics[0].error_code, 0);
  // Deleted: the replicas go.
  kafka::DeleteTopicsRequest del;
  del.topic_names = {"orders", "defaults", "nope", "defaults-v3"};
  del.timeout_ms = 10'000;
  auto deleted = Ask<kafka::DeleteTopicsRequest, kafka::DeleteTopicsResponse>(c, connection, del, 5);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_EQ(deleted->response.responses.size(), 4u);
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

TEST(BrokerTest, MetadataForAnUnknownTopicCreatesItWhenAllowed) {
  Cluster c(4);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection connection(client, c.world.address(2));
  auto ask = [&](const std::string& name, bool allow) {
    kafka::MetadataRequest request;
    request.topics->emplace_back().name = name;
    request.allow_auto_topic_creation = allow;
    auto r = Ask<kafka::MetadataRequest, kafka::MetadataResponse>(c, connection, request, 9);
    EXPECT_TRUE(r.ok());
    return r->response;
  };
  EXPECT_EQ(ask("manual", false).topics[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kUnknownTopicOrPartition));
  EXPECT_EQ(ask("bad name", true).topics[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kInvalidTopicException));
  EXPECT_EQ(ask("auto", true).topics[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kLeaderNotAvailable));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    const kafka::MetadataResponse m = ask("auto", true);
    return m.topics[0].error_code == 0 && EveryPartitionLed(m, "auto", 3);  // the default
  }));
  EXPECT_EQ(c.brokers[1]->image().FindTopic("manual"), nullptr);
}

TEST(BrokerTest, PartitionsGrowAndConfigsAreDescribedAndAltered) {
  Cluster c(5);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(3));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("cfg", 1, 1), 5);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->response.topics[0].error_code, 0);
  auto grow = [&](int32_t count) {
    kafka::CreatePartitionsRequest request;
    request.timeout_ms = 10'000;
    auto& t = request.topics.emplace_back();
    t.name = "cfg";
    t.count = count;
    t.assignments = std::nullopt;
    auto r = Ask<kafka::CreatePartitionsRequest, kafka::CreatePartitionsResponse>(c, admin,
                                                                                 request, 3);
    EXPECT_TRUE(r.ok());
    return r->response.results[0].error_code;
  };
  EXPECT_EQ(grow(3), 0);
  EXPECT_EQ(grow(2), kafka::ToWire(kafka::ErrorCode::kInvalidPartitions));
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(5), [&] {
    const controller::TopicInfo* t = c.brokers[3]->image().FindTopic("cfg");
    return t != nullptr && t->partitions.size() == 3;
  }));
  auto describe = [&] {
    kafka::DescribeConfigsRequest request;
    auto& r = request.resources.emplace_back();
    r.resource_type = 2;
    r.resource_name = "cfg";
    r.configuration_keys = std::nullopt;
    auto d = Ask<kafka::DescribeConfigsRequest, kafka::DescribeConfigsResponse>(c, admin,
                                                                               request, 4);
    EXPECT_TRUE(d.ok());
    std::map<std::string, std::pair<std::string, int8_t>> configs;
    for (const auto& e : d->response.results[0].configs) {
      configs[e.name] = {e.value.value_or(""), e.config_source};
    }
    return configs;
  };
  EXPECT_EQ(describe().at("retention.ms"), (std::pair<std::string, int8_t>{"604800000", 5}));
  kafka::IncrementalAlterConfigsRequest alter;
  auto& res = alter.resources.emplace_back();
  res.resource_type = 2;
  res.resource_name = "cfg";
  auto& set = res.configs.emplace_back();
  set.name = "retention.ms";
  set.config_operation = 0;
  set.value = "1000";
  auto altered = Ask<kafka::IncrementalAlterConfigsRequest,
                     kafka::IncrementalAlterConfigsResponse>(c, admin, alter, 1);
  ASSERT_TRUE(altered.ok());
  EXPECT_EQ(altered->response.responses[0].error_code, 0);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(5), [&] {
    return describe().at("retention.ms") == std::pair<std::string, int8_t>{"1000", 1};
  }));
  set.value = "soon";
  auto invalid = Ask<kafka::IncrementalAlterConfigsRequest,
                     kafka::IncrementalAlterConfigsResponse>(c, admin, alter, 1);
  ASSERT_TRUE(invalid.ok());
  EXPECT_EQ(invalid->response.responses[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kInvalidConfig));
  // AlterConfigs replaces every config.
  kafka::AlterConfigsRequest replace;
  auto& rr = replace.resources.emplace_back();
  rr.resource_type = 2;
  rr.resource_name = "cfg";
  auto& e = rr.configs.emplace_back();
  e.name = "segment.ms";
  e.value = "60000";
  auto replaced = Ask<kafka::AlterConfigsRequest, kafka::AlterConfigsResponse>(c, admin,
                                                                               replace, 1);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->response.responses[0].error_code, 0);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(5), [&] {
    const auto configs = describe();
    return configs.at("segment.ms").second == 1 && configs.at("retention.ms").second == 5;
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

// `step`: each record's timestamp is `step` ms after the one before.
TEST(BrokerTest, ProduceIsAcknowledgedAtCommitAndFetchReadsUpToTheHighWatermark) {
  Cluster c(3);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("events", 1, 3), 5);
  ASSERT_TRUE(created.ok());
  int32_t leader = -1;
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto m = Metadata(c, client, 1);
    if (!m.ok() || !EveryPartitionLed(*m, "events", 1)) return false;
    leader = m->topics[0].partitions[0].leader_id;
    // Every replica knows it (each broker hosts one).
    for (runtime::NodeId id : c.world.node_ids()) {
      auto other = Metadata(c, client, id);
      if (!other.ok() || !EveryPartitionLed(*other, "events", 1)) return false;
    }
    return true;
  }));
  BrokerConnection to_leader(client, c.world.address(static_cast<runtime::NodeId>(leader)));
  using Produced = kafka::ProduceResponse;
  auto first = Ask<kafka::ProduceRequest, Produced>(c, to_leader, ProduceTo("events", Records(3)), 9);
  ASSERT_TRUE(first.ok()) << first.status();
  const auto& p0 = first->response.responses[0].partition_responses[0];
  EXPECT_EQ(p0.error_code, 0);
  EXPECT_EQ(p0.base_offset, 0);
  auto second = Ask<kafka::ProduceRequest, Produced>(c, to_leader, ProduceTo("events", Records(1)), 9);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->response.responses[0].partition_responses[0].base_offset, 3);
  // A follower refuses; a corrupt batch is refused.
  const runtime::NodeId follower = leader == 1 ? 2 : 1;
  BrokerConnection to_follower(client, c.world.address(follower));
  auto refused = Ask<kafka::ProduceRequest, Produced>(c, to_follower, ProduceTo("events", Records(1)), 9);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->response.responses[0].partition_responses[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kNotLeaderOrFollower));
  std::vector<uint8_t> corrupt = Records(1);
  corrupt.back() ^= 0x40;
  auto bad = Ask<kafka::ProduceRequest, Produced>(c, to_leader, ProduceTo("events", corrupt), 9);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->response.responses[0].partition_responses[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kCorruptMessage));

  using Fetched = kafka::FetchResponse;
  auto all = Ask<kafka::FetchRequest, Fetched>(c, to_leader, FetchFrom("events", 0), 12);
  ASSERT_TRUE(all.ok()) << all.status();
  const auto& f0 = all->response.responses[0].partitions[0];
  EXPECT_EQ(f0.error_code, 0);
  EXPECT_EQ(f0.high_watermark, 4);
  EXPECT_EQ(f0.log_start_offset, 0);
  EXPECT_EQ(BaseOffsets(f0.records), (std::vector<int64_t>{0, 3}));
  auto past = Ask<kafka::FetchRequest, Fetched>(c, to_leader, FetchFrom("events", 100), 12);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->response.responses[0].partitions[0].error_code,
            kafka::ToWire(kafka::ErrorCode::kOffsetOutOfRange));

  // ListOffsets: earliest, latest, by time (the first record at or after it), none after the last.
  int64_t listed_timestamp = 0;
  auto list = [&](int64_t timestamp) {
    kafka::ListOffsetsRequest request;
    request.replica_id = -1;
    auto& t = request.topics.emplace_back();
    t.name = "events";
    t.partitions.emplace_back().timestamp = timestamp;
    auto r = Ask<kafka::ListOffsetsRequest, kafka::ListOffsetsResponse>(c, to_leader, request, 6);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->response.topics[0].partitions[0].error_code, 0);
    listed_timestamp = r->response.topics[0].partitions[0].timestamp;
    return r->response.topics[0].partitions[0].offset;
  };
  EXPECT_EQ(list(-2), 0);
  EXPECT_EQ(list(-1), 4);
  EXPECT_EQ(list(0), 0);
  EXPECT_EQ(list(1000), 0);
  EXPECT_EQ(list(1001), -1);
  auto late = Ask<kafka::ProduceRequest, Produced>(
      c, to_leader, ProduceTo("events", Records(1, /*timestamp=*/5000)), 9);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(list(4000), 4);
  EXPECT_EQ(listed_timestamp, 5000);  // the record's own timestamp, not the one asked for
  auto again = Ask<kafka::FetchRequest, Fetched>(c, to_leader, FetchFrom("events", 4), 12);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(BaseOffsets(again->response.responses[0].partitions[0].records),
            std::vector<int64_t>{4});

  // A long poll at the high watermark is answered by the next commit, before its deadline.
  std::optional<absl::StatusOr<Reply<Fetched>>> waiting;
  const Instant asked = c.world.Now();
  to_leader.Call<kafka::FetchRequest, Fetched>(FetchFrom("events", 5, 5'000, 1), 12,
                                               [&](auto o) { waiting = std::move(o); });
  c.world.RunFor(Duration::Milliseconds(200));
  EXPECT_FALSE(waiting.has_value());
  BrokerConnection producer(client, c.world.address(static_cast<runtime::NodeId>(leader)));
  ASSERT_TRUE(producer.SendOneWay(ProduceTo("events", Records(2), /*acks=*/0), 9).ok());
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(10), [&] { return waiting.has_value(); }));
  EXPECT_LT(c.world.Now() - asked, Duration::Seconds(5));
  ASSERT_TRUE(waiting->ok()) << waiting->status();
  const auto& woke = (*waiting)->response.responses[0].partitions[0];
  EXPECT_EQ(BaseOffsets(woke.records), std::vector<int64_t>{5});
  EXPECT_EQ(woke.high_watermark, 7);
  // Within a batch: the first RECORD at or after the time, as Kafka answers (offsets 7, 8, 9 at
  // 6000, 7000, 8000 ms).
  auto spread = Ask<kafka::ProduceRequest, Produced>(
      c, to_leader, ProduceTo("events", Records(3, /*timestamp=*/6000, /*step=*/1000)), 9);
  ASSERT_TRUE(spread.ok());
  EXPECT_EQ(list(6500), 8);
  EXPECT_EQ(listed_timestamp, 7000);
  EXPECT_EQ(list(8000), 9);
  EXPECT_EQ(listed_timestamp, 8000);
  EXPECT_EQ(list(8001), -1);
  EXPECT_EQ(listed_timestamp, -1);
}

TEST(BrokerTest, OffsetForLeaderEpochGivesWhereEachTermEnded) {
  Cluster c(6);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("epochs", 1, 3), 5);
  ASSERT_TRUE(created.ok());
  auto leader_and_epoch = [&](runtime::NodeId via) -> std::pair<int32_t, int32_t> {
    auto m = Metadata(c, client, via);
    if (!m.ok() || !EveryPartitionLed(*m, "epochs", 1)) return {-1, -1};
    return {m->topics[0].partitions[0].leader_id, m->topics[0].partitions[0].leader_epoch};
  };
  std::pair<int32_t, int32_t> first{-1, -1};
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    first = leader_and_epoch(1);
    return first.first > 0 && leader_and_epoch(2) == first && leader_and_epoch(3) == first;
  }));
  BrokerConnection to_first(client, c.world.address(static_cast<runtime::NodeId>(first.first)));
  for (int i = 0; i < 2; ++i) {
    auto r = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(c, to_first,
                                                                ProduceTo("epochs", Records(2)), 9);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->response.responses[0].partition_responses[0].error_code, 0);
  }
  auto ask = [&](BrokerConnection& to, int32_t epoch, int32_t current) {
    kafka::OffsetForLeaderEpochRequest request;
    auto& t = request.topics.emplace_back();
    t.topic = "epochs";
    auto& p = t.partitions.emplace_back();
    p.leader_epoch = epoch;
    p.current_leader_epoch = current;
    auto r = Ask<kafka::OffsetForLeaderEpochRequest, kafka::OffsetForLeaderEpochResponse>(
        c, to, request, 4);
    EXPECT_TRUE(r.ok());
    return r->response.topics[0].partitions[0];
  };
  auto now = ask(to_first, first.second, first.second);
  EXPECT_EQ(now.error_code, 0);
  EXPECT_EQ(now.leader_epoch, first.second);
  EXPECT_EQ(now.end_offset, 4);
  EXPECT_EQ(ask(to_first, first.second, first.second + 1).error_code,
            kafka::ToWire(kafka::ErrorCode::kUnknownLeaderEpoch));
  // A new leader: the old term ended at 4.
  const runtime::NodeId target = first.first == 1 ? 2 : 1;
  const uint64_t group = c.brokers[1]->image().FindTopic("epochs")->partitions[0].group_id;
  ASSERT_TRUE(c.brokers[static_cast<runtime::NodeId>(first.first)]
                  ->node()
                  .group(group)
                  ->TransferLeadership(raft::driver::ReplicaId(target, 0))
                  .ok());
  std::pair<int32_t, int32_t> second{-1, -1};
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    second = leader_and_epoch(target);
    return second.first == static_cast<int32_t>(target) && second.second > first.second;
  }));
  BrokerConnection to_second(client, c.world.address(target));
  auto r = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(c, to_second,
                                                              ProduceTo("epochs", Records(1)), 9);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->response.responses[0].partition_responses[0].base_offset, 4);
  auto old = ask(to_second, first.second, second.second);
  EXPECT_EQ(old.error_code, 0);
  EXPECT_EQ(old.leader_epoch, first.second);
  EXPECT_EQ(old.end_offset, 4);
  EXPECT_EQ(ask(to_second, second.second, -1).end_offset, 5);
  EXPECT_EQ(ask(to_second, first.second, first.second).error_code,
            kafka::ToWire(kafka::ErrorCode::kFencedLeaderEpoch));
  EXPECT_EQ(ask(to_second, 0, -1).end_offset, -1);  // older than every term in the log
  // Fetch fences the same way (KIP-320): the old leader's epoch is fenced, a newer one unknown,
  // the current one (or none) reads.
  auto fetch = [&](int32_t current) {
    kafka::FetchRequest request = FetchFrom("epochs", 0);
    request.topics[0].partitions[0].current_leader_epoch = current;
    auto f = Ask<kafka::FetchRequest, kafka::FetchResponse>(c, to_second, request, 12);
    EXPECT_TRUE(f.ok());
    return f->response.responses[0].partitions[0].error_code;
  };
  EXPECT_EQ(fetch(first.second), kafka::ToWire(kafka::ErrorCode::kFencedLeaderEpoch));
  EXPECT_EQ(fetch(second.second + 1), kafka::ToWire(kafka::ErrorCode::kUnknownLeaderEpoch));
  EXPECT_EQ(fetch(second.second), 0);
  EXPECT_EQ(fetch(-1), 0);
  auto list = [&](int32_t current) {
    kafka::ListOffsetsRequest request;
    request.replica_id = -1;
    auto& t = request.topics.emplace_back();
    t.name = "epochs";
    auto& p = t.partitions.emplace_back();
    p.timestamp = -1;
    p.current_leader_epoch = current;
    auto r = Ask<kafka::ListOffsetsRequest, kafka::ListOffsetsResponse>(c, to_second, request, 6);
    EXPECT_TRUE(r.ok());
    return r->response.topics[0].partitions[0].error_code;
  };
  EXPECT_EQ(list(first.second), kafka::ToWire(kafka::ErrorCode::kFencedLeaderEpoch));
  EXPECT_EQ(list(second.second + 1), kafka::ToWire(kafka::ErrorCode::kUnknownLeaderEpoch));
  EXPECT_EQ(list(second.second), 0);
}

// Broker simulation seed 19: a failed fsync reopened a broker's metadata replica, whose restore
// of the bootstrap image took the broker's mirror back to an empty cluster: every partition was
// removed with its files and re-added empty under the same replica ids, and an acknowledged
// batch was lost. The mirror now only moves forward.
TEST(BrokerTest, AReopenedMetadataReplicaNeitherRemovesNorEmptiesPartitions) {
  Cluster c(9);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("kept", 1, 3), 5);
  ASSERT_TRUE(created.ok());
  int32_t leader = -1;
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto m = Metadata(c, client, 1);
    if (!m.ok() || !EveryPartitionLed(*m, "kept", 1)) return false;
    leader = m->topics[0].partitions[0].leader_id;
    return true;
  }));
  BrokerConnection to_leader(client, c.world.address(static_cast<runtime::NodeId>(leader)));
  auto produced = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
      c, to_leader, ProduceTo("kept", Records(3)), 9);
  ASSERT_TRUE(produced.ok());
  ASSERT_EQ(produced->response.responses[0].partition_responses[0].error_code, 0);
  // Every fsync of one broker fails for a moment: its replicas stop and reopen.
  const runtime::NodeId victim = leader == 2 ? 3 : 2;
  raft::driver::GroupDriver* metadata =
      c.brokers[victim]->node().group(controller::MetadataImage::kMetadataGroupId);
  const uint64_t opens = metadata->stats().opens;
  c.world.node(victim).sim_disk().SetFaults(sim::DiskFaultOptions{.sync_failure_ppm = 1'000'000});
  // A metadata record for the victim's replica to write (and fail to sync).
  BrokerConnection other_admin(client, c.world.address(leader == 1 ? 3 : 1));
  std::optional<absl::StatusOr<Reply<kafka::CreateTopicsResponse>>> ignored;
  other_admin.Call<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      CreateRequest("other", 1, 3), 5, [&](auto o) { ignored = std::move(o); });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(10), [&] { return metadata->stats().failures > 0; }));
  c.world.node(victim).sim_disk().SetFaults(sim::DiskFaultOptions{});
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    return metadata->stats().opens > opens && metadata->running();
  }));
  c.world.RunFor(Duration::Seconds(2));
  EXPECT_EQ(c.brokers[victim]->stats().replicas_removed, 0u);
  EXPECT_NE(c.brokers[victim]->image().FindTopic("kept"), nullptr);
  auto fetched = Ask<kafka::FetchRequest, kafka::FetchResponse>(c, to_leader,
                                                                FetchFrom("kept", 0), 12);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched->response.responses[0].partitions[0].high_watermark, 3);
}

// Controller calls are retried until answered; over a lossy network an answer is lost and the
// retry finds the topic its first attempt made. That retry is answered as a success (the call's
// request id is in the topic's record), never TOPIC_ALREADY_EXISTS for a topic this very request
// created.
TEST(BrokerTest, ARetriedCreateTopicsIsASuccessNotAlreadyExists) {
  Cluster c(10);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::LinkOptions lossy;
  lossy.loss_ppm = 400'000;
  lossy.duplicate_ppm = 200'000;
  lossy.latency_max = Duration::Milliseconds(400);
  c.world.network().SetDefaultLinkOptions(lossy);
  sim::SimClient& client = c.world.AddClient();
  int created = 0;
  for (int i = 0; i < 8; ++i) {
    const auto* leader = [&]() -> const Broker* {
      for (auto& [id, b] : c.brokers) {
        if (b->leads_metadata()) return b.get();
      }
      return nullptr;
    }();
    // Through a broker that is not the controller: its calls cross the lossy links.
    const runtime::NodeId via = leader != nullptr && leader->id() == 1 ? 2 : 1;
    BrokerConnection connection(client, c.world.address(via));
    kafka::CreateTopicsRequest request = CreateRequest("lossy" + std::to_string(i), 1, 3);
    request.timeout_ms = 60'000;
    auto r = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(c, connection, request,
                                                                          5);
    if (!r.ok()) continue;  // the client connection itself is not lossy; the answer may be late
    EXPECT_EQ(r->response.topics[0].error_code, 0)
        << "topic " << i << ": " << r->response.topics[0].error_message.value_or("");
    created += r->response.topics[0].error_code == 0 ? 1 : 0;
  }
  EXPECT_GT(created, 0);
  EXPECT_GT(c.brokers[1]->stats().controller_calls_retried + c.brokers[2]->stats().controller_calls_retried, 0u);
}

// A Fetch asking for more than one transport message can carry (Kafka clients' defaults ask for
// 50 MiB) is answered with whole batches within the limit, never beyond it: before, a response
// over runtime::kMessageSizeBytesMax reached the transport's check.
TEST(BrokerTest, AFetchBeyondOneTransportMessageIsCutAtWholeBatches) {
  Cluster c(11);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(1));
  kafka::CreateTopicsRequest create = CreateRequest("big", 1, 3);
  auto& config = create.topics[0].configs.emplace_back();
  config.name = "max.message.bytes";
  config.value = "5000000";
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(c, admin, create, 5);
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->response.topics[0].error_code, 0);
  int32_t leader = -1;
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto m = Metadata(c, client, 1);
    if (!m.ok() || !EveryPartitionLed(*m, "big", 1)) return false;
    leader = m->topics[0].partitions[0].leader_id;
    return true;
  }));
  BrokerConnection to_leader(client, c.world.address(static_cast<runtime::NodeId>(leader)));
  const std::string value(4 * 1024 * 1024, 'v');
  for (int i = 0; i < 5; ++i) {
    record::BatchHeader fields;
    record::RecordBatchBuilder builder(fields);
    ASSERT_TRUE(builder
                    .Append(1000, std::nullopt,
                            std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(value.data()), value.size()))
                    .ok());
    auto r = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
        c, to_leader, ProduceTo("big", builder.Finish()), 9);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->response.responses[0].partition_responses[0].error_code, 0);
  }
  kafka::FetchRequest fetch = FetchFrom("big", 0);
  fetch.max_bytes = 100 * 1024 * 1024;
  fetch.topics[0].partitions[0].partition_max_bytes = 64 * 1024 * 1024;
  auto got = Ask<kafka::FetchRequest, kafka::FetchResponse>(c, to_leader, fetch, 12);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_LE(got->frame.size(), runtime::kMessageSizeBytesMax);
  const std::vector<int64_t> offsets = BaseOffsets(got->response.responses[0].partitions[0].records);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3}));  // 4 batches of 4 MiB: 16 MiB + 4 KiB
  EXPECT_EQ(got->response.responses[0].partitions[0].high_watermark, 5);
}

// Graceful shutdown's first step: a broker hands every group it leads (partitions and the
// metadata group) to another replica, and the cluster keeps answering with the new leaders.
TEST(BrokerTest, TransferLeadershipAwayLeavesTheBrokerLeadingNothing) {
  Cluster c(7);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("handover", 6, 3), 5);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto m = Metadata(c, client, 1);
    return m.ok() && EveryPartitionLed(*m, "handover", 6);
  }));
  // The broker leading most partitions (at least one leads two of six).
  auto led_by = [&](runtime::NodeId id) {
    size_t n = 0;
    for (const auto& [g, driver] : c.brokers[id]->node().groups()) {
      if (driver->raft() != nullptr && driver->raft()->role() == raft::Role::kLeader) ++n;
    }
    return n;
  };
  runtime::NodeId busiest = 1;
  for (runtime::NodeId id : c.world.node_ids()) {
    if (led_by(id) > led_by(busiest)) busiest = id;
  }
  ASSERT_GT(led_by(busiest), 0u);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(10),
                         [&] { return c.brokers[busiest]->TransferLeadershipAway() == 0; }));
  EXPECT_EQ(led_by(busiest), 0u);
  // Every partition is led elsewhere, as the other brokers' metadata says.
  const runtime::NodeId other = busiest == 1 ? 2 : 1;
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(10), [&] {
    auto m = Metadata(c, client, other);
    if (!m.ok() || !EveryPartitionLed(*m, "handover", 6)) return false;
    for (const auto& p : m->topics[0].partitions) {
      if (p.leader_id == static_cast<int32_t>(busiest)) return false;
    }
    return true;
  }));
}

}  // namespace
}  // namespace eddy::broker
