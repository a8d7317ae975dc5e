#include "raft/raft_log.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"

namespace eddy::raft {

RaftLog::RaftLog(const LogView* stable) : stable_(stable) {
  EDDY_CHECK(stable_ != nullptr);
  handed_out_last_offset_ = stable_->LastOffset();
  EDDY_CHECK_EQ(stable_->FirstOffset(), stable_->Snapshot().last_offset() + 1);
  EDDY_CHECK_GE(stable_->LastOffset(), stable_->Snapshot().last_offset());
}

SnapshotMeta RaftLog::SnapshotPoint() const {
  return pending_snapshot_ ? *pending_snapshot_ : stable_->Snapshot();
}

int64_t RaftLog::SnapshotOffset() const {
  return pending_snapshot_ ? pending_snapshot_->last_offset() : stable_->FirstOffset() - 1;
}

int64_t RaftLog::StableLastOffset() const {
  if (pending_snapshot_) return pending_snapshot_->last_offset();
  return stable_limit_ ? std::min(*stable_limit_, stable_->LastOffset()) : stable_->LastOffset();
}

int64_t RaftLog::LastOffset() const {
  return unstable_.empty() ? StableLastOffset() : unstable_.back().meta.last_offset;
}

Term RaftLog::LastTerm() const {
  std::optional<Term> term = TermAt(LastOffset());
  EDDY_CHECK(term.has_value());
  return *term;
}

size_t RaftLog::UnstableIndex(int64_t offset) const {
  EDDY_CHECK(!unstable_.empty());
  EDDY_CHECK_GE(offset, unstable_.front().meta.base_offset);
  EDDY_CHECK_LE(offset, unstable_.back().meta.last_offset);
  auto it = std::lower_bound(
      unstable_.begin(), unstable_.end(), offset,
      [](const UnstableEntry& e, int64_t o) { return e.meta.last_offset < o; });
  EDDY_CHECK(it != unstable_.end());
  return static_cast<size_t>(it - unstable_.begin());
}

std::optional<EntryMeta> RaftLog::EntryAt(int64_t offset) const {
  if (offset < FirstOffset() || offset > LastOffset()) return std::nullopt;
  if (!unstable_.empty() && offset >= unstable_.front().meta.base_offset) {
    return unstable_[UnstableIndex(offset)].meta;
  }
  if (pending_snapshot_) return std::nullopt;
  absl::StatusOr<EntryMeta> meta = stable_->EntryContaining(offset);
  // The view promised every offset in [first, last]; anything else is a broken driver.
  EDDY_CHECK_MSG(meta.ok(), "LogView lost offset " << offset << ": " << meta.status());
  EDDY_CHECK_LE(meta->base_offset, offset);
  EDDY_CHECK_GE(meta->last_offset, offset);
  return *meta;
}

std::optional<Term> RaftLog::TermAt(int64_t offset) const {
  const int64_t snapshot_offset = SnapshotOffset();
  if (offset == snapshot_offset) return SnapshotPoint().term();
  std::optional<EntryMeta> meta = EntryAt(offset);
  if (!meta) return std::nullopt;
  return meta->term;
}

bool RaftLog::MatchesEntryEnd(int64_t offset, Term term) const {
  if (offset == SnapshotOffset()) return SnapshotPoint().term() == term;
  std::optional<EntryMeta> meta = EntryAt(offset);
  return meta && meta->last_offset == offset && meta->term == term;
}

int64_t RaftLog::EntryEndAtOrBefore(int64_t offset) const {
  const int64_t snapshot_offset = SnapshotOffset();
  EDDY_CHECK_GE(offset, snapshot_offset);
  if (offset >= LastOffset()) return LastOffset();
  if (offset == snapshot_offset) return offset;
  std::optional<EntryMeta> meta = EntryAt(offset);
  EDDY_CHECK(meta.has_value());
  return meta->last_offset == offset ? offset : meta->base_offset - 1;
}

int64_t RaftLog::PersistedLastOffset() const {
  if (pending_snapshot_) return kNoOffset - 1;
  if (unstable_.empty()) return StableLastOffset();
  return std::min(StableLastOffset(), unstable_.front().meta.base_offset - 1);
}

void RaftLog::Append(const EntryMeta& meta, std::string data) {
  EDDY_CHECK_EQ(meta.base_offset, LastOffset() + 1);
  EDDY_CHECK_LE(meta.base_offset, meta.last_offset);
  EDDY_CHECK_GE(meta.term, LastTerm());
  unstable_.push_back(UnstableEntry{meta, std::move(data)});
}

void RaftLog::TruncateFrom(int64_t base_offset) {
  EDDY_CHECK_GT(base_offset, SnapshotOffset());
  EDDY_CHECK_LE(base_offset, LastOffset() + 1);
  EDDY_CHECK_EQ(EntryEndAtOrBefore(base_offset - 1), base_offset - 1);
  if (!unstable_.empty() && base_offset >= unstable_.front().meta.base_offset) {
    while (!unstable_.empty() && unstable_.back().meta.base_offset >= base_offset) {
      unstable_.pop_back();
    }
  } else {
    // The cut is inside the stable log: forget every unstable entry and hide the stable tail
    // until the driver has truncated it (the next Ready's first entry starts at base_offset).
    unstable_.clear();
    stable_limit_ = base_offset - 1;
  }
  handed_out_last_offset_ = std::min(handed_out_last_offset_, base_offset - 1);
  EDDY_CHECK_EQ(LastOffset(), base_offset - 1);
}

void RaftLog::InstallSnapshot(const SnapshotMeta& meta) {
  unstable_.clear();
  stable_limit_.reset();
  pending_snapshot_ = meta;
  snapshot_handed_out_ = false;
  handed_out_last_offset_ = meta.last_offset();
  EDDY_CHECK_EQ(LastOffset(), meta.last_offset());
}

bool RaftLog::HasEntriesToHandOut() const {
  return !unstable_.empty() && unstable_.back().meta.last_offset > handed_out_last_offset_;
}

void RaftLog::HandOutEntries(std::vector<Entry>* out) {
  if (!HasEntriesToHandOut()) return;
  size_t index = 0;
  if (handed_out_last_offset_ >= unstable_.front().meta.base_offset) {
    index = UnstableIndex(handed_out_last_offset_) + 1;
  }
  for (; index < unstable_.size(); ++index) {
    UnstableEntry& u = unstable_[index];
    Entry& e = out->emplace_back();
    u.meta.ToProto(&e);
    e.set_data(std::move(u.data));
    u.data.clear();
  }
  EDDY_CHECK_EQ(out->back().last_offset(), LastOffset());
  handed_out_last_offset_ = LastOffset();
}

std::optional<SnapshotMeta> RaftLog::HandOutSnapshot() {
  if (!HasSnapshotToHandOut()) return std::nullopt;
  snapshot_handed_out_ = true;
  return *pending_snapshot_;
}

void RaftLog::StableTo(const std::vector<std::pair<int64_t, Term>>& handed_out) {
  // Find the newest handed-out entry that still stands in the overlay; everything up to it is
  // now in the driver's log exactly as we hold it. Entries cut by a later truncation stay.
  for (auto it = handed_out.rbegin(); it != handed_out.rend(); ++it) {
    const int64_t last = it->first;
    const Term term = it->second;
    if (unstable_.empty() || last < unstable_.front().meta.base_offset) return;
    if (last > LastOffset()) continue;
    const UnstableEntry& u = unstable_[UnstableIndex(last)];
    if (u.meta.last_offset != last || u.meta.term != term) continue;
    if (last > handed_out_last_offset_) continue;
    while (!unstable_.empty() && unstable_.front().meta.last_offset <= last) {
      unstable_.pop_front();
    }
    EDDY_CHECK_GE(stable_->LastOffset(), last);
    // The driver truncated and appended what we handed out: its log is now exact up to here.
    if (unstable_.empty()) stable_limit_.reset();
    else stable_limit_ = unstable_.front().meta.base_offset - 1;
    return;
  }
}

void RaftLog::SnapshotStable(const SnapshotMeta& meta) {
  if (pending_snapshot_ && snapshot_handed_out_ &&
      pending_snapshot_->last_offset() == meta.last_offset() &&
      pending_snapshot_->term() == meta.term()) {
    pending_snapshot_.reset();
    snapshot_handed_out_ = false;
    stable_limit_.reset();
    EDDY_CHECK_EQ(stable_->FirstOffset(), meta.last_offset() + 1);
  }
}

void RaftLog::CheckInvariants(Term current_term) const {
  const int64_t snapshot_offset = SnapshotOffset();
  EDDY_CHECK_GE(snapshot_offset, kNoOffset);
  EDDY_CHECK_GE(LastOffset(), snapshot_offset);
  EDDY_CHECK_LE(handed_out_last_offset_, LastOffset());
  int64_t expected_base = unstable_.empty() ? 0 : unstable_.front().meta.base_offset;
  Term previous_term = 0;
  for (const UnstableEntry& u : unstable_) {
    EDDY_CHECK_EQ(u.meta.base_offset, expected_base);
    EDDY_CHECK_LE(u.meta.base_offset, u.meta.last_offset);
    EDDY_CHECK_GE(u.meta.term, previous_term);
    EDDY_CHECK_LE(u.meta.term, current_term);
    expected_base = u.meta.last_offset + 1;
    previous_term = u.meta.term;
  }
  if (!unstable_.empty()) {
    EDDY_CHECK_GT(unstable_.front().meta.base_offset, snapshot_offset);
    EDDY_CHECK_LE(unstable_.front().meta.base_offset, StableLastOffset() + 1);
  }
}

}  // namespace eddy::raft
