// The cooperative-sticky assignor against the examples of Kafka's AbstractStickyAssignorTest
// and CooperativeStickyAssignorTest (same topics, member ids, generations and expected
// assignments; rack-aware cases excepted). As in Java's CooperativeStickyAssignorTest,
// VerifyValidityAndBalance plays the follow-up rebalances a cooperative assignment asks for
// (members take what they were given as owned and rejoin, at most four times), checking at each
// round that no partition is given to a new owner in the round it is revoked, and then checks
// the final assignment's validity and Java's balance rule. Expected values stated after it are
// those of the final assignment, as in Java. Also: the user-data generation encoding, the
// Java HashMap order helpers the sticky paths use, and the constrained path's corner cases.
// The properties shared by all assignors live in assignor_property_test.cc.
#include "clients/group/cooperative_sticky_assignor.h"

#include <set>

#include "clients/group/assignor_testing.h"
#include "clients/group/java_hash.h"
#include "gtest/gtest.h"

namespace eddy::clients::group {
namespace {

using testing::GroupCase;
using testing::Member;
using testing::Tp;

using Partitions = std::vector<TopicPartition>;
constexpr int32_t kGeneration = 1;  // Java's generationId in these tests

std::set<TopicPartition> AsSet(const Partitions& partitions) {
  return {partitions.begin(), partitions.end()};
}

GroupAssignment Assign(const GroupCase& group) {
  absl::StatusOr<GroupAssignment> assignment =
      CooperativeStickyAssignor().Assign(group.partitions_per_topic, group.members);
  EXPECT_TRUE(assignment.ok()) << assignment.status();
  return assignment.value_or(GroupAssignment{});
}

// No partition is both given to a member that did not own it and taken from one that did.
void ExpectCooperative(const GroupCase& group, const GroupAssignment& assignment) {
  std::set<TopicPartition> added;
  std::set<TopicPartition> revoked;
  for (const MemberSubscription& member : group.members) {
    const std::set<TopicPartition> owned = AsSet(member.subscription.owned_partitions);
    const std::set<TopicPartition> given = AsSet(assignment.at(member.member_id));
    for (const TopicPartition& tp : given) {
      if (!owned.contains(tp)) added.insert(tp);
    }
    for (const TopicPartition& tp : owned) {
      if (!given.contains(tp)) revoked.insert(tp);
    }
  }
  for (const TopicPartition& tp : added) {
    EXPECT_FALSE(revoked.contains(tp)) << tp.topic << "-" << tp.partition
                                       << " moves in one rebalance: " << testing::Show(assignment);
  }
}

// Java's CooperativeStickyAssignorTest.verifyValidityAndBalance; returns the final assignment.
GroupAssignment VerifyValidityAndBalance(const GroupCase& group, const GroupAssignment& first) {
  CooperativeStickyAssignor assignor;
  GroupCase current = group;
  GroupAssignment assignment = first;
  for (int rebalances = 0; testing::RevokesSomething(current, assignment); ++rebalances) {
    ExpectCooperative(current, assignment);
    EXPECT_LE(rebalances, 4) << "no settling: " << testing::Show(assignment);
    if (rebalances > 4) break;
    testing::Settled next = testing::SettleCooperatively(assignor, current, assignment, kGeneration,
                                                         /*rebalances_max=*/1);
    current = next.group;
    assignment = next.assignment;
  }
  ExpectCooperative(current, assignment);
  EXPECT_EQ(testing::ContractViolation(current, assignment), "");
  EXPECT_EQ(testing::JavaBalanceViolation(assignment), "") << testing::Show(assignment);
  return assignment;
}

bool IsFullyBalanced(const GroupAssignment& assignment) {
  return testing::CountSpread(assignment) <= 1;
}

MemberSubscription Owning(std::string id, std::vector<std::string> topics, Partitions owned,
                          int32_t generation = kGeneration) {
  return Member(std::move(id), std::move(topics), std::move(owned), generation);
}

TEST(CooperativeStickyAssignorTest, OneConsumerNoTopicOrNonexistentTopic) {
  EXPECT_EQ(Assign({{}, {Member("consumer", {})}}), (GroupAssignment{{"consumer", {}}}));
  EXPECT_EQ(Assign({{{"topic", 0}}, {Member("consumer", {"topic"})}}),
            (GroupAssignment{{"consumer", {}}}));
}

TEST(CooperativeStickyAssignorTest, OneConsumerOneTopic) {
  EXPECT_EQ(Assign({{{"topic", 3}}, {Member("consumer", {"topic"})}}).at("consumer"),
            (Partitions{Tp("topic", 0), Tp("topic", 1), Tp("topic", 2)}));
}

TEST(CooperativeStickyAssignorTest, OnlyAssignsPartitionsFromSubscribedTopics) {
  const GroupCase group = {
      {{"topic", 2}},
      {Owning("consumer", {"topic"},
              {Tp("topic", 0), Tp("topic", 1), Tp("other", 0), Tp("other", 1)})}};
  EXPECT_EQ(Assign(group).at("consumer"), (Partitions{Tp("topic", 0), Tp("topic", 1)}));
}

TEST(CooperativeStickyAssignorTest, OneConsumerMultipleTopics) {
  EXPECT_EQ(Assign({{{"topic1", 1}, {"topic2", 2}}, {Member("consumer", {"topic1", "topic2"})}})
                .at("consumer"),
            (Partitions{Tp("topic1", 0), Tp("topic2", 0), Tp("topic2", 1)}));
}

TEST(CooperativeStickyAssignorTest, TwoConsumersOneTopic) {
  GroupCase group = {{{"topic", 1}},
                     {Member("consumer1", {"topic"}), Member("consumer2", {"topic"})}};
  EXPECT_TRUE(IsFullyBalanced(VerifyValidityAndBalance(group, Assign(group))));
  group.partitions_per_topic["topic"] = 2;
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic", 0)}));
  EXPECT_EQ(assignment.at("consumer2"), (Partitions{Tp("topic", 1)}));
}

TEST(CooperativeStickyAssignorTest, MultipleConsumersMixedTopicSubscriptions) {
  const GroupCase group = {
      {{"topic1", 3}, {"topic2", 2}},
      {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1", "topic2"}),
       Member("consumer3", {"topic1"})}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic1", 0), Tp("topic1", 2)}));
  EXPECT_EQ(assignment.at("consumer2"), (Partitions{Tp("topic2", 0), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer3"), (Partitions{Tp("topic1", 1)}));
  VerifyValidityAndBalance(group, assignment);
}

TEST(CooperativeStickyAssignorTest, TwoConsumersTwoTopicsSixPartitions) {
  const GroupAssignment assignment = Assign(
      {{{"topic1", 3}, {"topic2", 3}},
       {Member("consumer1", {"topic1", "topic2"}), Member("consumer2", {"topic1", "topic2"})}});
  EXPECT_EQ(assignment.at("consumer1"),
            (Partitions{Tp("topic1", 0), Tp("topic1", 2), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer2"),
            (Partitions{Tp("topic1", 1), Tp("topic2", 0), Tp("topic2", 2)}));
}

TEST(CooperativeStickyAssignorTest, ConsumerOwningMinQuotaExpectedMaxQuota) {
  const std::vector<std::string> topics = {"topic1", "topic2"};
  const GroupCase group = {{{"topic1", 2}, {"topic2", 3}},
                           {Owning("consumer1", topics, {Tp("topic1", 0), Tp("topic2", 1)}),
                            Owning("consumer2", topics, {Tp("topic1", 1), Tp("topic2", 2)})}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(AsSet(assignment.at("consumer1")),
            AsSet({Tp("topic1", 0), Tp("topic2", 1), Tp("topic2", 0)}));
  EXPECT_EQ(AsSet(assignment.at("consumer2")), AsSet({Tp("topic1", 1), Tp("topic2", 2)}));
  EXPECT_TRUE(IsFullyBalanced(VerifyValidityAndBalance(group, assignment)));
}

TEST(CooperativeStickyAssignorTest, MaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers) {
  // Java: partitionsTransferringOwnership == {topic2-0: consumer3}. Which of consumer1 and
  // consumer2 keeps two partitions follows Java's HashMap order (consumer2 first).
  const std::vector<std::string> topics = {"topic1", "topic2"};
  const GroupCase group = {{{"topic1", 2}, {"topic2", 2}},
                           {Owning("consumer1", topics, {Tp("topic1", 0), Tp("topic2", 0)}),
                            Owning("consumer2", topics, {Tp("topic1", 1), Tp("topic2", 1)}),
                            Owning("consumer3", topics, {})}};
  const GroupAssignment first = Assign(group);
  EXPECT_EQ(testing::Show(first),
            "{consumer1: [topic1-0], consumer2: [topic1-1 topic2-1], consumer3: []}");
  const GroupAssignment assignment = VerifyValidityAndBalance(group, first);
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic1", 0)}));
  EXPECT_EQ(AsSet(assignment.at("consumer2")), AsSet({Tp("topic1", 1), Tp("topic2", 1)}));
  EXPECT_EQ(assignment.at("consumer3"), (Partitions{Tp("topic2", 0)}));
  EXPECT_TRUE(IsFullyBalanced(assignment));
}

TEST(CooperativeStickyAssignorTest, AllConsumersAreUnderMinQuota) {
  const std::vector<std::string> topics = {"topic1", "topic2"};
  const GroupCase group = {
      {{"topic1", 2}, {"topic2", 3}},
      {Owning("consumer1", topics, {Tp("topic1", 0)}),
       Owning("consumer2", topics, {Tp("topic1", 1)}), Owning("consumer3", topics, {})}};
  const GroupAssignment assignment = VerifyValidityAndBalance(group, Assign(group));
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic1-0 topic2-1], consumer2: [topic1-1 topic2-2], "
            "consumer3: [topic2-0]}");
}

TEST(CooperativeStickyAssignorTest, AddRemoveConsumerOneTopic) {
  GroupCase group = {{{"topic", 3}}, {Member("consumer1", {"topic"})}};
  GroupAssignment assignment = Assign(group);
  EXPECT_EQ(assignment.at("consumer1"),
            (Partitions{Tp("topic", 0), Tp("topic", 1), Tp("topic", 2)}));

  group.members = {Owning("consumer1", {"topic"}, assignment.at("consumer1")),
                   Owning("consumer2", {"topic"}, {})};
  assignment = Assign(group);
  // topic-2 is transferring to consumer2: revoked from consumer1 first.
  EXPECT_EQ(testing::Show(assignment), "{consumer1: [topic-0 topic-1], consumer2: []}");
  assignment = VerifyValidityAndBalance(group, assignment);
  EXPECT_EQ(assignment.at("consumer1"), (Partitions{Tp("topic", 0), Tp("topic", 1)}));
  EXPECT_EQ(assignment.at("consumer2"), (Partitions{Tp("topic", 2)}));

  group.members = {Owning("consumer2", {"topic"}, assignment.at("consumer2"))};
  assignment = Assign(group);
  EXPECT_EQ(assignment.at("consumer2"),
            (Partitions{Tp("topic", 0), Tp("topic", 1), Tp("topic", 2)}));
}

TEST(CooperativeStickyAssignorTest, AddRemoveTwoConsumersTwoTopics) {
  const std::vector<std::string> topics = {"topic1", "topic2"};
  GroupCase group = {{{"topic1", 3}, {"topic2", 4}},
                     {Member("consumer1", topics), Member("consumer2", topics)}};
  GroupAssignment assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic1-0 topic1-2 topic2-1 topic2-3], "
            "consumer2: [topic1-1 topic2-0 topic2-2]}");

  // Two join. Java: transferring {topic1-2: consumer3, topic2-3: consumer3, topic2-2: consumer4}.
  group.members = {Owning("consumer1", topics, assignment.at("consumer1")),
                   Owning("consumer2", topics, assignment.at("consumer2")),
                   Owning("consumer3", topics, {}), Owning("consumer4", topics, {})};
  assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic1-0 topic2-1], consumer2: [topic1-1 topic2-0], consumer3: [], "
            "consumer4: []}");
  assignment = VerifyValidityAndBalance(group, assignment);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic1-0 topic2-1], consumer2: [topic1-1 topic2-0], "
            "consumer3: [topic1-2 topic2-3], consumer4: [topic2-2]}");

  // Two leave.
  group.members = {Owning("consumer3", topics, assignment.at("consumer3")),
                   Owning("consumer4", topics, assignment.at("consumer4"))};
  assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer3: [topic1-0 topic1-2 topic2-1 topic2-3], "
            "consumer4: [topic1-1 topic2-0 topic2-2]}");
}

TEST(CooperativeStickyAssignorTest, TopicBalanceAfterReassignment) {
  const std::vector<std::string> topics = {"topic1", "topic2"};
  GroupCase group = {{{"topic1", 12}, {"topic2", 12}}, {Member("consumer1", topics)}};
  const auto per_topic = [](const GroupAssignment& assignment, int expected) {
    for (const auto& [member_id, partitions] : assignment) {
      for (const std::string topic : {"topic1", "topic2"}) {
        EXPECT_EQ(std::count_if(partitions.begin(), partitions.end(),
                                [&topic](const TopicPartition& tp) { return tp.topic == topic; }),
                  expected)
            << member_id << " " << topic;
      }
    }
  };
  GroupAssignment assignment = VerifyValidityAndBalance(group, Assign(group));
  per_topic(assignment, 12);
  std::vector<std::vector<std::string>> rounds = {
      {"consumer1", "consumer2"},
      {"consumer1", "consumer2", "consumer3", "consumer4"},
      {"consumer3", "consumer4"}};
  const int expected[] = {6, 3, 6};
  for (size_t round = 0; round < rounds.size(); ++round) {
    group.members.clear();
    for (const std::string& id : rounds[round]) {
      auto it = assignment.find(id);
      group.members.push_back(
          Owning(id, topics, it == assignment.end() ? Partitions{} : it->second));
    }
    assignment = VerifyValidityAndBalance(group, Assign(group));
    per_topic(assignment, expected[round]);
  }
}

TEST(CooperativeStickyAssignorTest, PoorRoundRobinAssignmentScenario) {
  PartitionCounts partitions;
  for (int i = 1; i <= 5; ++i) partitions["topic" + std::to_string(i)] = (i % 2) + 1;
  const std::vector<std::string> all = {"topic1", "topic2", "topic3", "topic4", "topic5"};
  const std::vector<std::string> odd = {"topic1", "topic3", "topic5"};
  const GroupCase group = {partitions,
                           {Member("consumer1", all), Member("consumer2", odd),
                            Member("consumer3", odd), Member("consumer4", all)}};
  VerifyValidityAndBalance(group, Assign(group));
}

TEST(CooperativeStickyAssignorTest, AddRemoveTopicTwoConsumers) {
  GroupCase group = {{{"topic", 3}},
                     {Member("consumer1", {"topic"}), Member("consumer2", {"topic"})}};
  const GroupAssignment first = VerifyValidityAndBalance(group, Assign(group));
  EXPECT_TRUE(IsFullyBalanced(first));

  group.partitions_per_topic["topic2"] = 3;
  group.members = {Owning("consumer1", {"topic", "topic2"}, first.at("consumer1")),
                   Owning("consumer2", {"topic", "topic2"}, first.at("consumer2"))};
  const GroupAssignment second = VerifyValidityAndBalance(group, Assign(group));
  for (const std::string id : {"consumer1", "consumer2"}) {
    EXPECT_EQ(second.at(id).size(), 3u);
    for (const TopicPartition& tp : first.at(id)) {
      EXPECT_TRUE(AsSet(second.at(id)).contains(tp)) << "not sticky for " << id;
    }
  }

  group.partitions_per_topic.erase("topic");
  group.members = {Owning("consumer1", {"topic2"}, second.at("consumer1")),
                   Owning("consumer2", {"topic2"}, second.at("consumer2"))};
  const GroupAssignment third = VerifyValidityAndBalance(group, Assign(group));
  EXPECT_TRUE(IsFullyBalanced(third));
  for (const std::string id : {"consumer1", "consumer2"}) {
    for (const TopicPartition& tp : third.at(id)) {
      EXPECT_TRUE(AsSet(second.at(id)).contains(tp)) << "not sticky for " << id;
    }
  }
}

std::string Padded(const char* prefix, int i, int max) {
  // Java's getTopicName/getConsumerName: zero-padded to the width of `max`.
  const std::string width = std::to_string(max);
  std::string number = std::to_string(i);
  return prefix + std::string(width.size() - number.size(), '0') + number;
}

TEST(CooperativeStickyAssignorTest, ReassignmentAfterOneConsumerLeaves) {
  GroupCase group;
  for (int i = 1; i < 20; ++i) group.partitions_per_topic[Padded("t", i, 20)] = i;
  for (int i = 1; i < 20; ++i) {
    std::vector<std::string> topics;
    for (int j = 1; j <= i; ++j) topics.push_back(Padded("t", j, 20));
    group.members.push_back(Member(Padded("c", i, 20), topics));
  }
  const GroupAssignment first = VerifyValidityAndBalance(group, Assign(group));
  std::vector<MemberSubscription> members;
  for (MemberSubscription& member : group.members) {
    if (member.member_id == "c10") continue;
    member.subscription.owned_partitions = first.at(member.member_id);
    member.subscription.generation_id = kGeneration;
    members.push_back(member);
  }
  group.members = members;
  VerifyValidityAndBalance(group, Assign(group));
}

TEST(CooperativeStickyAssignorTest, SameSubscriptionsAfterOneConsumerLeaves) {
  GroupCase group;
  std::vector<std::string> topics;
  for (int i = 1; i < 15; ++i) {
    group.partitions_per_topic[Padded("t", i, 15)] = i;
    topics.push_back(Padded("t", i, 15));
  }
  for (int i = 1; i < 9; ++i) group.members.push_back(Member(Padded("c", i, 9), topics));
  const GroupAssignment first = VerifyValidityAndBalance(group, Assign(group));
  std::vector<MemberSubscription> members;
  for (MemberSubscription& member : group.members) {
    if (member.member_id == "c5") continue;
    members.push_back(Owning(member.member_id, topics, first.at(member.member_id)));
  }
  group.members = members;
  const GroupAssignment second = Assign(group);
  // Nothing changes owner: the leaver's partitions are free, so nothing is held back.
  EXPECT_TRUE(testing::Unassigned(group, second).empty());
  VerifyValidityAndBalance(group, second);
}

TEST(CooperativeStickyAssignorTest, Stickiness) {
  GroupCase group = {{{"topic1", 3}},
                     {Member("consumer1", {"topic1"}), Member("consumer2", {"topic1"}),
                      Member("consumer3", {"topic1"}), Member("consumer4", {"topic1"})}};
  const GroupAssignment first = VerifyValidityAndBalance(group, Assign(group));
  for (const auto& [id, partitions] : first) EXPECT_LE(partitions.size(), 1u) << id;
  group.members = {Owning("consumer2", {"topic1"}, first.at("consumer2")),
                   Owning("consumer3", {"topic1"}, first.at("consumer3")),
                   Owning("consumer4", {"topic1"}, first.at("consumer4"))};
  const GroupAssignment second = VerifyValidityAndBalance(group, Assign(group));
  for (const auto& [id, partitions] : second) {
    ASSERT_EQ(partitions.size(), 1u) << id;
    if (!first.at(id).empty()) {
      EXPECT_EQ(partitions, first.at(id)) << "not sticky for " << id;
    }
  }
}

TEST(CooperativeStickyAssignorTest, AssignmentUpdatedForDeletedTopic) {
  const GroupAssignment assignment = Assign(
      {{{"topic1", 1}, {"topic3", 100}}, {Member("consumer", {"topic1", "topic2", "topic3"})}});
  EXPECT_EQ(assignment.at("consumer").size(), 101u);
}

TEST(CooperativeStickyAssignorTest, NoProblemWhenOnlySubscribedTopicDeleted) {
  const GroupCase group = {
      {}, {Owning("consumer", {"topic"}, {Tp("topic", 0), Tp("topic", 1), Tp("topic", 2)})}};
  EXPECT_EQ(Assign(group), (GroupAssignment{{"consumer", {}}}));
}

TEST(CooperativeStickyAssignorTest, AllConsumersReachExpectedQuotaAndAreConsideredFilled) {
  const GroupCase group = {
      {{"topic", 4}},
      {Owning("consumer1", {"topic"}, {Tp("topic", 0), Tp("topic", 1)}),
       Owning("consumer2", {"topic"}, {Tp("topic", 2)}), Owning("consumer3", {"topic"}, {})}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic-0 topic-1], consumer2: [topic-2], consumer3: [topic-3]}");
  VerifyValidityAndBalance(group, assignment);
}

TEST(CooperativeStickyAssignorTest, OwnedPartitionsOfAStaleOrNoGenerationAreInvalidated) {
  const std::vector<std::string> topics = {"topic", "topic2"};
  const Partitions claim = {Tp("topic", 0), Tp("topic", 2), Tp("topic2", 1)};
  for (const int32_t stale : {9, kNoGeneration}) {
    const GroupCase group = {
        {{"topic", 3}, {"topic2", 3}},
        {Owning("consumer1", topics, claim, 10), Owning("consumer2", topics, claim, stale)}};
    const GroupAssignment assignment = Assign(group);
    EXPECT_EQ(AsSet(assignment.at("consumer1")), AsSet(claim));
    EXPECT_EQ(AsSet(assignment.at("consumer2")),
              AsSet({Tp("topic", 1), Tp("topic2", 0), Tp("topic2", 2)}));
  }
}

TEST(CooperativeStickyAssignorTest, PartitionClaimedTwiceInOneGenerationIsHeldBackFromEveryone) {
  // CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedBy-
  // MultipleConsumersInSameGeneration{With,Without}EqualPartitionsPerConsumer.
  GroupCase group = {{{"topic", 3}},
                     {Owning("consumer1", {"topic"}, {Tp("topic", 0), Tp("topic", 1)}),
                      Owning("consumer2", {"topic"}, {Tp("topic", 0), Tp("topic", 2)}),
                      Owning("consumer3", {"topic"}, {})}};
  GroupAssignment assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic-1], consumer2: [topic-2], consumer3: []}");
  assignment = VerifyValidityAndBalance(group, assignment);
  EXPECT_EQ(assignment.at("consumer3"), (Partitions{Tp("topic", 0)}));

  group.partitions_per_topic["topic"] = 4;
  assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic-1 topic-3], consumer2: [topic-2], consumer3: []}");
  EXPECT_TRUE(IsFullyBalanced(VerifyValidityAndBalance(group, assignment)));
}

TEST(CooperativeStickyAssignorTest, PartitionsGoToTheHighestGeneration) {
  const std::vector<std::string> topics = {"topic", "topic2", "topic3"};
  const GroupCase group = {
      {{"topic", 3}, {"topic2", 3}, {"topic3", 3}},
      {Owning("consumer1", topics, {Tp("topic", 0), Tp("topic2", 0), Tp("topic3", 0)}, 10),
       Owning("consumer2", topics, {Tp("topic", 1), Tp("topic2", 1), Tp("topic3", 1)}, 9),
       Owning("consumer3", topics, {Tp("topic2", 1), Tp("topic3", 0), Tp("topic3", 2)}, 8)}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(testing::Show(assignment),
            "{consumer1: [topic-0 topic2-0 topic3-0], consumer2: [topic-1 topic2-1 topic3-1], "
            "consumer3: [topic-2 topic2-2 topic3-2]}");
}

TEST(CooperativeStickyAssignorTest, NoReassignmentOnCurrentMembers) {
  const std::vector<std::string> topics = {"topic", "topic2", "topic3", "topic1"};
  const GroupCase group = {
      {{"topic", 3}, {"topic1", 3}, {"topic2", 3}, {"topic3", 3}},
      {Owning("consumer1", topics, {}, kNoGeneration),
       Owning("consumer2", topics, {Tp("topic", 0), Tp("topic2", 0), Tp("topic1", 0)}, 9),
       Owning("consumer3", topics, {Tp("topic3", 2), Tp("topic2", 2), Tp("topic1", 1)}, 8),
       Owning("consumer4", topics, {Tp("topic3", 1), Tp("topic", 1), Tp("topic", 2)}, 7)}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(AsSet(assignment.at("consumer1")),
            AsSet({Tp("topic1", 2), Tp("topic2", 1), Tp("topic3", 0)}));
  EXPECT_TRUE(IsFullyBalanced(assignment));
}

TEST(CooperativeStickyAssignorTest, OwnedPartitionsAreInvalidatedForMultipleGenerations) {
  const std::vector<std::string> topics = {"topic", "topic2"};
  const GroupCase group = {
      {{"topic", 3}, {"topic2", 3}},
      {Owning("consumer1", topics, {Tp("topic", 0), Tp("topic2", 1), Tp("topic", 1)}, 10),
       Owning("consumer2", topics, {Tp("topic", 0), Tp("topic2", 1), Tp("topic2", 2)}, 8)}};
  const GroupAssignment assignment = Assign(group);
  EXPECT_EQ(AsSet(assignment.at("consumer1")),
            AsSet({Tp("topic", 0), Tp("topic2", 1), Tp("topic", 1)}));
  EXPECT_EQ(AsSet(assignment.at("consumer2")),
            AsSet({Tp("topic", 2), Tp("topic2", 2), Tp("topic2", 0)}));
}

TEST(CooperativeStickyAssignorTest, OldVersionSubscriptionsCarryTheGenerationInUserData) {
  // testAssignorWithOldVersionSubscriptions: v1 members (no generation field, the generation in
  // the assignor's user data) next to a v2+ member.
  const CooperativeStickyAssignor assignor;
  MemberSubscription consumer1 = Owning("consumer1", {"topic1"}, {Tp("topic1", 0)}, kNoGeneration);
  consumer1.subscription.user_data = assignor.SubscriptionUserData(kGeneration);
  MemberSubscription consumer2 = Owning("consumer2", {"topic1"}, {Tp("topic1", 1)}, kNoGeneration);
  consumer2.subscription.user_data = assignor.SubscriptionUserData(kGeneration);
  const GroupCase group = {{{"topic1", 3}},
                           {consumer1, consumer2, Owning("consumer3", {"topic1"}, {})}};
  EXPECT_EQ(testing::Show(Assign(group)),
            "{consumer1: [topic1-0], consumer2: [topic1-1], consumer3: [topic1-2]}");
}

TEST(CooperativeStickyAssignorTest, SubscriptionsNotEqualWithThreeGenerationsClaimingOnePartition) {
  const int sequences[][3] = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}};
  for (const auto& generations : sequences) {
    const GroupCase group = {
        {{"topic", 6}, {"topic1", 1}},
        {Owning("consumer1", {"topic"}, {Tp("topic", 0), Tp("topic", 2)}, generations[0]),
         Owning("consumer2", {"topic"}, {Tp("topic", 1), Tp("topic", 2), Tp("topic", 3)},
                generations[1]),
         Owning("consumer3", {"topic"}, {Tp("topic", 2), Tp("topic", 4), Tp("topic", 5)},
                generations[2]),
         Owning("consumer4", {"topic1"}, {Tp("topic1", 0)}, 2)}};
    const GroupAssignment assignment = *CooperativeStickyAssignor().AssignIgnoringRevocation(
        group.partitions_per_topic, group.members);
    EXPECT_EQ(testing::ContractViolation(group, assignment), "");
    for (const auto& [id, partitions] : assignment) {
      EXPECT_TRUE(partitions.size() >= 1 && partitions.size() <= 2) << testing::Show(assignment);
    }
    VerifyValidityAndBalance(group, Assign(group));
  }
}

TEST(CooperativeStickyAssignorTest, MoveExistingAssignmentsAndNewSubscription) {
  PartitionCounts partitions;
  for (int i = 1; i <= 6; ++i) partitions["topic" + std::to_string(i)] = 1;
  const GroupCase group = {partitions,
                           {Owning("consumer1", {"topic1", "topic2"}, {Tp("topic1", 0)}),
                            Owning("consumer2", {"topic1", "topic2", "topic3", "topic4"},
                                   {Tp("topic2", 0), Tp("topic3", 0)}),
                            Owning("consumer3", {"topic2", "topic3", "topic4", "topic5", "topic6"},
                                   {Tp("topic4", 0), Tp("topic5", 0), Tp("topic6", 0)})}};
  VerifyValidityAndBalance(group, Assign(group));
}

TEST(CooperativeStickyAssignorTest, GenerationTravelsInUserDataAsABigEndianInt32) {
  const CooperativeStickyAssignor assignor;
  EXPECT_EQ(assignor.SubscriptionUserData(10), std::string("\x00\x00\x00\x0a", 4));
  EXPECT_EQ(assignor.SubscriptionUserData(kNoGeneration), std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(
      assignor.supported_protocols(),
      (std::vector<RebalanceProtocol>{RebalanceProtocol::kCooperative, RebalanceProtocol::kEager}));
}

TEST(JavaHashTest, StringAndTopicPartitionHashCodes) {
  // Values of "...".hashCode() in Java.
  EXPECT_EQ(internal::JavaStringHash(""), 0);
  EXPECT_EQ(internal::JavaStringHash("a"), 97);
  EXPECT_EQ(internal::JavaStringHash("consumer1"), static_cast<int32_t>(0xe6e7fafbu));
  EXPECT_EQ(internal::JavaStringHash("hello world"), 1794106052);
  // "é" is one UTF-16 unit (0xe9); U+1F600 is two (0xd83d 0xde00).
  EXPECT_EQ(internal::JavaStringHash("\xc3\xa9"), 0xe9);
  EXPECT_EQ(internal::JavaStringHash("\xf0\x9f\x98\x80"), 31 * 0xd83d + 0xde00);
  // new TopicPartition("t", 2).hashCode() = 31 * (31 + 2) + "t".hashCode().
  EXPECT_EQ(internal::JavaTopicPartitionHash(Tp("t", 2)), 31 * 33 + 116);
}

TEST(JavaHashTest, HashMapOrderOfJavasTestMemberIds) {
  // (h ^ h >>> 16) & 15 is 12, 11, 10, 9 for consumer1..4: Java iterates them backwards.
  EXPECT_EQ(internal::JavaHashMapOrder({"consumer1", "consumer2", "consumer3", "consumer4"}),
            (std::vector<std::string>{"consumer4", "consumer3", "consumer2", "consumer1"}));
  EXPECT_EQ(internal::JavaHashCapacity(12), 16u);
  EXPECT_EQ(internal::JavaHashCapacity(13), 32u);
  EXPECT_EQ(internal::JavaHashCapacity(25), 64u);
}

}  // namespace
}  // namespace eddy::clients::group
