// Consumer groups through the Kafka protocol on three simulated brokers: FindCoordinator
// creates __consumer_offsets and names the leader of the group's partition; two members join
// (MEMBER_ID_REQUIRED first), sync and commit; the coordinator's broker crashes and the
// partition's next leader, rebuilt from the replicated records, knows the generation, the
// members, their assignments and the committed offset, and still refuses a stale generation.
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/broker/broker.h"
#include "core/broker/testing/broker_cluster.h"
#include "core/group/offsets_topic.h"
#include "core/kafka/generated/find_coordinator.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/join_group.h"
#include "core/kafka/generated/list_groups.h"
#include "core/kafka/generated/describe_groups.h"
#include "core/kafka/generated/offset_commit.h"
#include "core/kafka/generated/offset_fetch.h"
#include "core/kafka/generated/sync_group.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker {
namespace {

using clients::BrokerConnection;
using clients::Reply;
using kafka::ErrorCode;
using test_support::Ask;
using test_support::Cluster;
using test_support::CreateRequest;

constexpr int16_t kFindVersion = 3;

void Configure(BrokerOptions& o) {
  o.offsets_topic_partitions = 3;
  o.group_coordinator.initial_rebalance_delay_ms = 500;
}

// Asks FindCoordinator until a coordinator is named (the first asks create the topic).
runtime::NodeId FindCoordinator(Cluster& c, sim::SimClient& client, const std::string& group) {
  runtime::NodeId found = runtime::kNoNode;
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    BrokerConnection any(client, c.world.address(c.world.node_ids().front()));
    kafka::FindCoordinatorRequest request;
    request.key = group;
    auto reply = Ask<kafka::FindCoordinatorRequest, kafka::FindCoordinatorResponse>(
        c, any, request, kFindVersion);
    if (!reply.ok() || reply->response.error_code != 0) return false;
    found = static_cast<runtime::NodeId>(reply->response.node_id);
    return c.brokers[found] != nullptr;
  }));
  return found;
}

kafka::JoinGroupRequest JoinRequest(const std::string& member_id) {
  kafka::JoinGroupRequest r;
  r.group_id = "g";
  r.session_timeout_ms = 10'000;
  r.rebalance_timeout_ms = 20'000;
  r.member_id = member_id;
  r.protocol_type = "consumer";
  r.protocols.push_back({"range", "subscription-of-" + member_id, {}});
  return r;
}

struct Member {
  std::string id;
  int32_t generation = -1;
  std::string assignment;
};

// Two members join through `coordinator` and sync; the leader assigns "A" and "B".
std::pair<Member, Member> JoinTwo(Cluster& c, BrokerConnection& one, BrokerConnection& two) {
  Member a, b;
  for (auto [connection, member] : {std::pair{&one, &a}, std::pair{&two, &b}}) {
    auto first = Ask<kafka::JoinGroupRequest, kafka::JoinGroupResponse>(
        c, *connection, JoinRequest(""), 5);
    EXPECT_TRUE(first.ok());
    EXPECT_EQ(first->response.error_code, kafka::ToWire(ErrorCode::kMemberIdRequired));
    member->id = first->response.member_id;
  }
  std::optional<kafka::JoinGroupResponse> ja, jb;
  one.Call<kafka::JoinGroupRequest, kafka::JoinGroupResponse>(
      JoinRequest(a.id), 5, [&](auto r) { ja = r->response; });
  two.Call<kafka::JoinGroupRequest, kafka::JoinGroupResponse>(
      JoinRequest(b.id), 5, [&](auto r) { jb = r->response; });
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(10), [&] { return ja && jb; }));
  EXPECT_EQ(ja->error_code, 0);
  EXPECT_EQ(ja->generation_id, jb->generation_id);
  EXPECT_EQ(ja->leader, jb->leader);
  a.generation = b.generation = ja->generation_id;
  Member& leader = ja->leader == a.id ? a : b;
  Member& follower = ja->leader == a.id ? b : a;
  EXPECT_EQ((ja->leader == a.id ? *ja : *jb).members.size(), 2u);
  std::optional<kafka::SyncGroupResponse> sl, sf;
  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = leader.generation;
  sync.member_id = follower.id;
  (&follower == &a ? one : two)
      .Call<kafka::SyncGroupRequest, kafka::SyncGroupResponse>(
          sync, 3, [&](auto r) { sf = r->response; });
  sync.member_id = leader.id;
  sync.assignments = {{leader.id, "A", {}}, {follower.id, "B", {}}};
  (&leader == &a ? one : two)
      .Call<kafka::SyncGroupRequest, kafka::SyncGroupResponse>(
          sync, 3, [&](auto r) { sl = r->response; });
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(10), [&] { return sl && sf; }));
  EXPECT_EQ(sl->error_code, 0);
  EXPECT_EQ(sf->error_code, 0);
  leader.assignment = sl->assignment;
  follower.assignment = sf->assignment;
  return {a, b};
}

kafka::OffsetCommitRequest Commit(const Member& m, int32_t generation, int64_t offset) {
  kafka::OffsetCommitRequest r;
  r.group_id = "g";
  r.generation_id = generation;
  r.member_id = m.id;
  auto& t = r.topics.emplace_back();
  t.name = "events";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.committed_offset = offset;
  p.committed_metadata = "note";
  return r;
}

int16_t CommitError(Cluster& c, BrokerConnection& to, const Member& m, int32_t generation,
                    int64_t offset) {
  auto reply = Ask<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>(
      c, to, Commit(m, generation, offset), 8);
  EXPECT_TRUE(reply.ok());
  return reply->response.topics[0].partitions[0].error_code;
}

std::optional<int64_t> Committed(Cluster& c, BrokerConnection& to) {
  kafka::OffsetFetchRequest r;
  r.group_id = "g";
  r.topics = std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{{"events", {0}, {}}};
  auto reply = Ask<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(c, to, r, 7);
  if (!reply.ok() || reply->response.error_code != 0) return std::nullopt;
  return reply->response.topics[0].partitions[0].committed_offset;
}

TEST(GroupTest, AGroupSurvivesItsCoordinatorsCrash) {
  Cluster c(11, 3, Configure);
  sim::SimClient& client = c.world.AddClient();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  BrokerConnection admin(client, c.world.address(1));
  ASSERT_TRUE((Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
                   c, admin, CreateRequest("events", 1, 3), 5))
                  .ok());
  const runtime::NodeId coordinator = FindCoordinator(c, client, "g");
  ASSERT_NE(coordinator, runtime::kNoNode);
  const controller::TopicInfo* offsets =
      c.brokers[coordinator]->image().FindTopic(std::string(group::kOffsetsTopicName));
  ASSERT_NE(offsets, nullptr);
  EXPECT_EQ(offsets->partitions.size(), 3u);

  BrokerConnection one(client, c.world.address(coordinator));
  BrokerConnection two(client, c.world.address(coordinator));
  auto [a, b] = JoinTwo(c, one, two);
  EXPECT_EQ(a.generation, 1);
  EXPECT_NE(a.assignment, b.assignment);
  ASSERT_EQ(CommitError(c, one, a, a.generation, 41), 0);
  EXPECT_EQ(Committed(c, one), 41);

  // Another broker is not the coordinator and says so.
  const runtime::NodeId other = coordinator == 1 ? 2 : 1;
  BrokerConnection elsewhere(client, c.world.address(other));
  EXPECT_EQ(CommitError(c, elsewhere, a, a.generation, 1),
            kafka::ToWire(ErrorCode::kNotCoordinator));

  c.world.Crash(coordinator);
  const runtime::NodeId next = FindCoordinator(c, client, "g");
  ASSERT_NE(next, coordinator);
  BrokerConnection fresh(client, c.world.address(next));
  EXPECT_EQ(Committed(c, fresh), 41);
  kafka::HeartbeatRequest hb;
  hb.group_id = "g";
  hb.generation_id = a.generation;
  hb.member_id = a.id;
  auto beat = Ask<kafka::HeartbeatRequest, kafka::HeartbeatResponse>(c, fresh, hb, 3);
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->response.error_code, 0) << "the member is known to the new coordinator";
  kafka::SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = b.generation;
  sync.member_id = b.id;
  auto synced = Ask<kafka::SyncGroupRequest, kafka::SyncGroupResponse>(c, fresh, sync, 3);
  ASSERT_TRUE(synced.ok());
  EXPECT_EQ(synced->response.assignment, b.assignment);
  EXPECT_EQ(CommitError(c, fresh, a, a.generation - 1, 5),
            kafka::ToWire(ErrorCode::kIllegalGeneration));
  EXPECT_EQ(CommitError(c, fresh, b, b.generation, 77), 0);
  EXPECT_EQ(Committed(c, fresh), 77);

  kafka::DescribeGroupsRequest describe;
  describe.groups = {"g"};
  auto described =
      Ask<kafka::DescribeGroupsRequest, kafka::DescribeGroupsResponse>(c, fresh, describe, 4);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->response.groups[0].group_state, "Stable");
  EXPECT_EQ(described->response.groups[0].members.size(), 2u);
  auto listed = Ask<kafka::ListGroupsRequest, kafka::ListGroupsResponse>(
      c, fresh, kafka::ListGroupsRequest{}, 4);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->response.groups.size(), 1u);
  EXPECT_EQ(listed->response.groups[0].group_id, "g");
}

TEST(GroupTest, ClientsCannotProduceToTheOffsetsTopic) {
  Cluster c(12, 3, Configure);
  sim::SimClient& client = c.world.AddClient();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  FindCoordinator(c, client, "g");
  BrokerConnection any(client, c.world.address(1));
  auto reply = Ask<kafka::ProduceRequest, kafka::ProduceResponse>(
      c, any,
      test_support::ProduceTo(std::string(group::kOffsetsTopicName), test_support::Records(1)),
      8);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->response.responses[0].partition_responses[0].error_code,
            kafka::ToWire(ErrorCode::kInvalidTopicException));
}

}  // namespace
}  // namespace eddy::broker
