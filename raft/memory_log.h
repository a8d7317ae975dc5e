// MemoryLog: an in-memory LogView plus the driver-side writes (append with truncation, snapshot
// install, prefix compaction). Used by tests, the transcript harness and the benchmark; the
// partition log (core/log) plays this role in production.
//
// Not thread-safe; owned by whoever drives the RawNode that reads it.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/log_view.h"
#include "raft/raft.pb.h"

namespace eddy::raft {

class MemoryLog final : public LogView {
 public:
  // A log holding no entries whose snapshot point is `snapshot` (for a fresh group:
  // {last_offset: -1, term: 0, conf_state: bootstrap members}).
  explicit MemoryLog(SnapshotMeta snapshot);

  const SnapshotMeta& Snapshot() const override { return snapshot_; }
  int64_t FirstOffset() const override { return snapshot_.last_offset() + 1; }
  int64_t LastOffset() const override;
  absl::StatusOr<EntryMeta> EntryContaining(int64_t offset) const override;

  // Applies Ready::entries: entries at offsets already present are first truncated away
  // (everything from entries[0].base_offset on), then all are appended.
  // REQUIRES: entries contiguous; entries[0].base_offset - 1 is an entry end or the snapshot point.
  void Append(std::vector<Entry> entries);

  // Applies Ready::snapshot: discards every entry; the log continues after meta.last_offset.
  void InstallSnapshot(const SnapshotMeta& meta);

  // Retention: drops the entries up to and including `last_offset`, which must be an entry end
  // in the log. The snapshot point moves there (its membership folds in the dropped conf
  // changes); `state_size_bytes` is the size of the state that goes with it.
  // REQUIRES: last_offset <= the committed offset (the caller's business).
  void CompactTo(int64_t last_offset, uint64_t state_size_bytes);

  // The entry (with payload) containing `offset`. REQUIRES: FirstOffset() <= offset <= LastOffset().
  const Entry& EntryAt(int64_t offset) const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  size_t IndexOf(int64_t offset) const;  // index in entries_ of the entry containing offset

  SnapshotMeta snapshot_;
  std::vector<Entry> entries_;
};

}  // namespace eddy::raft
