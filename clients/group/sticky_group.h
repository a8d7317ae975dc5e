// INTERNAL to clients/group: the two assignment paths of Kafka's AbstractStickyAssignor
// (org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor), which
// cooperative_sticky_assignor.h builds on.
//
// StickyGroup is the assignor's reading of the subscriptions: each member's claimed partitions
// and generation, and the claims resolved into "owned" partitions (Java's allSubscriptionsEqual:
// a partition claimed by members of different generations belongs to the highest; claimed twice
// in one generation, it belongs to nobody and is remembered in claimed_by_many).
//
// AssignConstrained is Java's ConstrainedAssignmentBuilder, used when every member subscribes to
// the same topics; AssignGeneral is Java's GeneralAssignmentBuilder. Both return the eager
// sticky assignment; the constrained path also says which partitions change owner
// (`transferring`), the general path leaves that to the caller, as Java does.
//
// Member order: where Java iterates a HashMap of members and the order matters, these iterate in
// `java_order` (java_hash.h: Java's bucket order, ties by member id).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/group/group_input.h"

namespace eddy::clients::group::internal {

struct StickyGroup {
  const GroupInput* input = nullptr;
  // Every member id, in the order Java iterates the group's HashMap of subscriptions.
  std::vector<std::string> java_order;
  // Java's MemberData.generation: the subscription's generation id (v2+) if >= 0, else the
  // generation in the cooperative user data, else none.
  std::map<std::string, std::optional<int32_t>> generation_of;
  // Each member's owned partitions that exist (topic in input->partitions_per_topic, partition
  // in range), first occurrence kept, in the member's order.
  std::map<std::string, std::vector<TopicPartition>> claimed_of;
  // The claims after resolving conflicts between members (Java's consumerToOwnedPartitions).
  std::map<std::string, std::vector<TopicPartition>> owned_of;
  // Partitions claimed by two members of one generation (partitionsWithMultiplePreviousOwners).
  std::set<TopicPartition> claimed_by_many;
  // The highest generation any member reports (kNoGeneration if none).
  int32_t max_generation = kNoGeneration;
  // Whether every member subscribes to the same set of topics.
  bool subscriptions_equal = true;
};

// Java's CooperativeStickyAssignor.memberData generation: the subscription's if present, else
// the int32 the assignor's user data starts with (a shorter user data reads as kNoGeneration),
// none without user data.
std::optional<int32_t> CooperativeGeneration(const Subscription& subscription);

// REQUIRES: `input` outlives the result.
StickyGroup MakeStickyGroup(const GroupInput& input);

struct StickyResult {
  GroupAssignment assignment;  // every member's entry; partitions in no particular order
  // Partition -> the member it moves to while another member still owns it (Java's
  // partitionsTransferringOwnership); only the constrained path computes it.
  std::optional<std::map<TopicPartition, std::string>> transferring;
};

// REQUIRES: group.subscriptions_equal and at least one member.
StickyResult AssignConstrained(const StickyGroup& group);
// REQUIRES: at least one member.
StickyResult AssignGeneral(const StickyGroup& group);

}  // namespace eddy::clients::group::internal
