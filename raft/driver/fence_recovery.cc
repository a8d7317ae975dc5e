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
                             int64_t conf_change_end, LogEnd mark, LogEnd log_end)
    : self_(self), conf_change_end_(conf_change_end), mark_(mark), log_end_(log_end) {
  for (const std::vector<NodeId>& voters : configurations) {
    EDDY_CHECK(std::is_sorted(voters.begin(), voters.end()));
    voters_.insert(voters_.end(), voters.begin(), voters.end());
  }
  std::sort(voters_.begin(), voters_.end());
  voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
  EDDY_CHECK(std::binary_search(voters_.begin(), voters_.end(), self_));
}

std::vector<NodeId> FenceRecovery::Missing() const {
  std::vector<NodeId> missing;
  for (NodeId v : voters_) {
    if (v != self_ && !reports_.contains(v)) missing.push_back(v);
  }
  return missing;
}

bool FenceRecovery::OnReport(NodeId from, const LogEnd& end, int64_t conf_change_end) {
  if (from == self_ || !std::binary_search(voters_.begin(), voters_.end(), from)) return false;
  if (conf_change_end > conf_change_end_) configuration_differs_ = true;
  // A later report of the same voter replaces its earlier one: both are true statements about
  // its log, and a committed entry it held is in both (committed entries are never cut).
  reports_[from] = end;
  return true;
}

std::optional<LogEnd> FenceRecovery::LoweredMark() const {
  // A membership change we lack may have moved the quorums outside the reporters.
  if (configuration_differs_ || !Missing().empty()) return std::nullopt;
  LogEnd best = log_end_;  // our own log: what we hold is no loss
  for (const auto& [voter, end] : reports_) best = MoreUpToDate(best, end);
  return MoreUpToDate(log_end_, LessUpToDate(mark_, best));
}

}  // namespace eddy::raft::driver
