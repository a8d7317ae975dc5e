#include "sim/network/sim_network.h"

#include <algorithm>

#include "core/base/check.h"
#include "sim/base/rate.h"
#include "sim/network/frame.h"
#include "sim/trace/digest.h"

namespace eddy::sim {

using runtime::ConnectionId;
using runtime::NodeId;

// The per-node view handed to the broker: stores its handlers, forwards its sends.
class SimNetwork::NodeTransport final : public runtime::Transport {
 public:
  NodeTransport(SimNetwork& network, NodeId self) : network_(network), self_(self) {}

  void SendToPeer(NodeId to, std::vector<uint8_t> message) override {
    network_.SendPeer(self_, to, std::move(message));
  }
  void SendToClient(ConnectionId connection, std::vector<uint8_t> message) override {
    network_.SendToClient(self_, connection, std::move(message));
  }
  void CloseClient(ConnectionId connection) override {
    network_.CloseFromBroker(self_, connection);
  }
  void SetPeerHandler(PeerHandler handler) override { peer_handler = std::move(handler); }
  void SetPeerStateHandler(PeerStateHandler handler) override {
    peer_state_handler = std::move(handler);
  }
  void SetClientHandler(ClientHandler handler) override { client_handler = std::move(handler); }
  void SetClientClosedHandler(ClientClosedHandler handler) override {
    client_closed_handler = std::move(handler);
  }

  void ClearHandlers() {
    peer_handler = nullptr;
    peer_state_handler = nullptr;
    client_handler = nullptr;
    client_closed_handler = nullptr;
  }

  PeerHandler peer_handler;
  PeerStateHandler peer_state_handler;
  ClientHandler client_handler;
  ClientClosedHandler client_closed_handler;

 private:
  SimNetwork& network_;
  const NodeId self_;
};

struct SimNetwork::NodeState {
  runtime::Clock* clock = nullptr;
  SimNodeClock* sim_clock = nullptr;  // the same clock, when it is a simulated node's
  bool up = true;
  // Bumped when the node goes down: work posted to its clock for an older incarnation is void
  // (the world also drops it from the clock; this guards standalone use).
  uint64_t incarnation = 0;
  Duration extra_latency = Duration::Zero();
  std::unique_ptr<NodeTransport> transport;
};

SimNetwork::SimNetwork(SimLoop& world, uint64_t seed, TraceHash* trace)
    : world_(world), random_(seed), trace_(trace) {}

SimNetwork::~SimNetwork() = default;

SimNetwork::NodeState& SimNetwork::node(NodeId id) {
  // Looked up for every message: small ids (the usual 1..N) go through a direct table.
  if (id < node_by_small_id_.size() && node_by_small_id_[id] != nullptr) {
    return *node_by_small_id_[id];
  }
  auto it = nodes_.find(id);
  EDDY_CHECK_MSG(it != nodes_.end(), "unknown node " << id);
  return *it->second;
}

const SimNetwork::NodeState& SimNetwork::node(NodeId id) const {
  if (id < node_by_small_id_.size() && node_by_small_id_[id] != nullptr) {
    return *node_by_small_id_[id];
  }
  auto it = nodes_.find(id);
  EDDY_CHECK_MSG(it != nodes_.end(), "unknown node " << id);
  return *it->second;
}

SimNetwork::Link& SimNetwork::link(NodeId from, NodeId to) {
  auto it = links_.find({from, to});
  EDDY_CHECK_MSG(it != links_.end(), "no link " << from << " -> " << to);
  return it->second;
}

const SimNetwork::Link& SimNetwork::link(NodeId from, NodeId to) const {
  auto it = links_.find({from, to});
  EDDY_CHECK_MSG(it != links_.end(), "no link " << from << " -> " << to);
  return it->second;
}

void SimNetwork::AddNode(NodeId id, SimNodeClock& node_clock, bool up) {
  AddNode(id, static_cast<runtime::Clock&>(node_clock), up);
  node(id).sim_clock = &node_clock;
}

void SimNetwork::AddNode(NodeId id, runtime::Clock& node_clock, bool up) {
  EDDY_CHECK_NE(id, runtime::kNoNode);
  EDDY_CHECK_LT(nodes_.size(), kNodesMax);
  auto state = std::make_unique<NodeState>();
  state->clock = &node_clock;
  state->up = up;
  state->transport = std::make_unique<NodeTransport>(*this, id);
  for (const auto& [other, unused] : nodes_) {
    links_.try_emplace({id, other});
    links_.try_emplace({other, id});
  }
  if (id < kSmallIdsMax) {
    if (node_by_small_id_.size() <= id) node_by_small_id_.resize(id + 1, nullptr);
    node_by_small_id_[id] = state.get();
  }
  const bool inserted = nodes_.emplace(id, std::move(state)).second;
  EDDY_CHECK_MSG(inserted, "node " << id << " added twice");
  EDDY_CHECK_EQ(links_.size(), nodes_.size() * (nodes_.size() - 1));
}

runtime::Transport& SimNetwork::transport(NodeId id) { return *node(id).transport; }

bool SimNetwork::node_up(NodeId id) const { return node(id).up; }

void SimNetwork::SetNodeExtraLatency(NodeId id, Duration extra) {
  EDDY_CHECK_GE(extra, Duration::Zero());
  node(id).extra_latency = extra;
}

void SimNetwork::SetNodeUp(NodeId id, bool up) {
  NodeState& state = node(id);
  if (state.up == up) return;
  state.up = up;
  if (!up) {
    ++state.incarnation;
    for (const auto& [other, unused] : nodes_) {
      if (other == id) continue;
      ResetLink(id, other);
      ResetLink(other, id);
    }
    state.transport->ClearHandlers();
    for (ConnectionId connection : client_connections(id)) {
      ++stats_.client_connections_reset;
      CloseConnection(connection, /*notify_broker=*/false, /*notify_client=*/true);
    }
  }
  for (const auto& [other, other_state] : nodes_) {
    if (other != id && other_state->up) NotifyPeerState(other, id, up);
  }
}

// ---- Link options ----

void SimNetwork::SetDefaultLinkOptions(const LinkOptions& options) {
  EDDY_CHECK_LE(options.latency_min, options.latency_max);
  EDDY_CHECK_GE(options.latency_min, Duration::Zero());
  default_options_ = options;
}

void SimNetwork::SetLinkOptions(NodeId from, NodeId to, const LinkOptions& options) {
  EDDY_CHECK_LE(options.latency_min, options.latency_max);
  EDDY_CHECK_GE(options.latency_min, Duration::Zero());
  link(from, to).override_options = std::make_unique<LinkOptions>(options);
}

void SimNetwork::ClearLinkOverrides() {
  for (auto& [ends, state] : links_) state.override_options.reset();
}

const LinkOptions& SimNetwork::link_options(NodeId from, NodeId to) const {
  const Link& state = link(from, to);
  return state.override_options != nullptr ? *state.override_options : default_options_;
}

// ---- Peer messages ----

void SimNetwork::Drop(NodeId from, NodeId to, uint64_t& counter) {
  ++counter;
  if (trace_ != nullptr) trace_->Fold(world_.Now(), to, TraceEvent::kPeerDropped, from);
}

void SimNetwork::SendPeer(NodeId from, NodeId to, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  EDDY_CHECK_NE(from, to);
  ++stats_.peer_messages_sent;
  if (!nodes_.contains(to)) {
    // A broker may address a node id the world never had (stale configuration): drop it.
    Drop(from, to, stats_.dropped_node_down);
    return;
  }
  if (!node(from).up || !node(to).up) return Drop(from, to, stats_.dropped_node_down);
  if (link(from, to).cut) return Drop(from, to, stats_.dropped_cut);
  const LinkOptions& options = link_options(from, to);
  if (DrawPpm(random_, options.loss_ppm)) return Drop(from, to, stats_.lost);
  std::vector<uint8_t> frame = EncodeFrame(message);
  if (DrawPpm(random_, options.duplicate_ppm)) {
    ++stats_.duplicated;
    Launch(from, to, frame, /*duplicate=*/true);
  }
  Launch(from, to, std::move(frame), /*duplicate=*/false);
}

void SimNetwork::Launch(NodeId from, NodeId to, std::vector<uint8_t> frame, bool duplicate) {
  EDDY_CHECK_LT(in_flight_, kInFlightMessagesMax);
  Link& state = link(from, to);
  const LinkOptions& options = link_options(from, to);
  const Instant now = world_.Now();
  Duration latency = options.latency_min + node(from).extra_latency + node(to).extra_latency;
  const int64_t spread = (options.latency_max - options.latency_min).nanoseconds();
  if (spread > 0) {
    latency += Duration::Nanoseconds(static_cast<int64_t>(random_.Uniform(spread + 1)));
  }
  if (options.latency_spike_max > Duration::Zero() && DrawPpm(random_, options.latency_spike_ppm)) {
    ++stats_.latency_spikes;
    latency += Duration::Nanoseconds(
        static_cast<int64_t>(random_.Uniform(options.latency_spike_max.nanoseconds() + 1)));
  }
  if (duplicate && options.duplicate_delay_max > Duration::Zero()) {
    latency += Duration::Nanoseconds(
        static_cast<int64_t>(random_.Uniform(options.duplicate_delay_max.nanoseconds() + 1)));
  }
  Instant arrival = now + latency;
  if (state.clogged_until > arrival) {
    ++stats_.clogged;
    arrival = state.clogged_until;
  }
  // A duplicate is a replay outside the connection's order; an original keeps FIFO unless the
  // link reorders.
  if (!duplicate && !options.reorder) arrival = std::max(arrival, state.last_arrival);
  if (!duplicate && !options.reorder) state.last_arrival = arrival;
  if (DrawPpm(random_, options.corruption_ppm)) {
    ++stats_.corrupted;
    const uint64_t bit = random_.Uniform(frame.size() * 8);
    frame[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  const uint64_t sequence = ++state.next_sequence;
  ++in_flight_;
  world_.ScheduleAfter(arrival - now, [this, from, to, generation = state.generation, sequence,
                                       frame = std::move(frame)]() mutable {
    Arrive(from, to, generation, sequence, std::move(frame));
  });
}

void SimNetwork::Arrive(NodeId from, NodeId to, uint64_t generation, uint64_t sequence,
                        std::vector<uint8_t> frame) {
  EDDY_CHECK_GT(in_flight_, 0u);
  --in_flight_;
  Link& state = link(from, to);
  if (state.generation != generation) return Drop(from, to, stats_.dropped_reset);
  if (!node(to).up) return Drop(from, to, stats_.dropped_node_down);
  if (state.cut) return Drop(from, to, stats_.dropped_cut);
  if (sequence < state.highest_arrived_sequence) {
    ++stats_.reordered;
  } else {
    state.highest_arrived_sequence = sequence;
  }
  NodeState& receiver = node(to);
  auto deliver = [this, from, to, incarnation = receiver.incarnation,
                  frame = std::move(frame)]() mutable {
    if (node(to).incarnation != incarnation) return;
    Deliver(from, to, std::move(frame));
  };
  if (receiver.sim_clock != nullptr) {
    receiver.sim_clock->RunOrPost(std::move(deliver));  // no second world event when idle
  } else {
    receiver.clock->Post(std::move(deliver));
  }
}

void SimNetwork::Deliver(NodeId from, NodeId to, std::vector<uint8_t> frame) {
  // Checked in place; the payload is handed on in the frame's own buffer, header cut off.
  absl::StatusOr<uint64_t> checksum = VerifyFrame(frame);
  if (!checksum.ok()) return Drop(from, to, stats_.corruption_detected);
  NodeTransport& transport = *node(to).transport;
  if (!transport.peer_handler) return Drop(from, to, stats_.dropped_no_handler);
  ++stats_.peer_messages_delivered;
  if (trace_ != nullptr) {
    // The verified checksum is a digest of the payload (FORMAT.md): no second pass over it.
    trace_->Fold(world_.Now(), to, TraceEvent::kPeerDelivered, MixWord(from, *checksum));
  }
  frame.erase(frame.begin(), frame.begin() + kFrameHeaderSizeBytes);
  transport.peer_handler(from, std::move(frame));
}

// ---- Topology faults ----

void SimNetwork::SetCut(NodeId from, NodeId to, bool cut) {
  Link& state = link(from, to);
  if (cut && !state.cut) ++stats_.link_cuts;
  state.cut = cut;
}

void SimNetwork::ResetLink(NodeId from, NodeId to) {
  Link& state = link(from, to);
  ++state.generation;
  state.last_arrival = Instant();
}

void SimNetwork::CutLink(NodeId from, NodeId to) { SetCut(from, to, true); }
void SimNetwork::RestoreLink(NodeId from, NodeId to) { SetCut(from, to, false); }
bool SimNetwork::link_cut(NodeId from, NodeId to) const { return link(from, to).cut; }

void SimNetwork::Partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b) {
  ++stats_.partitions;
  for (NodeId a : side_a) {
    for (NodeId b : side_b) {
      if (a == b) continue;
      SetCut(a, b, true);
      SetCut(b, a, true);
    }
  }
}

void SimNetwork::PartitionOneWay(const std::vector<NodeId>& from, const std::vector<NodeId>& to) {
  ++stats_.partitions;
  for (NodeId a : from) {
    for (NodeId b : to) {
      if (a != b) SetCut(a, b, true);
    }
  }
}

void SimNetwork::Isolate(NodeId id) {
  ++stats_.partitions;
  for (const auto& [other, unused] : nodes_) {
    if (other == id) continue;
    SetCut(id, other, true);
    SetCut(other, id, true);
  }
}

void SimNetwork::Clog(NodeId from, NodeId to, Duration duration) {
  EDDY_CHECK_GE(duration, Duration::Zero());
  ++stats_.clogs;
  Link& state = link(from, to);
  state.clogged_until = std::max(state.clogged_until, world_.Now() + duration);
}

void SimNetwork::Flap(NodeId a, NodeId b, Duration half_period, Duration total) {
  EDDY_CHECK_GT(half_period, Duration::Zero());
  link(a, b);  // Checks both exist.
  FlapStep(a, b, half_period, world_.Now() + total, heal_epoch_);
}

void SimNetwork::FlapStep(NodeId a, NodeId b, Duration half_period, Instant end, uint64_t epoch) {
  if (epoch != heal_epoch_) return;  // HealAll() ended the flapping.
  if (world_.Now() >= end) {
    SetCut(a, b, false);
    SetCut(b, a, false);
    return;
  }
  const bool cut = !link(a, b).cut;
  SetCut(a, b, cut);
  SetCut(b, a, cut);
  ++stats_.flaps;
  world_.ScheduleAfter(half_period, [this, a, b, half_period, end, epoch] {
    FlapStep(a, b, half_period, end, epoch);
  });
}

void SimNetwork::ResetConnection(NodeId a, NodeId b, Duration reconnect_delay) {
  ++stats_.connection_resets;
  ResetLink(a, b);
  ResetLink(b, a);
  NotifyPeerState(a, b, false);
  NotifyPeerState(b, a, false);
  world_.ScheduleAfter(reconnect_delay, [this, a, b] {
    if (node(a).up && node(b).up) {
      NotifyPeerState(a, b, true);
      NotifyPeerState(b, a, true);
    }
  });
}

void SimNetwork::NotifyPeerState(NodeId at, NodeId peer, bool reachable) {
  NodeState& state = node(at);
  if (!state.up) return;
  state.clock->Post([this, at, peer, reachable, incarnation = state.incarnation] {
    NodeState& receiver = node(at);
    if (receiver.incarnation != incarnation || !receiver.transport->peer_state_handler) return;
    if (trace_ != nullptr) {
      trace_->Fold(world_.Now(), at, TraceEvent::kPeerState, (uint64_t{peer} << 1) | reachable);
    }
    receiver.transport->peer_state_handler(peer, reachable);
  });
}

void SimNetwork::HealPartitions() {
  for (auto& [ends, state] : links_) state.cut = false;
}

void SimNetwork::HealAll() {
  ++heal_epoch_;
  for (auto& [ends, state] : links_) {
    state.cut = false;
    state.clogged_until = Instant();
    state.override_options.reset();
  }
}

// ---- Clients ----

ConnectionId SimNetwork::ConnectClient(NodeId broker, ClientCallbacks callbacks) {
  EDDY_CHECK_LT(clients_.size(), kClientConnectionsOpenMax);
  const ConnectionId connection = next_connection_++;
  ++stats_.client_connections_opened;
  clients_.emplace(connection,
                   ClientConnection{.broker = broker, .callbacks = std::move(callbacks)});
  if (!nodes_.contains(broker) || !node(broker).up) {
    CloseConnection(connection, /*notify_broker=*/false, /*notify_client=*/true);
  }
  return connection;
}

std::vector<ConnectionId> SimNetwork::client_connections(NodeId broker) const {
  std::vector<ConnectionId> result;
  for (const auto& [connection, state] : clients_) {
    if (state.broker == broker) result.push_back(connection);
  }
  return result;
}

void SimNetwork::SendFromClient(ConnectionId connection, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  auto it = clients_.find(connection);
  if (it == clients_.end() || it->second.closing) return;  // closed, or closed by the broker
  ClientConnection& state = it->second;
  const NodeId broker = state.broker;
  const Instant now = world_.Now();
  const Instant arrival =
      std::max(now + client_latency_ + node(broker).extra_latency, state.last_arrival_at_broker);
  state.last_arrival_at_broker = arrival;
  world_.ScheduleAfter(
      arrival - now, [this, connection, broker, message = std::move(message)]() mutable {
        if (!clients_.contains(connection) || !node(broker).up) return;
        NodeState& receiver = node(broker);
        receiver.clock->Post([this, connection, broker, incarnation = receiver.incarnation,
                              message = std::move(message)]() mutable {
          NodeState& state = node(broker);
          if (state.incarnation != incarnation || !clients_.contains(connection)) return;
          if (!state.transport->client_handler) return;
          ++stats_.client_messages_delivered;
          if (trace_ != nullptr) {
            trace_->Fold(world_.Now(), broker, TraceEvent::kClientDelivered,
                         MixWord(connection, Digest64(message)));
          }
          state.transport->client_handler(connection, std::move(message));
        });
      });
}

void SimNetwork::SendToClient(NodeId from, ConnectionId connection, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  auto it = clients_.find(connection);
  if (it == clients_.end() || it->second.broker != from || it->second.closing) {
    return;  // Closed: dropped silently.
  }
  ClientConnection& state = it->second;
  const Instant now = world_.Now();
  const Instant arrival =
      std::max(now + client_latency_ + node(from).extra_latency, state.last_arrival_at_client);
  state.last_arrival_at_client = arrival;
  world_.ScheduleAfter(arrival - now, [this, connection, message = std::move(message)]() mutable {
    auto client = clients_.find(connection);
    if (client == clients_.end() || !client->second.callbacks.on_message) return;
    ++stats_.client_messages_delivered;
    if (trace_ != nullptr) {
      trace_->Fold(world_.Now(), runtime::kNoNode, TraceEvent::kClientDelivered,
                   MixWord(connection, Digest64(message)));
    }
    client->second.callbacks.on_message(std::move(message));
  });
}

void SimNetwork::CloseFromBroker(NodeId from, ConnectionId connection) {
  auto it = clients_.find(connection);
  if (it == clients_.end() || it->second.broker != from || it->second.closing) return;
  ClientConnection& state = it->second;
  state.closing = true;
  // After the replies in flight, as TCP's FIN follows the data.
  const Instant now = world_.Now();
  const Instant at =
      std::max(now + client_latency_ + node(from).extra_latency, state.last_arrival_at_client);
  world_.ScheduleAfter(at - now, [this, connection] {
    CloseConnection(connection, /*notify_broker=*/false, /*notify_client=*/true);
  });
}

void SimNetwork::CloseClient(ConnectionId connection) {
  CloseConnection(connection, /*notify_broker=*/true, /*notify_client=*/false);
}

void SimNetwork::ResetClient(ConnectionId connection) {
  if (!clients_.contains(connection)) return;
  ++stats_.client_connections_reset;
  CloseConnection(connection, /*notify_broker=*/true, /*notify_client=*/true);
}

void SimNetwork::CloseConnection(ConnectionId connection, bool notify_broker, bool notify_client) {
  auto it = clients_.find(connection);
  if (it == clients_.end()) return;
  ClientCallbacks callbacks = std::move(it->second.callbacks);
  const NodeId broker = it->second.broker;
  clients_.erase(it);
  if (notify_broker && nodes_.contains(broker) && node(broker).up) {
    NodeState& state = node(broker);
    state.clock->Post([this, broker, connection, incarnation = state.incarnation] {
      NodeState& receiver = node(broker);
      if (receiver.incarnation != incarnation || !receiver.transport->client_closed_handler) return;
      receiver.transport->client_closed_handler(connection);
    });
  }
  if (notify_client && callbacks.on_closed) {
    world_.Post([on_closed = std::move(callbacks.on_closed)]() mutable { on_closed(); });
  }
}

}  // namespace eddy::sim
