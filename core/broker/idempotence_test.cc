// Idempotent producers through the Kafka protocol on three simulated brokers: InitProducerId
// hands out distinct ids; a retried batch is answered with its original offsets and written
// once — also when the retry races the original, after the leadership moved and after every
// broker restarted; gaps and stale epochs get Kafka's errors.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/broker/broker.h"
#include "core/broker/testing/broker_cluster.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/init_producer_id.h"
#include "core/kafka/generated/produce.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker {
namespace {

using clients::BrokerConnection;
using clients::Reply;
using kafka::ErrorCode;
using test_support::Ask;
using test_support::BaseOffsets;
using test_support::Cluster;
using test_support::CreateRequest;
using test_support::EveryPartitionLed;
using test_support::FetchFrom;
using test_support::Metadata;
using test_support::ProduceTo;
using test_support::Records;

std::vector<uint8_t> Batch(int count, int64_t producer_id, int16_t epoch, int32_t sequence) {
  record::BatchHeader fields;
  fields.producer_id = producer_id;
  fields.producer_epoch = epoch;
  fields.base_sequence = sequence;
  return Records(count, 1000, 0, fields);
}

absl::StatusOr<kafka::InitProducerIdResponse> InitProducerId(
    Cluster& c, BrokerConnection& connection, std::optional<std::string> transactional_id) {
  kafka::InitProducerIdRequest request;
  request.transactional_id = std::move(transactional_id);
  request.transaction_timeout_ms = 60'000;
  auto reply = Ask<kafka::InitProducerIdRequest, kafka::InitProducerIdResponse>(
      c, connection, request, 4);
  if (!reply.ok()) return reply.status();
  return reply->response;
}

// A cluster with topic `events` (one partition, three replicas) led and known everywhere.
runtime::NodeId StartWithTopic(Cluster& c, sim::SimClient& client) {
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest("events", 1, 3), 5);
  EXPECT_TRUE(created.ok());
  runtime::NodeId leader = 0;
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    for (runtime::NodeId id : c.world.node_ids()) {
      auto m = Metadata(c, client, id);
      if (!m.ok() || !EveryPartitionLed(*m, "events", 1)) return false;
      leader = static_cast<runtime::NodeId>(m->topics[0].partitions[0].leader_id);
    }
    return true;
  }));
  return leader;
}

struct Produced {
  int16_t error = -1;
  int64_t base_offset = -1;
};

// Sends to whichever broker leads now, retrying NOT_LEADER_OR_FOLLOWER as a client would.
Produced ProduceToLeader(Cluster& c, sim::SimClient& client, const std::vector<uint8_t>& batch) {
  const Instant deadline = c.world.Now() + Duration::Seconds(60);
  while (c.world.Now() < deadline) {
    auto m = Metadata(c, client, 1);
    if (m.ok() && EveryPartitionLed(*m, "events", 1)) {
      const auto leader = static_cast<runtime::NodeId>(m->topics[0].partitions[0].leader_id);
      BrokerConnection to_leader(client, c.world.address(leader));
      auto r = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(c, to_leader,
                                                                  ProduceTo("events", batch), 9);
      if (r.ok()) {
        const auto& p = r->response.responses[0].partition_responses[0];
        if (p.error_code != kafka::ToWire(ErrorCode::kNotLeaderOrFollower) &&
            p.error_code != kafka::ToWire(ErrorCode::kRequestTimedOut)) {
          return Produced{p.error_code, p.base_offset};
        }
      }
    }
    c.world.RunFor(Duration::Milliseconds(100));
  }
  return Produced{};
}

// The base offsets of every batch in the partition, read from `broker` (the leader).
std::vector<int64_t> Log(Cluster& c, sim::SimClient& client, runtime::NodeId broker) {
  BrokerConnection connection(client, c.world.address(broker));
  auto r = Ask<kafka::FetchRequest, kafka::FetchResponse>(c, connection, FetchFrom("events", 0), 12);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return {};
  return BaseOffsets(r->response.responses[0].partitions[0].records);
}

runtime::NodeId LeaderNow(Cluster& c, sim::SimClient& client) {
  runtime::NodeId leader = 0;
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    auto m = Metadata(c, client, 1);
    if (!m.ok() || !EveryPartitionLed(*m, "events", 1)) return false;
    leader = static_cast<runtime::NodeId>(m->topics[0].partitions[0].leader_id);
    return true;
  }));
  return leader;
}

TEST(IdempotenceTest, InitProducerIdHandsOutDistinctIdsAtEpochZero) {
  Cluster c(11);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  sim::SimClient& client = c.world.AddClient();
  std::vector<int64_t> ids;
  for (runtime::NodeId id : c.world.node_ids()) {
    BrokerConnection connection(client, c.world.address(id));
    for (int i = 0; i < 3; ++i) {
      auto r = InitProducerId(c, connection, std::nullopt);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->error_code, 0);
      EXPECT_EQ(r->producer_epoch, 0);
      EXPECT_GE(r->producer_id, 0);
      ids.push_back(r->producer_id);
    }
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an id handed out twice";
  // An empty transactional id is none; a real one needs transactions, which are not served.
  BrokerConnection connection(client, c.world.address(2));
  auto empty = InitProducerId(c, connection, std::string());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->error_code, 0);
  auto transactional = InitProducerId(c, connection, std::string("tx-1"));
  ASSERT_TRUE(transactional.ok());
  EXPECT_EQ(transactional->error_code, kafka::ToWire(ErrorCode::kInvalidRequest));
  EXPECT_EQ(transactional->producer_id, -1);
  // A restarted broker takes a new block: no id of its old one comes back.
  c.world.Crash(2);
  c.world.Restart(2);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return c.AllJoined(); }));
  BrokerConnection again(client, c.world.address(2));
  auto fresh = InitProducerId(c, again, std::nullopt);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->error_code, 0);
  EXPECT_FALSE(std::binary_search(ids.begin(), ids.end(), fresh->producer_id));
}

TEST(IdempotenceTest, RetriesAreWrittenOnceAndGapsAndStaleEpochsAreRefused) {
  Cluster c(12);
  sim::SimClient& client = c.world.AddClient();
  const runtime::NodeId leader = StartWithTopic(c, client);
  ASSERT_NE(leader, 0u);
  EXPECT_EQ(ProduceToLeader(c, client, Batch(3, 7, 0, 0)).base_offset, 0);
  const Produced retry = ProduceToLeader(c, client, Batch(3, 7, 0, 0));
  EXPECT_EQ(retry.error, 0);
  EXPECT_EQ(retry.base_offset, 0) << "the original's offset";
  EXPECT_EQ(ProduceToLeader(c, client, Batch(2, 7, 0, 3)).base_offset, 3);
  EXPECT_EQ(ProduceToLeader(c, client, Records(1)).base_offset, 5) << "a plain batch between";
  EXPECT_EQ(ProduceToLeader(c, client, Batch(3, 7, 0, 0)).base_offset, 0)
      << "still among the last five";
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 7, 0, 0)).error,
            kafka::ToWire(ErrorCode::kOutOfOrderSequenceNumber))
      << "the same first sequence, but not the same batch";
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 7, 0, 9)).error,
            kafka::ToWire(ErrorCode::kOutOfOrderSequenceNumber));
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 7, 1, 4)).error,
            kafka::ToWire(ErrorCode::kOutOfOrderSequenceNumber))
      << "a new epoch starts at 0";
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 7, 1, 0)).base_offset, 6);
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 7, 0, 5)).error,
            kafka::ToWire(ErrorCode::kInvalidProducerEpoch));
  EXPECT_EQ(Log(c, client, LeaderNow(c, client)), (std::vector<int64_t>{0, 3, 5, 6}));
  EXPECT_GE(c.brokers[LeaderNow(c, client)]->stats().idempotent_duplicates, 2u);
}

TEST(IdempotenceTest, ARetryRacingItsOriginalGetsTheSameOffsets) {
  Cluster c(13);
  sim::SimClient& client = c.world.AddClient();
  const runtime::NodeId leader = StartWithTopic(c, client);
  BrokerConnection first(client, c.world.address(leader));
  BrokerConnection second(client, c.world.address(leader));
  std::optional<absl::StatusOr<Reply<kafka::ProduceResponse>>> a;
  std::optional<absl::StatusOr<Reply<kafka::ProduceResponse>>> b;
  first.Call<kafka::ProduceRequest, kafka::ProduceResponse>(
      ProduceTo("events", Batch(4, 9, 0, 0)), 9, [&](auto o) { a = std::move(o); });
  second.Call<kafka::ProduceRequest, kafka::ProduceResponse>(
      ProduceTo("events", Batch(4, 9, 0, 0)), 9, [&](auto o) { b = std::move(o); });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return a.has_value() && b.has_value(); }));
  ASSERT_TRUE(a->ok() && b->ok());
  const auto& pa = (*a)->response.responses[0].partition_responses[0];
  const auto& pb = (*b)->response.responses[0].partition_responses[0];
  EXPECT_EQ(pa.error_code, 0);
  EXPECT_EQ(pb.error_code, 0);
  EXPECT_EQ(pa.base_offset, 0);
  EXPECT_EQ(pb.base_offset, 0);
  EXPECT_EQ(Log(c, client, leader), std::vector<int64_t>{0});
}

TEST(IdempotenceTest, DedupSurvivesLeaderChangesAndRestartsOfEveryBroker) {
  Cluster c(14);
  sim::SimClient& client = c.world.AddClient();
  const runtime::NodeId leader = StartWithTopic(c, client);
  ASSERT_EQ(ProduceToLeader(c, client, Batch(2, 5, 0, 0)).base_offset, 0);
  ASSERT_EQ(ProduceToLeader(c, client, Batch(2, 5, 0, 2)).base_offset, 2);
  // The leadership moves: the new leader's table came by replication.
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30),
                         [&] { return c.brokers[leader]->TransferLeadershipAway() == 0; }));
  ASSERT_NE(LeaderNow(c, client), leader);
  EXPECT_EQ(ProduceToLeader(c, client, Batch(2, 5, 0, 2)).base_offset, 2);
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 5, 0, 4)).base_offset, 4);
  // Every broker restarts: tables are rebuilt from the log.
  for (runtime::NodeId id : c.world.node_ids()) c.world.Crash(id);
  for (runtime::NodeId id : c.world.node_ids()) c.world.Restart(id);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return c.AllJoined(); }));
  const Produced after = ProduceToLeader(c, client, Batch(1, 5, 0, 4));
  EXPECT_EQ(after.error, 0);
  EXPECT_EQ(after.base_offset, 4);
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 5, 0, 6)).error,
            kafka::ToWire(ErrorCode::kOutOfOrderSequenceNumber));
  EXPECT_EQ(ProduceToLeader(c, client, Batch(1, 5, 0, 5)).base_offset, 5);
  EXPECT_EQ(Log(c, client, LeaderNow(c, client)), (std::vector<int64_t>{0, 2, 4, 5}));
  for (auto& [id, b] : c.brokers) EXPECT_EQ(b->producer_state_stats().anomalies(), 0u) << id;
}

}  // namespace
}  // namespace eddy::broker
