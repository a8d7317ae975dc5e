// HashMachine: the simulator's state machine (raft/driver/state_machine.h). Its state is a hash
// chain over every entry it applied (offsets and stored bytes), the count of entries, and the
// digests of the last kHistoryMax entries (so snapshots span several chunks when the chunk size
// is small). It checks its own input: an entry that does not follow the last one applied is an
// error (the driver resumed at the wrong offset), and so is a Restore whose bytes do not parse.
//
// DURABILITY: the machine "persists" its state into a HashMachineSlot every `persist_every`
// applied entries (0: never; DurableOffset is then kNoOffset). The slot is owned by the cluster
// and survives crashes: it stands for the machine's own synced storage.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "raft/driver/state_machine.h"
#include "raft/types.h"

namespace eddy::sim::cluster {

struct HashMachineSlot {
  int64_t offset = raft::kNoOffset;  // durable up to here; kNoOffset: nothing persisted
  std::vector<uint8_t> state;        // the machine's Snapshot() bytes as of `offset`
};

class HashMachine final : public raft::driver::StateMachine {
 public:
  static constexpr size_t kHistoryMax = 512;
  // Reports (applied offset, digest) after every Apply and Restore.
  using ReportFn = std::function<void(int64_t, uint64_t)>;

  // `slot` outlives the machine.
  HashMachine(HashMachineSlot* slot, int64_t persist_every, ReportFn report);

  absl::Status Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) override;
  int64_t DurableOffset() const override { return slot_->offset; }
  absl::StatusOr<std::vector<uint8_t>> Snapshot() override;
  absl::Status Restore(const raft::SnapshotMeta& meta, std::span<const uint8_t> state) override;

  int64_t applied_offset() const { return applied_; }
  uint64_t digest() const { return digest_; }
  uint64_t entry_count() const { return count_; }

 private:
  absl::Status Load(std::span<const uint8_t> state);

  HashMachineSlot* const slot_;
  const int64_t persist_every_;
  ReportFn report_;
  int64_t applied_ = raft::kNoOffset;
  uint64_t digest_ = 0;
  uint64_t count_ = 0;
  std::deque<uint64_t> history_;
  int64_t since_persist_ = 0;
};

}  // namespace eddy::sim::cluster
