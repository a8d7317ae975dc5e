// GroupDriver's state-machine paths (state_machine.h): opening the machine (resume after its
// durable offset, or Restore from the snapshot file), and the snapshot chunks' state bytes in
// both directions. See README.md, "State machines"; the snapshot file: snapshot_file.h.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/crc32c.h"
#include "raft/driver/group_driver.h"
#include "raft/driver/snapshot_file.h"

namespace eddy::raft::driver {

std::string GroupDriver::SnapshotDirectory() const {
  return absl::StrCat(directory_, "/snapshot");
}

void GroupDriver::OpenMachine(uint64_t generation, const LoadedState& loaded, bool log_damaged,
                              absl::AnyInvocable<void()> then) {
  const SnapshotMeta snapshot = view_->Snapshot();
  apply_resume_offset_ = snapshot.last_offset();
  machine_.reset();
  snapshot_state_.clear();
  receiving_state_.clear();
  receiving_meta_.Clear();
  receiving_ok_ = false;
  completed_meta_.reset();
  completed_state_.clear();
  if (!options_.state_machine) return then();
  machine_ = options_.state_machine();
  EDDY_CHECK(machine_ != nullptr);
  // Stale files first (temp files of interrupted writes, files of points never saved or since
  // replaced), so no later write of this run meets a leftover of the same name.
  const std::string keep =
      snapshot.last_offset() >= 0 ? SnapshotFileName(snapshot.last_offset()) : std::string();
  RemoveSnapshotFilesExcept(
      runtime_.disk(), SnapshotDirectory(), keep, /*older_only=*/false, alive_,
      [this, generation, loaded, log_damaged, snapshot,
       then = std::move(then)](absl::Status s) mutable {
        if (!Current(generation)) return;
        if (!s.ok()) return Fail(s);
        // The bootstrap point has no file: the machine starts from its initial (empty) state.
        if (snapshot.last_offset() < 0) {
          return ResumeMachine(loaded, log_damaged, {}, std::move(then));
        }
        ReadSnapshotFile(runtime_.disk(), SnapshotDirectory(), snapshot, alive_,
                         [this, generation, loaded, log_damaged, then = std::move(then)](
                             absl::StatusOr<std::vector<uint8_t>> state) mutable {
                           if (!Current(generation)) return;
                           // Never run on a wrong state: a missing or corrupt file fails the
                           // replica (kDataLoss), and it keeps failing until an operator acts.
                           if (!state.ok()) return Fail(state.status());
                           ResumeMachine(loaded, log_damaged, *std::move(state),
                                         std::move(then));
                         });
      });
}

void GroupDriver::ResumeMachine(const LoadedState& loaded, bool log_damaged,
                                std::vector<uint8_t> state, absl::AnyInvocable<void()> then) {
  const SnapshotMeta snapshot = view_->Snapshot();
  const int64_t point = snapshot.last_offset();
  EDDY_CHECK_EQ(state.size(), snapshot.size_bytes());
  // The machine's own durable state counts only where this replica KNOWS the log is committed
  // (its saved commit offset, within the log as scanned) and at an entry end: beyond that, the
  // machine may hold the effects of entries this log does not hold (an install interrupted
  // before its point was saved), and Restore plus replay is the safe way. Nor on a log that took
  // damage on this open (media faults): replaying re-reads, and re-checks, what it holds.
  const int64_t durable = machine_->DurableOffset();
  int64_t commit = loaded.state.has_value() ? loaded.state->hard_state().commit_offset()
                                            : kNoOffset;
  commit = std::min(commit, log_->last_offset());
  bool trusted = false;
  if (!log_damaged && durable > point && durable <= commit) {
    const std::optional<log::BatchLocation> at = log_->FindBatch(durable);
    trusted = at.has_value() && at->last_offset == durable;
  }
  if (trusted) {
    apply_resume_offset_ = durable;
    ++stats_.machine_resumes;
    Event("state machine resumes after its durable offset");
  } else {
    if (absl::Status s = machine_->Restore(snapshot, state); !s.ok()) {
      return Fail(absl::DataLossError(absl::StrCat("state machine refused the snapshot at ",
                                                   point, ": ", s.message())));
    }
    apply_resume_offset_ = point;
    ++stats_.machine_restores;
    Event("state machine restored from the snapshot point");
  }
  snapshot_state_ = std::move(state);
  then();
}

void GroupDriver::NoteSnapshotChunk(const SnapshotMeta& meta, uint64_t chunk_offset_bytes,
                                    const std::string& data) {
  // The core accepted this chunk: it starts a snapshot (offset 0) or continues the one it is
  // receiving exactly where the accepted bytes end. Mirror that; a mismatch (which the core's
  // order rules exclude) leaves receiving_ok_ false and the install fails rather than use it.
  if (chunk_offset_bytes == 0) {
    receiving_meta_ = meta;
    receiving_state_.clear();
    receiving_ok_ = true;
  }
  const bool same = receiving_meta_.last_offset() == meta.last_offset() &&
                    receiving_meta_.term() == meta.term() &&
                    receiving_meta_.size_bytes() == meta.size_bytes() &&
                    receiving_meta_.state_crc32c() == meta.state_crc32c();
  if (!receiving_ok_ || !same || receiving_state_.size() != chunk_offset_bytes) {
    receiving_ok_ = false;
    return;
  }
  receiving_state_.insert(receiving_state_.end(), data.begin(), data.end());
  EDDY_CHECK_LE(receiving_state_.size(), meta.size_bytes());
  if (receiving_state_.size() == meta.size_bytes()) {
    // The core installs it now (Ready::snapshot); a newer snapshot's first chunk, accepted
    // before that Ready is taken, must not overwrite these bytes.
    completed_meta_ = meta;
    completed_state_ = std::move(receiving_state_);
    receiving_state_.clear();
    receiving_ok_ = false;
  }
}

bool GroupDriver::AttachSnapshotState(Message& m) const {
  const SnapshotMeta& current = view_->Snapshot();
  const SnapshotMeta& sent = m.snapshot();
  if (sent.last_offset() != current.last_offset() || sent.term() != current.term() ||
      sent.size_bytes() != current.size_bytes() ||
      sent.state_crc32c() != current.state_crc32c()) {
    return false;
  }
  EDDY_CHECK_EQ(snapshot_state_.size(), current.size_bytes());
  const uint64_t offset = m.chunk_offset_bytes();
  const uint64_t size = m.chunk_size_bytes();
  EDDY_CHECK_LE(offset, snapshot_state_.size());
  EDDY_CHECK_LE(size, snapshot_state_.size() - offset);
  m.set_data(std::string(snapshot_state_.begin() + static_cast<std::ptrdiff_t>(offset),
                         snapshot_state_.begin() + static_cast<std::ptrdiff_t>(offset + size)));
  return true;
}

void GroupDriver::RemoveOldSnapshots(int64_t point) {
  // Only after `point` is durable in the hard state: until then an older file is the saved
  // point's. A failure here costs disk space only (the next open removes what remains).
  RemoveSnapshotFilesExcept(runtime_.disk(), SnapshotDirectory(), SnapshotFileName(point),
                            /*older_only=*/true, alive_, [](absl::Status) {});
}

}  // namespace eddy::raft::driver
