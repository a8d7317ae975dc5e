// NodeDriver: every Raft group replica of one node, multiplexed over the node's seam.
//
// One tick timer drives every group (Config ticks are NodeOptions::tick_interval apart). All
// messages a node's groups send to one peer while one loop event runs are coalesced into one
// Envelope (driver.proto): the heartbeats of hundreds of groups to a peer cost one transport
// message per tick, and a burst of appends shares a frame. Incoming envelopes are split and each
// message handed to its group; malformed input is counted and dropped.
//
// QUIESCENCE (README.md): with NodeOptions::quiesce the node's groups quiesce when idle
// (RawNode, Config::quiesce) and the node keeps liveness for them instead: it sends each peer
// node one heartbeat envelope per tick when nothing else went to it (so idle traffic is
// independent of the group count), counts the ticks each peer has been silent, and when one stays
// silent for NodeOptions::peer_timeout_ticks it wakes (GroupDriver::Unquiesce) every quiet group
// that depends on that peer (a follower whose leader is there, a leader with a follower there).
// Only awake groups are ticked (the tick set), so ticks cost O(awake groups), not O(groups).
//
// READY BATCHING: while it dispatches one envelope (or one tick) the node collects the groups
// that got work (KickBatch) and then lets each take its Ready once, in the same loop event —
// not one posted event per group.
//
// ANSWERS FOR ABSENT REPLICAS: a fenced replica waits for a report from EVERY other voter of its
// configurations (fence_recovery.h). A voter whose replica is gone from its node — removed or
// wiped (its removal committed on a leader that then lost it, say), never created, or replaced by
// a later incarnation — would never answer, and the fence would hold for good (five-node seed
// 3884). So the node answers for it, with the truth about that id: an empty durable log knowing
// no membership change. It answers only when it is sure: its state store is open (not opening,
// not uncertain), holds no state of the group and is not removing it, or the group's replica
// here is a later incarnation (REPLICA IDENTITY: a new id is given only to an emptied
// directory). A replica without a state record has acknowledged nothing: every acknowledgement
// follows the round that saved its term, and a replica reopened without its record starts empty.
//
// OWNER MESSAGES: the node's owner (a broker) talks to its peers' owners in the same envelopes
// as Raft (SendOwnerMessage / SetOwnerHandler): forwarded client requests, calls to the
// controller. Best effort like every peer message — lost, delayed, duplicated or reordered — so
// callers time out and retry, and handlers tolerate duplicates. Coalesced with the node's Raft
// traffic (one envelope per peer per flush) and handed to the peer's owner after the
// envelope's group messages.
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
  // Replicas recovering their logs at once (OpenGate): recovery holds a log's segment files
  // open outside that budget, so a restart with thousands of replicas opens them in waves.
  size_t log_recoveries_max = 64;
  // Quiescence of idle groups, with node-level liveness (see QUIESCENCE). Off: every group is
  // ticked and heartbeats every heartbeat interval, as before.
  bool quiesce = true;
  // A peer node silent this many ticks is taken as down: the quiet groups depending on it wake.
  // It stands in for the election timeout quiescence suppresses, so it should equal the groups'
  // Config::election_timeout_ticks.
  int peer_timeout_ticks = 10;
};

struct NodeStats {
  uint64_t envelopes_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t envelopes_received = 0;
  uint64_t malformed_envelopes = 0;
  uint64_t unknown_group_messages = 0;
  uint64_t messages_to_self_dropped = 0;  // addressed to a replica on this node (forged input)
  uint64_t bytes_sent = 0;                // envelope bytes handed to the transport
  uint64_t node_heartbeats_sent = 0;      // envelopes that only said "this node is live"
  uint64_t group_ticks = 0;               // GroupDriver::Tick calls (awake groups only)
  uint64_t peers_declared_down = 0;       // a peer node silent for peer_timeout_ticks
  uint64_t groups_woken_by_liveness = 0;  // quiet groups woken because a peer went silent
  uint64_t unknown_peers_ignored = 0;     // envelopes from beyond kPeersMax peers
  // Fence queries to a replica id this node holds no state of (never created, removed, wiped,
  // or an older incarnation), answered for it: an empty log (ANSWERS FOR ABSENT REPLICAS).
  uint64_t fence_queries_answered_absent = 0;
  uint64_t owner_messages_sent = 0;
  uint64_t owner_messages_received = 0;
  uint64_t owner_messages_unhandled = 0;  // received before an owner handler was set
};

class NodeDriver {
 public:
  static constexpr size_t kGroupsMax = 16384;
  // Where the node's state store (every group's hard state) lives on the disk.
  static constexpr const char* kStateDirectory = "state";
  // Peer nodes whose liveness is tracked (every node this one exchanges messages with).
  static constexpr size_t kPeersMax = 1024;

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

  // OWNER MESSAGES (above). The handler runs on the loop for each owner message a peer sent.
  using OwnerHandler = absl::AnyInvocable<void(runtime::NodeId from, std::string payload)>;
  void SetOwnerHandler(OwnerHandler handler) { owner_handler_ = std::move(handler); }
  // Queues `payload` for `to`'s owner (sent with the next flush). Errors: kInvalidArgument when
  // `to` is this node or kNoNode, or the payload cannot fit one transport message.
  absl::Status SendOwnerMessage(runtime::NodeId to, std::string payload);

  GroupDriver* group(GroupId id);
  const std::map<GroupId, std::unique_ptr<GroupDriver>>& groups() const { return groups_; }
  const NodeStats& stats() const { return stats_; }
  const NodeStateStore& state_store() const { return *state_store_; }
  // Groups in the tick set (awake, or woken and not yet ticked).
  size_t awake_group_count() const { return ticking_.size() + kick_batch_.woken.size(); }
  // Whether node liveness currently takes `peer` as down.
  bool PeerDown(NodeId peer) const;

 private:
  void OnTick();
  void Send(NodeId to, GroupId group, Message message);
  void FlushOutbox();
  // Flushes `node`'s envelope first if `size` more bytes would overflow it; false if they can
  // never fit one.
  bool MakeRoom(NodeId node, uint64_t size);
  void Queued(NodeId node, uint64_t size);
  void DeliverOwnerMessages(runtime::NodeId from, Envelope& envelope);
  void OnPeerMessage(runtime::NodeId from, std::vector<uint8_t> bytes);
  // A fenced replica's query to `to`, a replica id of this node with no state here: answers for
  // it when the node can be sure of that (node_driver_fence.cc). `hosted`: the group's replica on
  // this node, if any.
  void MaybeAnswerForAbsentReplica(GroupId group, const Message& query, const GroupDriver* hosted);
  // Around dispatching a batch of inputs (an envelope, a tick) to the groups: kicked groups are
  // collected, then each processes its Ready once, in kick order, in this same loop event.
  void BeginBatch();
  void EndBatch();

  // --- Quiescence (see QUIESCENCE) ---
  struct PeerLiveness {
    int silent_ticks = 0;   // ticks since the last envelope from this peer
    bool down = false;      // silent for peer_timeout_ticks (until it is heard again)
    bool sent = false;      // an envelope went to it since the previous tick
  };
  // Starts tracking `peer` (false beyond kPeersMax).
  bool TrackPeer(NodeId peer);
  void HeardFrom(NodeId peer);
  // Per tick: heartbeats to peers that got nothing, silence counted, silent peers declared down.
  void CheckPeers();
  void SendNodeHeartbeat(NodeId peer);
  // Wakes every quiet group registered under `peer`.
  void WakeDependents(NodeId peer);
  // Moves KickBatch::woken into the tick set.
  void AdmitWoken();
  // After a tick: takes groups that are quiet, stopped or gone out of the tick set (quiet ones
  // are registered under the nodes they depend on).
  void RetireQuiet();
  void RegisterQuiet(GroupId id, GroupDriver& group);
  void UnregisterQuiet(GroupId id);

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
  std::shared_ptr<OpenGate> open_gate_;
  std::map<GroupId, std::unique_ptr<GroupDriver>> groups_;
  std::set<GroupId> removing_;  // RemoveGroup in progress
  OwnerHandler owner_handler_;
  std::map<NodeId, Envelope> outbox_;  // by peer node; ordered so flushes go out in id order
  std::map<NodeId, uint64_t> outbox_bytes_;
  bool flush_posted_ = false;
  KickBatch kick_batch_{
      .collecting = false, .kicked = {}, .quiesce = options_.quiesce, .woken = {}};
  std::set<GroupId> ticking_;  // awake groups: the only ones OnTick ticks
  std::map<NodeId, PeerLiveness> peers_;  // by peer node
  // Quiet groups by the peer nodes they depend on, and back.
  std::map<NodeId, std::set<GroupId>> quiet_by_peer_;
  std::map<GroupId, std::vector<NodeId>> quiet_peers_of_;
  runtime::TimerId tick_timer_ = runtime::kNoTimer;
  NodeStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::raft::driver
