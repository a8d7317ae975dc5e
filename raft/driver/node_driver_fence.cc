// NodeDriver: answering fence queries for replicas this node does not hold (node_driver.h,
// ANSWERS FOR ABSENT REPLICAS).
#include "raft/driver/fence_report.h"
#include "raft/driver/node_driver.h"

namespace eddy::raft::driver {

void NodeDriver::MaybeAnswerForAbsentReplica(GroupId group, const Message& query,
                                             const GroupDriver* hosted) {
  const NodeId asked = query.to();
  const bool ours = NodeOfReplica(asked) == runtime_.self();
  // A later incarnation here means the asked one's directory was emptied before it was created.
  const bool superseded =
      hosted != nullptr && IncarnationOfReplica(asked) < IncarnationOfReplica(hosted->replica_id());
  // No replica and no state of the group: nothing the asked id could have acknowledged is here.
  const bool absent = hosted == nullptr && state_store_->open() && !state_store_->holds(group) &&
                      !removing_.contains(group);
  if (!ours || !(superseded || absent)) {
    // Not sure (the store still opening, or uncertain; a removal in flight; an id this node
    // never gave): silence, and the fenced replica keeps asking.
    ++stats_.unknown_group_messages;
    return;
  }
  ++stats_.fence_queries_answered_absent;
  Send(query.from(), group, EmptyFenceReport(query, asked));
}

}  // namespace eddy::raft::driver
