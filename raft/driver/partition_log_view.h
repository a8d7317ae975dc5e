// PartitionLogView: the Raft core's LogView (raft/log_view.h) over a core/log PartitionLog.
//
// Terms and offsets come from the partition log's in-memory batch index (FindBatch), so a
// lookup is O(log n) with no I/O. The entry TYPE is not in that index: the view remembers the
// control entries (NOOP, CONF_CHANGE) by base offset, learned from the driver as it appends them
// and from a scan of the log when the group opens (Note*/Forget* below).
//
// SNAPSHOT POINT: Raft's log starts right after the snapshot point, which the driver sets
// (persisted in the hard state; initially {-1, 0, bootstrap}). The partition log drops its
// prefix in whole segments, so it may still hold batches at or below the snapshot point: the
// view hides them (FirstOffset() == Snapshot().last_offset + 1 exactly, as LogView requires).
// REQUIRES (checked): log first offset <= snapshot point + 1 <= log next offset.
//
// OWNERSHIP: borrows the log, which must outlive the view; both belong to one GroupDriver.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/log/partition_log.h"
#include "raft/log_view.h"

namespace eddy::raft::driver {

class PartitionLogView final : public LogView {
 public:
  PartitionLogView(const log::PartitionLog* log, ConfState bootstrap);

  const SnapshotMeta& Snapshot() const override;
  int64_t FirstOffset() const override;
  int64_t LastOffset() const override;
  absl::StatusOr<EntryMeta> EntryContaining(int64_t offset) const override;

  // The driver appended (or found, scanning) the entry `meta`; remembers it if it is a control
  // entry. REQUIRES: meta is in the log.
  void NoteEntry(const EntryMeta& meta);
  // The driver truncated the log from `offset` on: forget control entries there.
  void ForgetFrom(int64_t offset);

  // Moves the snapshot point (retention: forward, to an entry end held by the log; install or
  // open: anywhere, once the log was reset to start after it). Forgets control entries at or
  // below it.
  void SetSnapshot(const SnapshotMeta& meta);
  // Control entries (NOOP, CONF_CHANGE) with last offset in [first, last], in order.
  std::vector<EntryMeta> ControlEntries(int64_t first, int64_t last) const;
  // Where the newest membership change this log knows of ends: the last offset of its newest
  // CONF_CHANGE entry, or (none in the log) the snapshot point, which covers every older one.
  int64_t LastConfChangeEnd() const;

  // Entries appended after `last_offset` stay hidden until the driver shows them (after the
  // Ready that carried them is durable, right before RawNode::Advance): the core then never sees
  // one entry both in its unstable part and in this view, a state its overlay does not handle
  // on every path (see the driver's README). Default: everything visible.
  void SetVisibleLast(int64_t last_offset) { visible_last_ = last_offset; }

 private:
  const log::PartitionLog* log_;
  SnapshotMeta snapshot_;
  std::map<int64_t, EntryMeta> control_entries_;  // by base offset
  int64_t visible_last_ = INT64_MAX;
};

}  // namespace eddy::raft::driver
