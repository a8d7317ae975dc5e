// StateMachine: the applied state a replica may host beside its log (the broker's
// idempotent-producer table, the controller's metadata), and the hooks the GroupDriver drives it
// through. DESIGN.md decision 9; raft/driver/README.md, "State machines".
//
// OWNERSHIP AND LIFETIME: the GroupDriver creates one machine per open of its replica (from
// GroupOptions::state_machine) and destroys it when the replica stops (a failure, Shutdown). A
// machine that keeps durable state of its own finds it again in its storage when it is created.
//
// LOOP AFFINITY: every call is made on the replica's loop, synchronously, from inside the driver;
// a machine must not call back into the driver.
//
// DETERMINISM: given the same Restore and the same sequence of Apply calls, Snapshot must return
// the same bytes on every replica (followers install the leader's bytes in place of their own).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft::driver {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Every committed entry after the resume point, in commit order, each exactly once per open:
  // data batches (ENTRY_NORMAL) AND Raft's own entries (ENTRY_NOOP, ENTRY_CONF_CHANGE, control
  // batches: FORMAT.md §1), so the machine always knows the offset it has applied up to. `batch`
  // is the entry's stored bytes (one RecordBatch v2, CRC-checked), valid during the call only.
  // A non-OK status stops the replica (it reopens and resumes from its durable point); the
  // machine's in-memory state is then discarded with it.
  virtual absl::Status Apply(const EntryMeta& meta, std::span<const uint8_t> batch) = 0;

  // The last Raft offset (an entry end) whose effects are durable in the machine's OWN storage,
  // or kNoOffset if it keeps none (its state then comes from snapshots and the log alone). Asked
  // once, on open, right after the machine is created. REQUIRES of the machine: what it declares
  // durable is exactly the state after applying every committed entry up to that offset (it
  // persists only applied state, atomically). The driver trusts it only if the offset lies
  // beyond the snapshot point, within the replica's durable commit offset and at an entry end of
  // its log; otherwise it Restores the snapshot and replays the log.
  virtual int64_t DurableOffset() const = 0;

  // The machine's whole state as of the last entry applied (or restored). Called when the
  // replica moves its snapshot point (retention): the bytes are written to the snapshot file and
  // sent to followers that need a snapshot. At most kSnapshotStateSizeBytesMax bytes
  // (snapshot_file.h), or the snapshot point does not move. A non-OK status stops the replica.
  virtual absl::StatusOr<std::vector<uint8_t>> Snapshot() = 0;

  // Replaces the machine's whole state by `state`, the bytes Snapshot returned on some replica
  // as of `meta.last_offset` (CRC-checked against meta.state_crc32c before the call). At the
  // bootstrap point (meta.last_offset == kNoOffset) `state` is empty: the machine's initial
  // state. Apply continues with the entry after meta.last_offset. A non-OK status (the bytes do
  // not parse) stops the replica.
  virtual absl::Status Restore(const SnapshotMeta& meta, std::span<const uint8_t> state) = 0;
};

// Creates a replica's machine; called on every open. Empty: the replica hosts no machine (a
// partition log: snapshots are positions only).
using StateMachineFactory = std::function<std::unique_ptr<StateMachine>()>;

}  // namespace eddy::raft::driver
