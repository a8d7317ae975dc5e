#include "clients/group/range_assignor.h"

#include "clients/group/group_input.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"

namespace eddy::clients::group {

absl::StatusOr<GroupAssignment> RangeAssignor::Assign(
    const PartitionCounts& partitions_per_topic,
    const std::vector<MemberSubscription>& members) const {
  EDDY_ASSIGN_OR_RETURN(const internal::GroupInput input,
                        internal::MakeGroupInput(partitions_per_topic, members));
  GroupAssignment assignment = internal::EmptyAssignment(input);
  for (const auto& [topic, partition_count] : input.partitions_per_topic) {
    std::vector<std::string> subscribers;
    for (const auto& [member_id, topics] : input.topics_of) {
      if (topics.contains(topic)) subscribers.push_back(member_id);
    }
    // Every topic left in partitions_per_topic has a subscriber (MakeGroupInput).
    EDDY_CHECK(!subscribers.empty());
    subscribers = internal::MembersInInstanceOrder(input, subscribers);
    const auto member_count = static_cast<int32_t>(subscribers.size());
    const int32_t per_member = partition_count / member_count;
    const int32_t with_extra = partition_count % member_count;
    int32_t next = 0;
    for (int32_t i = 0; i < member_count; ++i) {
      const int32_t count = per_member + (i < with_extra ? 1 : 0);
      std::vector<TopicPartition>& out = assignment[subscribers[i]];
      for (int32_t k = 0; k < count; ++k) out.push_back(TopicPartition{topic, next++});
    }
    EDDY_CHECK_EQ(next, partition_count);
  }
  internal::FinishAssignment(input, assignment);
  return assignment;
}

}  // namespace eddy::clients::group
