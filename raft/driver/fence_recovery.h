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
// ASKED AGAIN. The replica asks every other voter once per election timeout for as long as it is
// fenced, and a voter's newest answer replaces its older one: a voter can lose entries to its
// own damage after answering, and its old answer would hold the fence up for entries nobody
// holds any more (five-node seed 587). Any answer given after the replica opened is as good as
// the first: an entry the replica acknowledged before it stopped was durable on the leader that
// sent it before it was sent (messages leave only after the round that made them durable), so
// while committed, it shows in that leader's report however late. An answer to a query of an
// EARLIER incarnation may predate the entry; the driver accepts only answers to its own
// incarnation's queries (Message.fence_query_id).
// A VOTER WHOSE REPLICA IS GONE (removed or wiped, replaced by a later incarnation) is answered
// for by its node: an empty log, knowing no change (node_driver.h, ANSWERS FOR ABSENT
// REPLICAS). That is the truth about the id, and the argument above already allows a reporter
// that lost everything; without it a fenced replica would wait for good (five-node seed 3884).
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
  // (PartitionLogView::LastConfChangeEnd).
  FenceRecovery(NodeId self, const std::vector<std::vector<NodeId>>& configurations,
                int64_t conf_change_end);

  // Whether this recovery was built for these configurations (else the driver starts anew: the
  // voters to ask have changed).
  bool Describes(const std::vector<std::vector<NodeId>>& configurations,
                 int64_t conf_change_end) const;
  // The other voters, in order: every one of them is asked, every round.
  const std::vector<NodeId>& Peers() const { return peers_; }
  // The voters whose report is still missing, in order.
  std::vector<NodeId> Missing() const;
  // A peer's answer to the queries of `round` (counted from 1 by the driver). A voter's newest
  // round replaces what it said before: a log can lose entries to damage after it reported, and
  // a report that showed them would hold the fence up for entries nobody has any more. Returns
  // false (and ignores it) if `from` is not another voter of ours, or the report answers an
  // older round than the one it already gave.
  bool OnReport(NodeId from, uint64_t round, const LogEnd& end, int64_t conf_change_end);
  // The mark the reports allow for a replica fenced at `mark` whose log ends at `log_end`, once
  // every other voter reported and none (in its newest report) knows of a change beyond ours;
  // nullopt before that, or if one does (then only a leader repairs us).
  std::optional<LogEnd> LoweredMark(const LogEnd& mark, const LogEnd& log_end) const;
  // A voter's newest report names a membership change beyond ours.
  bool configuration_differs() const;

 private:
  struct Report {
    uint64_t round = 0;
    LogEnd end;
    bool knows_later_change = false;
  };

  const NodeId self_;
  std::vector<std::vector<NodeId>> configurations_;
  std::vector<NodeId> peers_;  // the voters of every configuration but self, sorted, unique
  const int64_t conf_change_end_;
  std::map<NodeId, Report> reports_;  // by voter: its newest report
};

}  // namespace eddy::raft::driver
