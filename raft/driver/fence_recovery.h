// FenceRecovery: how a fenced replica learns from its peers how far its fence may come down.
//
// A replica is fenced when it opens with a log less up to date than its durable mark (driver
// README, REPAIR FENCE): it may have declared durable entries it no longer has — lost to media
// damage, or (with the mark saved in the same durability round as the flush it covers) never
// written at all, because the process stopped before the flush completed. The replica cannot
// tell the two apart, so it fences at the mark; a leader repairing its log lifts the fence. When
// no leader can be elected without it (every replica stopped in the middle of a round: a
// power loss), the peers' reports lift it instead:
//
// RULE. Each other voter of the replica's configurations — the committed one and, with a
// membership change in its log still uncommitted, the one that change makes — reports its
// durable log end (its last entry's offset and term, compared in §5.4.1's order: term, then
// offset) and where the newest membership change its log knows of ends. Once EVERY one of them
// reported, none knowing of a change beyond ours, the mark may come down to
//     max(our log end, min(mark, the most up-to-date report)).
// WHY IT IS SAFE. An entry this replica lost that was committed is held by a quorum of the
// configuration that committed it: one of ours, since a later one needs a change committed by a
// quorum of one of ours — held by a reporter, who would show it. That quorum contains another
// voter, who reported, and whose durable log holds the entry (it acknowledged it only once
// durable; committed entries are never cut) unless its own disk lost it too. So the lowered
// mark still covers every lost committed entry that any voter still holds, and the fence keeps
// refusing votes to candidates that lack one. An entry no voter holds any more is lost whatever
// the fence does (more disks damaged than a quorum can cover); entries no other voter ever had
// were never committed: nobody can be counting on them. Reports do not include the reporter's
// own mark: a pending mark only it could vouch for would hold the other fences up as theirs
// hold its, and no replica would ever be electable. A reporter that is behind (its newest change
// ends before ours) shows nothing new and counts.
// LIMIT. A change is compared by where it ends: a reporter whose log diverges from ours may hold
// another change that ends at or before ours. Only an uncommitted suffix diverges, and a change
// there commits nothing this replica lost.
//
// A single-voter group has nobody to ask: its lost entries were its own, and lifting the fence
// loses nothing more than the damage already did.
//
// Pure logic: no I/O, no clock; the driver sends the queries and feeds the answers
// (group_driver_fence.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "raft/types.h"

namespace eddy::raft::driver {

// The end of a log: the last entry's last offset and term, ordered as §5.4.1 compares logs.
struct LogEnd {
  int64_t offset = kNoOffset;
  Term term = 0;

  friend bool operator==(const LogEnd&, const LogEnd&) = default;
};

// Whether a log ending at `a` is at least as up to date as one ending at `b` (§5.4.1).
bool AtLeastAsUpToDate(const LogEnd& a, const LogEnd& b);
const LogEnd& MoreUpToDate(const LogEnd& a, const LogEnd& b);
const LogEnd& LessUpToDate(const LogEnd& a, const LogEnd& b);

class FenceRecovery {
 public:
  // `configurations`: the voters (sorted, as Membership keeps them) of this replica's
  // committed configuration and, if its log holds an uncommitted change, of the latest; `self`
  // must be a voter of one. `conf_change_end`: where the newest change its log knows of ends
  // (PartitionLogView::LastConfChangeEnd). `mark` is the fence, `log_end` the log it holds.
  FenceRecovery(NodeId self, const std::vector<std::vector<NodeId>>& configurations,
                int64_t conf_change_end, LogEnd mark, LogEnd log_end);

  // The voters whose report is still missing, in order.
  std::vector<NodeId> Missing() const;
  // A peer's report. Returns false (and ignores it) if `from` is not another voter of ours.
  bool OnReport(NodeId from, const LogEnd& end, int64_t conf_change_end);
  // The mark the reports allow, once every other voter reported and none knows of a change
  // beyond ours; nullopt before that, or if one does (then only a leader repairs us).
  std::optional<LogEnd> LoweredMark() const;
  // A voter reported a membership change beyond ours.
  bool configuration_differs() const { return configuration_differs_; }

 private:
  const NodeId self_;
  std::vector<NodeId> voters_;  // of every configuration, sorted, unique
  const int64_t conf_change_end_;
  const LogEnd mark_;
  const LogEnd log_end_;
  std::map<NodeId, LogEnd> reports_;  // by voter; the latest report of each
  bool configuration_differs_ = false;
};

}  // namespace eddy::raft::driver
