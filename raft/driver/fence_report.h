// FenceReport: the answer to a fenced replica's MSG_FENCE_QUERY (fence_recovery.h), built in one
// place for the two that give it: a hosted replica (GroupDriver::ReceiveFenceMessage) and a
// node answering for a replica id it holds nothing of (NodeDriver::MaybeAnswerForAbsentReplica).
#pragma once

#include <cstdint>

#include "raft/driver/fence_recovery.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft::driver {

// `reporter` answers `query` with its durable log end and where the newest membership change
// its log knows of ends; the query's id goes back so the asker can tell its own queries' answers.
Message FenceReport(const Message& query, NodeId reporter, const LogEnd& end,
                    int64_t conf_change_end);

// What a replica that holds nothing reports: an empty log that knows no change.
Message EmptyFenceReport(const Message& query, NodeId reporter);

}  // namespace eddy::raft::driver
