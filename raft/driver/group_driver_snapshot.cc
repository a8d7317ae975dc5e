// GroupDriver's snapshot paths: reconciling the log with the persisted snapshot point on open,
// moving the snapshot point by retention (log prefix truncation), and installing a leader's
// snapshot (log reset). For a partition log a snapshot holds no state: it is only the point
// (offset, term, membership) where Raft's log starts. See README.md, "Snapshots".
//
// CRASH ORDERING, both ways the point moves: the new point is saved in the hard state FIRST;
// only then does the log change (prefix dropped, or reset to start after the point). So the
// durable log never starts above the durable point; on open, a log that still holds older
// batches is trimmed (they are hidden by the view anyway), and a log that does not hold the
// point (a crash between the save and the reset, or damage) is reset to start right after it.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/driver/group_driver.h"
#include "core/record/crc32c.h"
#include "raft/driver/snapshot_file.h"
#include "raft/membership.h"

namespace eddy::raft::driver {

void GroupDriver::ReconcileSnapshot(uint64_t generation, const LoadedState& loaded,
                                    absl::AnyInvocable<void()> then) {
  SnapshotMeta snapshot = view_->Snapshot();  // the bootstrap point
  if (loaded.state.has_value() && loaded.state->has_snapshot()) {
    snapshot = loaded.state->snapshot();
  }
  const int64_t point = snapshot.last_offset();
  bool holds = false;
  if (log_->first_offset() <= point + 1 && point + 1 <= log_->next_offset()) {
    if (log_->first_offset() == point + 1) {
      holds = true;  // the log starts right after the point (as a reset left it)
    } else {
      const std::optional<log::BatchLocation> at = log_->FindBatch(point);
      holds = at.has_value() && at->last_offset == point &&
              static_cast<Term>(at->term) == snapshot.term();
    }
  }
  log_reset_on_open_ = !holds;
  if (holds) {
    view_->SetSnapshot(snapshot);
    if (log_->first_offset() < point + 1) {
      // A retention that saved its point but had not dropped the prefix yet: finish it.
      log_->TruncatePrefix(point + 1, [this, generation](absl::Status s) {
        if (Current(generation) && !s.ok()) Fail(s);
      });
    }
    return then();
  }
  // Interrupted install (the point was saved, the reset not durable), or a log damaged below
  // the point: what Raft needs starts after the point; entries beyond it that the old log held
  // were never acknowledged by the saved mark (an install lowers the mark first), or the mark
  // fences this replica.
  Event("log reset to the snapshot point on open");
  log_->ResetTo(point + 1, [this, generation, snapshot, then = std::move(then)](
                               absl::Status s) mutable {
    if (!Current(generation)) return;
    if (!s.ok()) return Fail(s);
    view_->SetSnapshot(snapshot);
    then();
  });
}

bool GroupDriver::MaybeCompact() {
  const int64_t keep = options_.retention_offsets;
  if (keep <= 0) return false;
  const SnapshotMeta current = view_->Snapshot();
  if (applied_ - current.last_offset() <= 2 * keep) return false;
  if (machine_ != nullptr && applied_ < compaction_retry_at_) return false;
  // The machine's state is as of applied_: wait until this replica's own log is durable there
  // (a leader may apply what a quorum of followers made durable before its own flush).
  if (machine_ != nullptr && applied_ > flushed_last_) return false;
  // Without a machine: the last entry end at or below applied - keep (applied entries are in the
  // log and durable). With one: the applied offset itself, as of which Snapshot() describes the
  // machine (the log then starts right after what was applied).
  const int64_t target = machine_ != nullptr ? applied_ : applied_ - keep;
  const std::optional<log::BatchLocation> at = log_->FindBatch(target);
  EDDY_CHECK_MSG(at.has_value(), "applied offset " << target << " not in the log");
  const int64_t point = at->last_offset == target ? target : at->base_offset - 1;
  if (point <= current.last_offset()) return false;
  EDDY_CHECK(machine_ == nullptr || point == applied_);
  const std::optional<int64_t> term = log_->TermAt(point);
  EDDY_CHECK(term.has_value());
  SnapshotMeta next;
  next.set_last_offset(point);
  next.set_term(static_cast<Term>(*term));
  // The membership at the point: the old point's, with every (committed) change up to it.
  Membership membership = Membership::FromProto(current.conf_state());
  for (const EntryMeta& e : view_->ControlEntries(current.last_offset() + 1, point)) {
    if (e.type == ENTRY_CONF_CHANGE) membership.Apply(e.conf_change_type, e.conf_change_node);
  }
  *next.mutable_conf_state() = membership.ToProto();
  next.set_size_bytes(0);
  // Raft's own entries at or below the new point: those below the log start, plus those the
  // log still holds up to the point (the Kafka offsets of later batches must not move).
  const std::optional<int64_t> hidden_below_start = HiddenBase();
  const std::optional<int64_t> hidden_in_log = log_->HiddenCountBefore(point + 1);
  EDDY_CHECK(hidden_below_start.has_value() && hidden_in_log.has_value());
  next.set_hidden_count(*hidden_below_start + *hidden_in_log);
  if (machine_ != nullptr) {
    absl::StatusOr<std::vector<uint8_t>> state = machine_->Snapshot();
    if (!state.ok()) {
      Fail(state.status());
      return true;
    }
    if (state->size() > kSnapshotStateSizeBytesMax) {
      // Not an error of this replica: keep the log (and try again one retention later).
      Event("state machine snapshot too large: snapshot point kept");
      compaction_retry_at_ = applied_ + keep;
      return false;
    }
    next.set_size_bytes(state->size());
    next.set_state_crc32c(record::Crc32c(*state));
    CompactWithState(next, *std::move(state));
    return true;
  }

  PersistedState state = requested_;
  *state.mutable_snapshot() = next;
  ready_busy_ = true;  // no Ready (and no other save) until the point is durable
  SaveState(std::move(state), /*urgent=*/true, [this, next]() { FinishCompaction(next); });
  return true;
}

void GroupDriver::CompactWithState(SnapshotMeta next, std::vector<uint8_t> state) {
  // ORDER: the state file is durable BEFORE the point is saved (an open finds the saved point's
  // file), and older files go only AFTER (until then one of them is the saved point's).
  ready_busy_ = true;  // no Ready (and no other save) until the point is durable
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(state));
  WriteSnapshotFile(
      runtime_.disk(), SnapshotDirectory(), next, *shared, alive_,
      [this, generation = generation_, next, shared](absl::Status s) {
        if (!Current(generation)) return;
        if (!s.ok()) return Fail(s);
        ++stats_.snapshot_files_written;
        Event(kSnapshotFileWrittenEvent);
        PersistedState record = requested_;
        *record.mutable_snapshot() = next;
        SaveState(std::move(record), /*urgent=*/true, [this, next, shared]() {
          snapshot_state_ = std::move(*shared);
          FinishCompaction(next);
          RemoveOldSnapshots(next.last_offset());
        });
      });
}

void GroupDriver::FinishCompaction(const SnapshotMeta& next) {
  ready_busy_ = false;
  view_->SetSnapshot(next);
  ++stats_.compactions;
  Event("log prefix truncated to the snapshot point");
  log_->TruncatePrefix(next.last_offset() + 1, [this, generation = generation_](absl::Status s) {
    if (Current(generation) && !s.ok()) Fail(s);
  });
  Kick();
}

void GroupDriver::InstallSnapshot(Ready ready) {
  EDDY_CHECK(ready_busy_);
  const SnapshotMeta meta = *ready.snapshot;
  const int64_t point = meta.last_offset();
  // The core installs only beyond its commit offset, which bounds what was applied.
  EDDY_CHECK_GT(point, applied_);
  if (machine_ == nullptr) return InstallSnapshotPoint(std::move(ready), {});
  // The state: exactly the chunks the core accepted for this snapshot, checked against the
  // point's size and CRC. Anything else (which the core's chunk order excludes) stops the
  // replica before anything is written: it reopens on its old point and asks again.
  const bool complete = completed_meta_.has_value() &&
                        completed_meta_->last_offset() == point &&
                        completed_meta_->term() == meta.term() &&
                        completed_state_.size() == meta.size_bytes() &&
                        record::Crc32c(completed_state_) == meta.state_crc32c();
  if (!complete) {
    return Fail(absl::DataLossError(absl::StrCat(
        "snapshot at ", point, ": the assembled state does not match its size or CRC")));
  }
  auto state = std::make_shared<std::vector<uint8_t>>(std::move(completed_state_));
  completed_state_.clear();
  completed_meta_.reset();
  auto shared_ready = std::make_shared<Ready>(std::move(ready));
  // ORDER: the file is durable BEFORE the point is saved (InstallSnapshotPoint).
  WriteSnapshotFile(runtime_.disk(), SnapshotDirectory(), meta, *state, alive_,
                    [this, generation = generation_, state, shared_ready](absl::Status s) {
                      if (!Current(generation)) return;
                      if (!s.ok()) return Fail(s);
                      ++stats_.snapshot_files_written;
                      Event(kSnapshotFileWrittenEvent);
                      InstallSnapshotPoint(std::move(*shared_ready), std::move(*state));
                    });
}

void GroupDriver::InstallSnapshotPoint(Ready ready, std::vector<uint8_t> state) {
  const SnapshotMeta meta = *ready.snapshot;
  const int64_t point = meta.last_offset();
  EDDY_CHECK_GT(point, applied_);
  if (ready.hard_state.has_value()) hard_state_ = *ready.hard_state;
  // The snapshot replaces the whole log, like a conflict truncation of everything: what this
  // replica declared durable beyond the point is no longer promised (it was never committed, or
  // the snapshot would have matched it), so the mark comes down to the point — unless fenced
  // by a mark more up to date than the point.
  observer_->OnTruncated(self_, options_.group_id, point + 1);
  ++ready_rounds_;  // the point is durable before the log is reset: a round of its own
  PersistedState record = StateToPersist(NextMark(point, meta.term()));
  *record.mutable_snapshot() = meta;
  auto shared_ready = std::make_shared<Ready>(std::move(ready));
  auto shared_state = std::make_shared<std::vector<uint8_t>>(std::move(state));
  SaveState(std::move(record), /*urgent=*/true, [this, generation = generation_, meta, point,
                                shared_ready, shared_state]() mutable {
    if (machine_ != nullptr) {
      // With applied_ moved to the point in this same step: no older entry reaches the machine
      // after it (a read in flight sees the moved point and is dropped, ApplyMore).
      if (absl::Status s = machine_->Restore(meta, *shared_state); !s.ok()) {
        return Fail(absl::DataLossError(absl::StrCat("state machine refused the snapshot at ",
                                                     point, ": ", s.message())));
      }
      snapshot_state_ = std::move(*shared_state);
      RemoveOldSnapshots(point);
    }
    FailAcksThrough(point);
    flushed_last_ = point;  // the log now ends at the point (the reset is flushed with the Ready)
    // The point is durable: now the log. The flush of PersistReady covers the reset.
    log_->ResetTo(point + 1, [this, generation](absl::Status s) {
      if (Current(generation) && !s.ok()) Fail(s);
    });
    view_->ForgetFrom(point + 1);
    view_->SetSnapshot(meta);
    view_->SetVisibleLast(point);
    applied_ = point;
    commit_target_ = std::max(commit_target_, point);
    ++stats_.snapshots_installed;
    Event("snapshot installed");
    observer_->OnSnapshotInstalled(self_, options_.group_id, meta);
    PersistReady(std::move(*shared_ready));
  });
}

void GroupDriver::FailAcksThrough(int64_t offset) {
  while (!pending_acks_.empty() && pending_acks_.begin()->first <= offset) {
    PendingAck p = std::move(pending_acks_.begin()->second);
    pending_acks_.erase(pending_acks_.begin());
    ++stats_.proposals_failed;
    std::move(p.ack)(absl::UnavailableError("entry replaced by a snapshot from the leader"));
  }
}

}  // namespace eddy::raft::driver
