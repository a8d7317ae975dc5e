#include "clients/group/cooperative_sticky_assignor.h"

#include <set>

#include "clients/group/group_input.h"
#include "clients/group/sticky_group.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"

namespace eddy::clients::group {
namespace {

using internal::GroupInput;
using internal::StickyGroup;
using internal::StickyResult;

StickyResult AssignSticky(const StickyGroup& group) {
  return group.subscriptions_equal ? internal::AssignConstrained(group)
                                   : internal::AssignGeneral(group);
}

// Java's computePartitionsTransferringOwnership: partitions given to a member that did not own
// them while a member that owned them loses them.
std::map<TopicPartition, std::string> TransferringOwnership(const StickyGroup& group,
                                                            const GroupAssignment& assignment) {
  std::map<TopicPartition, std::string> added;
  std::set<TopicPartition> revoked;
  for (const auto& [member_id, partitions] : assignment) {
    const std::vector<TopicPartition>& claims = group.claimed_of.at(member_id);
    const std::set<TopicPartition> owned(claims.begin(), claims.end());
    const std::set<TopicPartition> assigned(partitions.begin(), partitions.end());
    for (const TopicPartition& tp : assigned) {
      if (!owned.contains(tp)) added[tp] = member_id;
    }
    for (const TopicPartition& tp : owned) {
      if (!assigned.contains(tp)) revoked.insert(tp);
    }
  }
  std::erase_if(added, [&revoked](const auto& entry) { return !revoked.contains(entry.first); });
  return added;
}

// The cooperative rule, checked on the final answer: a partition a member did not claim is
// claimed by no other member.
void CheckNothingTakenFromAnOwner(const StickyGroup& group, const GroupAssignment& assignment) {
  std::map<TopicPartition, std::string> claimant;
  for (const auto& [member_id, claims] : group.claimed_of) {
    for (const TopicPartition& tp : claims) claimant.emplace(tp, member_id);
  }
  for (const auto& [member_id, partitions] : assignment) {
    const std::vector<TopicPartition>& mine = group.claimed_of.at(member_id);
    const std::set<TopicPartition> owned(mine.begin(), mine.end());
    for (const TopicPartition& tp : partitions) {
      EDDY_CHECK_MSG(owned.contains(tp) || !claimant.contains(tp),
                     tp.topic << "-" << tp.partition << " given to " << member_id << " while "
                              << claimant.at(tp) << " owns it");
    }
  }
}

}  // namespace

std::optional<std::string> CooperativeStickyAssignor::SubscriptionUserData(
    int32_t generation_id) const {
  const auto value = static_cast<uint32_t>(generation_id);
  std::string bytes(4, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((value >> (24 - 8 * i)) & 0xff);
  return bytes;
}

absl::StatusOr<GroupAssignment> CooperativeStickyAssignor::AssignIgnoringRevocation(
    const PartitionCounts& partitions_per_topic,
    const std::vector<MemberSubscription>& members) const {
  EDDY_ASSIGN_OR_RETURN(const GroupInput input,
                        internal::MakeGroupInput(partitions_per_topic, members));
  if (members.empty()) return GroupAssignment{};
  StickyResult result = AssignSticky(internal::MakeStickyGroup(input));
  internal::FinishAssignment(input, result.assignment);
  return std::move(result.assignment);
}

absl::StatusOr<GroupAssignment> CooperativeStickyAssignor::Assign(
    const PartitionCounts& partitions_per_topic,
    const std::vector<MemberSubscription>& members) const {
  EDDY_ASSIGN_OR_RETURN(const GroupInput input,
                        internal::MakeGroupInput(partitions_per_topic, members));
  if (members.empty()) return GroupAssignment{};
  const StickyGroup group = internal::MakeStickyGroup(input);
  StickyResult result = AssignSticky(group);
  const std::map<TopicPartition, std::string> transferring =
      result.transferring.has_value() ? *result.transferring
                                      : TransferringOwnership(group, result.assignment);
  for (const auto& [tp, member_id] : transferring) {
    std::vector<TopicPartition>& partitions = result.assignment.at(member_id);
    std::erase(partitions, tp);
  }
  internal::FinishAssignment(input, result.assignment);
  CheckNothingTakenFromAnOwner(group, result.assignment);
  return std::move(result.assignment);
}

}  // namespace eddy::clients::group
