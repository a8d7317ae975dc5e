#include "raft/driver/partition_log_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::raft::driver {

PartitionLogView::PartitionLogView(const log::PartitionLog* log, ConfState bootstrap)
    : log_(log) {
  EDDY_CHECK(log_ != nullptr);
  snapshot_.set_last_offset(kNoOffset);
  snapshot_.set_term(0);
  *snapshot_.mutable_conf_state() = std::move(bootstrap);
}

const SnapshotMeta& PartitionLogView::Snapshot() const { return snapshot_; }

int64_t PartitionLogView::FirstOffset() const { return snapshot_.last_offset() + 1; }

void PartitionLogView::SetSnapshot(const SnapshotMeta& meta) {
  EDDY_CHECK_GE(meta.last_offset(), kNoOffset);
  EDDY_CHECK_LE(log_->first_offset(), meta.last_offset() + 1);
  EDDY_CHECK_LE(meta.last_offset() + 1, log_->next_offset());
  snapshot_ = meta;
  control_entries_.erase(control_entries_.begin(),
                         control_entries_.lower_bound(meta.last_offset() + 1));
  visible_last_ = std::max(visible_last_, meta.last_offset());
}

std::vector<EntryMeta> PartitionLogView::ControlEntries(int64_t first, int64_t last) const {
  std::vector<EntryMeta> out;
  for (auto it = control_entries_.lower_bound(first);
       it != control_entries_.end() && it->second.last_offset <= last; ++it) {
    out.push_back(it->second);
  }
  return out;
}

int64_t PartitionLogView::LastConfChangeEnd() const {
  for (auto it = control_entries_.rbegin(); it != control_entries_.rend(); ++it) {
    if (it->second.type == ENTRY_CONF_CHANGE) return it->second.last_offset;
  }
  return snapshot_.last_offset();
}

int64_t PartitionLogView::LastOffset() const {
  const int64_t last = std::min(log_->last_offset(), visible_last_);
  // Hiding happens at entry boundaries only: visible_last_ is always an entry end.
  return std::max(last, FirstOffset() - 1);
}

absl::StatusOr<EntryMeta> PartitionLogView::EntryContaining(int64_t offset) const {
  std::optional<log::BatchLocation> batch = offset >= FirstOffset() && offset <= LastOffset()
                                                ? log_->FindBatch(offset)
                                                : std::nullopt;
  if (!batch.has_value()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " outside [", FirstOffset(), ", ",
                                              LastOffset(), "]"));
  }
  auto control = control_entries_.find(batch->base_offset);
  if (control != control_entries_.end()) {
    EDDY_CHECK_EQ(control->second.last_offset, batch->last_offset);
    EDDY_CHECK_EQ(static_cast<int64_t>(control->second.term), batch->term);
    return control->second;
  }
  EntryMeta meta;
  meta.term = static_cast<Term>(batch->term);
  meta.base_offset = batch->base_offset;
  meta.last_offset = batch->last_offset;
  meta.size_bytes = batch->size_bytes;
  return meta;
}

void PartitionLogView::NoteEntry(const EntryMeta& meta) {
  EDDY_CHECK_LE(meta.last_offset, log_->last_offset());
  if (meta.type == ENTRY_NORMAL) return;
  control_entries_[meta.base_offset] = meta;
}

void PartitionLogView::ForgetFrom(int64_t offset) {
  control_entries_.erase(control_entries_.lower_bound(offset), control_entries_.end());
}

}  // namespace eddy::raft::driver
