// ProducerStateMachine: a partition replica's applied state (raft/driver/state_machine.h) — its
// ProducerTable, fed by every committed batch in log order, so the table survives leader
// changes, restarts (rebuilt from the snapshot and the log) and snapshot installs (it travels in
// the snapshot's state bytes). README.md.
//
// The leader admits a batch only if it is in sequence (ProducerSequencer), so applying never
// meets a duplicate or a gap. If one shows up all the same, it is counted (an anomaly: the
// simulator's checkers assert none) and handled the same way on every replica: a duplicate or a
// stale epoch is not recorded, a gap is.
//
// Batches whose header does not parse are counted and skipped, never an error: a failed Apply
// stops the replica and would replay the same entry on every reopen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/producer/producer_table.h"
#include "raft/driver/state_machine.h"

namespace eddy::producer {

// Counters a broker keeps across its machines (they are rebuilt on every reopen).
struct ProducerStateStats {
  uint64_t idempotent_batches = 0;
  uint64_t duplicates_applied = 0;    // anomalies: the leader should have refused these
  uint64_t out_of_order_applied = 0;
  uint64_t stale_epochs_applied = 0;
  uint64_t undecodable_batches = 0;
  uint64_t snapshots_restored = 0;

  uint64_t anomalies() const {
    return duplicates_applied + out_of_order_applied + stale_epochs_applied;
  }
};

class ProducerStateMachine final : public raft::driver::StateMachine {
 public:
  // `stats` may be null; it outlives the machine.
  ProducerStateMachine(int64_t expiration_ms, ProducerStateStats* stats);

  absl::Status Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) override;
  // Its state comes from snapshots and the log alone.
  int64_t DurableOffset() const override { return raft::kNoOffset; }
  absl::StatusOr<std::vector<uint8_t>> Snapshot() override;
  absl::Status Restore(const raft::SnapshotMeta& meta, std::span<const uint8_t> state) override;

  const ProducerTable& table() const { return table_; }
  // The last Raft offset applied or restored; kNoOffset before any.
  int64_t applied_offset() const { return applied_; }

 private:
  void ApplyData(const raft::EntryMeta& meta, std::span<const uint8_t> batch);

  ProducerTable table_;
  ProducerStateStats local_stats_;
  ProducerStateStats* const stats_;
  bool restored_ = false;
  int64_t applied_ = raft::kNoOffset;
  // Raft's own entries at or below applied_: a Raft offset less this is its Kafka offset.
  int64_t hidden_ = 0;
};

}  // namespace eddy::producer
