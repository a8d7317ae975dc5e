// PartitionLogView: the Raft core's LogView (raft/log_view.h) over a core/log PartitionLog.
//
// Terms and offsets come from the partition log's in-memory batch index (FindBatch), so a
// lookup is O(log n) with no I/O. The entry TYPE is not in that index: the view remembers the
// control entries (NOOP, CONF_CHANGE) by base offset, learned from the driver as it appends them
// and from a scan of the log when the group opens (Note*/Forget* below).
//
// The partition log never drops a prefix here (no retention in the driver yet), so the snapshot
// point is always the empty initial one: {last_offset: -1, term: 0, conf_state: bootstrap}.
//
// OWNERSHIP: borrows the log, which must outlive the view; both belong to one GroupDriver.
#pragma once

#include <cstdint>
#include <map>

#include "core/log/partition_log.h"
#include "raft/log_view.h"

namespace eddy::raft::driver {

class PartitionLogView final : public LogView {
 public:
  PartitionLogView(const log::PartitionLog* log, ConfState bootstrap);

  SnapshotMeta Snapshot() const override;
  int64_t FirstOffset() const override;
  int64_t LastOffset() const override;
  absl::StatusOr<EntryMeta> EntryContaining(int64_t offset) const override;

  // The driver appended (or found, scanning) the entry `meta`; remembers it if it is a control
  // entry. REQUIRES: meta is in the log.
  void NoteEntry(const EntryMeta& meta);
  // The driver truncated the log from `offset` on: forget control entries there.
  void ForgetFrom(int64_t offset);

 private:
  const log::PartitionLog* log_;
  const ConfState bootstrap_;
  std::map<int64_t, EntryMeta> control_entries_;  // by base offset
};

}  // namespace eddy::raft::driver
