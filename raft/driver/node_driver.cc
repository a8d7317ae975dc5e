#include "raft/driver/node_driver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::raft::driver {

NodeDriver::NodeDriver(runtime::Runtime& runtime, NodeOptions options, DriverObserver* observer)
    : runtime_(runtime),
      options_(options),
      observer_(observer),
      state_store_(std::make_unique<NodeStateStore>(runtime.clock(), runtime.disk(), kStateDirectory)),
      file_cache_(std::make_shared<log::FileCache>(options_.open_segment_files_max)),
      open_gate_(std::make_shared<OpenGate>(runtime_.clock(), options_.log_recoveries_max)) {
  EDDY_CHECK(observer_ != nullptr);
  EDDY_CHECK_GT(options_.tick_interval.nanoseconds(), 0);
  state_store_->Start();  // groups opening meanwhile wait for it (NodeStateStore::Attach)
}

NodeDriver::~NodeDriver() {
  *alive_ = false;
  if (tick_timer_ != runtime::kNoTimer) runtime_.clock().Cancel(tick_timer_);
  groups_.clear();
}

absl::Status NodeDriver::AddGroup(GroupOptions options) {
  const GroupId id = options.group_id;
  if (groups_.size() >= kGroupsMax) {
    return absl::ResourceExhaustedError(absl::StrCat("node holds ", kGroupsMax, " groups"));
  }
  if (groups_.count(id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("group ", id, " is already on this node"));
  }
  if (removing_.count(id) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("group ", id, " is being removed"));
  }
  if (NodeOfReplica(options.replica_id) != runtime_.self()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica id ", options.replica_id, " is not a replica of node ", runtime_.self()));
  }
  // Every replica's segment files share the node's open-file budget (core/log FileCache).
  if (options.log.file_cache == nullptr) options.log.file_cache = file_cache_;
  auto group = std::make_unique<GroupDriver>(
      runtime_, *state_store_, std::move(options), absl::StrCat("g", id),
      [this](NodeId to, GroupId g, Message m) { Send(to, g, std::move(m)); }, observer_);
  GroupDriver* raw = group.get();
  raw->SetKickBatch(&kick_batch_);
  raw->SetOpenGate(open_gate_);
  groups_[id] = std::move(group);
  raw->Start();
  return absl::OkStatus();
}

void NodeDriver::RemoveGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done) {
  auto it = groups_.find(id);
  if (it == groups_.end()) {
    return runtime_.clock().Post([done = std::move(done), id]() mutable {
      std::move(done)(absl::NotFoundError(absl::StrCat("group ", id, " is not on this node")));
    });
  }
  EDDY_CHECK(!kick_batch_.collecting);  // never from inside a group's callback
  it->second->Shutdown();
  groups_.erase(it);  // operations it issued complete into nothing (GroupDriver's alive flag)
  EraseGroup(id, std::move(done));
}

void NodeDriver::WipeGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done) {
  if (groups_.count(id) != 0 || removing_.count(id) != 0) {
    return runtime_.clock().Post([done = std::move(done), id]() mutable {
      std::move(done)(absl::FailedPreconditionError(
          absl::StrCat("group ", id, " is on this node: RemoveGroup it instead")));
    });
  }
  EraseGroup(id, std::move(done));
}

void NodeDriver::EraseGroup(GroupId id, absl::AnyInvocable<void(absl::Status) &&> done) {
  removing_.insert(id);
  auto finish = [this, alive = alive_, id, done = std::move(done)](absl::Status s) mutable {
    if (*alive) removing_.erase(id);
    std::move(done)(s);
  };
  // The state first: a removal a crash cuts short leaves log files without a state (a later
  // replica of this id starts empty and cuts them: GroupDriver's open), never a state whose
  // durable mark points into a log that is gone (a false repair fence).
  state_store_->Remove(id, [this, alive = alive_, id,
                            finish = std::move(finish)](absl::Status s) mutable {
    if (!*alive) return;
    if (!s.ok()) return finish(s);
    EmptyDirectory(absl::StrCat("g", id, "/log"), [this, alive, id, finish = std::move(finish)](
                                                       absl::Status emptied) mutable {
      if (!*alive) return;
      if (!emptied.ok()) return finish(emptied);
      // A state machine's snapshot files (none for a partition log).
      EmptyDirectory(absl::StrCat("g", id, "/snapshot"), std::move(finish));
    });
  });
}

void NodeDriver::EmptyDirectory(std::string dir, absl::AnyInvocable<void(absl::Status) &&> done) {
  runtime::Disk& disk = runtime_.disk();
  auto shared_done = std::make_shared<absl::AnyInvocable<void(absl::Status) &&>>(std::move(done));
  disk.List(dir, [&disk, dir, shared_done](absl::StatusOr<std::vector<std::string>> names) {
    if (!names.ok()) {
      // Never created: nothing to remove.
      return std::move(*shared_done)(absl::IsNotFound(names.status()) ? absl::OkStatus()
                                                                      : names.status());
    }
    auto first_error = std::make_shared<absl::Status>();
    for (const std::string& name : *names) {
      disk.Remove(absl::StrCat(dir, "/", name), [first_error](absl::Status s) {
        if (first_error->ok() && !s.ok() && !absl::IsNotFound(s)) *first_error = s;
      });
    }
    // Namespace operations complete in order: this one reports after every Remove.
    disk.SyncDirectory(dir, [first_error, shared_done](absl::Status s) {
      std::move(*shared_done)(first_error->ok() ? s : *first_error);
    });
  });
}

void NodeDriver::Start() {
  runtime_.transport().SetPeerHandler(
      [this](runtime::NodeId from, std::vector<uint8_t> bytes) {
        OnPeerMessage(from, std::move(bytes));
      });
  runtime_.transport().SetPeerStateHandler([](runtime::NodeId, bool) {});
  runtime_.transport().SetClientHandler([](runtime::ConnectionId, std::vector<uint8_t>) {});
  runtime_.transport().SetClientClosedHandler([](runtime::ConnectionId) {});
  tick_timer_ = runtime_.clock().ScheduleAfter(options_.tick_interval, [this] { OnTick(); });
}

GroupDriver* NodeDriver::group(GroupId id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

void NodeDriver::OnTick() {
  tick_timer_ = runtime_.clock().ScheduleAfter(options_.tick_interval, [this] { OnTick(); });
  BeginBatch();
  CheckPeers();  // may wake quiet groups: they are ticked from this tick on
  AdmitWoken();
  for (GroupId id : ticking_) {
    GroupDriver* g = group(id);
    if (g == nullptr) continue;  // removed; RetireQuiet drops it
    g->Tick();
    ++stats_.group_ticks;
  }
  EndBatch();
  RetireQuiet();
}

bool NodeDriver::PeerDown(NodeId peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.down;
}

bool NodeDriver::TrackPeer(NodeId peer) {
  if (peers_.contains(peer)) return true;
  if (peers_.size() >= kPeersMax) return false;
  peers_[peer] = PeerLiveness{};
  return true;
}

void NodeDriver::HeardFrom(NodeId peer) {
  if (!TrackPeer(peer)) {
    ++stats_.unknown_peers_ignored;
    return;
  }
  PeerLiveness& p = peers_[peer];
  p.silent_ticks = 0;
  p.down = false;
}

void NodeDriver::CheckPeers() {
  if (!options_.quiesce) return;
  for (auto& [peer, p] : peers_) {
    if (!p.sent) SendNodeHeartbeat(peer);
    p.sent = false;
    if (p.down || ++p.silent_ticks < options_.peer_timeout_ticks) continue;
    // Silent for as long as an election timeout: the node is down or cut off from us. Every
    // quiet group that relies on it wakes and runs Raft's own timers again.
    p.down = true;
    ++stats_.peers_declared_down;
    WakeDependents(peer);
  }
}

void NodeDriver::SendNodeHeartbeat(NodeId peer) {
  Envelope envelope;
  envelope.set_node_heartbeat(true);
  const size_t size = envelope.ByteSizeLong();
  std::vector<uint8_t> bytes(size);
  EDDY_CHECK(envelope.SerializeWithCachedSizesToArray(bytes.data()) == bytes.data() + size);
  ++stats_.envelopes_sent;
  ++stats_.node_heartbeats_sent;
  stats_.bytes_sent += size;
  runtime_.transport().SendToPeer(static_cast<runtime::NodeId>(peer), std::move(bytes));
}

void NodeDriver::WakeDependents(NodeId peer) {
  auto it = quiet_by_peer_.find(peer);
  if (it == quiet_by_peer_.end()) return;
  const std::set<GroupId> ids = std::move(it->second);
  quiet_by_peer_.erase(it);
  for (GroupId id : ids) {
    UnregisterQuiet(id);
    GroupDriver* g = group(id);
    if (g == nullptr || !g->quiesced()) continue;
    g->Unquiesce();  // kicks: the group announces itself in KickBatch::woken
    ++stats_.groups_woken_by_liveness;
  }
}

void NodeDriver::AdmitWoken() {
  std::vector<GroupId> woken = std::move(kick_batch_.woken);
  kick_batch_.woken.clear();
  for (GroupId id : woken) {
    UnregisterQuiet(id);
    ticking_.insert(id);
  }
  EDDY_CHECK_LE(ticking_.size(), kGroupsMax);
}

void NodeDriver::RetireQuiet() {
  for (auto it = ticking_.begin(); it != ticking_.end();) {
    GroupDriver* g = group(*it);
    if (g != nullptr && g->running() && !g->quiesced()) {
      ++it;
      continue;
    }
    if (g != nullptr) {
      g->LeftTickSet();
      if (g->quiesced()) RegisterQuiet(*it, *g);
    }
    it = ticking_.erase(it);
  }
}

void NodeDriver::RegisterQuiet(GroupId id, GroupDriver& group) {
  UnregisterQuiet(id);
  std::vector<NodeId> nodes;
  for (NodeId replica : group.QuietPeers()) {
    const NodeId node = NodeOfReplica(replica);
    if (node == runtime_.self() || node == kNoNode) continue;
    if (std::find(nodes.begin(), nodes.end(), node) != nodes.end()) continue;
    nodes.push_back(node);
  }
  for (NodeId node : nodes) {
    if (PeerDown(node)) {
      // Already silent: it will not be declared down again, so do not wait for it. (A leader
      // quiesces without a follower silent for a whole check-quorum round; it needs no wake.)
      if (group.raft()->role() != Role::kLeader) {
        group.Unquiesce();
        ++stats_.groups_woken_by_liveness;
        return;
      }
      continue;
    }
    quiet_by_peer_[node].insert(id);
  }
  quiet_peers_of_[id] = std::move(nodes);
}

void NodeDriver::UnregisterQuiet(GroupId id) {
  auto it = quiet_peers_of_.find(id);
  if (it == quiet_peers_of_.end()) return;
  for (NodeId node : it->second) {
    auto q = quiet_by_peer_.find(node);
    if (q == quiet_by_peer_.end()) continue;
    q->second.erase(id);
    if (q->second.empty()) quiet_by_peer_.erase(q);
  }
  quiet_peers_of_.erase(it);
}

void NodeDriver::BeginBatch() {
  EDDY_CHECK(!kick_batch_.collecting);
  EDDY_CHECK(kick_batch_.kicked.empty());
  kick_batch_.collecting = true;
}

void NodeDriver::EndBatch() {
  // Collection ends before processing: a Ready may kick (its own or another group) again, and
  // that kick takes the ordinary path.
  EDDY_CHECK(kick_batch_.collecting);
  kick_batch_.collecting = false;
  std::vector<GroupDriver*> kicked = std::move(kick_batch_.kicked);
  kick_batch_.kicked.clear();
  EDDY_CHECK_LE(kicked.size(), groups_.size());
  for (GroupDriver* group : kicked) group->ProcessKicked();
}

void NodeDriver::Send(NodeId to, GroupId group, Message message) {
  // `to` is a replica id; its node is the transport address (driver_options.h).
  const NodeId node = NodeOfReplica(to);
  if (node == runtime_.self() || node == kNoNode) {
    // A membership naming another replica on this node (or node 0) came from a forged or buggy
    // peer's entry: there is no one to send to.
    ++stats_.messages_to_self_dropped;
    return;
  }
  const uint64_t size = message.ByteSizeLong() + 16;
  if (!MakeRoom(node, size)) return;  // cannot be carried; Raft retries smaller
  GroupMessage* gm = outbox_[node].add_messages();
  gm->set_group_id(group);
  *gm->mutable_message() = std::move(message);
  Queued(node, size);
}

absl::Status NodeDriver::SendOwnerMessage(runtime::NodeId to, std::string payload) {
  if (to == runtime_.self() || to == kNoNode) {
    return absl::InvalidArgumentError(absl::StrCat("owner message to node ", to));
  }
  const uint64_t size = payload.size() + 16;
  if (!MakeRoom(to, size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("owner message of ", payload.size(), " bytes does not fit an envelope"));
  }
  *outbox_[to].add_owner_messages() = std::move(payload);
  ++stats_.owner_messages_sent;
  Queued(to, size);
  return absl::OkStatus();
}

bool NodeDriver::MakeRoom(NodeId node, uint64_t size) {
  // One envelope must fit one transport message: flush early rather than overflow.
  if (outbox_bytes_[node] + size > runtime::kMessageSizeBytesMax) FlushOutbox();
  if (size > runtime::kMessageSizeBytesMax) return false;
  TrackPeer(node);
  return true;
}

void NodeDriver::Queued(NodeId node, uint64_t size) {
  outbox_bytes_[node] += size;
  if (!flush_posted_) {
    flush_posted_ = true;
    runtime_.clock().Post([this, alive = alive_] {
      if (*alive) FlushOutbox();
    });
  }
}

void NodeDriver::FlushOutbox() {
  flush_posted_ = false;
  std::map<NodeId, Envelope> outbox = std::move(outbox_);
  outbox_.clear();
  outbox_bytes_.clear();
  for (auto& [to, envelope] : outbox) {
    if (envelope.messages().empty() && envelope.owner_messages().empty()) continue;
    // Serialized straight into the buffer the transport takes (no intermediate string).
    const size_t size = envelope.ByteSizeLong();
    EDDY_CHECK_LE(size, runtime::kMessageSizeBytesMax);
    std::vector<uint8_t> bytes(size);
    EDDY_CHECK(envelope.SerializeWithCachedSizesToArray(bytes.data()) == bytes.data() + size);
    ++stats_.envelopes_sent;
    stats_.messages_sent += envelope.messages_size();
    stats_.bytes_sent += size;
    if (auto p = peers_.find(to); p != peers_.end()) p->second.sent = true;
    runtime_.transport().SendToPeer(static_cast<runtime::NodeId>(to), std::move(bytes));
  }
}

void NodeDriver::OnPeerMessage(runtime::NodeId from, std::vector<uint8_t> bytes) {
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    ++stats_.malformed_envelopes;
    return;
  }
  ++stats_.envelopes_received;
  HeardFrom(from);  // any envelope proves the peer's node is live
  if (envelope.messages().empty() && envelope.owner_messages().empty()) return;  // a heartbeat
  // Every message first, then one Ready pass per group that has work: the groups' Readys of one
  // envelope are taken in the same loop event (no event per group).
  BeginBatch();
  for (GroupMessage& gm : *envelope.mutable_messages()) {
    GroupDriver* g = group(gm.group_id());
    if (gm.message().type() == MSG_FENCE_QUERY && NodeOfReplica(gm.message().from()) == from &&
        (g == nullptr || g->replica_id() != gm.message().to())) {
      MaybeAnswerForAbsentReplica(gm.group_id(), gm.message(), g);
      continue;
    }
    if (g == nullptr || NodeOfReplica(gm.message().from()) != from) {
      ++stats_.unknown_group_messages;
      continue;
    }
    g->Receive(std::move(*gm.mutable_message()));
  }
  EndBatch();
  DeliverOwnerMessages(from, envelope);
}

void NodeDriver::DeliverOwnerMessages(runtime::NodeId from, Envelope& envelope) {
  const std::shared_ptr<bool> alive = alive_;
  for (std::string& payload : *envelope.mutable_owner_messages()) {
    ++stats_.owner_messages_received;
    if (!owner_handler_) {
      ++stats_.owner_messages_unhandled;
      continue;
    }
    owner_handler_(from, std::move(payload));
    if (!*alive) return;  // the handler destroyed the driver (a crash in a test)
  }
}

}  // namespace eddy::raft::driver
