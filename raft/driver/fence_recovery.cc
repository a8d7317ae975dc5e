#include "raft/driver/fence_recovery.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"

namespace eddy::raft::driver {

bool AtLeastAsUpToDate(const LogEnd& a, const LogEnd& b) {
  return a.term > b.term || (a.term == b.term && a.offset >= b.offset);
}

const LogEnd& MoreUpToDate(const LogEnd& a, const LogEnd& b) {
  return AtLeastAsUpToDate(a, b) ? a : b;
}

const LogEnd& LessUpToDate(const LogEnd& a, const LogEnd& b) {
  return AtLeastAsUpToDate(a, b) ? b : a;
}

FenceRecovery::FenceRecovery(NodeId self, const std::vector<std::vector<NodeId>>& configurations,
                             int64_t conf_change_end)
    : self_(self), configurations_(configurations), conf_change_end_(conf_change_end) {
  std::vector<NodeId> voters;
  for (const std::vector<NodeId>& members : configurations) {
    EDDY_CHECK(std::is_sorted(members.begin(), members.end()));
    voters.insert(voters.end(), members.begin(), members.end());
  }
  std::sort(voters.begin(), voters.end());
  voters.erase(std::unique(voters.begin(), voters.end()), voters.end());
  EDDY_CHECK(std::binary_search(voters.begin(), voters.end(), self_));
  for (NodeId v : voters) {
    if (v != self_) peers_.push_back(v);
  }
}

bool FenceRecovery::Describes(const std::vector<std::vector<NodeId>>& configurations,
                              int64_t conf_change_end) const {
  return configurations == configurations_ && conf_change_end == conf_change_end_;
}

std::vector<NodeId> FenceRecovery::Missing() const {
  std::vector<NodeId> missing;
  for (NodeId v : peers_) {
    if (!reports_.contains(v)) missing.push_back(v);
  }
  return missing;
}

bool FenceRecovery::OnReport(NodeId from, uint64_t round, const LogEnd& end,
                             int64_t conf_change_end) {
  if (!std::binary_search(peers_.begin(), peers_.end(), from)) return false;
  auto it = reports_.find(from);
  if (it != reports_.end() && it->second.round > round) return false;  // a late, older answer
  // Both are true statements about its durable log; a committed entry it still holds is in the
  // newer one (committed entries are never cut), and one it lost since survives only where
  // another voter's report shows it.
  reports_[from] = Report{round, end, conf_change_end > conf_change_end_};
  return true;
}

bool FenceRecovery::configuration_differs() const {
  return std::any_of(reports_.begin(), reports_.end(),
                     [](const auto& entry) { return entry.second.knows_later_change; });
}

std::optional<LogEnd> FenceRecovery::LoweredMark(const LogEnd& mark, const LogEnd& log_end) const {
  // A membership change we lack may have moved the quorums outside the reporters.
  if (configuration_differs() || reports_.size() != peers_.size()) return std::nullopt;
  LogEnd best = log_end;  // our own log: what we hold is no loss
  for (const auto& [voter, report] : reports_) best = MoreUpToDate(best, report.end);
  return MoreUpToDate(log_end, LessUpToDate(mark, best));
}

}  // namespace eddy::raft::driver
