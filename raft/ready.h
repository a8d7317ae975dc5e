// Ready: everything a RawNode asks its driver to do, in one batch.
//
// THE DRIVER PROCESSES A READY IN THIS ORDER, then calls RawNode::Advance(ready):
//   1. `snapshot` (if set): discard the whole log and continue after snapshot.last_offset
//      (install the chunks' state bytes collected so far, if any). BEFORE entries.
//   2. `entries`: if entries[0].base_offset <= the log's last offset, FIRST truncate the log so
//      it ends at entries[0].base_offset - 1; then append all entries. BEFORE hard_state.
//   3. `hard_state` (if set): write it. A durable hard state must never refer to entries that
//      are not durable (write it after the entries; one fsync covers both).
//   4. If `must_sync`: fsync the log and the hard state (group commit: one sync covers
//      everything written since the last one). ONLY THEN
//   5. send `messages`. Messages are sent only AFTER persistence: a vote is never granted, and
//      an entry never acknowledged, before it is durable (Figure 2: "Updated on stable storage
//      before responding to RPCs"). We do not use the paper's allowance for a leader to send
//      AppendEntries in parallel with its own write (§10.2.1): the driver attaches payloads
//      read from its log, which is simplest when they are already there, and group commit
//      amortises the extra latency.
//   6. apply the entries in `committed` (read from the log) to the state machine, in order;
//      AFTER the entries of this Ready are appended (they may include them).
//   7. answer `read_states` once the applied offset reaches their read_offset.
// `soft_state` is for observers only and needs no persistence.
//
// REQUIRES: Advance(ready) before the next TakeReady. Between the two the driver may keep
// calling Step/Tick/Propose (the core remembers what it handed out).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft {

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

struct SoftState {
  Role role = Role::kFollower;
  NodeId leader = kNoNode;
  Term term = 0;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// A linearizable read may be served once the state machine has applied read_offset.
struct ReadState {
  uint64_t request_id = 0;
  int64_t read_offset = kNoOffset;
};

// Offsets [first_offset, last_offset] to apply; empty when first_offset > last_offset.
struct CommittedRange {
  int64_t first_offset = 0;
  int64_t last_offset = kNoOffset;
  bool empty() const { return first_offset > last_offset; }
};

struct Ready {
  std::optional<SoftState> soft_state;   // set iff changed since the last Ready
  std::optional<HardState> hard_state;   // set iff changed since the last Ready
  std::optional<SnapshotMeta> snapshot;  // a snapshot point to install (follower)
  std::vector<Entry> entries;            // to append (with payloads), after truncating
  bool must_sync = false;                // entries, a snapshot, or term/vote changed
  std::vector<Message> messages;         // to send AFTER the above is durable
  CommittedRange committed;              // to apply, after appending `entries`
  std::vector<ReadState> read_states;    // reads confirmed by a quorum
};

}  // namespace eddy::raft
