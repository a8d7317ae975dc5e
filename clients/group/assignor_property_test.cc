// RapidCheck properties of the three assignors over random groups (assignor_testing.h: up to 7
// members with random ids, some static, over up to 5 topics of 0..7 partitions, some topics
// missing from the metadata; owned partitions none, consistent, or arbitrary garbage):
//   - CONTRACT: one entry per member; partitions exist, are of a topic the member subscribes
//     to, and go to one member at most (checked by assignor_testing, not by the code under
//     test); every assignable partition is assigned (for cooperative-sticky: unless a member
//     other than its new owner still claims it, so it is being revoked first);
//   - DETERMINISM: the same answer whatever the order of the members;
//   - SPECIFICATION of range (contiguous per-topic ranges in instance order, the first n % m
//     one longer) and roundrobin (with equal subscriptions, the k-th partition to member
//     k mod m, so counts differ by at most one);
//   - cooperative-sticky: COUNTS differ by at most one when subscriptions are equal (before the
//     cooperative rule holds partitions back) and Java's balance rule holds otherwise;
//     NOTHING IS TAKEN from a member that still claims it; STICKINESS (with equal
//     subscriptions and consistent ownership every member keeps min(owned, floor(P / M)) of its
//     partitions, and an already balanced complete assignment is kept as it is); SETTLING (a
//     group that keeps rebalancing with what it was given reaches, within two follow-up
//     rebalances, an assignment that revokes nothing, covers every partition and is balanced).
#include <algorithm>
#include <set>
#include <tuple>

#include "clients/group/assignor_testing.h"
#include "clients/group/cooperative_sticky_assignor.h"
#include "clients/group/range_assignor.h"
#include "clients/group/round_robin_assignor.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::clients::group {
namespace {

using testing::GroupCase;
using testing::GroupShape;

using Ownership = GroupShape::Ownership;

GroupShape GenShape() {
  GroupShape shape;
  shape.equal_subscriptions = *rc::gen::arbitrary<bool>();
  shape.ownership =
      *rc::gen::element(Ownership::kNone, Ownership::kConsistent, Ownership::kArbitrary);
  return shape;
}

GroupAssignment MustAssign(const Assignor& assignor, const GroupCase& group) {
  absl::StatusOr<GroupAssignment> assignment =
      assignor.Assign(group.partitions_per_topic, group.members);
  RC_ASSERT(assignment.ok());
  return *std::move(assignment);
}

void CheckContractAndDeterminism(const Assignor& assignor, const GroupCase& group,
                                 const GroupAssignment& assignment) {
  RC_ASSERT(testing::ContractViolation(group, assignment) == "");
  GroupCase shuffled = group;
  shuffled.members = testing::Shuffled(group.members);
  RC_ASSERT(MustAssign(assignor, shuffled) == assignment);
}

// Member ids in Java's MemberInfo order (static members by instance id, then the others).
std::vector<std::string> InstanceOrder(std::vector<MemberSubscription> members) {
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(!a.group_instance_id.has_value(), a.group_instance_id, a.member_id) <
           std::make_tuple(!b.group_instance_id.has_value(), b.group_instance_id, b.member_id);
  });
  std::vector<std::string> ids;
  for (const MemberSubscription& member : members) ids.push_back(member.member_id);
  return ids;
}

bool SubscribesTo(const MemberSubscription& member, const std::string& topic) {
  const std::vector<std::string>& topics = member.subscription.topics;
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

RC_GTEST_PROP(RangeAssignorProperty, ContiguousRangesInInstanceOrder, ()) {
  const GroupCase group = testing::GenGroup(GenShape());
  const RangeAssignor assignor;
  const GroupAssignment assignment = MustAssign(assignor, group);
  CheckContractAndDeterminism(assignor, group, assignment);
  RC_ASSERT(testing::Unassigned(group, assignment).empty());
  for (const auto& [topic, count] : group.partitions_per_topic) {
    std::vector<MemberSubscription> subscribers;
    for (const MemberSubscription& member : group.members) {
      if (SubscribesTo(member, topic)) subscribers.push_back(member);
    }
    if (subscribers.empty() || count == 0) continue;
    const auto m = static_cast<int32_t>(subscribers.size());
    int32_t next = 0;
    const std::vector<std::string> order = InstanceOrder(subscribers);
    for (int32_t i = 0; i < m; ++i) {
      std::vector<int32_t> mine;
      for (const TopicPartition& tp : assignment.at(order[i])) {
        if (tp.topic == topic) mine.push_back(tp.partition);
      }
      RC_ASSERT(static_cast<int32_t>(mine.size()) == count / m + (i < count % m ? 1 : 0));
      for (const int32_t partition : mine) RC_ASSERT(partition == next++);
    }
  }
}

RC_GTEST_PROP(RoundRobinAssignorProperty, DealsAroundTheCircle, ()) {
  const GroupCase group = testing::GenGroup(GenShape());
  const RoundRobinAssignor assignor;
  const GroupAssignment assignment = MustAssign(assignor, group);
  CheckContractAndDeterminism(assignor, group, assignment);
  RC_ASSERT(testing::Unassigned(group, assignment).empty());
  if (group.members.empty()) return;
  // With everyone subscribed to every assignable topic, the k-th partition goes to member k % m.
  bool equal = true;
  for (const MemberSubscription& member : group.members) {
    equal = equal && std::set<std::string>(member.subscription.topics.begin(),
                                           member.subscription.topics.end()) ==
                         std::set<std::string>(group.members[0].subscription.topics.begin(),
                                               group.members[0].subscription.topics.end());
  }
  if (!equal) return;
  const std::vector<std::string> order = InstanceOrder(group.members);
  const std::vector<TopicPartition> all = testing::AssignablePartitions(group);
  for (size_t k = 0; k < all.size(); ++k) {
    const std::vector<TopicPartition>& mine = assignment.at(order[k % order.size()]);
    RC_ASSERT(std::find(mine.begin(), mine.end(), all[k]) != mine.end());
  }
  RC_ASSERT(testing::CountSpread(assignment) <= 1);
}

// Partitions some member other than `member_id` claims (in its owned partitions, as given).
std::set<TopicPartition> ClaimedByOthers(const GroupCase& group, const std::string& member_id) {
  std::set<TopicPartition> claimed;
  for (const MemberSubscription& member : group.members) {
    if (member.member_id == member_id) continue;
    claimed.insert(member.subscription.owned_partitions.begin(),
                   member.subscription.owned_partitions.end());
  }
  return claimed;
}

RC_GTEST_PROP(CooperativeStickyAssignorProperty, NeverTakesAPartitionFromAnOwner, ()) {
  const GroupCase group = testing::GenGroup(GenShape());
  const CooperativeStickyAssignor assignor;
  const GroupAssignment assignment = MustAssign(assignor, group);
  CheckContractAndDeterminism(assignor, group, assignment);
  std::set<TopicPartition> claimed_by_anyone;
  for (const MemberSubscription& member : group.members) {
    const std::vector<TopicPartition>& owned = member.subscription.owned_partitions;
    claimed_by_anyone.insert(owned.begin(), owned.end());
    const std::set<TopicPartition> others = ClaimedByOthers(group, member.member_id);
    for (const TopicPartition& tp : assignment.at(member.member_id)) {
      const bool owns = std::find(owned.begin(), owned.end(), tp) != owned.end();
      RC_ASSERT(owns || !others.contains(tp));
    }
  }
  // What is not assigned is held back only because someone still claims it.
  for (const TopicPartition& tp : testing::Unassigned(group, assignment)) {
    RC_ASSERT(claimed_by_anyone.contains(tp));
  }
}

RC_GTEST_PROP(CooperativeStickyAssignorProperty, BalancedBeforeRevocation, ()) {
  const GroupShape shape = GenShape();
  const GroupCase group = testing::GenGroup(shape);
  const CooperativeStickyAssignor assignor;
  const absl::StatusOr<GroupAssignment> sticky =
      assignor.AssignIgnoringRevocation(group.partitions_per_topic, group.members);
  RC_ASSERT(sticky.ok());
  RC_ASSERT(testing::ContractViolation(group, *sticky) == "");
  RC_ASSERT(testing::Unassigned(group, *sticky).empty());
  if (shape.equal_subscriptions) {
    RC_ASSERT(testing::CountSpread(*sticky) <= 1);
  } else {
    RC_ASSERT(testing::JavaBalanceViolation(*sticky) == "");
  }
}

RC_GTEST_PROP(CooperativeStickyAssignorProperty, KeepsOwnedPartitionsAsBalanceAllows, ()) {
  GroupShape shape;
  shape.equal_subscriptions = true;
  shape.ownership = Ownership::kConsistent;
  const GroupCase group = testing::GenGroup(shape);
  RC_PRE(!group.members.empty());
  const CooperativeStickyAssignor assignor;
  const GroupAssignment assignment = MustAssign(assignor, group);
  const size_t min_quota = testing::AssignablePartitions(group).size() / group.members.size();
  for (const MemberSubscription& member : group.members) {
    const std::vector<TopicPartition>& owned = member.subscription.owned_partitions;
    const std::vector<TopicPartition>& mine = assignment.at(member.member_id);
    size_t kept = 0;
    for (const TopicPartition& tp : owned) {
      kept += std::find(mine.begin(), mine.end(), tp) != mine.end() ? 1 : 0;
    }
    RC_ASSERT(kept >= std::min(owned.size(), min_quota));
  }
  // An assignment that is already complete and balanced is kept exactly.
  GroupCase settled = group;
  const GroupAssignment balanced =
      *RoundRobinAssignor().Assign(group.partitions_per_topic, group.members);
  for (MemberSubscription& member : settled.members) {
    member.subscription.owned_partitions = balanced.at(member.member_id);
  }
  RC_ASSERT(MustAssign(assignor, settled) == balanced);
}

RC_GTEST_PROP(CooperativeStickyAssignorProperty, SettlesWithinTwoFollowUpRebalances, ()) {
  GroupShape shape = GenShape();
  if (shape.ownership == Ownership::kArbitrary) shape.ownership = Ownership::kConsistent;
  const GroupCase group = testing::GenGroup(shape);
  const CooperativeStickyAssignor assignor;
  const int32_t generation = 100;  // newer than any generation the generator draws
  const testing::Settled settled = testing::SettleCooperatively(
      assignor, group, MustAssign(assignor, group), generation, /*rebalances_max=*/3);
  RC_ASSERT(settled.rebalances <= 2);
  RC_ASSERT(!testing::RevokesSomething(settled.group, settled.assignment));
  RC_ASSERT(testing::Unassigned(settled.group, settled.assignment).empty());
  if (shape.equal_subscriptions) {
    RC_ASSERT(testing::CountSpread(settled.assignment) <= 1);
  } else {
    RC_ASSERT(testing::JavaBalanceViolation(settled.assignment) == "");
  }
}

}  // namespace
}  // namespace eddy::clients::group
