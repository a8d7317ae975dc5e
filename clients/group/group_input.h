// INTERNAL to clients/group: the leader's input to an assignor, validated and normalised once
// for every assignor (the rules are assignor.h's INPUT and ERRORS paragraphs).
//
// Lifetime: a GroupInput points into the `members` vector it was made from (`member_of`); keep
// that vector alive and unchanged while the GroupInput is used.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/group/assignor.h"

namespace eddy::clients::group::internal {

struct GroupInput {
  // Topics some member subscribes to that have at least one partition (Java drops the rest
  // before assigning).
  PartitionCounts partitions_per_topic;
  // member id -> its JoinGroup entry.
  std::map<std::string, const MemberSubscription*> member_of;
  // member id -> the topics it subscribes to, duplicates removed, topics absent from the
  // metadata included (the sticky assignors compare whole subscriptions).
  std::map<std::string, std::set<std::string>> topics_of;
  // Sum of partitions_per_topic.
  int64_t partition_count = 0;

  bool Subscribes(const std::string& member_id, const std::string& topic) const {
    return topics_of.at(member_id).contains(topic);
  }
  // Whether the partition exists in partitions_per_topic.
  bool Exists(const TopicPartition& tp) const {
    auto it = partitions_per_topic.find(tp.topic);
    return it != partitions_per_topic.end() && tp.partition >= 0 && tp.partition < it->second;
  }
};

absl::StatusOr<GroupInput> MakeGroupInput(const PartitionCounts& partitions_per_topic,
                                          const std::vector<MemberSubscription>& members);

// Java's AbstractPartitionAssignor.MemberInfo order, used by range and roundrobin: members with
// a group instance id first, by instance id, then the others by member id. Ties (two members
// with one instance id, which a broker does not allow) fall back to member id.
std::vector<std::string> MembersInInstanceOrder(const GroupInput& input,
                                                const std::vector<std::string>& member_ids);

// An entry with no partitions for every member.
GroupAssignment EmptyAssignment(const GroupInput& input);

// Sorts each member's partitions, then checks assignor.h's OUTPUT contract (every member has an
// entry, partitions exist, are of a subscribed topic and are given at most once), crashing if
// an assignor broke it.
void FinishAssignment(const GroupInput& input, GroupAssignment& assignment);

}  // namespace eddy::clients::group::internal
