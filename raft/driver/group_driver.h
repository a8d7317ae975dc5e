// GroupDriver: one replica of one Raft group on one node — the RawNode bound to a PartitionLog,
// the node's NodeStateStore and the node's seam (through NodeDriver).
//
// WHAT IT DOES WITH EACH READY (raft/ready.h), IN THIS ORDER:
//   1. truncate the log at a conflict, append the entries (state changes at submission);
//   2. ONE DURABILITY ROUND: flush the log (one sync covering every append since the last:
//      group commit) and, IN PARALLEL, save the record the Ready needs in the node's store (the
//      saves of many groups share one round of two parallel fsyncs): a term or vote change, and
//      the mark this flush will give as the record's PENDING mark. A crash may keep the record
//      without the entries: the replica then reopens fenced at the pending mark, and its
//      peers' reports (fence_recovery.h) or a leader's repair lift the fence. The durable mark
//      catches up and the commit offset (with the membership as of it) is saved after the
//      Ready, once the durable log covers it (MaybeSaveState), never holding a Ready up;
//   3. ONLY WHEN THE FLUSH AND THE RECORD ARE DURABLE: send the messages
//      (payloads of MSG_APPEND read back from the log and attached here, one read per distinct
//      range), call Advance, and queue the committed range for apply; then take the next Ready
//      if the core has one;
//   4. apply committed entries in order, reading them from the log (CRC-checked); a client's
//      proposal is acknowledged when its entry is applied here, i.e. committed AND durable on
//      this leader, with the term it was proposed in.
// Replication is pipelined by the core (several MSG_APPEND in flight per follower); the driver
// keeps one Ready in processing at a time while Step/Tick/Propose continue.
//
// SNAPSHOTS (group_driver_snapshot.cc, README.md): with GroupOptions::retention_offsets the
// replica moves its snapshot point behind its applied offset and drops the log prefix; a
// Ready::snapshot (this follower is behind its leader's log start) resets the log to start
// after the point. The point is always saved in the hard state BEFORE the log changes (a round
// of its own), and the open reconciles the two. So is a durable mark lowered before a conflict
// truncation cuts below it (LowerMarkThenPersist).
//
// STATE MACHINES (group_driver_machine.cc, state_machine.h, README.md): with
// GroupOptions::state_machine every applied entry also goes to the replica's machine; apply
// resumes after the machine's durable offset when the saved commit and the log vouch for it;
// retention moves the point to the applied offset; the machine's state is written to the
// snapshot file BEFORE the point is saved and travels in MSG_SNAPSHOT chunks.
//
// FAILURES: any disk error (failed sync, no space, data loss) or a corrupt batch found on read
// stops the replica at once (the RawNode, log and store are dropped, pending acknowledgements
// fail with kUnavailable); it reopens after GroupOptions::reopen_delay (doubling, up to
// reopen_delay_max, while failures follow each other), recovery repairing the
// files — the crash-restart path, never continuing past a failed fsync.
//
// REPAIR FENCE: the replica persists the most up-to-date log end it surely declared durable,
// in §5.4.1's order (term, then offset): the mark; and, while a flush is in flight, the end that
// flush gives (the pending mark). If it reopens with a log below the mark — or below the pending
// mark: an interrupted flush and damage look alike — it may have lost entries a quorum counted
// on: until its log reaches the mark again in that order (repaired from the leader), or its
// peers' reports bring the mark down (group_driver_fence.cc, fence_recovery.h), it requests no
// votes and grants a vote only to a candidate whose log is at least as up to date as the mark —
// the §5.4.1 restriction against its old log — so it never helps elect a leader that lacks an
// entry it had acknowledged.
//
// IDENTITY: the replica's Raft id is GroupOptions::replica_id (driver_options.h, REPLICA
// IDENTITY); its node is the runtime's. The owner names the incarnation; the first save records
// it (PersistedState.identity) and every open refuses a stored identity that differs.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: owned by a NodeDriver; the runtime and the
// observer outlive it. Callbacks handed in (acks, reads) are called at most once, never after
// the driver is destroyed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/log/partition_log.h"
#include "core/runtime/runtime.h"
#include "raft/driver/driver_options.h"
#include "raft/driver/fence_recovery.h"
#include "raft/driver/group_listener.h"
#include "raft/driver/node_state_store.h"
#include "raft/driver/open_gate.h"
#include "raft/driver/partition_log_view.h"
#include "raft/driver/state_machine.h"
#include "raft/raw_node.h"

namespace eddy::raft::driver {

struct GroupStats {
  uint64_t readies = 0;
  uint64_t log_flushes = 0;
  uint64_t entries_appended = 0;
  uint64_t entries_applied = 0;
  uint64_t fresh_campaigns = 0;  // campaign_on_fresh_open fired
  uint64_t conflict_truncations = 0;
  uint64_t failures = 0;
  uint64_t opens = 0;
  uint64_t invalid_messages = 0;
  uint64_t corrupt_reads = 0;
  uint64_t votes_suppressed = 0;  // by the repair fence
  uint64_t fence_reports_sent = 0;      // answers to fenced peers' queries
  uint64_t fence_reports_received = 0;  // while fenced, from other voters
  uint64_t fence_reports_stale = 0;     // answers to another incarnation's queries
  uint64_t fences_lowered = 0;          // by the peers' reports
  uint64_t proposals_acked = 0;
  uint64_t proposals_failed = 0;
  uint64_t snapshots_sent = 0;       // MSG_SNAPSHOT chunks sent (leader)
  uint64_t snapshots_installed = 0;  // follower installs
  uint64_t snapshot_files_written = 0;  // state machine snapshots written (retention, installs)
  uint64_t machine_restores = 0;        // opens that Restored the machine from its snapshot
  uint64_t machine_resumes = 0;         // opens that resumed after the machine's durable offset
  uint64_t snapshot_chunks_refused = 0;  // chunks whose bytes do not match their claimed size
  uint64_t compactions = 0;          // snapshot point moved by retention
  uint64_t halts = 0;  // hard state found uncertain on open
  uint64_t identity_refusals = 0;  // opened on a directory of another replica id or group
  uint64_t state_saves = 0;        // records handed to the node's state store
  // Readys that waited for durability, and the sequential durability rounds they waited for in
  // all (a round: the log flush and the state save in parallel; a lowered mark or a snapshot
  // point saved before the log changes is a round of its own).
  uint64_t readies_waited = 0;
  uint64_t rounds_waited = 0;
};

class GroupDriver;

// What a NodeDriver shares with each of its groups (see SetKickBatch): the groups kicked while
// it dispatches one batch of inputs, and quiescence (README.md, "Quiescence").
struct KickBatch {
  bool collecting = false;
  std::vector<GroupDriver*> kicked;
  // The node keeps liveness for quiet groups (node-level heartbeats), so its groups may quiesce
  // (Config::quiesce is set from this when a replica opens).
  bool quiesce = false;
  // Groups that are awake (not quiesced) but not in the node's tick set: each group adds its id
  // once, when it wakes (or opens), and the node ticks it from its next tick on.
  std::vector<GroupId> woken;
};

class GroupDriver {
 public:
  using SendFn = absl::AnyInvocable<void(NodeId to, GroupId group, Message message)>;
  using AckFn = absl::AnyInvocable<void(absl::StatusOr<EntryMeta>) &&>;
  using Batches = std::vector<std::vector<uint8_t>>;
  using ReadFn = absl::AnyInvocable<void(absl::StatusOr<Batches>) &&>;

  // The OnEvent name reported when a replica halts.
  static constexpr const char* kHaltedEvent = "hard state lost: replica halted";
  // The OnEvent name when the directory holds another replica (ReplicaIdentity): the replica
  // stays stopped (halted()) rather than run someone else's log and votes.
  static constexpr const char* kIdentityRefusedEvent =
      "replica refused: directory holds another replica's identity";
  // The OnEvent name when a fresh directory's identity became durable (the replica's first
  // durable step; its log is still empty): where the simulator aims a crash.
  static constexpr const char* kIdentitySavedEvent = "fresh replica: identity saved";

  // The OnEvent name when a state machine's snapshot file is durable and its point is about to
  // be saved (retention or install): where tests aim a crash.
  static constexpr const char* kSnapshotFileWrittenEvent =
      "snapshot file written: saving the point";

  // Outstanding client proposals per replica; more are refused with kResourceExhausted.
  static constexpr size_t kPendingAcksMax = 4096;

  // `state_store` (the node's) holds this replica's hard state; it outlives the driver.
  GroupDriver(runtime::Runtime& runtime, NodeStateStore& state_store, GroupOptions options,
              std::string directory, SendFn send, DriverObserver* observer);
  ~GroupDriver();
  GroupDriver(const GroupDriver&) = delete;
  GroupDriver& operator=(const GroupDriver&) = delete;

  // Opens the replica (log recovery, hard state, log scan) and starts it. Call once.
  void Start();
  // Before Start: the node's gate on concurrent log recoveries (nullptr: none).
  void SetOpenGate(std::shared_ptr<OpenGate> gate) { open_gate_ = std::move(gate); }
  // Stops the replica for good before its owner destroys it (RemoveGroup): pending
  // acknowledgements fail with kUnavailable (outcome unknown), observers hear OnFailed.
  void Shutdown();

  void Tick();
  void Receive(Message message);

  // Proposes one client batch (one whole RecordBatch v2, any base offset/epoch). `ack` gets the
  // entry (offsets, term) once it is committed and durable here, or an error that tells the
  // truth about the outcome:
  //   DEFINITELY NOT COMMITTED (safe to retry, no duplicate): kFailedPrecondition not leader;
  //     kInvalidArgument bad batch; kResourceExhausted too many in flight; kAborted overwritten
  //     by another leader's entry (the committed log holds something else at its offsets);
  //   OUTCOME UNKNOWN (it may still commit, or already has): kUnavailable replica stopped, or
  //     its offsets were replaced by a snapshot from the leader.
  void Propose(std::vector<uint8_t> batch, AckFn ack);
  absl::Status TransferLeadership(NodeId target);
  absl::Status ProposeConfChange(ConfChangeType type, NodeId node);

  // --- Kafka offsets (clients see only data records, densely from 0: core/log FORMAT.md) ---
  // The Kafka log start offset (Raft's log start less the hidden entries below it), the high
  // watermark (of the DURABLE commit offset: it never goes back, across reopens too), and the
  // Kafka offset of a Raft offset in the log. -1 / std::nullopt if not running.
  int64_t kafka_log_start_offset() const;
  int64_t kafka_high_watermark() const;
  std::optional<int64_t> KafkaOffsetOf(int64_t raft_offset) const;
  // ListOffsets by time: the Kafka offset of the first committed data batch holding a record
  // with a timestamp >= `timestamp_ms` (batch granularity: the batch's first offset, whose own
  // record may be older); std::nullopt if none lies below the high watermark.
  std::optional<int64_t> KafkaOffsetForTimestamp(int64_t timestamp_ms) const;
  // OffsetForLeaderEpoch (leader epochs are Raft terms): the largest term <= `term` with
  // committed entries in the log, and the Kafka offset where it ended — where the next term's
  // first entry starts, or the high watermark for the newest committed term. std::nullopt when
  // `term` is older than every term the log holds (Kafka's UNDEFINED_EPOCH) or not running.
  struct TermEnd {
    Term term = 0;
    int64_t kafka_end_offset = -1;
  };
  std::optional<TermEnd> KafkaEndOfTerm(Term term) const;
  // A Kafka fetch: data batches (Raft's own entries skipped) from the one holding
  // `kafka_offset`, below the high watermark only, each with its baseOffset rewritten to its
  // Kafka offset; about `size_bytes_max` bytes but at least one batch; empty at the high
  // watermark. Errors: kOutOfRange outside [kafka_log_start_offset(), kafka_high_watermark()];
  // kUnavailable not running; kDataLoss a bad batch.
  using KafkaReadFn = absl::AnyInvocable<void(absl::StatusOr<log::KafkaReadResult>) &&>;
  void ReadKafka(int64_t kafka_offset, uint64_t size_bytes_max, KafkaReadFn done);

  // Batches starting at the one containing `offset`, only from the applied (committed) prefix,
  // about `size_bytes_max` bytes but at least one batch (as a Kafka fetch); empty if `offset` is
  // beyond the applied prefix; kOutOfRange below log_start_offset() (the prefix a snapshot
  // replaced). Every batch is CRC-checked (kDataLoss if bad).
  void ReadCommitted(int64_t offset, uint64_t size_bytes_max, ReadFn done);

  // Batching hook for the owner (NodeDriver), set once: while `batch->collecting`, Kick()
  // appends this group to `batch->kicked` (once) instead of posting its own loop event, and the
  // owner, when it has dispatched its batch of inputs (an envelope, a tick), stops collecting
  // and calls ProcessKicked() on each collected group. `batch` outlives this driver.
  void SetKickBatch(KickBatch* batch) { kick_batch_ = batch; }
  // The owner's events (group_listener.h); nullptr: none. The listener hears the current high
  // watermark at once if the replica runs.
  void SetListener(GroupListener* listener);
  void ProcessKicked();

  // --- Quiescence (README.md): the node ticks only awake groups ---
  // The replica runs and its core is quiesced: ticks do nothing until it wakes.
  bool quiesced() const { return running() && node_->quiesced(); }
  // The node's liveness says a peer node this quiet replica depends on went silent: wake it
  // (RawNode::Unquiesce). No-op unless quiesced().
  void Unquiesce();
  // The replicas a quiesced replica depends on: a follower its leader, a leader every other
  // member. Empty unless quiesced().
  std::vector<NodeId> QuietPeers() const;
  // The node removed this group from its tick set; it is announced again (KickBatch::woken)
  // when it is next awake.
  void LeftTickSet() { awake_noted_ = false; }

  // --- observers ---
  bool running() const { return state_ == State::kRunning; }
  const RawNode* raft() const { return running() ? node_.get() : nullptr; }
  int64_t applied_offset() const { return applied_; }
  // Raft's log start (snapshot point + 1): reads below it are kOutOfRange. -1 if not running.
  int64_t log_start_offset() const;
  bool fenced() const { return fenced_; }
  // The replica stopped for good: its hard state may have lost the newest term or vote
  // (node_state_load.h CERTAINTY), so it neither votes nor replicates until it is rebuilt.
  bool halted() const { return state_ == State::kHalted; }
  // Term of the batch containing `offset` in this replica's log; nullopt if not running/absent.
  std::optional<int64_t> TermAt(int64_t offset) const;
  int64_t log_last_offset() const;
  const GroupStats& stats() const { return stats_; }
  GroupId group_id() const { return options_.group_id; }
  NodeId replica_id() const { return self_; }
  // The replica's state machine (GroupOptions::state_machine) while it runs; nullptr otherwise.
  StateMachine* state_machine() const { return running() ? machine_.get() : nullptr; }

 private:
  // kHalted is final: the replica cannot run Raft safely (its hard state may have gone back)
  // and waits for an operator to rebuild it.
  enum class State { kOpening, kRunning, kFailed, kHalted };

  void Open();
  void OnLogOpened(uint64_t generation, log::PartitionLog::Opened opened);
  void WipeLog(uint64_t generation);
  void OnStoreOpened(uint64_t generation, LoadedState loaded, OpenReport report);
  // After the identity check (or the first save of a fresh directory): snapshot, scan, node.
  void ContinueOpen(uint64_t generation, LoadedState loaded, OpenReport report);
  ReplicaIdentity Identity() const;
  // kFailedPrecondition unless `stored` is this replica's identity.
  absl::Status CheckIdentity(const ReplicaIdentity& stored) const;
  void ScanLog(uint64_t generation, const LoadedState& loaded, absl::AnyInvocable<void()> then);
  void BuildNode(const LoadedState& loaded, OpenReport report);
  // Stops the replica and reopens it after options_.reopen_delay.
  void Fail(absl::Status status);
  // Stops the replica for good (State::kHalted).
  void Halt(absl::Status status);
  void Stop(const absl::Status& status, State next);

  void Kick();
  // Reports quiesce/wake transitions (events) and announces an awake group to the node.
  void NoteQuiescence();
  // Takes a Ready and persists it: log append and flush, hard-state save, then FinishReady.
  void ProcessReady();
  void LowerMarkThenPersist(Ready ready);
  // Fenced: lowers what it surely declared below a conflict truncation's cut, then persists.
  void LowerDeclaredThenPersist(Ready ready);
  // The rest of a Ready after its snapshot (if any) is installed: append, flush, save, send.
  void PersistReady(Ready ready);
  // The hard state, durable mark (and a pending mark beyond it) and snapshot point as one record.
  PersistedState StateToPersist(
      std::pair<int64_t, Term> mark,
      std::optional<std::pair<int64_t, Term>> pending = std::nullopt) const;
  // The record this replica may save now (pointing only at durable log entries, plus `pending`,
  // the mark of a flush in progress), or nullopt if it equals the last one requested.
  std::optional<PersistedState> StateToSave(
      std::optional<std::pair<int64_t, Term>> pending = std::nullopt) const;
  static LogEnd ToLogEnd(std::pair<int64_t, Term> mark);
  // While fenced, a record's durable mark stays what was surely declared and the fence target
  // goes in as its pending mark; a pending mark equal to the durable one is dropped.
  void KeepFencedMarksApart(std::pair<int64_t, Term>& mark,
                            std::optional<std::pair<int64_t, Term>>& pending) const;
  // What a record fences a replica at: its pending mark if any, else its durable mark.
  static LogEnd FenceTarget(const PersistedState& state);
  // Saves `state` in the node's next round (at once if `urgent`: something waits for it); `then`
  // runs once it is durable (the replica fails instead if it is not).
  void SaveState(PersistedState state, bool urgent, absl::AnyInvocable<void()> then);
  // Flushes the log up to `last` for the current Ready, then `then`; sets *flushed first.
  void FlushForReady(int64_t last, bool mark_moves, std::shared_ptr<bool> flushed,
                     absl::AnyInvocable<void()> then);
  // Saves what a finished Ready made saveable (a commit offset its log covers).
  void MaybeSaveState();
  void MaybeLiftFence();
  // A completed save's fence target becomes the mark (see the .cc for a fenced replica).
  void AdoptSavedMark(const LogEnd& target);
  // --- Fence recovery (group_driver_fence.cc, fence_recovery.h) ---
  // Starts asking the other voters for reports (fenced on open).
  void StartFenceRecovery();
  // Asks every other voter (on open, then every election timeout while fenced).
  void AskFencePeers();
  // The configurations whose voters a fenced replica asks; none if it is a voter of neither.
  std::vector<std::vector<NodeId>> FenceConfigurations() const;
  void TickFenceRecovery();
  // Lowers the mark as far as the reports allow, once they all arrived.
  void MaybeLowerFence();
  // MSG_FENCE_QUERY / MSG_FENCE_REPORT: answered or taken here, never stepped into the core.
  void ReceiveFenceMessage(const Message& m);
  // This replica's durable log end (what a report names; never its mark).
  LogEnd FenceReportEnd() const;
  absl::Status AppendEntries(std::vector<Entry>& entries);
  // Term of the entry ending at `offset` (the snapshot point's term at the snapshot point).
  Term TermOfEntryEnd(int64_t offset) const;
  // The durable mark after declaring the log durable up to `last` (see REPAIR FENCE).
  std::pair<int64_t, Term> NextMark(int64_t last, Term last_term) const;
  void FinishReady(Ready ready);
  void SendMessages(std::vector<Message> messages);
  // Sends `messages` (MSG_APPEND naming the entries [first, last]) once their payloads are read.
  void AttachAndSend(int64_t first, int64_t last, std::vector<Message> messages);
  // Fills `msg`'s entry payloads from `batches`; false if they no longer match its entries.
  bool AttachPayloads(const Batches& batches, Message& msg) const;
  void ApplyMore();
  // --- Kafka offsets (group_driver_kafka.cc) ---
  // The anchor of the Kafka offset mapping at the snapshot point (core/log: KafkaAnchor).
  log::KafkaAnchor Anchor() const;
  // hidden_base for the log's Kafka queries; std::nullopt if the log and anchor disagree.
  std::optional<int64_t> HiddenBase() const;
  // Tells the observer the applied batch's Kafka offsets; false (replica failed) if the anchor
  // does not describe it.
  bool ReportKafkaApplied(const EntryMeta& meta);
  void ResolveAcks(const EntryMeta& applied);
  void FailAllAcks(const absl::Status& status);
  absl::Status ValidateIncoming(const Message& message) const;
  void RawRead(int64_t offset, ReadFn done);

  // --- Snapshots (group_driver_snapshot.cc) ---
  // On open: makes the log agree with the persisted snapshot point (finishes an interrupted
  // prefix truncation, or resets the log when it does not hold the point), sets the view's
  // snapshot point, then runs `then`.
  void ReconcileSnapshot(uint64_t generation, const LoadedState& loaded,
                         absl::AnyInvocable<void()> then);
  // Retention: if due, moves the snapshot point forward (persisted first, then the log prefix is
  // dropped). Returns true if it started (ready_busy_ is held until it is done).
  bool MaybeCompact();
  // Ready::snapshot: persist the snapshot point (with the hard state and mark), reset the log to
  // start after it, then PersistReady.
  void InstallSnapshot(Ready ready);
  // Fails pending acknowledgements of entries at or below `offset` (replaced by a snapshot).
  void FailAcksThrough(int64_t offset);
  // The rest of InstallSnapshot once the machine's state (if any) is in its snapshot file.
  void InstallSnapshotPoint(Ready ready, std::vector<uint8_t> state);
  // Retention with a state machine: the point is the applied offset, its state is written to
  // the snapshot file BEFORE the point is saved (then as MaybeCompact without a machine).
  void CompactWithState(SnapshotMeta next, std::vector<uint8_t> state);
  // After the point `next` is durable: show it to the core, drop the log prefix.
  void FinishCompaction(const SnapshotMeta& next);

  // --- State machines (group_driver_machine.cc) ---
  std::string SnapshotDirectory() const;
  // On open, after the log scan: creates the machine, removes stale snapshot files, loads the
  // saved point's file (kDataLoss if missing or corrupt: the replica fails) and either trusts the
  // machine's durable offset or Restores the snapshot; sets apply_resume_offset_.
  // `log_damaged`: recovery cut the log, or it ends below its durable mark (the machine's
  // durable offset is then not trusted).
  void OpenMachine(uint64_t generation, const LoadedState& loaded, bool log_damaged,
                   absl::AnyInvocable<void()> then);
  void ResumeMachine(const LoadedState& loaded, bool log_damaged, std::vector<uint8_t> state,
                     absl::AnyInvocable<void()> then);
  // MSG_SNAPSHOT from a leader that the core accepted: keep its chunk's bytes.
  void NoteSnapshotChunk(const SnapshotMeta& meta, uint64_t chunk_offset_bytes,
                         const std::string& data);
  // Outgoing MSG_SNAPSHOT: attaches its chunk of snapshot_state_; false if it names another
  // snapshot than this replica's current one (the message is dropped).
  bool AttachSnapshotState(Message& m) const;
  // Removes the snapshot files of points other than `point` (after `point` is durable).
  void RemoveOldSnapshots(int64_t point);

  // Reads whole batches covering [first, last] from the log (CRC-checked by the log), in order.
  // Stops early once `size_bytes_max` bytes were read (at least one log read).
  void ReadBatches(int64_t first, int64_t last, ReadFn done,
                   uint64_t size_bytes_max = UINT64_MAX);
  // Bytes from the batch holding `first` through the one holding `last`, if the log's index says
  // they are contiguous; UINT64_MAX if it cannot tell (a read budget, never a correctness bound).
  uint64_t BytesThrough(int64_t first, int64_t last) const;
  struct ReadCursor {
    int64_t next;
    int64_t last;
    Batches out;
    ReadFn done;
    uint64_t size_bytes = 0;
    uint64_t size_bytes_max;
  };
  void ReadMore(std::shared_ptr<ReadCursor> cursor, uint64_t generation);
  void Event(const char* name);
  // Tells the listener about a higher Kafka high watermark, if there is one.
  void NotifyHighWatermark();
  GroupListener& Listener() { return listener_ != nullptr ? *listener_ : idle_listener_; }
  bool Current(uint64_t generation) const { return generation == generation_ && *alive_; }

  runtime::Runtime& runtime_;
  NodeStateStore& state_store_;
  const GroupOptions options_;
  const std::string directory_;
  SendFn send_;
  DriverObserver* const observer_;
  const NodeId self_;

  State state_ = State::kOpening;
  uint64_t generation_ = 0;  // bumped by every Fail; stale completions compare and return
  std::unique_ptr<log::PartitionLog> log_;
  std::unique_ptr<PartitionLogView> view_;
  std::unique_ptr<RawNode> node_;

  HardState hard_state_;           // the latest the core handed out
  // The latest written by a completed save (or opened with): term and vote changes are saved
  // before anything is sent; commit-only changes wait for the next save (see ProcessReady).
  HardState saved_hard_state_;
  int64_t mark_ = kNoOffset;       // durable mark (see REPAIR FENCE), as persisted
  Term mark_term_ = 0;             // term of the entry ending at mark_ when declared
  bool fenced_ = false;
  // While fenced: the mark it surely declared (PersistedState.durable_last_*), kept apart from
  // the fence target mark_ (which may be a pending mark) in the records it saves.
  LogEnd surely_declared_;
  std::optional<FenceRecovery> fence_recovery_;  // while fenced: the peers' reports
  int fence_query_ticks_ = 0;                    // ticks since the last queries went out
  uint64_t fence_query_base_ = 0;   // this incarnation's query ids: base + round
  uint64_t fence_query_round_ = 0;  // queries sent so far
  bool log_reset_on_open_ = false;  // ReconcileSnapshot reset the log (OpenReport)
  bool ready_busy_ = false;         // a Ready (or a compaction) is being persisted
  int ready_rounds_ = 0;            // sequential durability rounds the current Ready waits for
  bool kick_posted_ = false;
  KickBatch* kick_batch_ = nullptr;  // see SetKickBatch
  std::shared_ptr<OpenGate> open_gate_;  // see SetOpenGate
  GroupListener* listener_ = nullptr;  // see SetListener
  GroupListener idle_listener_;        // stands in when none is set
  int64_t notified_hwm_ = -1;          // last high watermark told to the listener
  std::pair<int64_t, int64_t> notified_inputs_{-2, -2};  // (saved commit, snapshot point) then
  bool kick_collected_ = false;
  bool awake_noted_ = false;         // in the node's tick set or KickBatch::woken
  bool reported_quiesced_ = false;   // as last reported by NoteQuiescence
  uint64_t reported_generation_ = 0;  // the incarnation reported_quiesced_ is about
  int64_t applied_ = kNoOffset;
  int64_t commit_target_ = kNoOffset;
  bool apply_busy_ = false;
  struct PendingAck {
    Term term = 0;
    AckFn ack;
  };
  std::map<int64_t, PendingAck> pending_acks_;  // by last offset
  // Planted bug kTruncateCommittedOnConflict: where the next open cuts the log.
  std::optional<int64_t> bug_truncate_from_;
  runtime::TimerId reopen_timer_ = runtime::kNoTimer;
  Instant last_failed_at_;                   // when Fail last ran (the backoff's clock)
  Duration next_reopen_delay_ = Duration::Zero();  // the backoff's current step (Fail)
  // The newest record handed to the store (saves complete in order, so it is durable once the
  // saves in flight are).
  PersistedState requested_;
  // The log's end as of its last completed flush, lowered by a conflict truncation: what a
  // record saved now may point at (StateToSave).
  int64_t flushed_last_ = kNoOffset;
  GroupStats stats_;
  // --- State machine (nullptr: none) ---
  std::unique_ptr<StateMachine> machine_;
  // The state bytes of the current snapshot point (as in its file): chunks sent from here.
  std::vector<uint8_t> snapshot_state_;
  // A snapshot being received (follower): the chunks the core accepted so far, in order.
  SnapshotMeta receiving_meta_;
  std::vector<uint8_t> receiving_state_;
  bool receiving_ok_ = false;  // receiving_state_ holds exactly the accepted chunks
  // The last snapshot whose chunks all arrived, for the Ready that installs it.
  std::optional<SnapshotMeta> completed_meta_;
  std::vector<uint8_t> completed_state_;
  // A machine's snapshot was too large: retention waits until applied_ reaches this.
  int64_t compaction_retry_at_ = kNoOffset;
  // Where apply resumes on open (OpenMachine); the snapshot point without a machine.
  int64_t apply_resume_offset_ = kNoOffset;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
