// NodeDriver: every Raft group replica of one node, multiplexed over the node's seam.
//
// One tick timer drives every group (Config ticks are NodeOptions::tick_interval apart). All
// messages a node's groups send to one peer while one loop event runs are coalesced into one
// Envelope (driver.proto): the heartbeats of hundreds of groups to a peer cost one transport
// message per tick, and a burst of appends shares a frame. Incoming envelopes are split and each
// message handed to its group; malformed input is counted and dropped.
//
// READY BATCHING: while it dispatches one envelope (or one tick) the node collects the groups
// that got work (KickBatch) and then lets each take its Ready once, in the same loop event —
// not one posted event per group.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the runtime and observer outlive the driver;
// destroying the driver (a crash) drops everything in flight.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "core/runtime/runtime.h"
#include "raft/driver/driver.pb.h"
#include "raft/driver/driver_options.h"
#include "raft/driver/group_driver.h"

namespace eddy::raft::driver {

struct NodeOptions {
  Duration tick_interval = Duration::Milliseconds(50);
  // Segment files open at once across every replica of the node (core/log FileCache): idle
  // logs' files are closed least recently used first.
  size_t open_segment_files_max = 1024;
};

struct NodeStats {
  uint64_t envelopes_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t envelopes_received = 0;
  uint64_t malformed_envelopes = 0;
  uint64_t unknown_group_messages = 0;
  uint64_t messages_to_self_dropped = 0;  // addressed to a replica on this node (forged input)
};

class NodeDriver {
 public:
  static constexpr size_t kGroupsMax = 16384;
  // Where the node's state store (every group's hard state) lives on the disk.
  static constexpr const char* kStateDirectory = "state";

  NodeDriver(runtime::Runtime& runtime, NodeOptions options, DriverObserver* observer);
  ~NodeDriver();
  NodeDriver(const NodeDriver&) = delete;
  NodeDriver& operator=(const NodeDriver&) = delete;

  // Creates (or reopens, after a restart) the replica of group `options.group_id`, stored in
  // directory "g<id>". Errors: kAlreadyExists the group is on this node; kResourceExhausted
  // kGroupsMax groups; kInvalidArgument the replica id is not one of this node's.
  absl::Status AddGroup(GroupOptions options);
  // Removes the replica of group `id` at runtime: it stops (pending acknowledgements fail as
  // outcome unknown), is destroyed, its state is removed from the node's state store, and then
  // its files are deleted (the directory "g<id>/log" emptied, the removals made durable); `done`
  // then runs with the first error.
  // Until then the group id cannot be added again (kFailedPrecondition). Errors: kNotFound not
  // on this node. The caller removes the replica from the group's membership first (or the
  // group is being deleted): removing a voter here is, to the group, a crash that never ends.
  void RemoveGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done);

  // Erases every trace of group `id` from this node — its state in the node's store, its log
  // files — while it is NOT added (an operator scrubbing a replica before it rejoins under a new
  // id: driver_options.h, REPLICA IDENTITY); `done` runs once durable. Errors:
  // kFailedPrecondition the group is added (RemoveGroup it) or being removed.
  void WipeGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done);

  // Installs the transport handler and starts ticking. Call once, after the first AddGroup.
  void Start();

  GroupDriver* group(GroupId id);
  const std::map<GroupId, std::unique_ptr<GroupDriver>>& groups() const { return groups_; }
  const NodeStats& stats() const { return stats_; }
  const NodeStateStore& state_store() const { return *state_store_; }

 private:
  void OnTick();
  void Send(NodeId to, GroupId group, Message message);
  void FlushOutbox();
  void OnPeerMessage(runtime::NodeId from, std::vector<uint8_t> bytes);
  // Around dispatching a batch of inputs (an envelope, a tick) to the groups: kicked groups are
  // collected, then each processes its Ready once, in kick order, in this same loop event.
  void BeginBatch();
  void EndBatch();

  runtime::Runtime& runtime_;
  const NodeOptions options_;
  DriverObserver* const observer_;
  // Removes the group's state, then its log files (RemoveGroup, WipeGroup).
  void EraseGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done);
  // Removes every file of one directory, then syncs it; `done` gets the first error.
  void EmptyDirectory(std::string dir, absl::AnyInvocable<void(absl::Status) &&> done);

  // Declared before the groups: they hold a reference to them, and are destroyed first.
  std::unique_ptr<NodeStateStore> state_store_;
  std::shared_ptr<log::FileCache> file_cache_;
  std::map<GroupId, std::unique_ptr<GroupDriver>> groups_;
  std::set<GroupId> removing_;  // RemoveGroup in progress
  std::map<NodeId, Envelope> outbox_;  // by peer node; ordered so flushes go out in id order
  std::map<NodeId, uint64_t> outbox_bytes_;
  bool flush_posted_ = false;
  KickBatch kick_batch_;  // groups kicked during BeginBatch..EndBatch
  runtime::TimerId tick_timer_ = runtime::kNoTimer;
  NodeStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
