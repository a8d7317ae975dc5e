#include "clients/group/group_input.h"

#include <algorithm>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::clients::group::internal {
namespace {

absl::Status CheckMembers(const std::vector<MemberSubscription>& members) {
  if (members.size() > kGroupMemberCountMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(members.size(), " members exceed ", kGroupMemberCountMax));
  }
  std::set<std::string_view> seen;
  for (const MemberSubscription& member : members) {
    if (member.member_id.empty()) return absl::InvalidArgumentError("a member has no member id");
    if (!seen.insert(member.member_id).second) {
      return absl::InvalidArgumentError(absl::StrCat("member id ", member.member_id, " twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckCounts(const PartitionCounts& partitions_per_topic) {
  for (const auto& [topic, count] : partitions_per_topic) {
    if (count < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("topic ", topic, " has ", count, " partitions"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GroupInput> MakeGroupInput(const PartitionCounts& partitions_per_topic,
                                          const std::vector<MemberSubscription>& members) {
  absl::Status status = CheckMembers(members);
  status.Update(CheckCounts(partitions_per_topic));
  if (!status.ok()) return status;

  GroupInput input;
  for (const MemberSubscription& member : members) {
    input.member_of[member.member_id] = &member;
    std::set<std::string>& topics = input.topics_of[member.member_id];
    topics.insert(member.subscription.topics.begin(), member.subscription.topics.end());
    for (const std::string& topic : topics) {
      auto it = partitions_per_topic.find(topic);
      if (it == partitions_per_topic.end() || it->second == 0) continue;
      if (input.partitions_per_topic.emplace(topic, it->second).second) {
        input.partition_count += it->second;
      }
    }
    if (input.partition_count > kAssignedPartitionCountMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kAssignedPartitionCountMax, " partitions to assign"));
    }
  }
  EDDY_CHECK_EQ(input.member_of.size(), members.size());
  EDDY_CHECK_EQ(input.topics_of.size(), members.size());
  return input;
}

std::vector<std::string> MembersInInstanceOrder(const GroupInput& input,
                                                const std::vector<std::string>& member_ids) {
  std::vector<std::string> sorted = member_ids;
  auto key = [&input](const std::string& id) {
    const std::optional<std::string>& instance = input.member_of.at(id)->group_instance_id;
    // false sorts first: members with an instance id lead.
    return std::make_tuple(!instance.has_value(), instance.value_or(""), std::cref(id));
  };
  std::sort(sorted.begin(), sorted.end(),
            [&key](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return sorted;
}

GroupAssignment EmptyAssignment(const GroupInput& input) {
  GroupAssignment assignment;
  for (const auto& [member_id, member] : input.member_of) assignment[member_id];
  return assignment;
}

void FinishAssignment(const GroupInput& input, GroupAssignment& assignment) {
  EDDY_CHECK_EQ(assignment.size(), input.member_of.size());
  std::set<TopicPartition> given;
  for (auto& [member_id, partitions] : assignment) {
    EDDY_CHECK_MSG(input.member_of.contains(member_id), "assigned to a stranger " << member_id);
    std::sort(partitions.begin(), partitions.end());
    for (const TopicPartition& tp : partitions) {
      EDDY_CHECK_MSG(input.Exists(tp), tp.topic << "-" << tp.partition << " does not exist");
      EDDY_CHECK_MSG(input.Subscribes(member_id, tp.topic), member_id << " got " << tp.topic << "-"
                                                                      << tp.partition
                                                                      << " without subscribing");
      EDDY_CHECK_MSG(given.insert(tp).second,
                     tp.topic << "-" << tp.partition << " given twice, again to " << member_id);
    }
  }
  EDDY_CHECK_LE(static_cast<int64_t>(given.size()), input.partition_count);
}

}  // namespace eddy::clients::group::internal
