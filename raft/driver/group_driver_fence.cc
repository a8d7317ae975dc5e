// GroupDriver: recovering from a repair fence through the peers' reports (fence_recovery.h).
//
// A replica fenced on open asks every other voter of its configurations for its durable log
// end, on open and then once per election timeout for as long as it is fenced; the newest
// answers may lower its mark (in memory: the next record saves it, and a crash before that
// only fences the replica again at the higher mark). A leader's repair
// lifts the fence the usual way (MaybeLiftFence) whatever the reports say.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/driver/fence_report.h"
#include "raft/driver/group_driver.h"

namespace eddy::raft::driver {

std::vector<std::vector<NodeId>> GroupDriver::FenceConfigurations() const {
  // The committed configuration and the one an uncommitted change in the log makes (at most
  // one: a change another follows is committed, RawNode::CommitKnownConfChanges). A replica
  // that is a voter of neither has no vote to fence: none.
  const Membership& committed = node_->membership();
  const Membership latest = node_->latest_membership();
  if (!committed.IsVoter(self_) && !latest.IsVoter(self_)) return {};
  std::vector<std::vector<NodeId>> configurations{committed.voters()};
  if (latest.voters() != committed.voters()) configurations.push_back(latest.voters());
  return configurations;
}

void GroupDriver::StartFenceRecovery() {
  fence_recovery_.reset();
  fence_query_ticks_ = 0;
  // Answers to an earlier incarnation's queries may predate entries this one lost: only
  // answers to this incarnation's ids count (fence_recovery.h, ASKED AGAIN).
  fence_query_base_ = runtime_.random().Next() & ~uint64_t{0xffffffff};
  fence_query_round_ = 0;
  AskFencePeers();
}

void GroupDriver::AskFencePeers() {
  fence_query_ticks_ = 0;
  if (!fenced_) return;
  const std::vector<std::vector<NodeId>> configurations = FenceConfigurations();
  if (configurations.empty()) {
    fence_recovery_.reset();
    return;
  }
  const int64_t conf_change_end = view_->LastConfChangeEnd();
  if (!fence_recovery_.has_value() ||
      !fence_recovery_->Describes(configurations, conf_change_end)) {
    // New voters to ask (the leader's repair appended a membership change): older answers
    // compared against another configuration, so they are dropped.
    fence_recovery_.emplace(self_, configurations, conf_change_end);
  }
  ++fence_query_round_;
  for (NodeId voter : fence_recovery_->Peers()) {
    Message query;
    query.set_type(MSG_FENCE_QUERY);
    query.set_from(self_);
    query.set_to(voter);
    query.set_fence_query_id(fence_query_base_ + fence_query_round_);
    // The durable log end this replica has now: a leader that counted on more must act.
    query.set_last_log_offset(FenceReportEnd().offset);
    send_(voter, options_.group_id, std::move(query));
  }
  MaybeLowerFence();  // a single voter has nobody to ask
}

void GroupDriver::TickFenceRecovery() {
  if (!fenced_) return;
  if (++fence_query_ticks_ >= options_.raft.election_timeout_ticks) AskFencePeers();
}

LogEnd GroupDriver::FenceReportEnd() const {
  // What this replica holds durably: a committed entry it acknowledged is in it (unless its own
  // disk lost it, and then the entry survives only where another report shows it). Not its
  // mark: a pending mark of its own, which no other replica can vouch for, would hold every
  // other fence up as theirs hold its (CI five-node seed 5172: three fenced voters of five
  // waiting on each other).
  return LogEnd{flushed_last_, TermOfEntryEnd(flushed_last_)};
}

void GroupDriver::ReceiveFenceMessage(const Message& m) {
  if (m.type() == MSG_FENCE_QUERY) {
    ++stats_.fence_reports_sent;
    send_(m.from(), options_.group_id,
          FenceReport(m, self_, FenceReportEnd(), view_->LastConfChangeEnd()));
    // The fenced follower's log ends below what it acknowledged to this leader (media damage).
    // The core never probes below a match offset, and a quiesced group sends it nothing, so it
    // would wait for ever: as for a rejection below the match (GroupDriver::Receive), restart
    // this replica, and a fresh leader starts with no match offsets.
    const Progress* pr = node_->role() == Role::kLeader ? node_->progress(m.from()) : nullptr;
    if (pr != nullptr && m.last_log_offset() >= kNoOffset &&
        m.last_log_offset() < pr->match_offset) {
      Fail(absl::AbortedError(absl::StrCat("fenced follower ", m.from(), " has up to ",
                                           m.last_log_offset(), ", acknowledged ",
                                           pr->match_offset)));
    }
    return;
  }
  if (!fence_recovery_.has_value()) return;  // not fenced (any more): a late answer
  if (m.last_log_offset() < kNoOffset || m.last_log_offset() >= kOffsetMax ||
      m.conf_change_end() < kNoOffset || m.conf_change_end() >= kOffsetMax ||
      m.last_log_term() > static_cast<uint64_t>(kTermMax)) {
    ++stats_.invalid_messages;
    return;
  }
  // An answer to another incarnation's query, or to one not asked yet, is not ours.
  const uint64_t round = m.fence_query_id() - fence_query_base_;
  if (round == 0 || round > fence_query_round_) {
    ++stats_.fence_reports_stale;
    return;
  }
  const LogEnd end{m.last_log_offset(), static_cast<Term>(m.last_log_term())};
  if (fence_recovery_->OnReport(m.from(), round, end, m.conf_change_end())) {
    ++stats_.fence_reports_received;
  }
  MaybeLowerFence();
}

void GroupDriver::MaybeLowerFence() {
  if (!fence_recovery_.has_value()) return;
  // Against the DURABLE log: entries a leader's repair appended but not yet flushed must not
  // become the mark (and lift the fence) before they are on disk.
  const std::optional<LogEnd> lowered =
      fence_recovery_->LoweredMark(LogEnd{mark_, mark_term_}, FenceReportEnd());
  // Nothing to gain yet: the replica keeps asking (a voter's next answer may show less).
  if (!lowered.has_value() || (lowered->offset == mark_ && lowered->term == mark_term_)) return;
  mark_ = lowered->offset;
  mark_term_ = lowered->term;
  // Entries beyond it were never committed (fence_recovery.h): no longer evidence of damage.
  surely_declared_ = LessUpToDate(surely_declared_, *lowered);
  ++stats_.fences_lowered;
  Event("repair fence lowered by the peers' reports");
  MaybeLiftFence();
  MaybeSaveState();
}

}  // namespace eddy::raft::driver
