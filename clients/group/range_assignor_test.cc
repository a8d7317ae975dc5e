// The range assignor against the examples of Kafka's RangeAssignorTest (same topics, member ids
// and expected assignments; rack-aware cases excepted), the factory, and input errors. The
// properties shared by all assignors live in assignor_property_test.cc.
#include "clients/group/range_assignor.h"

#include "clients/group/assignor_testing.h"
#include "core/base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::clients::group {
namespace {

using ::eddy::testing::StatusIs;
using testing::Member;
using testing::StaticMember;
using testing::Tp;

using Partitions = std::vector<TopicPartition>;

GroupAssignment Assign(const PartitionCounts& partitions,
                       const std::vector<MemberSubscription>& members) {
  absl::StatusOr<GroupAssignment> assignment = RangeAssignor().Assign(partitions, members);
  EXPECT_TRUE(assignment.ok()) << assignment.status();
  return assignment.value_or(GroupAssignment{});
}

TEST(RangeAssignorTest, OneConsumerNoTopic) {
  EXPECT_EQ(Assign({}, {Member("consumer1", {})}), (GroupAssignment{{"consumer1", {}}}));
}

TEST(RangeAssignorTest, OneConsumerNonexistentTopic) {
  EXPECT_EQ(Assign({}, {Member("consumer1", {"topic1"})}), (GroupAssignment{{"consumer1", {}}}));
  EXPECT_EQ(Assign({{"topic1", 0}}, {Member("consumer1", {"topic1"})}),
            (GroupAssignment{{"consumer1", {}}}));
}

TEST(RangeAssignorTest, OneConsumerOneTopic) {
  EXPECT_EQ(Assign({{"topic1", 3}}, {Member("consumer1", {"topic1"})}),
            (GroupAssignment{{"consumer1", {Tp("topic1", 0), Tp("topic1", 1), Tp("topic1", 2)}}}));
}

TEST(RangeAssignorTest, OnlyAssignsPartitionsFromSubscribedTopics) {
  EXPECT_EQ(Assign({{"topic1", 3}, {"other", 3}}, {Member("consumer1", {"topic1"})}),
            (GroupAssignment{{"consumer1", {Tp("topic1", 0), Tp("topic1", 1), Tp("topic1", 2)}}}));
}

TEST(RangeAssignorTest, OneConsumerMultipleTopics) {
  EXPECT_EQ(Assign({{"topic1", 1}, {"topic2", 2}}, {Member("consumer1", {"topic1", "topic2"})}),
            (GroupAssignment{{"consumer1", {Tp("topic1", 0), Tp("topic2", 0), Tp("topic2", 1)}}}));
}

TEST(RangeAssignorTest, TwoConsumersOneTopicOnePartition) {
  EXPECT_EQ(
      Assign({{"topic1", 1}}, {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1"})}),
      (GroupAssignment{{"consumer1", {Tp("topic1", 0)}}, {"consumer2", {}}}));
}

TEST(RangeAssignorTest, TwoConsumersOneTopicTwoPartitions) {
  EXPECT_EQ(
      Assign({{"topic1", 2}}, {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1"})}),
      (GroupAssignment{{"consumer1", {Tp("topic1", 0)}}, {"consumer2", {Tp("topic1", 1)}}}));
}

TEST(RangeAssignorTest, MultipleConsumersMixedTopics) {
  const GroupAssignment assignment =
      Assign({{"topic1", 3}, {"topic2", 2}},
             {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1", "topic2"}),
              Member("consumer3", {"topic1"})});
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic1", 0)}));
  EXPECT_EQ(assignment.at("consumer2"),
            (Partitions{Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer3"), (Partitions{Tp("topic1", 2)}));
}

TEST(RangeAssignorTest, TwoConsumersTwoTopicsSixPartitions) {
  const GroupAssignment assignment = Assign(
      {{"topic1", 3}, {"topic2", 3}},
      {Member("consumer1", {"topic1", "topic2"}), Member("consumer2", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer1"),
            (Partitions{Tp("topic1", 0), Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer2"), (Partitions{Tp("topic1", 2), Tp("topic2", 2)}));
}

TEST(RangeAssignorTest, TwoStaticConsumersAreOrderedByInstanceId) {
  // consumer-b sorts after consumer-a by member id, but its instance id sorts first.
  const GroupAssignment assignment =
      Assign({{"topic1", 3}, {"topic2", 3}},
             {StaticMember("consumer-b", "instance1", {"topic1", "topic2"}),
              StaticMember("consumer-a", "instance2", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer-b"),
            (Partitions{Tp("topic1", 0), Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer-a"), (Partitions{Tp("topic1", 2), Tp("topic2", 2)}));
}

TEST(RangeAssignorTest, StaticConsumerBeforeDynamicConsumer) {
  const GroupAssignment assignment =
      Assign({{"topic1", 3}, {"topic2", 3}},
             {StaticMember("consumer-b", "instance1", {"topic1", "topic2"}),
              Member("consumer-a", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer-b"),
            (Partitions{Tp("topic1", 0), Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer-a"), (Partitions{Tp("topic1", 2), Tp("topic2", 2)}));
}

TEST(RangeAssignorTest, StaticMemberAssignmentPersistsAcrossDynamicMemberChanges) {
  const PartitionCounts partitions = {{"topic1", 5}, {"topic2", 4}};
  std::vector<MemberSubscription> members = {
      StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
      StaticMember("consumer2", "instance2", {"topic1", "topic2"}),
      StaticMember("consumer3", "instance3", {"topic1", "topic2"}),
      Member("consumer4", {"topic1", "topic2"})};
  GroupAssignment expected = {{"consumer1", {Tp("topic1", 0), Tp("topic1", 1), Tp("topic2", 0)}},
                              {"consumer2", {Tp("topic1", 2), Tp("topic2", 1)}},
                              {"consumer3", {Tp("topic1", 3), Tp("topic2", 2)}},
                              {"consumer4", {Tp("topic1", 4), Tp("topic2", 3)}}};
  EXPECT_EQ(Assign(partitions, members), expected);

  members.back() = Member("consumer5", {"topic1", "topic2"});
  expected.erase("consumer4");
  expected["consumer5"] = {Tp("topic1", 4), Tp("topic2", 3)};
  EXPECT_EQ(Assign(partitions, members), expected);
}

TEST(RangeAssignorTest, StaticMembersKeepTheirShareWhenMemberIdsChange) {
  const PartitionCounts partitions = {{"topic1", 5}, {"topic2", 5}};
  const auto by_instance = [&partitions](const std::vector<MemberSubscription>& members) {
    const GroupAssignment assignment = Assign(partitions, members);
    std::map<std::string, Partitions> out;
    for (const MemberSubscription& m : members)
      out[*m.group_instance_id] = assignment.at(m.member_id);
    return out;
  };
  const std::map<std::string, Partitions> expected = {
      {"instance1", {Tp("topic1", 0), Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}},
      {"instance2", {Tp("topic1", 2), Tp("topic1", 3), Tp("topic2", 2), Tp("topic2", 3)}},
      {"instance3", {Tp("topic1", 4), Tp("topic2", 4)}}};
  EXPECT_EQ(by_instance({StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
                         StaticMember("consumer2", "instance2", {"topic1", "topic2"}),
                         StaticMember("consumer3", "instance3", {"topic1", "topic2"})}),
            expected);
  EXPECT_EQ(by_instance({StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
                         StaticMember("consumer5", "instance2", {"topic1", "topic2"}),
                         StaticMember("consumer4", "instance3", {"topic1", "topic2"})}),
            expected);
}

TEST(RangeAssignorTest, CoPartitionedTopicsLandTogether) {
  // RangeAssignorTest.testCoPartitionedAssignmentWithSameSubscription, without racks; t7..t9
  // are subscribed but do not exist.
  const std::vector<std::string> topics = {"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"};
  const GroupAssignment assignment = Assign(
      {{"t1", 6}, {"t2", 6}, {"t3", 2}, {"t4", 2}, {"t5", 4}, {"t6", 4}},
      {Member("consumer0", topics), Member("consumer1", topics), Member("consumer2", topics)});
  EXPECT_EQ(testing::Show(assignment),
            "{consumer0: [t1-0 t1-1 t2-0 t2-1 t3-0 t4-0 t5-0 t5-1 t6-0 t6-1], "
            "consumer1: [t1-2 t1-3 t2-2 t2-3 t3-1 t4-1 t5-2 t6-2], "
            "consumer2: [t1-4 t1-5 t2-4 t2-5 t5-3 t6-3]}");
}

TEST(AssignorTest, FactoryKnowsTheThreeNames) {
  EXPECT_EQ(AssignorNames(),
            (std::vector<std::string_view>{"cooperative-sticky", "range", "roundrobin"}));
  for (std::string_view name : AssignorNames()) {
    absl::StatusOr<std::unique_ptr<Assignor>> assignor = MakeAssignor(name);
    ASSERT_TRUE(assignor.ok());
    EXPECT_EQ((*assignor)->name(), name);
  }
  EXPECT_THAT(MakeAssignor("sticky"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ((*MakeAssignor("range"))->supported_protocols(),
            std::vector<RebalanceProtocol>{RebalanceProtocol::kEager});
  EXPECT_EQ((*MakeAssignor("range"))->SubscriptionUserData(3), std::nullopt);
}

TEST(AssignorTest, RejectsBadInput) {
  const RangeAssignor range;
  EXPECT_THAT(range.Assign({}, {Member("a", {}), Member("a", {})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(range.Assign({}, {Member("", {})}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(range.Assign({{"t", -1}}, {Member("a", {"t"})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(range.Assign({{"t", INT32_MAX}, {"u", INT32_MAX}}, {Member("a", {"t", "u"})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A huge topic nobody subscribes to is not counted.
  EXPECT_TRUE(range.Assign({{"t", INT32_MAX}}, {Member("a", {"u"})}).ok());
}

}  // namespace
}  // namespace eddy::clients::group
