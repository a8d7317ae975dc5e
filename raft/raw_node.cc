#include "raft/raw_node.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"

namespace eddy::raft {
namespace {

bool IsLeaderMessage(MessageType type) {
  return type == MSG_APPEND || type == MSG_HEARTBEAT || type == MSG_SNAPSHOT ||
         type == MSG_TIMEOUT_NOW;
}

bool SameSnapshotPoint(const SnapshotMeta& a, const SnapshotMeta& b) {
  return a.last_offset() == b.last_offset() && a.term() == b.term() &&
         a.size_bytes() == b.size_bytes() && a.state_crc32c() == b.state_crc32c();
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

HardState RawNode::InitialHardState() {
  HardState hs;
  hs.set_commit_offset(kNoOffset);
  return hs;
}

RawNode::RawNode(const Config& config, const LogView* log, const HardState& hard_state,
                 Random random)
    : config_(config), log_(log), random_(random) {
  EDDY_CHECK_OK(config_.Validate());
  const SnapshotMeta snapshot = log_.SnapshotPoint();
  term_ = hard_state.term();
  vote_ = hard_state.vote();
  EDDY_CHECK_LE(hard_state.commit_offset(), log_.LastOffset());
  if (hard_state.commit_offset() > snapshot.last_offset()) {
    commit_ = hard_state.commit_offset();
    membership_ = Membership::FromProto(hard_state.conf_state());
  } else {
    // The snapshot point is committed by definition and carries its membership.
    commit_ = snapshot.last_offset();
    membership_ = Membership::FromProto(snapshot.conf_state());
  }
  applied_ = snapshot.last_offset();
  checked_commit_ = commit_;
  // Membership changes above commit_ take effect when they commit; find them again.
  for (int64_t offset = commit_ + 1; offset <= log_.LastOffset();) {
    std::optional<EntryMeta> e = log_.EntryAt(offset);
    EDDY_CHECK(e.has_value());
    if (e->type == ENTRY_CONF_CHANGE) uncommitted_conf_[e->last_offset] = *e;
    offset = e->last_offset + 1;
  }
  // The saved commit offset may lag what this replica knew before a restart; a change followed
  // by another in the log is committed all the same.
  CommitKnownConfChanges();
  randomized_election_timeout_ticks_ = static_cast<int>(random_.UniformInRange(
      config_.election_timeout_ticks, 2 * config_.election_timeout_ticks - 1));
  reported_soft_ = soft_state();
  reported_term_ = term_;
  reported_vote_ = vote_;
  reported_commit_ = commit_;
  reported_membership_ = membership_;
  CheckInvariants();
}

HardState RawNode::hard_state() const {
  HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit_offset(commit_);
  *hs.mutable_conf_state() = membership_.ToProto();
  return hs;
}

Membership RawNode::latest_membership() const {
  Membership latest = membership_;
  for (const auto& [offset, change] : uncommitted_conf_) {
    latest.Apply(change.conf_change_type, change.conf_change_node);
  }
  return latest;
}

const Progress* RawNode::progress(NodeId peer) const {
  auto it = progress_.find(peer);
  return it == progress_.end() ? nullptr : &it->second;
}

absl::Status RawNode::Refuse(uint64_t* counter, absl::Status status) {
  ++*counter;
  return status;
}

void RawNode::Send(Message m) {
  m.set_from(config_.id);
  EDDY_CHECK_NE(m.to(), config_.id);
  EDDY_CHECK_NE(m.to(), kNoNode);
  EDDY_CHECK_GT(m.term(), 0u);
  if (static_cast<int>(messages_.size()) >= config_.outgoing_messages_max) {
    ++counters_.outgoing_messages_dropped;  // as if the network lost it
    return;
  }
  messages_.push_back(std::move(m));
}

// ---------------------------------------------------------------------------------------------
// Time.

void RawNode::Tick() {
  if (quiesced_) return;  // quiescence suppresses timers, nothing else
  if (role_ == Role::kLeader) {
    TickLeader();
  } else {
    TickElection();
  }
  CheckInvariants();
}

void RawNode::TickElection() {
  ++election_elapsed_ticks_;
  // §5.2: a follower that receives no communication over the election timeout starts an
  // election. Only voters may become leader.
  const bool voter = membership_.IsVoter(config_.id);
  if (!voter && !config_.quiesce) return;
  if (election_elapsed_ticks_ < randomized_election_timeout_ticks_) return;
  election_elapsed_ticks_ = 0;
  // Quiescence: a quiet leader may have stopped waiting for us (we were silent a whole
  // check-quorum round) and hears nothing from a replica that cannot campaign (a learner; a
  // voter whose vote requests its driver suppresses). Tell every member we are here: any
  // message wakes a quiet replica, and a woken follower wakes its leader.
  if (config_.quiesce) PingMembers();
  if (voter) CampaignNow(config_.pre_vote ? CampaignKind::kPreVote : CampaignKind::kVote, false);
}

void RawNode::PingMembers() {
  if (term_ == 0) return;  // nobody has led yet: nobody can be quiet
  for (const std::vector<NodeId>* members : {&membership_.voters(), &membership_.learners()}) {
    for (NodeId peer : *members) {
      if (peer == config_.id) continue;
      Message m;
      m.set_type(MSG_HEARTBEAT_RESP);
      m.set_to(peer);
      m.set_term(term_);
      Send(std::move(m));
    }
  }
}

void RawNode::TickLeader() {
  ++heartbeat_elapsed_ticks_;
  ++election_elapsed_ticks_;
  if (lead_transferee_ != kNoNode && ++transfer_elapsed_ticks_ >= config_.election_timeout_ticks) {
    // §3.10: a transfer that does not finish within an election timeout is aborted so the
    // leader resumes accepting proposals.
    lead_transferee_ = kNoNode;
  }
  if (!membership_.IsVoter(config_.id) && lead_transferee_ == kNoNode) TransferToBestVoter();
  if (election_elapsed_ticks_ >= config_.election_timeout_ticks) {
    election_elapsed_ticks_ = 0;
    if (config_.check_quorum) {
      // Dissertation §6.2: a leader that has not heard from a quorum within an election
      // timeout steps down, so clients retry elsewhere instead of waiting on a minority.
      if (!QuorumActive()) {
        BecomeFollower(term_, kNoNode);
        return;
      }
      for (auto& [id, pr] : progress_) pr.recent_active = false;
    }
  }
  if (heartbeat_elapsed_ticks_ >= config_.heartbeat_interval_ticks) {
    heartbeat_elapsed_ticks_ = 0;
    if (CanQuiesce()) {
      Quiesce();
    } else {
      BroadcastHeartbeat();
    }
  }
}

bool RawNode::QuorumActive() const {
  size_t active = 0;
  for (NodeId v : membership_.voters()) {
    if (v == config_.id) {
      ++active;
      continue;
    }
    auto it = progress_.find(v);
    if (it != progress_.end() && it->second.recent_active) ++active;
  }
  return active >= membership_.Quorum();
}

// ---------------------------------------------------------------------------------------------
// Roles.

void RawNode::ResetForTerm() {
  quiesced_ = false;  // a new role or term starts awake
  election_elapsed_ticks_ = 0;
  heartbeat_elapsed_ticks_ = 0;
  randomized_election_timeout_ticks_ = static_cast<int>(random_.UniformInRange(
      config_.election_timeout_ticks, 2 * config_.election_timeout_ticks - 1));
  votes_.clear();
  progress_.clear();
  lead_transferee_ = kNoNode;
  transfer_elapsed_ticks_ = 0;
  broadcast_pending_ = false;
  commit_broadcast_pending_ = false;
  uncommitted_sizes_.clear();
  uncommitted_size_bytes_ = 0;
  pending_reads_.clear();
  read_acks_.clear();
}

void RawNode::BecomeFollower(Term term, NodeId leader) {
  EDDY_CHECK_GE(term, term_);
  if (term > term_) {
    // §5.1: a newer term makes us a follower of that term, with no vote cast in it yet.
    term_ = term;
    vote_ = kNoNode;
  }
  ResetForTerm();
  role_ = Role::kFollower;
  leader_ = leader;
}

void RawNode::BecomeLeader() {
  EDDY_CHECK(role_ == Role::kCandidate);
  EDDY_CHECK_EQ(vote_, config_.id);
  ResetForTerm();
  role_ = Role::kLeader;
  leader_ = config_.id;
  election_membership_ = membership_;
  const int64_t last = log_.LastOffset();
  for (NodeId peer : membership_.voters()) {
    if (peer != config_.id) progress_[peer].BecomeProbe(last + 1);
  }
  for (NodeId peer : membership_.learners()) {
    if (peer != config_.id) progress_[peer].BecomeProbe(last + 1);
  }
  // Give every follower a full election timeout to answer before check-quorum counts it.
  for (auto& [id, pr] : progress_) pr.recent_active = true;
  // §5.4.2 / §8: a leader commits nothing of earlier terms by counting replicas, so it appends
  // an entry of its own term at once; committing it commits everything before it. It also
  // serves as the "entry of the current term" that must commit before a membership change.
  EntryMeta noop;
  noop.term = term_;
  noop.base_offset = last + 1;
  noop.last_offset = last + 1;
  noop.type = ENTRY_NOOP;
  AppendAsLeader(noop, std::string());
  pending_conf_offset_ = noop.last_offset;
}

absl::Status RawNode::Campaign() {
  if (!membership_.IsVoter(config_.id)) {
    return absl::FailedPreconditionError(absl::StrCat("node ", config_.id, " is not a voter"));
  }
  if (role_ == Role::kLeader) return absl::FailedPreconditionError("already leader");
  if (quiesced_) Wake(kNoNode);
  CampaignNow(config_.pre_vote ? CampaignKind::kPreVote : CampaignKind::kVote, false);
  CheckInvariants();
  return absl::OkStatus();
}

void RawNode::CampaignNow(CampaignKind kind, bool transfer) {
  EDDY_CHECK(membership_.IsVoter(config_.id));
  if (term_ >= kTermMax) {
    // No batch header could carry the next term; staying a follower is the only safe choice.
    ++counters_.campaigns_refused_at_term_max;
    return;
  }
  Term message_term;
  MessageType type;
  if (kind == CampaignKind::kPreVote) {
    // Dissertation §9.6: ask first, at term + 1, without changing our own term or vote.
    ResetForTerm();
    role_ = Role::kPreCandidate;
    leader_ = kNoNode;
    message_term = term_ + 1;
    type = MSG_PRE_VOTE;
  } else {
    // §5.2: increment the term, vote for self, ask every other voter.
    BecomeFollower(term_ + 1, kNoNode);
    role_ = Role::kCandidate;
    vote_ = config_.id;
    message_term = term_;
    type = MSG_VOTE;
  }
  votes_[config_.id] = true;
  if (membership_.Quorum() == 1) {
    if (kind == CampaignKind::kPreVote) {
      CampaignNow(CampaignKind::kVote, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : membership_.voters()) {
    if (voter == config_.id) continue;
    Message m;
    m.set_type(type);
    m.set_to(voter);
    m.set_term(message_term);
    m.set_last_log_offset(log_.LastOffset());
    m.set_last_log_term(log_.LastTerm());
    m.set_transfer(transfer);
    Send(std::move(m));
  }
}

// ---------------------------------------------------------------------------------------------
// Step.

absl::Status RawNode::Step(Message message) {
  absl::Status status = StepInternal(message);
  CheckInvariants();
  return status;
}

namespace {

bool OffsetInRange(int64_t offset) { return offset >= kNoOffset - 1 && offset <= kOffsetMax; }

// Every term and offset a message names is within what the log can hold: a forged or buggy peer
// must not make this node adopt a term no batch header can carry, or do arithmetic near
// INT64_MAX.
bool FieldsInRange(const Message& m) {
  if (m.term() > kTermMax || m.last_log_term() > kTermMax || m.prev_log_term() > kTermMax ||
      m.hint_term() > kTermMax || m.snapshot().term() > kTermMax) {
    return false;
  }
  for (int64_t offset : {m.last_log_offset(), m.prev_log_offset(), m.commit_offset(),
                         m.match_offset(), m.rejected_offset(), m.hint_offset(),
                         m.snapshot().last_offset()}) {
    if (!OffsetInRange(offset)) return false;
  }
  for (const Entry& e : m.entries()) {
    if (e.term() > kTermMax || e.base_offset() < 0 || e.last_offset() > kOffsetMax) return false;
  }
  return true;
}

}  // namespace

absl::Status RawNode::StepInternal(Message& m) {
  if (m.to() != config_.id || m.from() == kNoNode || m.from() == config_.id ||
      m.type() == MSG_UNKNOWN || !MessageType_IsValid(m.type()) || m.term() == 0 ||
      !FieldsInRange(m)) {
    return Refuse(&counters_.invalid_messages,
                  absl::InvalidArgumentError(absl::StrCat(
                      "malformed message type=", m.type(), " from=", m.from(), " to=", m.to(),
                      " term=", m.term())));
  }
  // Votes and responses count only from members: a removed node must not disrupt the group.
  // Messages from a leader are accepted from anyone with a current term: this node's
  // membership may lag the leader's (a new voter can lead before we learn it was added).
  if (!IsLeaderMessage(m.type()) && !membership_.Contains(m.from())) {
    return Refuse(&counters_.unknown_sender_messages,
                  absl::FailedPreconditionError(
                      absl::StrCat("message type ", m.type(), " from non-member ", m.from())));
  }

  if ((m.type() == MSG_VOTE_RESP || m.type() == MSG_PRE_VOTE_RESP) && m.reject()) {
    MaybeLearnCommitHint(m);
  }

  // Quiescence suppresses timers only: any message but the quiesce handshake itself (a quiesce
  // heartbeat is judged by HandleHeartbeat, an accepting answer changes nothing) wakes us
  // before it is handled by the ordinary rules.
  const bool handshake =
      m.quiesce() && (m.type() == MSG_HEARTBEAT || m.type() == MSG_HEARTBEAT_RESP);
  if (quiesced_ && !handshake) Wake(m.from());

  if (m.term() > term_) {
    if (m.type() == MSG_VOTE || m.type() == MSG_PRE_VOTE) {
      // Dissertation §4.2.3 / §6.2: while we hear from a leader (within an election timeout),
      // a vote request is disruptive; ignore it without adopting its term. A transfer's
      // TimeoutNow-driven campaign is the sanctioned exception.
      const bool in_lease = config_.check_quorum && leader_ != kNoNode &&
                            election_elapsed_ticks_ < config_.election_timeout_ticks;
      if (in_lease && !m.transfer()) {
        ++counters_.disruptive_votes_ignored;
        return absl::OkStatus();
      }
    }
    if (m.type() == MSG_PRE_VOTE) {
      // A pre-vote never changes our term (§9.6): it is only a question.
    } else if (m.type() == MSG_PRE_VOTE_RESP && !m.reject()) {
      // A granted pre-vote carries the term we would campaign at, not a newer leader's term.
    } else {
      // §5.1: a newer term makes us a follower of it.
      BecomeFollower(m.term(), IsLeaderMessage(m.type()) ? m.from() : kNoNode);
    }
  } else if (m.term() < term_) {
    if (config_.planted_bug == PlantedBug::kCountStaleVotes && m.type() == MSG_VOTE_RESP &&
        role_ == Role::kCandidate) {
      HandleVoteResponse(m);  // PLANTED BUG: a grant from an earlier term is counted.
      return absl::OkStatus();
    }
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type() == MSG_APPEND || m.type() == MSG_HEARTBEAT)) {
      // A stale leader (e.g. healed from a partition) would never learn the newer term: with
      // pre-vote no one campaigns at a term it could see. Tell it, so it steps down.
      Message reply;
      reply.set_type(MSG_APPEND_RESP);
      reply.set_to(m.from());
      reply.set_term(term_);
      reply.set_reject(true);
      reply.set_rejected_offset(kNoOffset - 1);
      Send(std::move(reply));
    } else if (m.type() == MSG_PRE_VOTE) {
      Message reply;
      reply.set_type(MSG_PRE_VOTE_RESP);
      reply.set_to(m.from());
      reply.set_term(term_);
      reply.set_reject(true);
      SetCommitHint(&reply);
      Send(std::move(reply));
    }
    return Refuse(&counters_.stale_term_messages,
                  absl::FailedPreconditionError(absl::StrCat(
                      "stale term ", m.term(), " < ", term_, " (type ", m.type(), ")")));
  }

  if (m.type() == MSG_VOTE || m.type() == MSG_PRE_VOTE) {
    HandleVoteRequest(m);
    return absl::OkStatus();
  }
  switch (role_) {
    case Role::kLeader:
      return StepLeader(m);
    case Role::kCandidate:
    case Role::kPreCandidate:
      return StepCandidate(m);
    case Role::kFollower:
      return StepFollower(m);
  }
  EDDY_UNREACHABLE();
}

absl::Status RawNode::StepLeader(Message& m) {
  switch (m.type()) {
    case MSG_APPEND_RESP:
      return HandleAppendResponse(m);
    case MSG_HEARTBEAT_RESP:
      HandleHeartbeatResponse(m);
      return absl::OkStatus();
    case MSG_SNAPSHOT_RESP:
      HandleSnapshotResponse(m);
      return absl::OkStatus();
    case MSG_APPEND:
    case MSG_HEARTBEAT:
    case MSG_SNAPSHOT:
    case MSG_TIMEOUT_NOW:
      // Another leader in our own term: Election Safety (§5.2) says this cannot happen.
      return Refuse(&counters_.invalid_messages,
                    absl::FailedPreconditionError(absl::StrCat(
                        "leader message from ", m.from(), " in my own term ", term_)));
    default:
      return absl::OkStatus();  // late vote responses: the election is over
  }
}

absl::Status RawNode::StepCandidate(Message& m) {
  switch (m.type()) {
    case MSG_VOTE_RESP:
    case MSG_PRE_VOTE_RESP:
      HandleVoteResponse(m);
      return absl::OkStatus();
    case MSG_APPEND:
    case MSG_HEARTBEAT:
    case MSG_SNAPSHOT:
      // §5.2: a candidate that hears from a leader of its term returns to follower.
      BecomeFollower(term_, m.from());
      return StepFollower(m);
    default:
      return absl::OkStatus();
  }
}

absl::Status RawNode::StepFollower(Message& m) {
  switch (m.type()) {
    case MSG_APPEND:
      return HandleAppend(m);
    case MSG_HEARTBEAT:
      HandleHeartbeat(m);
      return absl::OkStatus();
    case MSG_SNAPSHOT:
      return HandleSnapshot(m);
    case MSG_TIMEOUT_NOW:
      // §3.10: the leader asks us to start an election at once, skipping pre-vote; the
      // transfer flag lets our vote requests through the other followers' leases.
      if (membership_.IsVoter(config_.id)) CampaignNow(CampaignKind::kVote, true);
      return absl::OkStatus();
    default:
      return absl::OkStatus();  // responses for a role we no longer hold
  }
}

// ---------------------------------------------------------------------------------------------
// Elections.

void RawNode::HandleVoteRequest(const Message& m) {
  const bool pre = m.type() == MSG_PRE_VOTE;
  // §5.2: at most one vote per term, first come first served (a repeated request from the
  // same candidate is granted again). A pre-vote for a future term binds nothing.
  const bool can_vote = vote_ == m.from() || (vote_ == kNoNode && leader_ == kNoNode) ||
                        (pre && m.term() > term_);
  // §5.4.1: only for a candidate whose log is at least as up-to-date as ours.
  const Term last_term = log_.LastTerm();
  const bool up_to_date =
      m.last_log_term() > last_term ||
      (m.last_log_term() == last_term && m.last_log_offset() >= log_.LastOffset()) ||
      config_.planted_bug == PlantedBug::kGrantVoteWithoutLogCheck;  // PLANTED BUG
  Message reply;
  reply.set_type(pre ? MSG_PRE_VOTE_RESP : MSG_VOTE_RESP);
  reply.set_to(m.from());
  if (can_vote && up_to_date) {
    reply.set_term(m.term());
    if (!pre) {
      vote_ = m.from();
      election_elapsed_ticks_ = 0;
    }
  } else {
    reply.set_term(term_);
    reply.set_reject(true);
    SetCommitHint(&reply);
  }
  Send(std::move(reply));
}

void RawNode::SetCommitHint(Message* reply) const {
  // A candidate that lacks our commit may be stuck without it: after a two-voter group
  // removes its leader, the remaining voter still counts the removed one (membership takes
  // effect at commit, and it has not heard the commit), whose longer log refuses its vote.
  // Telling it what is committed lets it apply the removal and win alone.
  const std::optional<Term> term = log_.TermAt(commit_);  // the snapshot term at its point
  if (!term.has_value()) return;
  reply->set_commit_offset(commit_);
  reply->set_hint_term(*term);
}

void RawNode::MaybeLearnCommitHint(const Message& m) {
  // Any replica's commit is a fact about the group, not about its term: once an entry is
  // committed it stays committed. Log Matching (§5.3) makes our log identical to the hinter's
  // up to the hinted entry end when the terms there agree, so that prefix is committed here too.
  if (m.commit_offset() <= commit_ || m.commit_offset() > log_.LastOffset()) return;
  if (m.commit_offset() <= log_.SnapshotOffset()) return;
  if (!log_.MatchesEntryEnd(m.commit_offset(), m.hint_term())) return;
  ++counters_.commits_learned_from_vote_replies;
  CommitTo(m.commit_offset());
}

void RawNode::HandleVoteResponse(const Message& m) {
  const bool pre = m.type() == MSG_PRE_VOTE_RESP;
  if (pre != (role_ == Role::kPreCandidate)) return;
  if (pre && m.term() != term_ + 1 && !m.reject()) return;  // answer to an older pre-vote round
  if (!membership_.IsVoter(m.from())) return;
  votes_.emplace(m.from(), !m.reject());
  size_t granted = 0;
  size_t refused = 0;
  for (NodeId voter : membership_.voters()) {
    auto it = votes_.find(voter);
    if (it == votes_.end()) continue;
    (it->second ? granted : refused)++;
  }
  if (granted >= membership_.Quorum()) {
    if (pre) {
      CampaignNow(CampaignKind::kVote, false);
    } else {
      BecomeLeader();
    }
  } else if (refused > membership_.voters().size() - membership_.Quorum()) {
    BecomeFollower(term_, kNoNode);  // this election cannot be won
  }
}

// ---------------------------------------------------------------------------------------------
// Follower side of replication.

absl::Status RawNode::HandleAppend(Message& m) {
  leader_ = m.from();
  election_elapsed_ticks_ = 0;
  // Reject inconsistent input before touching anything.
  int64_t expected_base = m.prev_log_offset() + 1;
  Term previous_term = m.prev_log_term();
  if (m.prev_log_offset() < kNoOffset || m.prev_log_term() > m.term() ||
      m.commit_offset() < kNoOffset) {
    return Refuse(&counters_.invalid_messages,
                  absl::InvalidArgumentError("append with impossible prev/commit"));
  }
  for (const Entry& e : m.entries()) {
    if (e.base_offset() != expected_base || e.last_offset() < e.base_offset() ||
        e.term() < previous_term || e.term() > m.term() ||
        e.last_offset() - e.base_offset() + 1 > limits::kBatchRecordCountMax ||
        !EntryType_IsValid(e.type()) ||
        (e.type() != ENTRY_NORMAL && e.last_offset() != e.base_offset())) {
      return Refuse(&counters_.invalid_messages,
                    absl::InvalidArgumentError(absl::StrCat(
                        "append entries not contiguous at ", expected_base, ": [",
                        e.base_offset(), "..", e.last_offset(), "]@t", e.term())));
    }
    expected_base = e.last_offset() + 1;
    previous_term = e.term();
  }

  if (membership_.voters().empty()) {
    // A joiner knows no membership yet (the bootstrap membership is not in the log): it takes
    // nothing before a snapshot point, which carries the membership. A hint below every log
    // start sends the leader down the snapshot path.
    Message reply;
    reply.set_type(MSG_APPEND_RESP);
    reply.set_to(m.from());
    reply.set_term(term_);
    reply.set_reject(true);
    reply.set_rejected_offset(m.prev_log_offset());
    reply.set_hint_offset(kNoOffset - 1);
    Send(std::move(reply));
    return absl::OkStatus();
  }
  // Everything up to our commit offset is committed, hence identical to the leader's log
  // (§5.4 Leader Completeness): skip the entries at or below it.
  int64_t prev = m.prev_log_offset();
  Term prev_term = m.prev_log_term();
  int first = 0;
  if (prev < commit_) {
    while (first < m.entries_size() && m.entries(first).last_offset() <= commit_) ++first;
    if (first == m.entries_size() || m.entries(first).base_offset() != commit_ + 1) {
      Message reply;
      reply.set_type(MSG_APPEND_RESP);
      reply.set_to(m.from());
      reply.set_term(term_);
      reply.set_match_offset(commit_);
      Send(std::move(reply));
      return absl::OkStatus();
    }
    prev = commit_;
    prev_term = *log_.TermAt(commit_);
  }

  // §5.3: reject unless our log has an entry ending at prev_log_offset with prev_log_term.
  if (!log_.MatchesEntryEnd(prev, prev_term)) {
    RejectAppend(m);
    return absl::OkStatus();
  }
  // §5.3: skip entries we already hold; at the first conflict, delete it and all that follow,
  // then append the rest. Same (term, last offset) => identical prefix (Log Matching).
  int conflict = first;
  while (conflict < m.entries_size() &&
         log_.MatchesEntryEnd(m.entries(conflict).last_offset(), m.entries(conflict).term())) {
    ++conflict;
  }
  if (conflict < m.entries_size()) {
    const int64_t base = m.entries(conflict).base_offset();
    EDDY_CHECK_GT(base, commit_);  // never truncate committed entries
    if (base <= log_.LastOffset()) {
      log_.TruncateFrom(base);
      log_rewritten_ = true;
      uncommitted_conf_.erase(uncommitted_conf_.lower_bound(base), uncommitted_conf_.end());
    }
    for (int i = conflict; i < m.entries_size(); ++i) {
      Entry* e = m.mutable_entries(i);
      EntryMeta meta = EntryMeta::FromProto(*e);
      if (meta.type == ENTRY_CONF_CHANGE) uncommitted_conf_[meta.last_offset] = meta;
      log_.Append(meta, std::move(*e->mutable_data()));
    }
  }
  const int64_t last_new =
      m.entries_size() > 0 ? m.entries(m.entries_size() - 1).last_offset() : m.prev_log_offset();
  // A change followed by another in our log is committed (CommitKnownConfChanges).
  CommitKnownConfChanges();
  // Figure 2: commitIndex = min(leaderCommit, index of last new entry).
  CommitFromLeader(std::min(m.commit_offset(), std::max(last_new, commit_)));
  Message reply;
  reply.set_type(MSG_APPEND_RESP);
  reply.set_to(m.from());
  reply.set_term(term_);
  reply.set_match_offset(std::max(last_new, commit_));
  Send(std::move(reply));
  return absl::OkStatus();
}

void RawNode::RejectAppend(const Message& m) {
  // Fast back-off (§5.3, "the follower can include the term of the conflicting entry"): point
  // the leader at our last entry end at or before prev_log_offset whose term is at most
  // prev_log_term; the leader jumps there instead of retrying one entry at a time.
  int64_t hint = log_.EntryEndAtOrBefore(std::min(m.prev_log_offset(), log_.LastOffset()));
  while (hint > log_.SnapshotOffset() && *log_.TermAt(hint) > m.prev_log_term()) {
    hint = log_.EntryAt(hint)->base_offset - 1;
  }
  Message reply;
  reply.set_type(MSG_APPEND_RESP);
  reply.set_to(m.from());
  reply.set_term(term_);
  reply.set_reject(true);
  reply.set_rejected_offset(m.prev_log_offset());
  reply.set_hint_offset(hint);
  reply.set_hint_term(*log_.TermAt(hint));
  Send(std::move(reply));
}

void RawNode::HandleHeartbeat(const Message& m) {
  leader_ = m.from();
  election_elapsed_ticks_ = 0;
  // The leader clamps the commit to our match offset, so our log holds it; clamp again in
  // case we lost an unsynced tail in a crash the leader has not noticed yet.
  CommitFromLeader(std::min(m.commit_offset(), log_.LastOffset()));
  Message reply;
  reply.set_type(MSG_HEARTBEAT_RESP);
  reply.set_to(m.from());
  reply.set_term(term_);
  reply.set_read_context(m.read_context());
  if (m.quiesce()) {
    // Go quiet only holding exactly the leader's log, all of it committed: then there is
    // nothing to replicate and nothing to learn, and no timer of ours is needed while the
    // leader's node stays live (the driver watches it). Otherwise answer plainly, which wakes
    // the leader, and replication continues as usual.
    const bool accept = config_.quiesce && !receiving_snapshot_ &&
                        log_.LastOffset() == m.last_log_offset() &&
                        log_.LastTerm() == m.last_log_term() && commit_ == log_.LastOffset();
    if (accept && !quiesced_) ++counters_.quiesces;
    if (!accept && quiesced_) ++counters_.wakes;
    quiesced_ = accept;
    reply.set_quiesce(accept);
  } else {
    quiesced_ = false;
  }
  Send(std::move(reply));
}

absl::Status RawNode::HandleSnapshot(const Message& m) {
  leader_ = m.from();
  election_elapsed_ticks_ = 0;
  const SnapshotMeta& meta = m.snapshot();
  if (meta.last_offset() < kNoOffset || meta.term() > m.term() || meta.hidden_count() < 0 ||
      meta.hidden_count() > meta.last_offset() + 1 ||
      m.chunk_offset_bytes() > meta.size_bytes() ||
      m.chunk_size_bytes() > meta.size_bytes() - m.chunk_offset_bytes()) {
    return Refuse(&counters_.invalid_messages,
                  absl::InvalidArgumentError("snapshot chunk outside the snapshot"));
  }
  Message reply;
  reply.set_type(MSG_SNAPSHOT_RESP);
  reply.set_to(m.from());
  reply.set_term(term_);
  *reply.mutable_snapshot() = meta;
  const bool joiner = membership_.voters().empty();
  if (meta.last_offset() <= commit_ && !joiner) {
    // We already have (committed) everything the snapshot covers: send the leader back to
    // probing from our commit offset.
    reply.set_reject(true);
    reply.set_match_offset(commit_);
    Send(std::move(reply));
    receiving_snapshot_.reset();
    // Not an error, but the chunk was not taken: the driver must not keep its bytes.
    return absl::AlreadyExistsError("snapshot covers only committed offsets");
  }
  if (log_.MatchesEntryEnd(meta.last_offset(), meta.term()) && !joiner) {
    // Our log already holds the snapshot's last entry, hence everything before it: just
    // commit it; no need to discard our log.
    CommitTo(meta.last_offset());
    reply.set_chunk_offset_bytes(meta.size_bytes());
    reply.set_match_offset(meta.last_offset());
    Send(std::move(reply));
    receiving_snapshot_.reset();
    return absl::AlreadyExistsError("log already holds the snapshot point");
  }
  if (m.chunk_offset_bytes() == 0) {
    receiving_snapshot_ = meta;
    receiving_snapshot_bytes_ = 0;
  }
  if (!receiving_snapshot_ || !SameSnapshotPoint(*receiving_snapshot_, meta) ||
      m.chunk_offset_bytes() != receiving_snapshot_bytes_) {
    const bool same = receiving_snapshot_ && SameSnapshotPoint(*receiving_snapshot_, meta);
    reply.set_chunk_offset_bytes(same ? receiving_snapshot_bytes_ : 0);
    Send(std::move(reply));
    return Refuse(&counters_.snapshot_chunks_ignored,
                  absl::FailedPreconditionError(absl::StrCat(
                      "snapshot chunk at byte ", m.chunk_offset_bytes(), " out of order")));
  }
  receiving_snapshot_bytes_ += m.chunk_size_bytes();
  if (receiving_snapshot_bytes_ < meta.size_bytes()) {
    reply.set_chunk_offset_bytes(receiving_snapshot_bytes_);
    Send(std::move(reply));
    return absl::OkStatus();
  }
  // Complete: the snapshot replaces our whole log (its last entry conflicts with ours or lies
  // beyond our log). The reply goes out only after the driver installed it (Ready order).
  log_.InstallSnapshot(meta);
  log_rewritten_ = true;
  uncommitted_conf_.clear();
  commit_ = meta.last_offset();
  membership_ = Membership::FromProto(meta.conf_state());
  receiving_snapshot_.reset();
  reply.set_chunk_offset_bytes(meta.size_bytes());
  reply.set_match_offset(meta.last_offset());
  Send(std::move(reply));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Leader side of replication.

absl::StatusOr<EntryMeta> RawNode::Propose(int64_t record_count, std::string data) {
  if (quiesced_ && role_ == Role::kLeader) Wake(kNoNode);
  absl::Status status;
  if (role_ != Role::kLeader || !membership_.IsVoter(config_.id)) {
    status = absl::FailedPreconditionError(
        absl::StrCat("node ", config_.id, " is not the leader (leader is ", leader_, ")"));
  } else if (lead_transferee_ != kNoNode) {
    status = absl::FailedPreconditionError("leadership transfer in progress");
  } else if (record_count < 1 || record_count > limits::kBatchRecordCountMax) {
    status = absl::InvalidArgumentError(absl::StrCat("record count ", record_count));
  } else if (uncommitted_size_bytes_ + data.size() > config_.uncommitted_size_bytes_max) {
    status = absl::ResourceExhaustedError("too many uncommitted bytes");
  }
  if (!status.ok()) return Refuse(&counters_.proposals_refused, status);
  EntryMeta meta;
  meta.term = term_;
  meta.base_offset = log_.LastOffset() + 1;
  meta.last_offset = meta.base_offset + record_count - 1;
  meta.type = ENTRY_NORMAL;
  meta.size_bytes = data.size();
  AppendAsLeader(meta, std::move(data));
  CheckInvariants();
  return meta;
}

absl::StatusOr<EntryMeta> RawNode::ProposeConfChange(ConfChangeType type, NodeId node) {
  if (quiesced_ && role_ == Role::kLeader) Wake(kNoNode);
  absl::Status status;
  if (role_ != Role::kLeader || !membership_.IsVoter(config_.id)) {
    status = absl::FailedPreconditionError("not the leader");
  } else if (lead_transferee_ != kNoNode) {
    status = absl::FailedPreconditionError("leadership transfer in progress");
  } else if (pending_conf_offset_ > commit_) {
    // One change at a time, and only after this leader's first entry committed (the fix for
    // single-server changes: a new leader must not change membership before it knows its
    // predecessor's possibly pending change is settled).
    status = absl::FailedPreconditionError(absl::StrCat(
        "membership change or no-op at ", pending_conf_offset_, " not committed (commit ",
        commit_, ")"));
  } else {
    status = membership_.Validate(type, node);
  }
  if (status.ok() && type == CONF_PROMOTE_LEARNER &&
      progress_.at(node).match_offset < commit_) {
    // A voter that cannot vote usefully (it lacks committed entries, maybe even the
    // membership) only lowers availability: promote learners once caught up.
    status = absl::FailedPreconditionError(absl::StrCat(
        "learner ", node, " is behind: match ", progress_.at(node).match_offset, " < commit ",
        commit_));
  }
  if (!status.ok()) return Refuse(&counters_.proposals_refused, status);
  EntryMeta meta;
  meta.term = term_;
  meta.base_offset = log_.LastOffset() + 1;
  meta.last_offset = meta.base_offset;
  meta.type = ENTRY_CONF_CHANGE;
  meta.conf_change_type = type;
  meta.conf_change_node = node;
  uncommitted_conf_[meta.last_offset] = meta;
  AppendAsLeader(meta, std::string());
  pending_conf_offset_ = meta.last_offset;
  CheckInvariants();
  return meta;
}

void RawNode::AppendAsLeader(EntryMeta meta, std::string data) {
  EDDY_CHECK(role_ == Role::kLeader);
  EDDY_CHECK_EQ(meta.term, term_);
  uncommitted_size_bytes_ += meta.size_bytes;
  uncommitted_sizes_.emplace_back(meta.last_offset, meta.size_bytes);
  log_.Append(meta, std::move(data));
  broadcast_pending_ = true;
}

absl::Status RawNode::TransferLeadership(NodeId target) {
  if (role_ != Role::kLeader) return absl::FailedPreconditionError("not the leader");
  if (target == config_.id) return absl::FailedPreconditionError("already leader");
  if (!membership_.IsVoter(target)) {
    return absl::FailedPreconditionError(absl::StrCat("node ", target, " is not a voter"));
  }
  if (quiesced_) Wake(kNoNode);
  lead_transferee_ = target;
  transfer_elapsed_ticks_ = 0;
  Progress& pr = progress_.at(target);
  if (pr.match_offset == log_.LastOffset()) {
    SendTimeoutNow(target);
  } else {
    SendAppend(target, false);
  }
  CheckInvariants();
  return absl::OkStatus();
}

void RawNode::TransferToBestVoter() {
  EDDY_CHECK(role_ == Role::kLeader);
  NodeId best = kNoNode;
  int64_t best_match = kNoOffset - 1;
  for (NodeId voter : membership_.voters()) {
    auto it = progress_.find(voter);
    if (it != progress_.end() && it->second.match_offset > best_match) {
      best = voter;
      best_match = it->second.match_offset;
    }
  }
  if (best == kNoNode) return;
  lead_transferee_ = best;
  transfer_elapsed_ticks_ = 0;
  if (best_match == log_.LastOffset()) {
    SendTimeoutNow(best);
  } else {
    SendAppend(best, false);
  }
}

void RawNode::SendTimeoutNow(NodeId to) {
  Message m;
  m.set_type(MSG_TIMEOUT_NOW);
  m.set_to(to);
  m.set_term(term_);
  Send(std::move(m));
}

absl::Status RawNode::ReadIndex(uint64_t request_id) {
  if (role_ != Role::kLeader || !membership_.IsVoter(config_.id)) return absl::FailedPreconditionError("not the leader");
  // Dissertation §6.4: the leader's commit offset is only known to be current once it has
  // committed an entry of its own term.
  if (log_.TermAt(commit_) != term_) {
    return absl::UnavailableError("leader has not committed an entry of its term yet");
  }
  if (quiesced_) Wake(kNoNode);
  if (membership_.voters().size() == 1) {
    read_states_.push_back(ReadState{request_id, commit_});
    return absl::OkStatus();
  }
  if (static_cast<int>(pending_reads_.size()) >= config_.read_requests_max) {
    return absl::ResourceExhaustedError("too many pending reads");
  }
  pending_reads_.push_back(PendingRead{request_id, commit_, ++read_sequence_});
  BroadcastHeartbeat();
  CheckInvariants();
  return absl::OkStatus();
}

void RawNode::BroadcastHeartbeat() {
  const uint64_t context = pending_reads_.empty() ? 0 : read_sequence_;
  for (auto& [peer, pr] : progress_) {
    Message m;
    m.set_type(MSG_HEARTBEAT);
    m.set_to(peer);
    m.set_term(term_);
    m.set_commit_offset(std::min(pr.match_offset, commit_));
    m.set_read_context(context);
    Send(std::move(m));
  }
}

bool RawNode::CanQuiesce() const {
  if (!config_.quiesce || role_ != Role::kLeader || quiesced_) return false;
  // Nothing in progress: no transfer, no read waiting for its heartbeat quorum, no removal of
  // ourselves being handed over, nothing left to stream or to announce.
  if (!membership_.IsVoter(config_.id) || lead_transferee_ != kNoNode || !pending_reads_.empty() ||
      broadcast_pending_ || commit_broadcast_pending_) {
    return false;
  }
  // Our whole log is durable and committed (hence no membership change or no-op is pending).
  const int64_t last = log_.LastOffset();
  if (commit_ != last || log_.PersistedLastOffset() != last) return false;
  if (!QuorumActive()) return false;
  for (const auto& [peer, pr] : progress_) {
    // A follower silent for a whole check-quorum round (down, cut off) is not waited for: when
    // it is back it talks first (a restarted replica campaigns; a cut-off one was woken by its
    // node's liveness and campaigns), and any message wakes us.
    if (!pr.recent_active) continue;
    // Everyone else holds our whole log, durably (match is a durable acknowledgement), and
    // nothing is in flight to them (no snapshot, no probe, no pipeline).
    if (pr.state != Progress::State::kReplicate || pr.match_offset != last ||
        !pr.inflight_last_offsets.empty()) {
      return false;
    }
  }
  return true;
}

void RawNode::Quiesce() {
  EDDY_CHECK(CanQuiesce());
  quiesced_ = true;
  ++counters_.quiesces;
  // The last heartbeat: it carries our commit offset (== last entry), so a follower that
  // accepts has committed everything; followers that cannot accept answer and wake us.
  for (auto& [peer, pr] : progress_) {
    Message m;
    m.set_type(MSG_HEARTBEAT);
    m.set_to(peer);
    m.set_term(term_);
    m.set_commit_offset(std::min(pr.match_offset, commit_));
    m.set_last_log_offset(log_.LastOffset());
    m.set_last_log_term(log_.LastTerm());
    m.set_quiesce(true);
    Send(std::move(m));
  }
}

void RawNode::Wake(NodeId cause) {
  EDDY_CHECK(quiesced_);
  quiesced_ = false;
  ++counters_.wakes;
  if (role_ == Role::kLeader) {
    // Resume exactly where we stopped: heartbeats from now on, a fresh check-quorum window.
    election_elapsed_ticks_ = 0;
    heartbeat_elapsed_ticks_ = 0;
    BroadcastHeartbeat();
  } else if (leader_ != kNoNode && cause != leader_) {
    // Someone else needs the group (a vote request, a stray message): the leader must wake and
    // heartbeat again, or our election timer, running again, would depose it for being quiet.
    Message m;
    m.set_type(MSG_HEARTBEAT_RESP);
    m.set_to(leader_);
    m.set_term(term_);
    Send(std::move(m));
  }
}

void RawNode::Unquiesce() {
  if (!quiesced_) return;
  Wake(kNoNode);
  if (role_ == Role::kLeader) {
    // A peer's node went silent: demand fresh evidence of a quorum, so a leader cut off while
    // quiet steps down within one election timeout (check-quorum) instead of believing stale
    // acknowledgements from before it went quiet.
    for (auto& [id, pr] : progress_) pr.recent_active = false;
  } else {
    // The node liveness timeout stood in for the election timeout quiescence suppressed: the
    // lease on votes is over, and we campaign after a randomized [0, election timeout) ticks.
    election_elapsed_ticks_ = config_.election_timeout_ticks;
  }
  CheckInvariants();
}

void RawNode::FlushBroadcast() {
  if (role_ != Role::kLeader) return;
  if (!broadcast_pending_ && !commit_broadcast_pending_) return;
  for (auto& [peer, pr] : progress_) {
    bool sent = SendAppend(peer, commit_broadcast_pending_);
    while (sent) sent = SendAppend(peer, false);
  }
  broadcast_pending_ = false;
  commit_broadcast_pending_ = false;
}

bool RawNode::SendAppend(NodeId to, bool send_if_empty) {
  Progress& pr = progress_.at(to);
  if (pr.IsPaused(config_.inflight_messages_max)) return false;
  const int64_t last = log_.LastOffset();
  EDDY_CHECK_LE(pr.next_offset, last + 1);
  const int64_t prev = pr.next_offset - 1;
  std::optional<Term> prev_term = log_.TermAt(prev);
  if (!prev_term) {
    // The entries the follower needs are gone (log prefix truncated by retention): send our
    // snapshot point instead.
    pr.BecomeSnapshot(log_.SnapshotPoint());
    SendSnapshotChunk(to, pr);
    return false;
  }
  Message m;
  m.set_type(MSG_APPEND);
  m.set_to(to);
  m.set_term(term_);
  m.set_prev_log_offset(prev);
  m.set_prev_log_term(*prev_term);
  m.set_commit_offset(commit_);
  uint64_t size_bytes = 0;
  for (int64_t offset = pr.next_offset;
       offset <= last && m.entries_size() < config_.append_entries_count_max;) {
    std::optional<EntryMeta> e = log_.EntryAt(offset);
    EDDY_CHECK(e.has_value());
    if (m.entries_size() > 0 && size_bytes + e->size_bytes > config_.append_size_bytes_max) break;
    e->ToProto(m.add_entries());
    size_bytes += e->size_bytes;
    offset = e->last_offset + 1;
  }
  if (m.entries_size() == 0 && !send_if_empty) return false;
  const int64_t sent_last =
      m.entries_size() > 0 ? m.entries(m.entries_size() - 1).last_offset() : prev;
  if (pr.state == Progress::State::kReplicate) {
    if (m.entries_size() > 0) {
      pr.next_offset = sent_last + 1;
      pr.inflight_last_offsets.push_back(sent_last);
    }
  } else {
    pr.probe_sent = true;
  }
  const bool sent_entries = m.entries_size() > 0;
  Send(std::move(m));
  return sent_entries;
}

void RawNode::SendSnapshotChunk(NodeId to, Progress& pr) {
  EDDY_CHECK(pr.state == Progress::State::kSnapshot);
  if (!SameSnapshotPoint(pr.snapshot, log_.SnapshotPoint())) {
    // Our snapshot point moved (retention) while this follower was receiving the older one:
    // the driver keeps only the current snapshot's state bytes, so start over with it.
    pr.BecomeSnapshot(log_.SnapshotPoint());
  }
  const uint64_t size = pr.snapshot.size_bytes();
  EDDY_CHECK_LE(pr.snapshot_sent_bytes, size);
  Message m;
  m.set_type(MSG_SNAPSHOT);
  m.set_to(to);
  m.set_term(term_);
  *m.mutable_snapshot() = pr.snapshot;
  m.set_chunk_offset_bytes(pr.snapshot_sent_bytes);
  m.set_chunk_size_bytes(std::min(size - pr.snapshot_sent_bytes,
                                  config_.snapshot_chunk_size_bytes_max));
  Send(std::move(m));
}

int64_t RawNode::FindConflictByTerm(int64_t offset, Term term) const {
  const int64_t snapshot_offset = log_.SnapshotOffset();
  if (offset < snapshot_offset) return offset;  // below our log: a snapshot is needed
  int64_t h = log_.EntryEndAtOrBefore(std::min(offset, log_.LastOffset()));
  while (h > snapshot_offset && *log_.TermAt(h) > term) h = log_.EntryAt(h)->base_offset - 1;
  // Even our snapshot point is newer than the follower's entry there: only a snapshot helps.
  if (h == snapshot_offset && *log_.TermAt(h) > term) return h - 1;
  return h;
}

absl::Status RawNode::HandleAppendResponse(const Message& m) {
  auto it = progress_.find(m.from());
  if (it == progress_.end()) return absl::OkStatus();
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject()) {
    if (pr.IsStaleRejection(m.rejected_offset())) return absl::OkStatus();
    if (m.hint_offset() < kNoOffset - 1 || m.hint_offset() > m.rejected_offset()) {
      return Refuse(&counters_.invalid_messages,
                    absl::InvalidArgumentError("reject hint beyond the rejected offset"));
    }
    if (m.hint_offset() < log_.SnapshotOffset()) {
      // The follower needs what precedes our log (or, as a joiner, a membership): snapshot.
      pr.BecomeSnapshot(log_.SnapshotPoint());
      SendSnapshotChunk(m.from(), pr);
      return absl::OkStatus();
    }
    pr.BecomeProbe(FindConflictByTerm(m.hint_offset(), m.hint_term()) + 1);
    SendAppend(m.from(), true);
    return absl::OkStatus();
  }
  if (m.match_offset() > log_.LastOffset() || m.match_offset() < kNoOffset) {
    return Refuse(&counters_.invalid_messages,
                  absl::InvalidArgumentError(absl::StrCat(
                      "ack of offset ", m.match_offset(), " beyond our last ", log_.LastOffset())));
  }
  if (m.match_offset() > log_.SnapshotOffset() &&
      log_.EntryEndAtOrBefore(m.match_offset()) != m.match_offset()) {
    // Matches are entry ends; one inside a batch could move the commit offset into it.
    return Refuse(&counters_.invalid_messages,
                  absl::InvalidArgumentError(absl::StrCat(
                      "ack of offset ", m.match_offset(), " inside an entry")));
  }
  if (pr.MaybeUpdate(m.match_offset())) {
    if (pr.state == Progress::State::kProbe) {
      pr.BecomeReplicate();
    } else if (pr.state == Progress::State::kSnapshot &&
               pr.match_offset >= pr.snapshot.last_offset()) {
      pr.BecomeProbe(pr.match_offset + 1);
    }
    MaybeCommit();
    if (role_ != Role::kLeader) return absl::OkStatus();  // a conf change removed us
    if (m.from() == lead_transferee_ && pr.match_offset == log_.LastOffset()) {
      SendTimeoutNow(m.from());
    }
  }
  auto again = progress_.find(m.from());
  if (again == progress_.end()) return absl::OkStatus();
  while (SendAppend(m.from(), false)) {
  }
  return absl::OkStatus();
}

void RawNode::HandleHeartbeatResponse(const Message& m) {
  auto it = progress_.find(m.from());
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  switch (pr.state) {
    case Progress::State::kProbe:
      pr.probe_sent = false;  // the probe may have been lost: allow another
      break;
    case Progress::State::kReplicate:
      // Nothing acknowledged since the last heartbeat although messages are in flight: they
      // were probably lost. Fall back to probing from the match offset.
      if (pr.match_offset == pr.match_at_last_heartbeat && !pr.inflight_last_offsets.empty()) {
        pr.BecomeProbe(pr.match_offset + 1);
      } else {
        pr.match_at_last_heartbeat = pr.match_offset;
      }
      break;
    case Progress::State::kSnapshot:
      SendSnapshotChunk(m.from(), pr);  // the chunk or its answer may have been lost
      break;
  }
  // A probe is sent even without entries (a follower with the whole log but for its match
  // answers an empty one): otherwise a lost empty probe, e.g. the first one to a new learner
  // that was still opening, is never sent again and the follower never catches up.
  if (pr.match_offset < log_.LastOffset()) {
    SendAppend(m.from(), /*send_if_empty=*/pr.state == Progress::State::kProbe);
  }
  if (m.read_context() != 0 && membership_.IsVoter(m.from())) {
    uint64_t& acked = read_acks_[m.from()];
    acked = std::max(acked, m.read_context());
    AdvanceReads();
  }
}

void RawNode::HandleSnapshotResponse(const Message& m) {
  auto it = progress_.find(m.from());
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (pr.state != Progress::State::kSnapshot || !SameSnapshotPoint(m.snapshot(), pr.snapshot)) {
    return;  // an answer about an older snapshot
  }
  if (m.reject()) {
    if (m.match_offset() <= log_.LastOffset()) pr.MaybeUpdate(m.match_offset());
    pr.BecomeProbe(pr.match_offset + 1);
    SendAppend(m.from(), true);
    return;
  }
  if (m.chunk_offset_bytes() >= pr.snapshot.size_bytes() &&
      m.match_offset() == pr.snapshot.last_offset()) {
    // Installed (and durable: the answer is sent after persistence). Resume normal
    // replication right after the snapshot point.
    pr.MaybeUpdate(m.match_offset());
    pr.BecomeProbe(pr.match_offset + 1);
    MaybeCommit();
    if (role_ == Role::kLeader && progress_.count(m.from())) SendAppend(m.from(), false);
    return;
  }
  pr.snapshot_sent_bytes = std::min(m.chunk_offset_bytes(), pr.snapshot.size_bytes());
  SendSnapshotChunk(m.from(), pr);
}

void RawNode::MaybeCommit() {
  while (role_ == Role::kLeader) {
    std::vector<int64_t> matches;
    for (NodeId voter : membership_.voters()) {
      if (voter == config_.id) {
        matches.push_back(log_.PersistedLastOffset());
      } else {
        auto it = progress_.find(voter);
        matches.push_back(it == progress_.end() ? kNoOffset : it->second.match_offset);
      }
    }
    // A leader removed by a committed change no longer counts itself.
    if (matches.empty()) return;
    std::sort(matches.begin(), matches.end(), std::greater<int64_t>());
    const int64_t quorum_offset = matches[membership_.Quorum() - 1];
    if (quorum_offset <= commit_) return;
    // §5.4.2: only an entry of the current term is committed by counting replicas; earlier
    // entries commit indirectly with it (Figure 8 shows why).
    if (config_.planted_bug != PlantedBug::kCommitPreviousTerm &&
        log_.TermAt(quorum_offset) != term_) {
      return;
    }
    CommitTo(quorum_offset);
    commit_broadcast_pending_ = true;
  }
}

void RawNode::CommitFromLeader(int64_t offset) {
  // A leader's commit offset is an entry end of its log; clamp one that is not (a forged or
  // buggy peer) to the entry end before it, so commit_ never lands inside an entry.
  if (offset <= commit_) return;
  CommitTo(log_.EntryEndAtOrBefore(offset));
}

void RawNode::CommitKnownConfChanges() {
  // Dissertation §4.1 (single-server changes) is safe only if every replica holding C(k+1) uses
  // at least C(k). A leader proposes a change only once its previous one and its term's no-op
  // are committed (ProposeConfChange), and Log Matching (§5.3) makes every log holding the later
  // change hold the same earlier one: so every change but the last in the log is committed, even
  // when this replica's commit offset (volatile, saved lazily) has not caught up.
  if (uncommitted_conf_.size() < 2) return;
  CommitTo(std::prev(uncommitted_conf_.end(), 2)->first);
}

void RawNode::CommitTo(int64_t offset) {
  if (offset <= commit_) return;
  EDDY_CHECK_LE(offset, log_.LastOffset());
  commit_ = offset;
  while (!uncommitted_sizes_.empty() && uncommitted_sizes_.front().first <= commit_) {
    uncommitted_size_bytes_ -= uncommitted_sizes_.front().second;
    uncommitted_sizes_.pop_front();
  }
  // Membership changes take effect when committed (in log order).
  while (!uncommitted_conf_.empty() && uncommitted_conf_.begin()->first <= commit_) {
    const EntryMeta change = uncommitted_conf_.begin()->second;
    uncommitted_conf_.erase(uncommitted_conf_.begin());
    ApplyConfChange(change.conf_change_type, change.conf_change_node);
  }
}

void RawNode::ApplyConfChange(ConfChangeType type, NodeId node) {
  if (!membership_.Apply(type, node)) return;
  if (role_ != Role::kLeader) return;
  if (type == CONF_ADD_LEARNER && node != config_.id) {
    Progress& pr = progress_[node];
    pr.BecomeProbe(log_.LastOffset() + 1);
    pr.recent_active = true;
    commit_broadcast_pending_ = true;
  } else if (type == CONF_REMOVE_NODE) {
    progress_.erase(node);
    read_acks_.erase(node);
    if (node == lead_transferee_) lead_transferee_ = kNoNode;
    if (node == config_.id) {
      // We left the group. Stepping down at once can deadlock: the remaining voters may not
      // yet know the removal committed (membership changes take effect at commit) and may
      // need our vote, which our longer log refuses. So keep leading without proposals,
      // heartbeat the commit offset, and hand leadership to the most caught-up voter.
      TransferToBestVoter();
    }
  }
}

void RawNode::AdvanceReads() {
  while (!pending_reads_.empty()) {
    const PendingRead& front = pending_reads_.front();
    size_t acks = 0;
    for (NodeId voter : membership_.voters()) {
      if (voter == config_.id) {
        ++acks;
        continue;
      }
      auto it = read_acks_.find(voter);
      if (it != read_acks_.end() && it->second >= front.sequence) ++acks;
    }
    if (acks < membership_.Quorum()) return;
    read_states_.push_back(ReadState{front.request_id, front.read_offset});
    pending_reads_.pop_front();
  }
}

// ---------------------------------------------------------------------------------------------
// Ready.

CommittedRange RawNode::ApplyRange() const {
  CommittedRange range;
  range.first_offset = std::max(applied_, log_.SnapshotOffset()) + 1;
  range.last_offset = std::min(commit_, log_.LastOffset());
  return range;
}

bool RawNode::HardStateChanged() const {
  return term_ != reported_term_ || vote_ != reported_vote_ || commit_ != reported_commit_ ||
         !(membership_ == reported_membership_);
}

bool RawNode::HasReady() const {
  if (ready_outstanding_) return false;
  if (!(soft_state() == reported_soft_)) return true;
  if (HardStateChanged()) return true;
  if (log_.HasEntriesToHandOut() || log_.HasSnapshotToHandOut()) return true;
  if (!messages_.empty() || !read_states_.empty()) return true;
  if (!ApplyRange().empty()) return true;
  return role_ == Role::kLeader && (broadcast_pending_ || commit_broadcast_pending_);
}

Ready RawNode::TakeReady() {
  EDDY_CHECK(!ready_outstanding_);
  FlushBroadcast();
  Ready ready;
  const SoftState soft = soft_state();
  if (!(soft == reported_soft_)) ready.soft_state = soft;
  const bool term_or_vote_changed = term_ != reported_term_ || vote_ != reported_vote_;
  if (HardStateChanged()) {
    HardState hard = hard_state();
    // PLANTED BUG: the vote is reported as nothing to persist.
    if (config_.planted_bug == PlantedBug::kForgetPersistVote) hard.set_vote(kNoNode);
    ready.hard_state = std::move(hard);
    reported_term_ = term_;
    reported_vote_ = vote_;
    reported_commit_ = commit_;
    if (!(membership_ == reported_membership_)) reported_membership_ = membership_;
  }
  ready.snapshot = log_.HandOutSnapshot();
  log_.HandOutEntries(&ready.entries);
  handed_out_entries_.clear();
  for (const Entry& e : ready.entries) handed_out_entries_.emplace_back(e.last_offset(), e.term());
  handed_out_snapshot_ = ready.snapshot;
  ready.must_sync = term_or_vote_changed || ready.snapshot.has_value() || !ready.entries.empty();
  if (log_rewritten_) DropMessagesNamingLostEntries();
  ready.messages = std::move(messages_);
  messages_.clear();
  ready.committed = ApplyRange();
  handed_out_committed_ = ready.committed;
  ready.read_states = std::move(read_states_);
  read_states_.clear();
  reported_soft_ = soft;
  ready_outstanding_ = true;
  CheckInvariants();
  return ready;
}

void RawNode::DropMessagesNamingLostEntries() {
  // An AppendEntries queued while we led, followed (before this Ready) by stepping down and
  // having that tail overwritten: the driver could not attach the payloads it names. Such a
  // message is stale anyway (its term is over); dropping it is always safe.
  log_rewritten_ = false;
  messages_.erase(
      std::remove_if(messages_.begin(), messages_.end(),
                     [this](const Message& m) {
                       if (m.type() != MSG_APPEND) return false;
                       for (const Entry& e : m.entries()) {
                         if (!log_.MatchesEntryEnd(e.last_offset(), e.term())) return true;
                       }
                       return false;
                     }),
      messages_.end());
}

void RawNode::Advance(const Ready& ready) {
  EDDY_CHECK(ready_outstanding_);
  EDDY_CHECK_EQ(ready.committed.last_offset, handed_out_committed_.last_offset);
  ready_outstanding_ = false;
  if (handed_out_snapshot_) {
    log_.SnapshotStable(*handed_out_snapshot_);
    applied_ = std::max(applied_, handed_out_snapshot_->last_offset());
  }
  log_.StableTo(handed_out_entries_);
  if (!handed_out_committed_.empty()) {
    applied_ = std::max(applied_, handed_out_committed_.last_offset);
  }
  // Our own durable log counts towards the quorum only now (§5.3 with fsync before ack).
  MaybeCommit();
  CheckInvariants();
}

// ---------------------------------------------------------------------------------------------
// Invariants.

void RawNode::CheckInvariants() {
  log_.CheckInvariants(term_);
  EDDY_CHECK_LE(static_cast<int>(messages_.size()), config_.outgoing_messages_max);
  EDDY_CHECK_GE(commit_, checked_commit_);  // commit never goes back
  checked_commit_ = commit_;
  EDDY_CHECK_GE(commit_, log_.SnapshotOffset());
  EDDY_CHECK_LE(commit_, log_.LastOffset());
  EDDY_CHECK_LE(applied_, commit_);
  EDDY_CHECK(!membership_.voters().empty() || membership_.learners().empty() ||
             role_ == Role::kFollower);
  if (!uncommitted_conf_.empty()) {
    EDDY_CHECK_GT(uncommitted_conf_.begin()->first, commit_);
    EDDY_CHECK_LE(uncommitted_conf_.rbegin()->first, log_.LastOffset());
  }
  if (quiesced_) {
    EDDY_CHECK(config_.quiesce);
    EDDY_CHECK(role_ == Role::kLeader || role_ == Role::kFollower);
    EDDY_CHECK_NE(leader_, kNoNode);
    if (role_ == Role::kLeader) {
      // Nothing happens to a quiet leader's log: every change wakes it first.
      EDDY_CHECK_EQ(commit_, log_.LastOffset());
      EDDY_CHECK_EQ(lead_transferee_, kNoNode);
      EDDY_CHECK(pending_reads_.empty());
      EDDY_CHECK(!broadcast_pending_);
    }
  }
  switch (role_) {
    case Role::kLeader:
      EDDY_CHECK_EQ(leader_, config_.id);
      EDDY_CHECK_EQ(vote_, config_.id);
      // A leader is a voter, unless its own removal has committed (it is handing over).
      EDDY_CHECK(membership_.IsVoter(config_.id) || !membership_.Contains(config_.id));
      EDDY_CHECK_EQ(log_.LastTerm(), term_);  // the no-op (or later) is ours
      for (const auto& [peer, pr] : progress_) {
        EDDY_CHECK(membership_.Contains(peer));
        EDDY_CHECK_NE(peer, config_.id);
        pr.CheckInvariants(config_.inflight_messages_max);
        EDDY_CHECK_LE(pr.match_offset, log_.LastOffset());
        EDDY_CHECK_LE(pr.next_offset, log_.LastOffset() + 1);
      }
      EDDY_CHECK_EQ(progress_.size() + (membership_.Contains(config_.id) ? 1 : 0),
                    membership_.voters().size() + membership_.learners().size());
      EDDY_CHECK_LE(static_cast<int>(pending_reads_.size()), config_.read_requests_max);
      break;
    case Role::kCandidate:
      EDDY_CHECK_EQ(vote_, config_.id);
      [[fallthrough]];
    case Role::kPreCandidate:
      EDDY_CHECK_EQ(leader_, kNoNode);
      EDDY_CHECK(progress_.empty());
      break;
    case Role::kFollower:
      EDDY_CHECK(progress_.empty());
      EDDY_CHECK_NE(leader_, config_.id);
      break;
  }
}

}  // namespace eddy::raft
