#include "raft/driver/partition_log_view.h"

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::raft::driver {

PartitionLogView::PartitionLogView(const log::PartitionLog* log, ConfState bootstrap)
    : log_(log), bootstrap_(std::move(bootstrap)) {
  EDDY_CHECK(log_ != nullptr);
  // Prefix truncation would need a persisted snapshot point; the driver never does it.
  EDDY_CHECK_EQ(log_->first_offset(), 0);
}

SnapshotMeta PartitionLogView::Snapshot() const {
  SnapshotMeta meta;
  meta.set_last_offset(kNoOffset);
  meta.set_term(0);
  *meta.mutable_conf_state() = bootstrap_;
  return meta;
}

int64_t PartitionLogView::FirstOffset() const { return log_->first_offset(); }

int64_t PartitionLogView::LastOffset() const { return log_->last_offset(); }

absl::StatusOr<EntryMeta> PartitionLogView::EntryContaining(int64_t offset) const {
  std::optional<log::BatchLocation> batch = log_->FindBatch(offset);
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
  EDDY_CHECK_LE(meta.last_offset, LastOffset());
  if (meta.type == ENTRY_NORMAL) return;
  control_entries_[meta.base_offset] = meta;
}

void PartitionLogView::ForgetFrom(int64_t offset) {
  control_entries_.erase(control_entries_.lower_bound(offset), control_entries_.end());
}

}  // namespace eddy::raft::driver
