#include "clients/group/round_robin_assignor.h"

#include "clients/group/group_input.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"

namespace eddy::clients::group {

absl::StatusOr<GroupAssignment> RoundRobinAssignor::Assign(
    const PartitionCounts& partitions_per_topic,
    const std::vector<MemberSubscription>& members) const {
  EDDY_ASSIGN_OR_RETURN(const internal::GroupInput input,
                        internal::MakeGroupInput(partitions_per_topic, members));
  GroupAssignment assignment = internal::EmptyAssignment(input);
  std::vector<std::string> circle;
  for (const auto& [member_id, member] : input.member_of) circle.push_back(member_id);
  circle = internal::MembersInInstanceOrder(input, circle);

  size_t at = 0;  // Java's CircularIterator: the member to consider next
  // partitions_per_topic is a std::map: topics come sorted, as Java's TreeSet gives them.
  for (const auto& [topic, partition_count] : input.partitions_per_topic) {
    for (int32_t partition = 0; partition < partition_count; ++partition) {
      // Some member subscribes to the topic (MakeGroupInput), so this ends within one circle.
      size_t skipped = 0;
      while (!input.Subscribes(circle[at], topic)) {
        at = (at + 1) % circle.size();
        EDDY_CHECK_LT(++skipped, circle.size());
      }
      assignment[circle[at]].push_back(TopicPartition{topic, partition});
      at = (at + 1) % circle.size();
    }
  }
  internal::FinishAssignment(input, assignment);
  return assignment;
}

}  // namespace eddy::clients::group
