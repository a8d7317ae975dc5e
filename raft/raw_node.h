// RawNode: one member of one Raft group, as a pure state machine (DESIGN.md decision 1).
//
// It performs no I/O and reads no clock: time arrives as Tick(), peers' messages as Step(),
// client batches as Propose(), and everything the node wants done comes back as a Ready (see
// ready.h for THE ORDER IN WHICH A DRIVER MUST PROCESS IT). Randomness (election jitter) comes
// only from the injected eddy::Random, so a run is a function of its seed.
//
// The node reads its log through a LogView (log_view.h) owned by the driver, which must outlive
// the node; payload bytes stay in the driver's log except for the single hand-over of a
// proposal (Propose -> Ready::entries) and of received entries (Step -> Ready::entries).
//
// Positions are record offsets: an entry covers [base_offset, last_offset]; prev_log_offset is
// the previous entry's last offset; commit_offset is the last offset of the last committed entry.
//
// Bad input from a peer (malformed, stale term, unknown sender, inconsistent offsets) is
// answered with a non-OK Status and counted in counters(); it never crashes. A broken internal
// invariant (CheckInvariants) crashes at once with the numbers.
//
// Single-threaded: all methods must be called from the driver's loop.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/random.h"
#include "raft/config.h"
#include "raft/log_view.h"
#include "raft/membership.h"
#include "raft/progress.h"
#include "raft/raft.pb.h"
#include "raft/raft_log.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace eddy::raft {

// Counts of peer input the node refused or ignored (for metrics and tests).
struct Counters {
  uint64_t invalid_messages = 0;        // malformed or inconsistent (kInvalidArgument)
  uint64_t stale_term_messages = 0;     // term older than ours (kFailedPrecondition)
  uint64_t unknown_sender_messages = 0; // votes/responses from non-members (kFailedPrecondition)
  uint64_t disruptive_votes_ignored = 0;  // vote requests while we hear a leader (check-quorum)
  uint64_t commits_learned_from_vote_replies = 0;  // a refusing voter's commit hint we matched
  uint64_t snapshot_chunks_ignored = 0;   // out-of-order snapshot chunks
  uint64_t proposals_refused = 0;         // Propose on a non-leader, during transfer, or full
  uint64_t outgoing_messages_dropped = 0; // queue beyond Config::outgoing_messages_max
  uint64_t campaigns_refused_at_term_max = 0;  // the next term would not fit a batch header
  uint64_t quiesces = 0;  // went quiet (leader: told its followers; follower: accepted)
  uint64_t wakes = 0;     // a quiesced replica woke (any message, a proposal, Unquiesce)
};

class RawNode {
 public:
  // `hard_state` is what the driver last persisted (InitialHardState() for a new node); `log`
  // is the driver's log, which must outlive the node. REQUIRES: config.Validate().ok();
  // hard_state.commit_offset() <= log->LastOffset().
  RawNode(const Config& config, const LogView* log, const HardState& hard_state, Random random);

  // The hard state of a node that has never run: term 0, no vote, nothing committed.
  static HardState InitialHardState();

  // Advances logical time by one tick (elections, heartbeats, check-quorum).
  void Tick();

  // Handles a message from a peer. Entry and snapshot payloads in `message.data` are moved
  // into the node (and come back in Ready::entries). For MSG_SNAPSHOT, OK means the chunk was
  // accepted: the driver keeps its bytes iff Step returns OK (a chunk at byte 0 restarts);
  // kAlreadyExists means the snapshot was not needed (our log already covers it).
  absl::Status Step(Message message);

  // Leader only: appends a batch of `record_count` records (offsets assigned here; returned).
  // kFailedPrecondition if not leader or transferring leadership; kResourceExhausted if the
  // uncommitted bytes would exceed Config::uncommitted_size_bytes_max.
  absl::StatusOr<EntryMeta> Propose(int64_t record_count, std::string data);

  // Leader only: proposes one membership change. kFailedPrecondition if another change, or
  // this leader's first (no-op) entry, is not yet committed, or the change is illegal.
  absl::StatusOr<EntryMeta> ProposeConfChange(ConfChangeType type, NodeId node);

  // Leader only: hands leadership to `target` (a voter): brings its log up to date, then sends
  // it TimeoutNow (§3.10 of the dissertation). Aborted after an election timeout.
  absl::Status TransferLeadership(NodeId target);

  // Leader only: registers a linearizable read (§6.4 of the dissertation, read-index). It is
  // released in Ready::read_states once a quorum has acknowledged this node as leader after
  // the request. kUnavailable until the leader has committed an entry of its term (retry).
  // Requests pending when leadership is lost are dropped (the driver times them out).
  absl::Status ReadIndex(uint64_t request_id);

  // Starts an election now (tests, or an operator's "campaign"). REQUIRES nothing; returns
  // kFailedPrecondition if this node is not a voter or already leader.
  absl::Status Campaign();

  // QUIESCENCE (Config::quiesce; README.md). A quiesced replica's Tick does nothing: a leader
  // sends no heartbeats (and runs no check-quorum), a follower runs no election timer. It wakes
  // on any message (except the quiesce handshake itself), on Propose, ProposeConfChange,
  // TransferLeadership, ReadIndex and Campaign, on a term change, and on Unquiesce; awake it
  // behaves exactly as a replica that never quiesced. A follower woken by a message from anyone
  // but its leader tells the leader (MSG_HEARTBEAT_RESP), which wakes it too.
  bool quiesced() const { return quiesced_; }
  // The driver's node liveness says a peer this quiesced replica depends on may be down (a
  // follower's leader, or one of a leader's followers). A follower then acts as if its election
  // timeout had elapsed (it campaigns after a randomized [0, election_timeout) more ticks); a
  // leader resumes heartbeats and must hear from a quorum within an election timeout
  // (check-quorum) or step down. No-op if not quiesced.
  void Unquiesce();

  bool HasReady() const;
  Ready TakeReady();
  // Confirms that `ready` was processed (ready.h); REQUIRES: it is the last TakeReady result.
  // The driver may have moved the entries and messages out of it.
  void Advance(const Ready& ready);

  // Crashes (with the numbers) if an internal invariant is broken. Called after every mutator.
  void CheckInvariants();

  // --- observers ---
  NodeId id() const { return config_.id; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  Role role() const { return role_; }
  NodeId leader() const { return leader_; }
  int64_t commit_offset() const { return commit_; }
  int64_t applied_offset() const { return applied_; }
  const Membership& membership() const { return membership_; }
  // The membership with every change in the log applied, committed or not.
  Membership latest_membership() const;
  // Leader only: the membership whose quorum elected it (membership() may have moved on since).
  const Membership& election_membership() const { return election_membership_; }
  const RaftLog& log() const { return log_; }
  const Counters& counters() const { return counters_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  // Leader only: progress of a peer, or nullptr.
  const Progress* progress(NodeId peer) const;
  SoftState soft_state() const { return SoftState{role_, leader_, term_}; }
  HardState hard_state() const;

 private:
  enum class CampaignKind { kPreVote, kVote };

  absl::Status StepInternal(Message& m);
  absl::Status StepLeader(Message& m);
  absl::Status StepCandidate(Message& m);
  absl::Status StepFollower(Message& m);

  void TickElection();
  void TickLeader();
  void CampaignNow(CampaignKind kind, bool transfer);
  void BecomeFollower(Term term, NodeId leader);
  void BecomeLeader();
  void ResetForTerm();

  void HandleVoteRequest(const Message& m);
  void SetCommitHint(Message* reply) const;
  void MaybeLearnCommitHint(const Message& m);
  void HandleVoteResponse(const Message& m);
  absl::Status HandleAppend(Message& m);
  void HandleHeartbeat(const Message& m);
  absl::Status HandleSnapshot(const Message& m);
  absl::Status HandleAppendResponse(const Message& m);
  void HandleHeartbeatResponse(const Message& m);
  void HandleSnapshotResponse(const Message& m);

  void RejectAppend(const Message& m);
  void AppendAsLeader(EntryMeta meta, std::string data);
  bool SendAppend(NodeId to, bool send_if_empty);
  void SendSnapshotChunk(NodeId to, Progress& pr);
  void SendTimeoutNow(NodeId to);
  void TransferToBestVoter();
  void BroadcastHeartbeat();
  // Quiescence: whether this leader may go quiet now; going quiet; waking (see quiesced()).
  bool CanQuiesce() const;
  void Quiesce();
  void Wake(NodeId cause);
  // A heartbeat response to every other member: "I am here" (see TickElection).
  void PingMembers();
  void FlushBroadcast();
  int64_t FindConflictByTerm(int64_t offset, Term term) const;
  void MaybeCommit();
  void CommitTo(int64_t offset);
  void ApplyConfChange(ConfChangeType type, NodeId node);
  // Commits up to the entry end at or before `offset`, a leader's commit offset.
  void CommitFromLeader(int64_t offset);
  // Commits every membership change in the log that another change follows (see the .cc).
  void CommitKnownConfChanges();
  void AdvanceReads();
  bool QuorumActive() const;
  CommittedRange ApplyRange() const;
  void Send(Message m);
  void DropMessagesNamingLostEntries();
  absl::Status Refuse(uint64_t* counter, absl::Status status);
  bool HardStateChanged() const;

  const Config config_;
  RaftLog log_;
  Random random_;

  // Persistent state (Figure 2) + the membership as of commit_.
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  int64_t commit_ = kNoOffset;
  Membership membership_;

  // Volatile state.
  int64_t applied_ = kNoOffset;
  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  int election_elapsed_ticks_ = 0;
  int heartbeat_elapsed_ticks_ = 0;
  int randomized_election_timeout_ticks_ = 0;
  bool quiesced_ = false;  // see quiesced()
  std::map<NodeId, bool> votes_;  // candidate: granted (true) or refused, by voter
  Membership election_membership_;  // leader: the membership that elected it
  // Membership changes in the log above commit_; they take effect when committed.
  std::map<int64_t, EntryMeta> uncommitted_conf_;

  // Leader state.
  std::map<NodeId, Progress> progress_;  // every member but this node
  int64_t pending_conf_offset_ = kNoOffset;  // last conf change (or the no-op) proposed
  NodeId lead_transferee_ = kNoNode;
  int transfer_elapsed_ticks_ = 0;
  bool broadcast_pending_ = false;     // new entries to stream at the next TakeReady
  bool commit_broadcast_pending_ = false;  // followers should learn a new commit offset
  std::deque<std::pair<int64_t, uint64_t>> uncommitted_sizes_;  // (last offset, bytes)
  uint64_t uncommitted_size_bytes_ = 0;
  struct PendingRead {
    uint64_t request_id;
    int64_t read_offset;
    uint64_t sequence;
  };
  std::deque<PendingRead> pending_reads_;
  uint64_t read_sequence_ = 0;
  std::map<NodeId, uint64_t> read_acks_;  // highest read sequence acknowledged, by voter

  // Follower: the snapshot being received in chunks.
  std::optional<SnapshotMeta> receiving_snapshot_;
  uint64_t receiving_snapshot_bytes_ = 0;

  // Ready bookkeeping.
  std::vector<Message> messages_;
  std::vector<ReadState> read_states_;
  SoftState reported_soft_;
  // The hard state last handed out, kept as plain values so HasReady allocates nothing.
  Term reported_term_ = 0;
  NodeId reported_vote_ = kNoNode;
  int64_t reported_commit_ = kNoOffset;
  Membership reported_membership_;
  bool ready_outstanding_ = false;
  // Set when our log lost entries (truncation, snapshot install) since the last TakeReady: the
  // queued AppendEntries may then name entries that are gone and must be dropped.
  bool log_rewritten_ = false;
  // What the outstanding Ready handed out, so Advance need not trust the Ready's contents
  // (the driver may move the entries out of it).
  std::vector<std::pair<int64_t, Term>> handed_out_entries_;  // (last offset, term)
  std::optional<SnapshotMeta> handed_out_snapshot_;
  CommittedRange handed_out_committed_;
  int64_t checked_commit_ = kNoOffset;  // commit_ at the last CheckInvariants (monotonic)

  Counters counters_;
};

}  // namespace eddy::raft
