#include "raft/membership.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/check.h"

namespace eddy::raft {
namespace {

void InsertSorted(std::vector<NodeId>* ids, NodeId id) {
  ids->insert(std::lower_bound(ids->begin(), ids->end(), id), id);
}

void Erase(std::vector<NodeId>* ids, NodeId id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}

}  // namespace

Membership Membership::FromProto(const ConfState& conf_state) {
  Membership m;
  m.voters_.assign(conf_state.voters().begin(), conf_state.voters().end());
  m.learners_.assign(conf_state.learners().begin(), conf_state.learners().end());
  std::sort(m.voters_.begin(), m.voters_.end());
  std::sort(m.learners_.begin(), m.learners_.end());
  m.voters_.erase(std::unique(m.voters_.begin(), m.voters_.end()), m.voters_.end());
  m.learners_.erase(std::unique(m.learners_.begin(), m.learners_.end()), m.learners_.end());
  // A node listed as both is a voter: being a voter is the stronger (safer to count) claim.
  for (NodeId v : m.voters_) Erase(&m.learners_, v);
  return m;
}

ConfState Membership::ToProto() const {
  ConfState out;
  for (NodeId v : voters_) out.add_voters(v);
  for (NodeId l : learners_) out.add_learners(l);
  return out;
}

bool Membership::IsVoter(NodeId id) const {
  return std::binary_search(voters_.begin(), voters_.end(), id);
}

bool Membership::IsLearner(NodeId id) const {
  return std::binary_search(learners_.begin(), learners_.end(), id);
}

absl::Status Membership::Validate(ConfChangeType type, NodeId node) const {
  if (node == kNoNode) return absl::InvalidArgumentError("conf change names node 0");
  if (voters_.empty()) return absl::FailedPreconditionError("no membership to change");
  switch (type) {
    case CONF_ADD_LEARNER:
      if (Contains(node)) {
        return absl::FailedPreconditionError(absl::StrCat("node ", node, " is already a member"));
      }
      return absl::OkStatus();
    case CONF_PROMOTE_LEARNER:
      if (!IsLearner(node)) {
        return absl::FailedPreconditionError(absl::StrCat("node ", node, " is not a learner"));
      }
      return absl::OkStatus();
    case CONF_REMOVE_NODE:
      if (!Contains(node)) {
        return absl::FailedPreconditionError(absl::StrCat("node ", node, " is not a member"));
      }
      if (IsVoter(node) && voters_.size() == 1) {
        return absl::FailedPreconditionError("cannot remove the last voter");
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown conf change type ", type));
  }
}

bool Membership::Apply(ConfChangeType type, NodeId node) {
  if (!Validate(type, node).ok()) return false;
  const size_t members_before = voters_.size() + learners_.size();
  switch (type) {
    case CONF_ADD_LEARNER:
      InsertSorted(&learners_, node);
      break;
    case CONF_PROMOTE_LEARNER:
      Erase(&learners_, node);
      InsertSorted(&voters_, node);
      break;
    case CONF_REMOVE_NODE:
      Erase(&voters_, node);
      Erase(&learners_, node);
      break;
    default:
      EDDY_UNREACHABLE();
  }
  EDDY_CHECK(!voters_.empty());
  EDDY_CHECK_EQ(voters_.size() + learners_.size(),
                members_before + (type == CONF_ADD_LEARNER ? 1 : 0) -
                    (type == CONF_REMOVE_NODE ? 1 : 0));
  return true;
}

std::string Membership::DebugString() const {
  return absl::StrCat("voters=(", absl::StrJoin(voters_, " "), ") learners=(",
                      absl::StrJoin(learners_, " "), ")");
}

}  // namespace eddy::raft
