// GroupStateMachine: the applied state (raft/driver/state_machine.h) of a __consumer_offsets
// partition replica — its GroupStore, fed by every committed batch in log order. The store
// survives leader changes and restarts (rebuilt from the snapshot and the log) and snapshot
// installs (it is the snapshot's state), so a new coordinator finds every group's generation,
// members, assignments and committed offsets as the old one left them once committed.
//
// Batches and records that do not decode are counted and skipped, never an error: a failed
// Apply stops the replica and would replay the same entry on every reopen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/group/group_store.h"
#include "raft/driver/state_machine.h"

namespace eddy::group {

struct GroupStateStats {
  uint64_t records_applied = 0;
  uint64_t records_refused = 0;      // keys or values that do not parse, or break the limits
  uint64_t batches_undecodable = 0;
  uint64_t snapshots_restored = 0;
};

class GroupStateMachine final : public raft::driver::StateMachine {
 public:
  // `stats` may be null; it outlives the machine.
  explicit GroupStateMachine(GroupStateStats* stats);

  absl::Status Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) override;
  int64_t DurableOffset() const override { return raft::kNoOffset; }
  absl::StatusOr<std::vector<uint8_t>> Snapshot() override;
  absl::Status Restore(const raft::SnapshotMeta& meta, std::span<const uint8_t> state) override;

  const GroupStore& store() const { return store_; }
  // The last Raft offset applied or restored; kNoOffset before any.
  int64_t applied_offset() const { return applied_; }

 private:
  void ApplyData(std::span<const uint8_t> batch);

  GroupStore store_;
  GroupStateStats local_stats_;
  GroupStateStats* const stats_;
  int64_t applied_ = raft::kNoOffset;
};

}  // namespace eddy::group
