#include "raft/driver/group_driver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/log/segment_file_names.h"
#include "core/record/batch_header.h"
#include "raft/driver/entry_batch.h"
#include "raft/driver/snapshot_file.h"

namespace eddy::raft::driver {

namespace {

// The partition log hides Raft's own entries from Kafka offsets (IsRaftInternalBatch).
GroupOptions WithRaftClassifier(GroupOptions options) {
  options.log.is_hidden = &IsRaftInternalBatch;
  return options;
}

}  // namespace
namespace {

bool IsVoteRequest(MessageType type) { return type == MSG_VOTE || type == MSG_PRE_VOTE; }

// Splits a log read into batches, keeping those that start at or before `last`.
absl::Status SplitBatches(const std::vector<uint8_t>& bytes, int64_t last, bool verify_crc,
                          GroupDriver::Batches* out, int64_t* next_offset) {
  size_t at = 0;
  while (at < bytes.size()) {
    std::span<const uint8_t> rest(bytes.data() + at, bytes.size() - at);
    absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    if (!header.ok() || header->size_bytes() > rest.size()) {
      return absl::DataLossError("malformed batch in a log read");
    }
    std::span<const uint8_t> batch = rest.first(header->size_bytes());
    if (header->base_offset > last) break;  // not asked for: neither checked nor kept
    if (verify_crc) {
      // The log checked it already; pair the check on our side of the seam.
      absl::Status crc = record::VerifyBatchCrc(batch);
      if (!crc.ok()) return crc;
    }
    out->emplace_back(batch.begin(), batch.end());
    *next_offset = header->last_offset() + 1;
    at += header->size_bytes();
  }
  return absl::OkStatus();
}

}  // namespace

GroupDriver::GroupDriver(runtime::Runtime& runtime, NodeStateStore& state_store,
                         GroupOptions options, std::string directory, SendFn send,
                         DriverObserver* observer)
    : runtime_(runtime),
      state_store_(state_store),
      options_(WithRaftClassifier(std::move(options))),
      directory_(std::move(directory)),
      send_(std::move(send)),
      observer_(observer),
      self_(options_.replica_id == kNoNode ? runtime.self() : options_.replica_id) {
  EDDY_CHECK(observer_ != nullptr);
  EDDY_CHECK_EQ(NodeOfReplica(self_), runtime.self());
  EDDY_CHECK(!options_.voters.empty());
}

GroupDriver::~GroupDriver() {
  *alive_ = false;
  if (reopen_timer_ != runtime::kNoTimer) runtime_.clock().Cancel(reopen_timer_);
  // Acks are dropped, not called: the owner (a crashed node) is going away.
}

void GroupDriver::Event(const char* name) { observer_->OnEvent(self_, options_.group_id, name); }

// --- Opening ----------------------------------------------------------------------------------

void GroupDriver::Start() { Open(); }

void GroupDriver::Open() {
  state_ = State::kOpening;
  reopen_timer_ = runtime::kNoTimer;
  const uint64_t generation = generation_;
  ++stats_.opens;
  // The log's recovery holds its segment files open: the node lets only so many run at once.
  std::shared_ptr<OpenGate> gate = open_gate_;
  auto recover = [this, alive = alive_, generation, gate]() {
    if (!*alive || generation != generation_) {
      if (gate != nullptr) gate->Leave();
      return;
    }
    log::PartitionLog::Open(
        runtime_.clock(), runtime_.disk(), absl::StrCat(directory_, "/log"), options_.log,
        [this, alive, generation, gate](absl::StatusOr<log::PartitionLog::Opened> opened) {
          if (gate != nullptr) gate->Leave();
          if (!*alive || generation != generation_) return;
          if (opened.ok()) return OnLogOpened(generation, *std::move(opened));
          if (opened.status().code() == absl::StatusCode::kDataLoss) return WipeLog(generation);
          Fail(opened.status());
        });
  };
  if (gate == nullptr) return recover();
  gate->Enter(std::move(recover));
}

void GroupDriver::WipeLog(uint64_t generation) {
  // Recovery itself could not read the log (an unreadable sector in sealed data): rebuild this
  // replica's log from the leader. The hard state stays; its durable mark fences the replica.
  Event("unrecoverable log wiped: rebuilding from the leader");
  const std::string dir = absl::StrCat(directory_, "/log");
  runtime::Disk& disk = runtime_.disk();
  disk.List(dir, [this, alive = alive_, generation, dir,
                  &disk](absl::StatusOr<std::vector<std::string>> names) {
    if (!*alive || generation != generation_) return;
    if (!names.ok()) return Fail(names.status());
    auto remaining = std::make_shared<size_t>(names->size() + 1);
    auto first_error = std::make_shared<absl::Status>();
    auto one_done = [this, alive = alive_, generation, dir, &disk, remaining,
                     first_error](absl::Status removed) {
      if (first_error->ok() && !removed.ok() && !absl::IsNotFound(removed)) {
        *first_error = removed;
      }
      if (!*alive || generation != generation_ || --*remaining > 0) return;
      // A file that could not be removed would come back in the rebuilt log: stop instead.
      if (!first_error->ok()) return Fail(*first_error);
      disk.SyncDirectory(dir, [this, alive = alive_, generation](absl::Status s) {
        if (!*alive || generation != generation_) return;
        if (!s.ok()) return Fail(s);
        Open();
      });
    };
    for (const std::string& name : *names) disk.Remove(absl::StrCat(dir, "/", name), one_done);
    one_done(absl::OkStatus());
  });
}

void GroupDriver::OnLogOpened(uint64_t generation, log::PartitionLog::Opened opened) {
  log_ = std::move(opened.log);
  OpenReport report;
  report.bytes_truncated = opened.report.bytes_truncated;
  report.first_defect = opened.report.first_defect;
  if (report.bytes_truncated > 0) Event("recovery truncated a torn or corrupt tail");
  if (bug_truncate_from_.has_value()) {
    // Planted bug: cut committed entries, as a driver that mistrusts its whole suffix would.
    const int64_t from = std::min(*bug_truncate_from_, log_->next_offset());
    bug_truncate_from_.reset();
    absl::StatusOr<int64_t> next = log_->TruncateSuffix(from);
    if (!next.ok()) return Fail(next.status());
  }
  state_store_.Attach(options_.group_id, [this, alive = alive_, generation,
                                          report](absl::StatusOr<LoadedState> loaded) mutable {
    if (!*alive || generation != generation_) return;
    if (!loaded.ok()) return Fail(loaded.status());
    if (!loaded->newest_certain) {
      return Halt(absl::DataLossError(absl::StrCat(
          "node state store uncertain (", loaded->uncertain_reason,
          "): term and vote may have gone back; rebuild this replica")));
    }
    OnStoreOpened(generation, *std::move(loaded), report);
  });
}

void GroupDriver::OnStoreOpened(uint64_t generation, LoadedState loaded, OpenReport report) {
  report.damaged_state_records = loaded.damaged_records;
  if (loaded.damaged_records > 0) Event("hard state copy damaged, other copy used");
  if (loaded.state.has_value() && loaded.state->has_identity()) {
    if (absl::Status same = CheckIdentity(loaded.state->identity()); !same.ok()) {
      ++stats_.identity_refusals;
      Event(kIdentityRefusedEvent);
      Stop(same, State::kHalted);
      return Listener().OnHalted(same);
    }
  } else if (!loaded.state.has_value()) {
    // A fresh directory: its identity is durable before any log entry or vote can be.
    PersistedState first;
    *first.mutable_hard_state() = RawNode::InitialHardState();
    first.set_durable_last_offset(kNoOffset);
    *first.mutable_identity() = Identity();
    state_store_.Save(options_.group_id, first, /*urgent=*/true,
                      [this, alive = alive_, generation, first, report](absl::Status s) mutable {
      if (!*alive || generation != generation_) return;
      if (!s.ok()) return Fail(s);
      Event(kIdentitySavedEvent);
      LoadedState saved;
      saved.state = std::move(first);
      ContinueOpen(generation, std::move(saved), std::move(report));
    });
    return;
  }
  ContinueOpen(generation, std::move(loaded), std::move(report));
}

ReplicaIdentity GroupDriver::Identity() const {
  ReplicaIdentity identity;
  identity.set_group_id(options_.group_id);
  identity.set_replica_id(self_);
  std::vector<NodeId> voters = options_.voters;
  std::sort(voters.begin(), voters.end());
  for (NodeId voter : voters) identity.add_bootstrap_voters(voter);
  return identity;
}

absl::Status GroupDriver::CheckIdentity(const ReplicaIdentity& stored) const {
  const ReplicaIdentity mine = Identity();
  if (stored.group_id() == mine.group_id() && stored.replica_id() == mine.replica_id() &&
      std::equal(stored.bootstrap_voters().begin(), stored.bootstrap_voters().end(),
                 mine.bootstrap_voters().begin(), mine.bootstrap_voters().end())) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "directory ", directory_, " holds replica ", stored.replica_id(), " of group ",
      stored.group_id(), "; refusing to open it as replica ", mine.replica_id(), " of group ",
      mine.group_id(), " (or with another bootstrap configuration)"));
}

void GroupDriver::ContinueOpen(uint64_t generation, LoadedState loaded, OpenReport report) {
  ConfState bootstrap;
  for (NodeId voter : options_.voters) bootstrap.add_voters(voter);
  std::sort(bootstrap.mutable_voters()->begin(), bootstrap.mutable_voters()->end());
  view_ = std::make_unique<PartitionLogView>(log_.get(), bootstrap);
  ReconcileSnapshot(generation, loaded, [this, generation, loaded, report]() mutable {
    ScanLog(generation, loaded, [this, generation, loaded, report]() mutable {
      // A log that recovery cut, or that ends below its durable mark, took damage: the
      // machine's durable offset is not trusted on it (OpenMachine).
      const bool damaged =
          report.bytes_truncated > 0 || log_reset_on_open_ ||
          (loaded.state.has_value() && loaded.state->durable_last_offset() > log_->last_offset());
      OpenMachine(generation, loaded, damaged,
                  [this, loaded, report]() mutable { BuildNode(loaded, report); });
    });
  });
}

void GroupDriver::ScanLog(uint64_t generation, const LoadedState& loaded,
                          absl::AnyInvocable<void()> then) {
  // The entry types live in the batches (control batches), not in the log's index: read the
  // log once. Corruption found here stops the replica like any other read.
  //
  // The term (partitionLeaderEpoch) is outside the batch CRC, and recovery builds the log's
  // index from the bytes on disk, so a flipped term bit can survive recovery. Raft gives two
  // cross-checks: terms never decrease along a log, and no entry has a term above the
  // replica's persisted current term. A batch failing either is cut with everything after it
  // (the durable mark then fences the replica until it is repaired).
  // Every batch's term is also checked against the term its run started with: every term's
  // entries begin with that term's no-op (§5.4.2: a new leader appends one first; Log Matching
  // carries it to every log holding the term's entries), and a no-op repeats its term under its
  // CRC (DecodeEntryMeta checks the two agree). Batches before the first no-op after the
  // snapshot point continue the point's term.
  const Term term_max = loaded.state.has_value() ? loaded.state->hard_state().term() : 0;
  // Raft's log starts after the snapshot point (older batches may remain in whole segments).
  const int64_t first = view_->FirstOffset();
  const Term snapshot_term = view_->Snapshot().term();
  if (log_->last_offset() < first) return then();
  ReadBatches(first, log_->last_offset(),
              [this, generation, term_max, first, snapshot_term,
               then = std::move(then)](absl::StatusOr<Batches> batches) mutable {
                if (!Current(generation)) return;
                if (!batches.ok()) {
                  // A batch of a sealed segment (trusted by recovery without a scan) is
                  // unreadable: reopening would find it again, forever. Rebuild the log from
                  // the leader, as when recovery itself cannot read it.
                  if (absl::IsDataLoss(batches.status())) {
                    view_.reset();
                    log_.reset();  // no step of the old log may run while the wipe does
                    return WipeLog(generation);
                  }
                  return Fail(batches.status());
                }
                Term run_term = snapshot_term;
                for (const std::vector<uint8_t>& batch : *batches) {
                  absl::StatusOr<EntryMeta> meta = DecodeEntryMeta(batch);
                  if (meta.ok()) {
                    const Term expected = meta->type == ENTRY_NOOP ? meta->term : run_term;
                    if (meta->term > term_max || meta->term < run_term ||
                        meta->term != expected) {
                      meta = absl::DataLossError(absl::StrCat(
                          "batch at offset ", meta->base_offset, " has term ", meta->term,
                          " (its run's term ", run_term, ", current term ", term_max, ")"));
                    }
                  }
                  if (!meta.ok()) {
                    const int64_t cut = record::ParseBatchHeader(batch).ok()
                                            ? record::ParseBatchHeader(batch)->base_offset
                                            : first;
                    Event("corrupt batch found on open: log cut there");
                    absl::StatusOr<int64_t> next = log_->TruncateSuffix(cut);
                    if (!next.ok()) return Fail(next.status());
                    view_->ForgetFrom(cut);
                    break;
                  }
                  run_term = meta->term;
                  view_->NoteEntry(*meta);
                }
                then();
              });
}

void GroupDriver::BuildNode(const LoadedState& loaded, OpenReport report) {
  PersistedState persisted;
  if (loaded.state.has_value()) {
    persisted = *loaded.state;
  } else {
    *persisted.mutable_hard_state() = RawNode::InitialHardState();
    persisted.set_durable_last_offset(kNoOffset);
    persisted.set_durable_last_term(0);
  }
  HardState hs = persisted.hard_state();
  report.persisted_state = hs;
  report.log_last_offset = log_->last_offset();
  LogEnd surely_declared{persisted.durable_last_offset(),
                         static_cast<Term>(persisted.durable_last_term())};
  const LogEnd target = FenceTarget(persisted);
  mark_ = target.offset;  // fenced at the pending mark if the log is below it (see below)
  mark_term_ = target.term;
  report.durable_mark = mark_;
  report.snapshot_last_offset = view_->Snapshot().last_offset();
  if (!log_->HiddenBaseFor(Anchor()).has_value()) {
    // The snapshot point's hidden count does not fit the log it was reconciled with.
    return Fail(absl::DataLossError(absl::StrCat(
        "Kafka anchor (offset ", Anchor().offset, ", hidden ", Anchor().hidden_count,
        ") does not describe the log [", log_->first_offset(), ", ", log_->next_offset(), ")")));
  }
  report.log_reset_on_open = log_reset_on_open_;
  if (options_.bug == DriverBug::kTruncateCommittedOnConflict && mark_ > log_->last_offset()) {
    mark_ = log_->last_offset();  // the buggy driver believes its cut was legitimate
    mark_term_ = static_cast<Term>(log_->TermAt(mark_).value_or(0));
    surely_declared = LogEnd{mark_, mark_term_};
    hs.set_commit_offset(std::min(hs.commit_offset(), mark_));
  }
  // Compared in §5.4.1's order, as the mark is kept (NextMark). Below the mark it surely
  // declared, or below a commit offset it saved (only ever saved once the log held it durably),
  // the log lost durable entries: media damage. Below only the pending mark, the crash may have
  // interrupted the flush it names, or damage took those entries: fenced all the same.
  const LogEnd log_end{log_->last_offset(), TermOfEntryEnd(log_->last_offset())};
  report.data_loss = !AtLeastAsUpToDate(log_end, surely_declared) ||
                     hs.commit_offset() > log_->last_offset();
  fenced_ = !AtLeastAsUpToDate(log_end, LogEnd{mark_, mark_term_});
  surely_declared_ = LessUpToDate(surely_declared, LogEnd{mark_, mark_term_});
  report.uncertain_tail = fenced_ && !report.data_loss;
  if (report.data_loss) Event("data loss detected on open: replica fenced until repaired");
  if (report.uncertain_tail) Event("log below its pending mark on open: replica fenced");
  if (hs.commit_offset() > log_->last_offset()) hs.set_commit_offset(log_->last_offset());
  if (options_.bug == DriverBug::kForgetTermOnRestart) {
    hs.set_term(0);
    hs.set_vote(kNoNode);
  }
  report.hard_state = hs;
  Config config = options_.raft;
  config.id = self_;
  config.quiesce = kick_batch_ != nullptr && kick_batch_->quiesce;  // the node keeps liveness
  node_ = std::make_unique<RawNode>(config, view_.get(), hs, runtime_.random().Fork());
  hard_state_ = node_->hard_state();
  // What is on disk, not what the core made of it: the core may already know a higher commit
  // offset (RawNode::CommitKnownConfChanges), which is durable only with the next save.
  saved_hard_state_ = hs;
  requested_ = persisted;
  // A saved commit beyond the log (media damage: data_loss above) is not kept as "requested":
  // a save that copies the requested hard state (LowerDeclaredThenPersist) would write it
  // again, and the next save from the core's clamped commit would then go back below it.
  requested_.mutable_hard_state()->set_commit_offset(hs.commit_offset());
  // The log as opened is what the next round's record may point at (see PersistReady).
  flushed_last_ = log_->last_offset();
  // Nothing at or below the snapshot point (or the machine's durable offset beyond it:
  // OpenMachine) is applied by this incarnation.
  applied_ = apply_resume_offset_;
  EDDY_CHECK_GE(applied_, view_->Snapshot().last_offset());
  report.apply_resume_offset = applied_;
  commit_target_ = applied_;
  ready_busy_ = false;
  apply_busy_ = false;
  state_ = State::kRunning;
  report.kafka_high_watermark = kafka_high_watermark();
  observer_->OnOpened(self_, options_.group_id, report);
  StartFenceRecovery();
  NotifyHighWatermark();
  if (options_.campaign_on_fresh_open && hs.term() == 0 && !fenced_ &&
      node_->membership().IsVoter(self_)) {
    ++stats_.fresh_campaigns;
    static_cast<void>(node_->Campaign());
  }
  Kick();
}

// --- Failure ----------------------------------------------------------------------------------

void GroupDriver::Fail(absl::Status status) {
  EDDY_CHECK(!status.ok());
  if (state_ == State::kFailed || state_ == State::kHalted) return;
  ++stats_.failures;
  if (status.code() == absl::StatusCode::kDataLoss) {
    ++stats_.corrupt_reads;
    Event("corruption detected: replica stopped");
  } else if (status.code() == absl::StatusCode::kAborted) {
    Event("leader restarted to reset a damaged follower's progress");
  } else if (status.code() == absl::StatusCode::kInternal) {
    Event("planted bug restart");
  } else {
    Event("disk error: replica stopped");
  }
  Stop(status, State::kFailed);
  Listener().OnStopped(status);
  // Exponential backoff while failures follow each other (GroupOptions::reopen_delay_max): a
  // failure within reopen_delay_max of the reopen after the previous one (the open itself
  // failing included) doubles the delay; a longer healthy run starts again from the base.
  const Instant now = runtime_.clock().Now();
  const bool soon_again = next_reopen_delay_ != Duration::Zero() &&
                          now - last_failed_at_ <= next_reopen_delay_ + options_.reopen_delay_max;
  next_reopen_delay_ = soon_again ? std::min(next_reopen_delay_ * 2, options_.reopen_delay_max)
                                  : options_.reopen_delay;
  last_failed_at_ = now;
  reopen_timer_ = runtime_.clock().ScheduleAfter(next_reopen_delay_, [this, alive = alive_] {
    if (!*alive) return;
    Open();
  });
}

void GroupDriver::Shutdown() {
  if (reopen_timer_ != runtime::kNoTimer) runtime_.clock().Cancel(reopen_timer_);
  reopen_timer_ = runtime::kNoTimer;
  if (state_ == State::kHalted) return;
  Stop(absl::UnavailableError("replica removed from this node"), State::kHalted);
  Listener().OnRemoved();
}

void GroupDriver::SetListener(GroupListener* listener) {
  listener_ = listener;
  notified_hwm_ = -1;
  notified_inputs_ = {-2, -2};
  NotifyHighWatermark();
}

void GroupDriver::NotifyHighWatermark() {
  // The high watermark follows the durable commit offset and the snapshot point only.
  const std::pair<int64_t, int64_t> inputs{saved_hard_state_.commit_offset(),
                                           running() ? view_->Snapshot().last_offset() : -2};
  if (inputs == notified_inputs_) return;
  notified_inputs_ = inputs;
  const int64_t hwm = kafka_high_watermark();
  if (hwm <= notified_hwm_) return;
  notified_hwm_ = hwm;
  Listener().OnHighWatermark(hwm);
}

void GroupDriver::Halt(absl::Status status) {
  EDDY_CHECK(!status.ok());
  if (state_ == State::kHalted) return;
  ++stats_.halts;
  Event(kHaltedEvent);
  Stop(status, State::kHalted);
  Listener().OnHalted(status);
}

void GroupDriver::Stop(const absl::Status& status, State next) {
  observer_->OnFailed(self_, options_.group_id, status);
  ++generation_;
  state_ = next;
  FailAllAcks(absl::UnavailableError(absl::StrCat("replica stopped: ", status.message())));
  node_.reset();
  view_.reset();
  log_.reset();
  machine_.reset();  // its memory state goes with the run; the next open restores or resumes it
  snapshot_state_.clear();
  receiving_state_.clear();
  receiving_ok_ = false;
  completed_meta_.reset();
  completed_state_.clear();
  ready_busy_ = false;
  apply_busy_ = false;
  kick_posted_ = false;
}

void GroupDriver::FailAllAcks(const absl::Status& status) {
  std::map<int64_t, PendingAck> pending = std::move(pending_acks_);
  pending_acks_.clear();
  for (auto& [offset, p] : pending) {
    ++stats_.proposals_failed;
    std::move(p.ack)(status);
  }
}

// --- Inputs -----------------------------------------------------------------------------------

void GroupDriver::Tick() {
  if (!running()) return;
  TickFenceRecovery();
  node_->Tick();
  // Simulation only: an extra tick, as a fast clock would give (timeouts fire early).
  if (EDDY_BUGGIFY(runtime_)) node_->Tick();
  Kick();
}

absl::Status GroupDriver::ValidateIncoming(const Message& m) const {
  if (m.type() == MSG_SNAPSHOT) {
    // The core checks the chunk's range against the snapshot; the bytes are ours to check.
    if (m.data().size() != m.chunk_size_bytes()) {
      return absl::InvalidArgumentError("snapshot chunk bytes do not match its size");
    }
    const uint64_t size_max = machine_ != nullptr ? kSnapshotStateSizeBytesMax : 0;
    if (m.snapshot().size_bytes() > size_max) {
      return absl::InvalidArgumentError(absl::StrCat("snapshot of ", m.snapshot().size_bytes(),
                                                     " state bytes; at most ", size_max));
    }
    return absl::OkStatus();
  }
  if (m.type() != MSG_APPEND) return absl::OkStatus();
  for (const Entry& e : m.entries()) {
    std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(e.data().data()),
                                  e.data().size());
    absl::StatusOr<EntryMeta> stored = DecodeEntryMeta(data);
    if (!stored.ok()) return absl::InvalidArgumentError(stored.status().message());
    EntryMeta claimed = EntryMeta::FromProto(e);
    if (stored->size_bytes != data.size() || stored->term != claimed.term ||
        stored->base_offset != claimed.base_offset ||
        stored->last_offset != claimed.last_offset || stored->type != claimed.type ||
        (claimed.type == ENTRY_CONF_CHANGE &&
         (stored->conf_change_type != claimed.conf_change_type ||
          stored->conf_change_node != claimed.conf_change_node))) {
      return absl::InvalidArgumentError("entry bytes do not match the entry's metadata");
    }
    absl::Status crc = record::VerifyBatchCrc(data);
    if (!crc.ok()) return absl::InvalidArgumentError(crc.message());
  }
  return absl::OkStatus();
}

void GroupDriver::Receive(Message message) {
  if (!running()) return;
  if (message.type() == MSG_FENCE_QUERY || message.type() == MSG_FENCE_REPORT) {
    return ReceiveFenceMessage(message);
  }
  if (absl::Status valid = ValidateIncoming(message); !valid.ok()) {
    ++stats_.invalid_messages;
    if (message.type() == MSG_SNAPSHOT) ++stats_.snapshot_chunks_refused;
    return;
  }
  if (message.type() == MSG_APPEND_RESP && message.reject() &&
      node_->role() == Role::kLeader && message.term() == node_->term()) {
    const Progress* pr = node_->progress(message.from());
    // Only a rejection the core acts on: a stale one (a duplicate of an old probe's answer,
    // arriving after the match moved on) says nothing about the follower's log now.
    if (pr != nullptr && !pr->IsStaleRejection(message.rejected_offset()) &&
        message.hint_offset() < pr->match_offset) {
      // The follower has less than it acknowledged (media damage): the core never probes below
      // a match offset, so it could not repair it. A fresh leader starts with no match offsets;
      // restarting this replica (always safe) gets the group one.
      return Fail(absl::AbortedError(absl::StrCat(
          "follower ", message.from(), " lost acknowledged entries (has up to ",
          message.hint_offset(), ", acknowledged ", pr->match_offset, ")")));
    }
  }
  if (fenced_ && IsVoteRequest(message.type()) &&
      (message.last_log_term() < mark_term_ ||
       (message.last_log_term() == mark_term_ && message.last_log_offset() < mark_))) {
    // The candidate may lack entries this replica acknowledged before its media damage.
    ++stats_.votes_suppressed;
    Event("vote refused by repair fence");
    return;
  }
  if (message.type() == MSG_SNAPSHOT && machine_ != nullptr) {
    // Keep the bytes of a chunk only if the core took it (OK: in order, for the snapshot it is
    // receiving); a refused or already-covered chunk says nothing about the state.
    const SnapshotMeta meta = message.snapshot();
    const uint64_t chunk_offset = message.chunk_offset_bytes();
    std::string data = std::move(*message.mutable_data());
    if (node_->Step(std::move(message)).ok()) NoteSnapshotChunk(meta, chunk_offset, data);
    return Kick();
  }
  static_cast<void>(node_->Step(std::move(message)));  // refusals are counted by the core
  Kick();
}

void GroupDriver::Propose(std::vector<uint8_t> batch, AckFn ack) {
  if (!running()) return std::move(ack)(absl::UnavailableError("replica not running"));
  if (absl::Status valid = ValidateClientBatch(batch); !valid.ok()) {
    return std::move(ack)(valid);
  }
  if (pending_acks_.size() >= kPendingAcksMax) {
    return std::move(ack)(absl::ResourceExhaustedError("too many proposals in flight"));
  }
  const int64_t record_count = record::ParseBatchHeader(batch)->last_offset_delta + 1;
  absl::StatusOr<EntryMeta> meta =
      node_->Propose(record_count, std::string(batch.begin(), batch.end()));
  if (!meta.ok()) return std::move(ack)(meta.status());
  auto earlier = pending_acks_.find(meta->last_offset);
  if (earlier != pending_acks_.end()) {
    // A proposal of an earlier term at the same offset: this leader's log no longer holds it,
    // so it was never committed (Leader Completeness, §5.4).
    EDDY_CHECK_LT(earlier->second.term, meta->term);
    PendingAck lost = std::move(earlier->second);
    pending_acks_.erase(earlier);
    ++stats_.proposals_failed;
    std::move(lost.ack)(absl::AbortedError("proposal overwritten by another leader's entry"));
  }
  pending_acks_[meta->last_offset] = PendingAck{meta->term, std::move(ack)};
  Kick();
}

absl::Status GroupDriver::TransferLeadership(NodeId target) {
  if (!running()) return absl::UnavailableError("replica not running");
  absl::Status s = node_->TransferLeadership(target);
  Kick();
  return s;
}

absl::Status GroupDriver::ProposeConfChange(ConfChangeType type, NodeId node) {
  if (!running()) return absl::UnavailableError("replica not running");
  absl::Status s = node_->ProposeConfChange(type, node).status();
  Kick();
  return s;
}

// --- Ready ------------------------------------------------------------------------------------

void GroupDriver::Kick() {
  NoteQuiescence();
  if (kick_batch_ != nullptr && kick_batch_->collecting) {
    // The owner is dispatching a batch of inputs (an envelope, a tick): it processes every
    // kicked group once when the batch ends, in the order they were kicked.
    if (!kick_collected_) {
      kick_collected_ = true;
      kick_batch_->kicked.push_back(this);
    }
    return;
  }
  if (kick_posted_) return;
  kick_posted_ = true;
  runtime_.clock().Post([this, alive = alive_, generation = generation_] {
    if (!Current(generation)) return;
    kick_posted_ = false;
    ProcessReady();
  });
}

void GroupDriver::NoteQuiescence() {
  if (!running()) return;
  if (reported_generation_ != generation_) {
    reported_generation_ = generation_;  // a reopened replica starts awake
    reported_quiesced_ = false;
  }
  const bool quiet = node_->quiesced();
  if (quiet != reported_quiesced_) {
    reported_quiesced_ = quiet;
    Event(quiet ? "group quiesced" : "quiesced group woken");
  }
  if (quiet || awake_noted_ || kick_batch_ == nullptr) return;
  awake_noted_ = true;
  kick_batch_->woken.push_back(options_.group_id);
}

void GroupDriver::Unquiesce() {
  if (!quiesced()) return;
  node_->Unquiesce();
  Event("quiesced group woken: a peer node went silent");
  Kick();
}

std::vector<NodeId> GroupDriver::QuietPeers() const {
  std::vector<NodeId> peers;
  if (!quiesced()) return peers;
  if (node_->role() != Role::kLeader) {
    peers.push_back(node_->leader());
    return peers;
  }
  for (const std::vector<NodeId>* members :
       {&node_->membership().voters(), &node_->membership().learners()}) {
    for (NodeId m : *members) {
      if (m != self_) peers.push_back(m);
    }
  }
  return peers;
}

void GroupDriver::ProcessKicked() {
  EDDY_CHECK(kick_collected_);
  kick_collected_ = false;
  ProcessReady();
}

void GroupDriver::ProcessReady() {
  if (!running() || ready_busy_) return;
  if (MaybeCompact()) return;
  if (!node_->HasReady()) return;
  Ready ready = node_->TakeReady();
  ready_busy_ = true;
  ready_rounds_ = 0;
  ++stats_.readies;
  if (ready.soft_state.has_value()) {
    observer_->OnSoftState(self_, options_.group_id, *ready.soft_state);
    Listener().OnLeadership(*ready.soft_state);
  }
  // An install lowers the durable mark in its own first save (group_driver_snapshot.cc).
  if (ready.snapshot.has_value()) return InstallSnapshot(std::move(ready));
  // The mark as requested: a save in flight may carry a higher one than the last completed.
  if (!ready.entries.empty()) {
    const int64_t cut = ready.entries.front().base_offset();
    if (!fenced_ && cut <= FenceTarget(requested_).offset) {
      return LowerMarkThenPersist(std::move(ready));
    }
    if (fenced_ && cut <= requested_.durable_last_offset()) {
      return LowerDeclaredThenPersist(std::move(ready));
    }
  }
  PersistReady(std::move(ready));
}

void GroupDriver::LowerDeclaredThenPersist(Ready ready) {
  // Fenced, the fence target stays (only the log's repair or the peers' reports move it), but
  // what the replica surely declared beyond the cut was never committed: lower it FIRST, or a
  // stop right after the cut reopens below it and reads as media damage.
  const int64_t lowered = ready.entries.front().base_offset() - 1;
  surely_declared_ = LessUpToDate(surely_declared_, LogEnd{lowered, TermOfEntryEnd(lowered)});
  ++ready_rounds_;
  PersistedState state = StateToPersist({mark_, mark_term_});  // the target goes in as pending
  *state.mutable_hard_state() = requested_.hard_state();       // only the marks change here
  SaveState(std::move(state), /*urgent=*/true, [this, ready = std::move(ready)]() mutable {
    PersistReady(std::move(ready));
  });
}

void GroupDriver::LowerMarkThenPersist(Ready ready) {
  // Raft is about to cut a suffix this replica once declared durable (§5.3: it was never
  // committed, or this leader could not have been elected). Lower the durable mark to the cut
  // FIRST: if the replica stopped after the cut but before the next save, it would reopen with
  // its log below the mark and fence itself for entries that no longer exist anywhere, and a
  // fence only a log holding them can lift never lifts.
  const int64_t lowered = ready.entries.front().base_offset() - 1;
  const Term lowered_term = TermOfEntryEnd(lowered);
  Event("durable mark lowered before a conflict truncation");
  ++ready_rounds_;
  PersistedState state = StateToPersist({lowered, lowered_term});
  *state.mutable_hard_state() = requested_.hard_state();  // only the mark changes here
  SaveState(std::move(state), /*urgent=*/true, [this, ready = std::move(ready)]() mutable {
    PersistReady(std::move(ready));
  });
}

PersistedState GroupDriver::StateToPersist(
    std::pair<int64_t, Term> mark, std::optional<std::pair<int64_t, Term>> pending) const {
  KeepFencedMarksApart(mark, pending);
  const auto [mark_offset, mark_term] = mark;
  PersistedState state;
  *state.mutable_hard_state() = hard_state_;
  state.set_durable_last_offset(mark_offset);
  state.set_durable_last_term(mark_term);
  if (pending.has_value() && *pending != mark) {
    state.mutable_pending_mark()->set_offset(pending->first);
    state.mutable_pending_mark()->set_term(pending->second);
  }
  *state.mutable_snapshot() = view_->Snapshot();
  *state.mutable_identity() = Identity();
  return state;
}

void GroupDriver::PersistReady(Ready ready) {
  if (absl::Status s = AppendEntries(ready.entries); !s.ok()) return Fail(s);
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  const int64_t last = log_->last_offset();
  const bool flush = ready.must_sync || !ready.entries.empty();
  // ONE DURABILITY ROUND: the log flush and the record this Ready needs are written in
  // parallel (the node's store writes the records of many groups in one round), and the Ready
  // finishes when both are durable. The record carries a term or vote change (the Ready's
  // messages, votes among them, wait for it; it does not point into the log) and, when the
  // flush moves the mark, the mark the flush will give as its PENDING mark: the entries are
  // declared durable (append acks, a leader counting itself) only once it is durable, and a
  // crash that keeps it without the entries leaves a replica fenced at it, which its peers'
  // reports lift (fence_recovery.h). The commit offset never holds a Ready up, and the mark
  // catches up with the flush in the next record (MaybeSaveState after it).
  const std::pair<int64_t, Term> pending = NextMark(last, TermOfEntryEnd(last));
  const bool gating = hard_state_.term() != saved_hard_state_.term() ||
                      hard_state_.vote() != saved_hard_state_.vote();
  std::optional<PersistedState> record;
  if (gating || (flush && ToLogEnd(pending) != FenceTarget(requested_))) {
    record = StateToSave(flush ? std::make_optional(pending) : std::nullopt);
    EDDY_CHECK(!gating || record.has_value());
  }
  // The record names what this flush adds as its pending mark: durable ahead of the entries
  // perhaps, and confirmed only by a later record.
  const bool mark_moves = record.has_value() && record->has_pending_mark();
  auto shared_ready = std::make_shared<Ready>(std::move(ready));
  const uint64_t generation = generation_;
  auto waits = std::make_shared<int>(1 + (flush ? 1 : 0) + (record.has_value() ? 1 : 0));
  if (flush || record.has_value()) ++ready_rounds_;
  auto arrive = [this, alive = alive_, generation, waits, shared_ready]() {
    if (!*alive || generation != generation_) return;
    if (--*waits == 0) FinishReady(std::move(*shared_ready));
  };
  if (record.has_value()) {
    auto flushed = std::make_shared<bool>(false);
    SaveState(*std::move(record), /*urgent=*/true,
              [this, mark_moves, pending, flushed, arrive]() mutable {
                if (mark_moves && !*flushed) {
                  observer_->OnPendingMarkSaved(self_, options_.group_id, pending.first);
                }
                arrive();
              });
    if (flush) FlushForReady(last, mark_moves, flushed, arrive);
  } else if (flush) {
    FlushForReady(last, /*mark_moves=*/false, std::make_shared<bool>(false), arrive);
  }
  arrive();
}

void GroupDriver::FlushForReady(int64_t last, bool mark_moves, std::shared_ptr<bool> flushed,
                                absl::AnyInvocable<void()> then) {
  ++stats_.log_flushes;
  if (options_.bug == DriverBug::kAckBeforeFsync) {
    // Planted bug: the flush runs, but nobody waits for it.
    log_->Flush(last, [this, alive = alive_, generation = generation_](absl::Status s) {
      if (*alive && generation == generation_ && !s.ok()) Fail(s);
    });
    return then();
  }
  log_->Flush(last, [this, alive = alive_, generation = generation_, last, mark_moves, flushed,
                     then = std::move(then)](absl::Status s) mutable {
    if (!*alive || generation != generation_) return;
    if (!s.ok()) return Fail(s);
    flushed_last_ = last;
    *flushed = true;
    observer_->OnLogFlushed(self_, options_.group_id, last, mark_moves);
    then();
  });
}

void GroupDriver::KeepFencedMarksApart(std::pair<int64_t, Term>& mark,
                                       std::optional<std::pair<int64_t, Term>>& pending) const {
  if (fenced_ && mark == std::make_pair(mark_, mark_term_)) {
    // Still fenced: what it surely declared stays apart from what it may have declared, so a
    // later open tells damage from an interrupted flush as this one did.
    pending = mark;
    mark = {surely_declared_.offset, surely_declared_.term};
  }
  if (pending.has_value() && *pending == mark) pending.reset();
}

LogEnd GroupDriver::ToLogEnd(std::pair<int64_t, Term> mark) {
  return LogEnd{mark.first, mark.second};
}

LogEnd GroupDriver::FenceTarget(const PersistedState& state) {
  const LogEnd durable{state.durable_last_offset(), static_cast<Term>(state.durable_last_term())};
  if (!state.has_pending_mark()) return durable;
  return MoreUpToDate(durable, LogEnd{state.pending_mark().offset(),
                                      static_cast<Term>(state.pending_mark().term())});
}

std::optional<PersistedState> GroupDriver::StateToSave(
    std::optional<std::pair<int64_t, Term>> pending) const {
  // The commit offset (with the membership as of it) is saved once the log holds it durably:
  // saved alongside this round's flush, a crash could leave it pointing at entries the flush
  // never made durable — or at the conflicting ones they replaced. The mark likewise is the
  // durable log's end (NextMark) as of the last completed flush; what the flush in progress
  // will add goes in as the pending mark.
  const HardState& requested = requested_.hard_state();
  const bool commit_saveable = hard_state_.commit_offset() <= flushed_last_;
  const int64_t commit = commit_saveable ? hard_state_.commit_offset() : requested.commit_offset();
  std::pair<int64_t, Term> mark = NextMark(flushed_last_, TermOfEntryEnd(flushed_last_));
  KeepFencedMarksApart(mark, pending);
  const bool same_pending =
      pending.has_value() == requested_.has_pending_mark() &&
      (!pending.has_value() || ToLogEnd(*pending) == FenceTarget(requested_));
  // Compared field by field (this runs after every Ready): the identity never changes, the
  // membership only with the commit offset.
  const bool same = hard_state_.term() == requested.term() &&
                    hard_state_.vote() == requested.vote() &&
                    commit == requested.commit_offset() &&
                    mark.first == requested_.durable_last_offset() &&
                    mark.second == static_cast<Term>(requested_.durable_last_term()) &&
                    same_pending && requested_.has_snapshot() &&
                    view_->Snapshot().last_offset() == requested_.snapshot().last_offset();
  if (same) return std::nullopt;
  PersistedState state = StateToPersist(mark, pending);
  if (!commit_saveable) {
    HardState& hs = *state.mutable_hard_state();
    hs.set_commit_offset(requested.commit_offset());
    *hs.mutable_conf_state() = requested.conf_state();
  }
  return state;
}

void GroupDriver::SaveState(PersistedState state, bool urgent,
                            absl::AnyInvocable<void()> then) {
  requested_ = state;
  ++stats_.state_saves;
  // The completion needs only these: the record itself goes to the store (one copy kept).
  const LogEnd target = FenceTarget(state);
  auto done = [this, alive = alive_, generation = generation_, hard_state = state.hard_state(),
               target, then = std::move(then)](absl::Status s) mutable {
    if (!*alive || generation != generation_) return;
    if (!s.ok()) return Fail(s);
    saved_hard_state_ = std::move(hard_state);
    AdoptSavedMark(target);
    NotifyHighWatermark();
    MaybeLiftFence();
    then();
  };
  state_store_.Save(options_.group_id, std::move(state), urgent, std::move(done));
}

void GroupDriver::AdoptSavedMark(const LogEnd& target) {
  // A fenced replica's mark only comes down (its peers' reports, MaybeLowerFence) or gives way
  // to its repaired log's end (NextMark): a record requested before a lowering still names the
  // higher mark and must not raise it again.
  const LogEnd log_end{log_->last_offset(), TermOfEntryEnd(log_->last_offset())};
  if (fenced_ && !(target == log_end)) return;
  mark_ = target.offset;
  mark_term_ = target.term;
}

void GroupDriver::MaybeLiftFence() {
  // Repaired once the log is at least as up to date as the mark: NextMark then moved the mark to
  // the log's end (saved one round after the flush that made it durable).
  if (fenced_ && mark_ == log_->last_offset() && mark_term_ == TermOfEntryEnd(mark_)) {
    fenced_ = false;
    fence_recovery_.reset();
    Event("repair fence lifted: log repaired from the leader");
  }
}

void GroupDriver::MaybeSaveState() {
  // After a Ready: the entries it declared durable raise the mark, and a commit offset now
  // covered by the durable log can be saved (the Kafka high watermark follows it).
  if (!running() || ready_busy_) return;
  std::optional<PersistedState> record = StateToSave();
  if (record.has_value()) SaveState(*std::move(record), /*urgent=*/false, [] {});
}

Term GroupDriver::TermOfEntryEnd(int64_t offset) const {
  if (offset == view_->Snapshot().last_offset()) return view_->Snapshot().term();
  return static_cast<Term>(log_->TermAt(offset).value_or(0));
}

std::pair<int64_t, Term> GroupDriver::NextMark(int64_t last, Term last_term) const {
  // Unfenced, the mark is the log's end. Fenced, the mark may lie beyond the log (the entries
  // lost to damage) and stays until the log is at least as up to date as it, in Raft's order
  // (term first, then offset): a log that ends with a newer term than the mark's superseded the
  // lost tail (a leader's conflict truncation removed it), and what this replica acknowledges
  // from then on must be what fences its votes.
  const bool advance = !fenced_ || last_term > mark_term_ ||
                       (last_term == mark_term_ && last >= mark_);
  return advance ? std::make_pair(last, last_term) : std::make_pair(mark_, mark_term_);
}

absl::Status GroupDriver::AppendEntries(std::vector<Entry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  const int64_t first = entries.front().base_offset();
  if (first <= log_->last_offset()) {
    // §5.3: a conflicting suffix (never committed) gives way to the leader's entries.
    // Only an uncommitted suffix may give way; what this replica applied is committed.
    EDDY_CHECK_GT(first, applied_);
    EDDY_ASSIGN_OR_RETURN(const int64_t next, log_->TruncateSuffix(first));
    EDDY_CHECK_EQ(next, first);
    view_->ForgetFrom(first);
    view_->SetVisibleLast(std::min(view_->LastOffset(), first - 1));
    flushed_last_ = std::min(flushed_last_, first - 1);
    ++stats_.conflict_truncations;
    Event("conflicting suffix truncated");
    observer_->OnTruncated(self_, options_.group_id, first);
    if (options_.bug == DriverBug::kTruncateCommittedOnConflict && node_->commit_offset() >= 0) {
      // Planted bug: also drop the batch holding the commit point, at the next open.
      std::optional<log::BatchLocation> at = log_->FindBatch(
          std::min(node_->commit_offset(), log_->last_offset()));
      if (at.has_value()) bug_truncate_from_ = at->base_offset;
    }
  }
  for (Entry& e : entries) {
    const EntryMeta meta = EntryMeta::FromProto(e);
    std::vector<uint8_t> bytes;
    if (meta.type == ENTRY_NORMAL) {
      bytes.assign(e.data().begin(), e.data().end());
    } else {
      bytes = EncodeControlEntry(meta);
    }
    EDDY_CHECK_LE(meta.term, static_cast<Term>(log::PartitionLog::kTermMax));
    record::SetBaseOffset(bytes, meta.base_offset);
    record::SetPartitionLeaderEpoch(bytes, static_cast<int32_t>(meta.term));
    if (options_.bug == DriverBug::kApplyBeforeCommit) {
      observer_->OnApplied(self_, options_.group_id, meta, bytes);
    }
    EDDY_ASSIGN_OR_RETURN(const log::AppendResult appended,
                          log_->AppendAsFollower(std::move(bytes)));
    EDDY_CHECK_EQ(appended.base_offset, meta.base_offset);
    EDDY_CHECK_EQ(appended.last_offset, meta.last_offset);
    view_->NoteEntry(meta);
    ++stats_.entries_appended;
  }
  return absl::OkStatus();
}

void GroupDriver::FinishReady(Ready ready) {
  if (ready_rounds_ > 0) {
    ++stats_.readies_waited;
    stats_.rounds_waited += static_cast<uint64_t>(ready_rounds_);
  }
  // What this replica now declares durable is its whole log (the fence target may be higher).
  observer_->OnPersisted(self_, options_.group_id, saved_hard_state_, log_->last_offset());
  MaybeLiftFence();
  NotifyHighWatermark();
  SendMessages(std::move(ready.messages));
  if (!ready.committed.empty()) {
    commit_target_ = std::max(commit_target_, ready.committed.last_offset);
  }
  view_->SetVisibleLast(log_->last_offset());  // this Ready's entries are stable now
  node_->Advance(ready);
  ready_busy_ = false;
  if (bug_truncate_from_.has_value()) {
    return Fail(absl::InternalError("planted bug: reopening to cut committed entries"));
  }
  ApplyMore();
  MaybeSaveState();
  // Steps that arrived while this Ready was being persisted may have left another one: take it
  // now (recursion is shallow: a Ready finished synchronously leaves nothing new behind).
  ProcessReady();
}

void GroupDriver::SendMessages(std::vector<Message> messages) {
  // Appends that name the same entries (a leader replicating one batch to every follower)
  // share one log read; ordered by range, so the sends stay deterministic.
  std::map<std::pair<int64_t, int64_t>, std::vector<Message>> appends;
  for (Message& m : messages) {
    if (fenced_ && IsVoteRequest(m.type())) {
      ++stats_.votes_suppressed;
      Event("vote suppressed by repair fence");
      continue;
    }
    if (m.type() == MSG_SNAPSHOT) {
      if (machine_ != nullptr && !AttachSnapshotState(m)) {
        Event("snapshot chunk dropped: the snapshot point moved");
        continue;
      }
      ++stats_.snapshots_sent;
      Event("snapshot sent");
    }
    if (m.type() != MSG_APPEND || m.entries().empty()) {
      const NodeId to = m.to();
      send_(to, options_.group_id, std::move(m));
      continue;
    }
    const int64_t first = m.entries(0).base_offset();
    const int64_t last = m.entries(m.entries_size() - 1).last_offset();
    appends[{first, last}].push_back(std::move(m));
  }
  for (auto& [range, same] : appends) AttachAndSend(range.first, range.second, std::move(same));
}

void GroupDriver::AttachAndSend(int64_t first, int64_t last, std::vector<Message> messages) {
  // Attach payloads from the log. The log may have changed by the time the read completes
  // (this replica stepped down and truncated): a batch that no longer matches drops the message,
  // which Raft tolerates like any lost message.
  auto shared = std::make_shared<std::vector<Message>>(std::move(messages));
  ReadBatches(first, last,
              [this, generation = generation_, shared](absl::StatusOr<Batches> batches) {
                if (!Current(generation)) return;
                if (!batches.ok()) {
                  if (batches.status().code() == absl::StatusCode::kDataLoss) {
                    return Fail(batches.status());
                  }
                  return;
                }
                for (Message& msg : *shared) {
                  if (!AttachPayloads(*batches, msg)) continue;
                  const NodeId to = msg.to();
                  send_(to, options_.group_id, std::move(msg));
                }
              });
}

bool GroupDriver::AttachPayloads(const Batches& batches, Message& msg) const {
  if (batches.size() != static_cast<size_t>(msg.entries_size())) return false;
  for (int i = 0; i < msg.entries_size(); ++i) {
    const std::vector<uint8_t>& b = batches[i];
    absl::StatusOr<EntryMeta> stored = DecodeEntryMeta(b);
    const Entry& e = msg.entries(i);
    if (!stored.ok() || stored->base_offset != e.base_offset() ||
        stored->last_offset != e.last_offset() || stored->term != e.term()) {
      return false;
    }
    msg.mutable_entries(i)->set_data(std::string(b.begin(), b.end()));
  }
  return true;
}

// --- Apply ------------------------------------------------------------------------------------

void GroupDriver::ApplyMore() {
  if (!running() || apply_busy_ || applied_ >= commit_target_) return;
  apply_busy_ = true;
  const int64_t first = applied_ + 1;
  const int64_t last = commit_target_;
  ReadBatches(first, last, [this, first, generation = generation_](absl::StatusOr<Batches> batches) {
    if (!Current(generation)) return;
    apply_busy_ = false;
    // A snapshot installed meanwhile moved the apply point: this read is stale.
    if (first != applied_ + 1) return ApplyMore();
    if (!batches.ok()) return Fail(batches.status());
    for (const std::vector<uint8_t>& batch : *batches) {
      absl::StatusOr<EntryMeta> meta = DecodeEntryMeta(batch);
      if (!meta.ok()) return Fail(meta.status());
      EDDY_CHECK_EQ(meta->base_offset, applied_ + 1);
      EDDY_CHECK_LE(meta->last_offset, commit_target_);
      observer_->OnApplied(self_, options_.group_id, *meta, batch);
      if (machine_ != nullptr) {
        if (absl::Status s = machine_->Apply(*meta, batch); !s.ok()) return Fail(s);
      }
      if (!ReportKafkaApplied(*meta)) return;
      applied_ = meta->last_offset;
      if (meta->type == ENTRY_NOOP && node_->role() == Role::kLeader &&
          meta->term == node_->term()) {
        Listener().OnReadyToServe(meta->term);  // the leader's own no-op: all before is applied
      }
      ++stats_.entries_applied;
      ResolveAcks(*meta);
    }
    ApplyMore();
  });
}

void GroupDriver::ResolveAcks(const EntryMeta& applied) {
  while (!pending_acks_.empty() && pending_acks_.begin()->first <= applied.last_offset) {
    auto it = pending_acks_.begin();
    PendingAck p = std::move(it->second);
    const int64_t last = it->first;
    pending_acks_.erase(it);
    if (last == applied.last_offset && p.term == applied.term &&
        applied.type == ENTRY_NORMAL) {
      ++stats_.proposals_acked;
      std::move(p.ack)(applied);
    } else {
      ++stats_.proposals_failed;
      // The committed log holds another entry where this proposal was: it is definitely not
      // committed, and a client may retry it without risking a duplicate.
      std::move(p.ack)(absl::AbortedError("proposal overwritten by another leader's entry"));
    }
  }
}

// --- Reads ------------------------------------------------------------------------------------

void GroupDriver::ReadBatches(int64_t first, int64_t last, ReadFn done, uint64_t size_bytes_max) {
  EDDY_CHECK_LE(first, last);
  ReadMore(std::make_shared<ReadCursor>(
                ReadCursor{first, last, {}, std::move(done), 0, size_bytes_max}),
            generation_);
}

void GroupDriver::ReadMore(std::shared_ptr<ReadCursor> cursor, uint64_t generation) {
  // Each step's completion owns the cursor and nothing owns the completion but the log, so a
  // read dropped by a crash frees everything (a closure holding itself would leak).
  // Simulation only: a short read (one batch), so multi-step reads are the common case.
  const uint64_t size_bytes =
      EDDY_BUGGIFY(runtime_) ? 1
                             : std::min({options_.read_size_bytes_max, cursor->size_bytes_max,
                                         BytesThrough(cursor->next, cursor->last)});
  log_->Read(cursor->next, size_bytes,
             [this, cursor, generation](absl::StatusOr<log::ReadResult> read) {
               if (!Current(generation)) return;
               if (!read.ok()) {
                 if (read.status().code() == absl::StatusCode::kDataLoss) {
                   Event("corruption detected on read");
                 }
                 return std::move(cursor->done)(read.status());
               }
               const int64_t before = cursor->next;
               absl::Status split =
                   SplitBatches(read->bytes, cursor->last, true, &cursor->out, &cursor->next);
               if (!split.ok()) {
                 Event("corruption detected on read");
                 return std::move(cursor->done)(split);
               }
               cursor->size_bytes += read->bytes.size();
               // Not "stop unless running": the scan on open reads before the replica runs,
               // and must see the whole log (a stopped replica's reads end at Current above).
               if (cursor->next > cursor->last || cursor->next == before ||
                   cursor->size_bytes >= cursor->size_bytes_max) {
                 return std::move(cursor->done)(std::move(cursor->out));
               }
               ReadMore(std::move(cursor), generation);
             });
}

uint64_t GroupDriver::BytesThrough(int64_t first, int64_t last) const {
  // The log reads whole batches from `first` up to the budget (at least one batch, never past
  // its segment): a budget that ends at `last` spares reading (and checking) what follows it.
  // Only an estimate — any budget is correct — so batches in different segments (a later
  // position that is not later in the file) just fall back to the full budget.
  std::optional<log::BatchLocation> a = log_->FindBatch(first);
  std::optional<log::BatchLocation> b = log_->FindBatch(std::min(last, log_->last_offset()));
  if (!a.has_value() || !b.has_value() || b->base_offset < a->base_offset ||
      b->position < a->position) {
    return UINT64_MAX;
  }
  return uint64_t{b->position} + b->size_bytes - a->position;
}

void GroupDriver::ReadCommitted(int64_t offset, uint64_t size_bytes_max, ReadFn done) {
  if (!running()) return std::move(done)(absl::UnavailableError("replica not running"));
  if (offset < view_->FirstOffset()) {
    return std::move(done)(absl::OutOfRangeError(absl::StrCat(
        "offset ", offset, " is below the log start ", view_->FirstOffset())));
  }
  if (offset > applied_) return std::move(done)(Batches{});
  if (options_.bug == DriverBug::kSkipCrcOnRead) {
    return RawRead(offset, std::move(done));
  }
  ReadBatches(offset, applied_, std::move(done), size_bytes_max);
}

void GroupDriver::RawRead(int64_t offset, ReadFn done) {
  // Planted bug: a "zero-copy" fetch that reads the segment file directly and trusts it.
  std::optional<log::BatchLocation> at = log_->FindBatch(offset);
  if (!at.has_value()) return std::move(done)(Batches{});
  const std::string path = absl::StrCat(
      directory_, "/log/",
      log::SegmentFileNameFor(*log_->SegmentBaseFor(offset), log::SegmentFileKind::kLog));
  runtime::Disk& disk = runtime_.disk();
  auto shared_done = std::make_shared<ReadFn>(std::move(done));
  disk.Open(path, runtime::OpenMode::kExisting,
            [this, alive = alive_, &disk, at = *at, shared_done](
                absl::StatusOr<runtime::FileHandle> file) {
              if (!*alive) return;
              if (!file.ok()) return std::move(*shared_done)(file.status());
              disk.ReadAt(*file, at.position, at.size_bytes,
                          [&disk, file = *file, shared_done, alive = alive_](
                              absl::StatusOr<std::vector<uint8_t>> bytes) {
                            disk.Close(file, [](absl::Status) {});
                            if (!*alive) return;
                            if (!bytes.ok()) return std::move(*shared_done)(bytes.status());
                            Batches out;
                            out.push_back(*std::move(bytes));
                            std::move(*shared_done)(std::move(out));
                          });
            });
}

std::optional<int64_t> GroupDriver::TermAt(int64_t offset) const {
  if (!running()) return std::nullopt;
  return log_->TermAt(offset);
}

int64_t GroupDriver::log_start_offset() const {
  return running() ? view_->FirstOffset() : kNoOffset;
}

int64_t GroupDriver::log_last_offset() const {
  return running() ? log_->last_offset() : kNoOffset;
}

}  // namespace eddy::raft::driver
