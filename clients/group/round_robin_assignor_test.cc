// The roundrobin assignor against the examples of Kafka's RoundRobinAssignorTest (same topics,
// member ids and expected assignments). The properties shared by all assignors live in
// assignor_property_test.cc.
#include "clients/group/round_robin_assignor.h"

#include "clients/group/assignor_testing.h"
#include "gtest/gtest.h"

namespace eddy::clients::group {
namespace {

using testing::Member;
using testing::StaticMember;
using testing::Tp;

using Partitions = std::vector<TopicPartition>;

GroupAssignment Assign(const PartitionCounts& partitions,
                       const std::vector<MemberSubscription>& members) {
  absl::StatusOr<GroupAssignment> assignment = RoundRobinAssignor().Assign(partitions, members);
  EXPECT_TRUE(assignment.ok()) << assignment.status();
  return assignment.value_or(GroupAssignment{});
}

TEST(RoundRobinAssignorTest, OneConsumerNoTopicOrNonexistentTopic) {
  EXPECT_EQ(Assign({}, {Member("consumer", {})}), (GroupAssignment{{"consumer", {}}}));
  EXPECT_EQ(Assign({}, {Member("consumer", {"topic"})}), (GroupAssignment{{"consumer", {}}}));
}

TEST(RoundRobinAssignorTest, OneConsumerOneTopicAndOnlySubscribedTopics) {
  const GroupAssignment expected = {{"consumer", {Tp("topic", 0), Tp("topic", 1), Tp("topic", 2)}}};
  EXPECT_EQ(Assign({{"topic", 3}}, {Member("consumer", {"topic"})}), expected);
  EXPECT_EQ(Assign({{"topic", 3}, {"other", 3}}, {Member("consumer", {"topic"})}), expected);
}

TEST(RoundRobinAssignorTest, OneConsumerMultipleTopics) {
  EXPECT_EQ(Assign({{"topic1", 1}, {"topic2", 2}}, {Member("consumer", {"topic1", "topic2"})}),
            (GroupAssignment{{"consumer", {Tp("topic1", 0), Tp("topic2", 0), Tp("topic2", 1)}}}));
}

TEST(RoundRobinAssignorTest, TwoConsumersOneTopic) {
  const std::vector<MemberSubscription> members = {Member("consumer1", {"topic"}),
                                                   Member("consumer2", {"topic"})};
  EXPECT_EQ(Assign({{"topic", 1}}, members),
            (GroupAssignment{{"consumer1", {Tp("topic", 0)}}, {"consumer2", {}}}));
  EXPECT_EQ(Assign({{"topic", 2}}, members),
            (GroupAssignment{{"consumer1", {Tp("topic", 0)}}, {"consumer2", {Tp("topic", 1)}}}));
}

TEST(RoundRobinAssignorTest, MultipleConsumersMixedTopics) {
  const GroupAssignment assignment =
      Assign({{"topic1", 3}, {"topic2", 2}},
             {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1", "topic2"}),
              Member("consumer3", {"topic1"})});
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic1", 0)}));
  EXPECT_EQ(assignment.at("consumer2"),
            (Partitions{Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer3"), (Partitions{Tp("topic1", 2)}));
}

TEST(RoundRobinAssignorTest, TwoDynamicConsumersTwoTopicsSixPartitions) {
  const GroupAssignment assignment = Assign(
      {{"topic1", 3}, {"topic2", 3}},
      {Member("consumer1", {"topic1", "topic2"}), Member("consumer2", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer1"),
            (Partitions{Tp("topic1", 0), Tp("topic1", 2), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer2"),
            (Partitions{Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 2)}));
}

TEST(RoundRobinAssignorTest, StaticConsumersAreOrderedByInstanceId) {
  const Partitions first = {Tp("topic1", 0), Tp("topic1", 2), Tp("topic2", 1)};
  const Partitions second = {Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 2)};
  GroupAssignment assignment =
      Assign({{"topic1", 3}, {"topic2", 3}},
             {StaticMember("consumer-b", "instance1", {"topic1", "topic2"}),
              StaticMember("consumer-a", "instance2", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer-b"), first);
  EXPECT_EQ(assignment.at("consumer-a"), second);
  // A static member before a dynamic one, whatever their member ids.
  assignment = Assign({{"topic1", 3}, {"topic2", 3}},
                      {StaticMember("consumer-b", "instance1", {"topic1", "topic2"}),
                       Member("consumer-a", {"topic1", "topic2"})});
  EXPECT_EQ(assignment.at("consumer-b"), first);
  EXPECT_EQ(assignment.at("consumer-a"), second);
}

TEST(RoundRobinAssignorTest, StaticMemberAssignmentPersistsAcrossDynamicMemberChanges) {
  const PartitionCounts partitions = {{"topic1", 3}, {"topic2", 3}};
  std::vector<MemberSubscription> members = {
      StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
      StaticMember("consumer2", "instance2", {"topic1", "topic2"}),
      StaticMember("consumer3", "instance3", {"topic1", "topic2"}),
      Member("consumer4", {"topic1", "topic2"})};
  GroupAssignment expected = {{"consumer1", {Tp("topic1", 0), Tp("topic2", 1)}},
                              {"consumer2", {Tp("topic1", 1), Tp("topic2", 2)}},
                              {"consumer3", {Tp("topic1", 2)}},
                              {"consumer4", {Tp("topic2", 0)}}};
  EXPECT_EQ(Assign(partitions, members), expected);

  members.back() = Member("consumer5", {"topic1", "topic2"});
  expected.erase("consumer4");
  expected["consumer5"] = {Tp("topic2", 0)};
  EXPECT_EQ(Assign(partitions, members), expected);
}

TEST(RoundRobinAssignorTest, StaticMembersKeepTheirShareWhenMemberIdsChange) {
  const PartitionCounts partitions = {{"topic1", 5}, {"topic2", 5}};
  const auto by_instance = [&partitions](const std::vector<MemberSubscription>& members) {
    const GroupAssignment assignment = Assign(partitions, members);
    std::map<std::string, Partitions> out;
    for (const MemberSubscription& m : members)
      out[*m.group_instance_id] = assignment.at(m.member_id);
    return out;
  };
  const std::map<std::string, Partitions> expected = {
      {"instance1", {Tp("topic1", 0), Tp("topic1", 3), Tp("topic2", 1), Tp("topic2", 4)}},
      {"instance2", {Tp("topic1", 1), Tp("topic1", 4), Tp("topic2", 2)}},
      {"instance3", {Tp("topic1", 2), Tp("topic2", 0), Tp("topic2", 3)}}};
  EXPECT_EQ(by_instance({StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
                         StaticMember("consumer2", "instance2", {"topic1", "topic2"}),
                         StaticMember("consumer3", "instance3", {"topic1", "topic2"})}),
            expected);
  EXPECT_EQ(by_instance({StaticMember("consumer1", "instance1", {"topic1", "topic2"}),
                         StaticMember("consumer5", "instance2", {"topic1", "topic2"}),
                         StaticMember("consumer4", "instance3", {"topic1", "topic2"})}),
            expected);
}

TEST(RoundRobinAssignorTest, SkipsMembersNotSubscribedAndContinuesAfterTheTaker) {
  // a: t; b: t, u; c: u. t-0 a, t-1 b, t-2 a (c skipped), u-0 b, u-1 c, u-2 b (a skipped).
  const GroupAssignment assignment = Assign(
      {{"t", 3}, {"u", 3}}, {Member("a", {"t"}), Member("b", {"t", "u"}), Member("c", {"u"})});
  EXPECT_EQ(testing::Show(assignment), "{a: [t-0 t-2], b: [t-1 u-0 u-2], c: [u-1]}");
}

}  // namespace
}  // namespace eddy::clients::group
