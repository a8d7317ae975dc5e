// Testonly helpers for the assignor tests: short builders for members and partitions, RapidCheck
// generators of whole groups, and checkers that state assignor.h's contract independently of
// the code under test (they never call into group_input or sticky_group).
//
// The generators must run inside a RapidCheck property (they use operator* on generators).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clients/group/assignor.h"

namespace eddy::clients::group::testing {

TopicPartition Tp(std::string topic, int32_t partition);
// A dynamic member with a v3 subscription (Java's buildSubscriptionV2Above).
MemberSubscription Member(std::string member_id, std::vector<std::string> topics,
                          std::vector<TopicPartition> owned = {},
                          int32_t generation_id = kNoGeneration);
MemberSubscription StaticMember(std::string member_id, std::string group_instance_id,
                                std::vector<std::string> topics);
// "{m1: [t-0 t-1], m2: []}"
std::string Show(const GroupAssignment& assignment);

struct GroupCase {
  PartitionCounts partitions_per_topic;
  std::vector<MemberSubscription> members;
};

struct GroupShape {
  bool equal_subscriptions = false;  // every member subscribes to the same topics
  // Owned partitions: none; consistent (each partition owned once, by a subscriber, all of one
  // generation); or arbitrary (unknown topics, bad partitions, duplicates, mixed generations).
  enum class Ownership { kNone, kConsistent, kArbitrary } ownership = Ownership::kNone;
};

// A group of 0..7 members over topics "t0".."t4" (0..7 partitions each, some missing from the
// metadata), with random member ids and some static members.
GroupCase GenGroup(const GroupShape& shape);
// The same members in a random order.
std::vector<MemberSubscription> Shuffled(const std::vector<MemberSubscription>& members);

// Every partition some member may be given: of subscribed topics, in the metadata.
std::vector<TopicPartition> AssignablePartitions(const GroupCase& group);
// "" when `assignment` meets assignor.h's OUTPUT contract for `group`, else what is wrong.
std::string ContractViolation(const GroupCase& group, const GroupAssignment& assignment);
// Partitions assignable in `group` that `assignment` gives to nobody.
std::vector<TopicPartition> Unassigned(const GroupCase& group, const GroupAssignment& assignment);
// The member id -> owned partitions of `group`'s subscriptions, as given.
std::map<std::string, std::vector<TopicPartition>> OwnedPartitions(const GroupCase& group);
// Java's AbstractStickyAssignorTest.verifyValidityAndBalance balance part: for any two members
// whose counts differ by more than one, the larger holds no topic the smaller holds.
std::string JavaBalanceViolation(const GroupAssignment& assignment);
// Largest minus smallest partition count (0 for an empty group).
size_t CountSpread(const GroupAssignment& assignment);

}  // namespace eddy::clients::group::testing

namespace eddy::clients::group::testing {

// Java's CooperativeStickyAssignorTest.verifyValidityAndBalance loop: while an assignment
// revokes something (a member owned a partition it was not given), every member takes what it
// was given as owned, at `generation_id`, and the group rebalances again.
struct Settled {
  GroupAssignment assignment;
  GroupCase group;     // the subscriptions of the last rebalance
  int rebalances = 0;  // after the first
};
Settled SettleCooperatively(const Assignor& assignor, GroupCase group, GroupAssignment assignment,
                            int32_t generation_id, int rebalances_max);
// Whether some member owned a partition `assignment` does not give it.
bool RevokesSomething(const GroupCase& group, const GroupAssignment& assignment);

}  // namespace eddy::clients::group::testing
