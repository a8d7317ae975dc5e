// Options, planted bugs and the observer interface shared by GroupDriver and NodeDriver.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/base/units.h"
#include "core/log/log_options.h"
#include "raft/config.h"
#include "raft/driver/state_machine.h"
#include "raft/ready.h"
#include "raft/types.h"

namespace eddy::raft::driver {

using GroupId = uint64_t;

// REPLICA IDENTITY. A replica's Raft id names one incarnation of one node's replica of a group:
// Raft's persistent state (term, vote, log) belongs to that id, so an id must NEVER come back
// with less state than it persisted. A replica whose storage is wiped therefore rejoins under a
// new id, the next incarnation on the same node (an empty replica reusing its old id could grant
// a second vote in a term it already voted in, and replaying the log from offset 0 it starts in
// the bootstrap membership, where the old id may still be a voter: two quorums, two leaders).
// The transport address of a replica is its node: the low 32 bits of the id. Incarnation 0 is
// the node id itself, so a cluster that never wipes a replica sees plain node ids.
inline constexpr int kReplicaIncarnationShift = 32;
inline constexpr NodeId ReplicaId(uint32_t node, uint32_t incarnation) {
  return (static_cast<NodeId>(incarnation) << kReplicaIncarnationShift) | node;
}
inline constexpr uint32_t NodeOfReplica(NodeId replica) {
  return static_cast<uint32_t>(replica & 0xffff'ffffULL);
}
inline constexpr uint32_t IncarnationOfReplica(NodeId replica) {
  return static_cast<uint32_t>(replica >> kReplicaIncarnationShift);
}
static_assert(NodeOfReplica(ReplicaId(3, 7)) == 3 && IncarnationOfReplica(ReplicaId(3, 7)) == 7);
static_assert(ReplicaId(3, 0) == 3);

// Classic driver bugs, planted behind this test-only switch so the simulator's checkers can be
// shown to catch them. kNone is the only production value.
enum class DriverBug {
  kNone,
  // Sends messages (append acks, votes) and acknowledges clients without waiting for the log's
  // fsync: a crash then loses entries a quorum counted on.
  kAckBeforeFsync,
  // Hands entries to the state machine (and readers) as soon as they are appended, before they
  // are committed.
  kApplyBeforeCommit,
  // Serves reads without checking batch CRCs (a zero-copy fetch path that trusts the disk).
  kSkipCrcOnRead,
  // On a log conflict, also truncates the last committed batch (and lowers the commit offset)
  // instead of only the uncommitted conflicting suffix.
  kTruncateCommittedOnConflict,
  // On restart, ignores the persisted term and vote (starts at term 0).
  kForgetTermOnRestart,
};
const char* DriverBugName(DriverBug bug);
// Parses a DriverBugName; false if unknown.
bool ParseDriverBug(const std::string& name, DriverBug* bug);

struct GroupOptions {
  GroupId group_id = 0;
  // This replica's Raft id (see REPLICA IDENTITY); kNoNode: the node's own id (incarnation 0).
  // REQUIRES: NodeOfReplica(replica_id) is the runtime's node, and an id other than the one
  // the directory was written under is given only to an EMPTY directory (a wiped replica): the
  // owner, like a controller, remembers which incarnation each directory holds.
  NodeId replica_id = kNoNode;
  // The group's members at creation (every replica, of every incarnation, is created with the
  // same list: it is the membership at offset -1, and the log replays every change after it).
  std::vector<NodeId> voters;
  // id, timeouts, limits; `raft.id` is set by the NodeDriver.
  Config raft;
  log::LogOptions log;
  // A replica that failed (disk error, corruption) reopens after `reopen_delay`; each failure
  // within `reopen_delay_max` of the last open doubles the delay, up to `reopen_delay_max`
  // (a full or failing disk must not re-scan the log several times a second). A replica that
  // ran that long without failing starts again from `reopen_delay`.
  Duration reopen_delay = Duration::Milliseconds(200);
  Duration reopen_delay_max = Duration::Seconds(5);
  // Reads (apply, payload attach, serving) fetch at most this many bytes per log read.
  uint64_t read_size_bytes_max = 1 * kMiB;
  DriverBug bug = DriverBug::kNone;
  // Log prefix retention (0: keep everything). The replica moves its snapshot point (and drops
  // the log prefix up to it, whole segments at a time) once more than 2 * retention_offsets
  // offsets lie between the snapshot point and its applied offset; the new point is the last
  // entry end at or below applied - retention_offsets. A follower that needs an offset below a
  // leader's snapshot point is sent a snapshot (raft/driver/README.md, "Snapshots").
  int64_t retention_offsets = 0;
  // The replica's applied-state machine (state_machine.h), created on every open; empty: none
  // (a partition log, snapshots are positions only). With a machine, apply resumes after the
  // machine's durable offset when it can, retention moves the snapshot point to the APPLIED
  // offset and writes the machine's state to a snapshot file first, and snapshots sent to
  // followers carry the state bytes (README.md, "State machines"). Every replica of a group
  // must agree on having one.
  StateMachineFactory state_machine;
  // A replica opening a brand-new group (hard state of term 0: it never saw an election)
  // campaigns at once instead of waiting out an election timeout. The owner sets it on the one
  // replica it wants to lead first (a partition's preferred leader), so a new partition has a
  // leader after one round trip rather than ~1 s. Campaigning is always safe in Raft: this only
  // saves time, and if the other replicas do not exist yet the usual timeouts take over.
  bool campaign_on_fresh_open = false;
};

// What an opened replica found on its disk.
struct OpenReport {
  int64_t log_last_offset = kNoOffset;
  HardState hard_state;           // as the RawNode was created with
  HardState persisted_state;      // as loaded from disk (before any clamping)
  int64_t durable_mark = kNoOffset;  // the fence target: what the replica may have declared
  // The replica's snapshot point after open: Raft's log (and apply) starts after it.
  int64_t snapshot_last_offset = kNoOffset;
  // Apply resumes after this offset: the snapshot point, or a state machine's durable offset
  // beyond it (GroupOptions::state_machine).
  int64_t apply_resume_offset = kNoOffset;
  bool log_reset_on_open = false;  // the log did not hold the snapshot point: reset to it
  // The log ends below the mark surely declared (or below the saved commit): media damage, the
  // replica is fenced.
  bool data_loss = false;
  // No certain damage, but the log ends below a pending mark (PersistedState.pending_mark): a
  // flush the crash interrupted, or damage to its entries; the replica is fenced all the same.
  bool uncertain_tail = false;
  uint64_t bytes_truncated = 0;   // by the log's recovery (torn tails, corruption)
  std::string first_defect;
  uint64_t damaged_state_records = 0;
  int64_t kafka_high_watermark = 0;  // what the replica reports from now on (durable commit)
};

// Facts a replica reports, for checkers and coverage. Every callback runs on the loop, from
// inside the driver: it must not call back into the driver. Default: ignore.
class DriverObserver {
 public:
  virtual ~DriverObserver() = default;
  virtual void OnOpened(NodeId, GroupId, const OpenReport&) {}
  virtual void OnSoftState(NodeId, GroupId, const SoftState&) {}
  // A hard state became durable, and the replica declared its log durable up to
  // `durable_last_offset` (messages and acks depending on it go out now).
  virtual void OnPersisted(NodeId, GroupId, const HardState&, int64_t /*durable_last_offset*/) {}
  // The replica's log is durable up to `last_offset`; if `hard_state_save_next`, the mark that
  // covers it is saved only by a later record (a round nothing waits for). Between the two
  // durable steps: where the simulator aims crashes. Must not stop or destroy the replica (post
  // instead).
  virtual void OnLogFlushed(NodeId, GroupId, int64_t /*last_offset*/,
                            bool /*hard_state_save_next*/) {}
  // A record naming `pending_last_offset` as its pending mark is durable while the flush that
  // writes those entries is not: the other window between two durable steps of one round.
  virtual void OnPendingMarkSaved(NodeId, GroupId, int64_t /*pending_last_offset*/) {}
  // The replica applied the batch at Raft offset `raft_base_offset`, whose Kafka offsets are
  // [kafka_base_offset, kafka_next_offset) (empty for Raft's own entries), and now reports
  // `kafka_high_watermark` (GroupDriver::kafka_high_watermark).
  virtual void OnKafkaApplied(NodeId, GroupId, int64_t /*raft_base_offset*/,
                              int64_t /*kafka_base_offset*/, int64_t /*kafka_next_offset*/,
                              int64_t /*kafka_high_watermark*/) {}
  // The replica truncated its log from `offset` on (a Raft conflict).
  virtual void OnTruncated(NodeId, GroupId, int64_t /*offset*/) {}
  // The replica applied `meta` whose stored bytes are `batch` (commit order).
  virtual void OnApplied(NodeId, GroupId, const EntryMeta&, std::span<const uint8_t> /*batch*/) {}
  // The replica installed a snapshot from its leader: its log now starts after
  // `meta.last_offset`, and it continues applying from there (nothing at or below it is applied
  // by this incarnation). Durable when called.
  virtual void OnSnapshotInstalled(NodeId, GroupId, const SnapshotMeta&) {}
  // The replica stopped itself (disk error, corruption) and will reopen.
  virtual void OnFailed(NodeId, GroupId, const absl::Status&) {}
  // Named recovery paths ("corruption detected", "fenced", ...) for the coverage report.
  virtual void OnEvent(NodeId, GroupId, const char*) {}
};

}  // namespace eddy::raft::driver
