// Membership: the voters and learners of one Raft group (a ConfState as a value type).
//
// Changes are single-server (Raft dissertation §4.1): add a learner, promote a learner to voter,
// remove a node. Any two majorities of configurations that differ by one voter overlap, so one
// change at a time is safe provided a leader commits an entry of its own term before proposing a
// change (the published fix, Ongaro, raft-dev 2015) — RawNode enforces both rules.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft {

class Membership {
 public:
  Membership() = default;
  static Membership FromProto(const ConfState& conf_state);
  ConfState ToProto() const;

  const std::vector<NodeId>& voters() const { return voters_; }
  const std::vector<NodeId>& learners() const { return learners_; }
  bool IsVoter(NodeId id) const;
  bool IsLearner(NodeId id) const;
  bool Contains(NodeId id) const { return IsVoter(id) || IsLearner(id); }
  // Votes (or acknowledgements) needed among the voters: a strict majority.
  size_t Quorum() const { return voters_.size() / 2 + 1; }

  // Whether `change` is legal on this membership (kFailedPrecondition if not).
  absl::Status Validate(ConfChangeType type, NodeId node) const;
  // Applies a change; an illegal change is ignored (returns false) so that every replica, which
  // applies the same committed entries, ignores it identically.
  bool Apply(ConfChangeType type, NodeId node);

  std::string DebugString() const;
  friend bool operator==(const Membership&, const Membership&) = default;

 private:
  std::vector<NodeId> voters_;    // sorted, unique
  std::vector<NodeId> learners_;  // sorted, unique, disjoint from voters_
};

}  // namespace eddy::raft
