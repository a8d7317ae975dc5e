// SimNetwork: the simulated network between brokers, and between simulated clients and brokers.
//
// One SimNetwork per world. Each broker registers with AddNode() and gets a runtime::Transport
// view; messages between brokers travel as checksummed frames (FORMAT.md) over directed links
// whose behaviour is set by LinkOptions (latency distribution, loss, duplication, corruption,
// reordering) and by the topology faults below (cuts, partitions, clogs, flapping, connection
// resets). Corrupted frames are detected by decoding on the receiving side and dropped, never
// delivered; every detection is counted.
//
// TIMING: a message's flight happens on the world loop; when it arrives it is handed to the
// receiving node's clock (SimNodeClock) and decoded and delivered from there, so a paused node
// receives nothing until it resumes, and a crashed node loses what had arrived but not run.
//
// WHEN A MESSAGE IS DROPPED: at send, if the link is cut, the receiver is down, or the loss draw
// fires; at arrival, if the link is cut, the receiver is down, or the link was reset (or either
// end crashed) since the send; at delivery, if the frame fails its check or no handler is set.
//
// PEER STATE: handlers see (peer, false) / (peer, true) on ResetConnection(), and when a peer
// crashes (SetNodeUp(false)) or restarts (SetNodeUp(true)). A node (re)starting assumes every
// peer reachable. Cuts and partitions do NOT raise peer-state events: as with real TCP, silence
// is all a partitioned node observes.
//
// CLIENTS: ConnectClient() opens a connection from a simulated client (a world-level endpoint,
// not a node) to a broker. Client connections behave like TCP: reliable, ordered, with latency;
// their faults are resets (ResetClient) and the broker's crash, which close them. A broker may
// close one itself (Transport::CloseClient): the client hears it after the replies in flight.
// Partitions between brokers do not affect them.
//
// DETERMINISM: every draw comes from the network's own generator (seeded at construction) in an
// order fixed by the sequence of calls; every container iterated is ordered.
//
// OWNERSHIP: the world loop, every registered node clock, and the trace (if any) outlive the
// network. Single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/random.h"
#include "core/runtime/clock.h"
#include "core/runtime/transport.h"
#include "sim/clock/sim_node_clock.h"
#include "sim/loop/sim_loop.h"
#include "sim/network/link_options.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {

struct SimNetworkStats {
  uint64_t peer_messages_sent = 0;
  uint64_t peer_messages_delivered = 0;
  uint64_t lost = 0;                 // Loss draws that fired.
  uint64_t duplicated = 0;           // Extra copies injected.
  uint64_t corrupted = 0;            // Frames with a bit flipped in flight.
  uint64_t corruption_detected = 0;  // Frames the receiver rejected (must equal delivered
                                     // corrupted frames: none may slip through).
  uint64_t reordered = 0;            // Arrivals that overtook an earlier send on their link.
  uint64_t latency_spikes = 0;
  uint64_t clogged = 0;      // Messages held back by a clog.
  uint64_t dropped_cut = 0;  // Dropped because the link was cut (send or arrival).
  uint64_t dropped_node_down = 0;
  uint64_t dropped_reset = 0;  // In flight when the connection was reset.
  uint64_t dropped_no_handler = 0;
  uint64_t partitions = 0;  // Partition(), PartitionOneWay(), Isolate() calls.
  uint64_t link_cuts = 0;   // Directed links cut (by any of the above or CutLink).
  uint64_t flaps = 0;       // Link state toggles by Flap().
  uint64_t clogs = 0;       // Clog() calls.
  uint64_t connection_resets = 0;
  uint64_t client_messages_delivered = 0;  // Both directions.
  uint64_t client_connections_opened = 0;
  uint64_t client_connections_reset = 0;  // By ResetClient() or a broker crash.
};

class SimNetwork {
 public:
  static constexpr size_t kNodesMax = 256;
  static constexpr size_t kInFlightMessagesMax = size_t{1} << 20;
  static constexpr size_t kClientConnectionsOpenMax = size_t{1} << 16;

  struct ClientCallbacks {
    // A broker's reply arrived. Runs on the world loop.
    absl::AnyInvocable<void(std::vector<uint8_t> message)> on_message = nullptr;
    // The connection closed under the client (reset, broker crash, refused). Runs on the world
    // loop, once; never after CloseClient().
    absl::AnyInvocable<void()> on_closed = nullptr;
  };

  SimNetwork(SimLoop& world, uint64_t seed, TraceHash* trace = nullptr);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Registers a broker, up (or down, silently: nobody is notified). Deliveries to it run on
  // `node_clock`. REQUIRES: node != kNoNode, not registered yet, fewer than kNodesMax nodes.
  void AddNode(runtime::NodeId node, runtime::Clock& node_clock, bool up = true);
  // The same for a simulated node's own clock (what SimWorld registers): an arriving message is
  // then delivered in the arrival's world event when the node is idle (SimNodeClock::RunOrPost)
  // rather than in a second one.
  void AddNode(runtime::NodeId node, SimNodeClock& node_clock, bool up = true);
  runtime::Transport& transport(runtime::NodeId node);

  // Crash (false) / restart (true). Down: every link touching the node drops what is in flight,
  // its handlers are destroyed (the broker that installed them is gone), its client connections
  // close. REQUIRES: not called from inside one of that node's handlers.
  void SetNodeUp(runtime::NodeId node, bool up);
  bool node_up(runtime::NodeId node) const;
  // A slow node: added to every message's latency to and from it.
  void SetNodeExtraLatency(runtime::NodeId node, Duration extra);

  // Link behaviour: a default for every link, overridable per directed link.
  void SetDefaultLinkOptions(const LinkOptions& options);
  void SetLinkOptions(runtime::NodeId from, runtime::NodeId to, const LinkOptions& options);
  void ClearLinkOverrides();
  const LinkOptions& link_options(runtime::NodeId from, runtime::NodeId to) const;
  // Latency of client connections, each direction (plus the broker's extra latency).
  void SetClientLatency(Duration latency) { client_latency_ = latency; }

  // Topology faults.
  void CutLink(runtime::NodeId from, runtime::NodeId to);
  void RestoreLink(runtime::NodeId from, runtime::NodeId to);
  // Cuts every link between the two sides, both ways.
  void Partition(const std::vector<runtime::NodeId>& side_a,
                 const std::vector<runtime::NodeId>& side_b);
  // Cuts only the links from `from` to `to` (asymmetric: the other way still works).
  void PartitionOneWay(const std::vector<runtime::NodeId>& from,
                       const std::vector<runtime::NodeId>& to);
  // Cuts every link to and from `node`.
  void Isolate(runtime::NodeId node);
  bool link_cut(runtime::NodeId from, runtime::NodeId to) const;
  // Messages sent from -> to during the next `duration` are held and released when it ends.
  void Clog(runtime::NodeId from, runtime::NodeId to, Duration duration);
  // Toggles the link between a and b (both ways) every `half_period` for `total`, then leaves it
  // up. A later HealAll() stops it.
  void Flap(runtime::NodeId a, runtime::NodeId b, Duration half_period, Duration total);
  // Breaks the connection between a and b: in-flight messages both ways are lost, both sides see
  // the peer unreachable, then reachable again `reconnect_delay` later.
  void ResetConnection(runtime::NodeId a, runtime::NodeId b,
                       Duration reconnect_delay = Duration::Milliseconds(1));
  // Restores every cut link (partitions, isolations, CutLink); clogs, flaps and overrides stay.
  void HealPartitions();
  // Restores every cut link, ends clogs and flaps, removes per-link overrides. Leaves the
  // default link options (the caller sets them) and nodes' up/down state alone.
  void HealAll();

  // Clients. A connection to a down or unknown broker is refused: on_closed follows.
  runtime::ConnectionId ConnectClient(runtime::NodeId broker, ClientCallbacks callbacks);
  // Dropped if the connection is closed.
  void SendFromClient(runtime::ConnectionId connection, std::vector<uint8_t> message);
  // Client-side close: the broker's ClientClosedHandler runs; the client's on_closed does not.
  void CloseClient(runtime::ConnectionId connection);
  // Network-side reset: both the broker's ClientClosedHandler and the client's on_closed run.
  void ResetClient(runtime::ConnectionId connection);
  size_t open_client_connections() const { return clients_.size(); }
  // Open connections to `broker`, ascending.
  std::vector<runtime::ConnectionId> client_connections(runtime::NodeId broker) const;

  size_t in_flight() const { return in_flight_; }
  const SimNetworkStats& stats() const { return stats_; }

 private:
  class NodeTransport;
  struct NodeState;
  struct Link {
    bool cut = false;
    std::unique_ptr<LinkOptions> override_options;
    Instant clogged_until;
    Instant last_arrival;     // FIFO when !reorder.
    uint64_t generation = 0;  // Bumped on reset/crash: in-flight messages of older ones die.
    uint64_t next_sequence = 0;
    uint64_t highest_arrived_sequence = 0;  // For the reorder counter; 0 = none yet.
  };
  struct ClientConnection {
    runtime::NodeId broker = runtime::kNoNode;
    ClientCallbacks callbacks = {};
    Instant last_arrival_at_broker = Instant();
    Instant last_arrival_at_client = Instant();
    bool closing = false;  // the broker closed it; the client hears after the replies in flight
  };

  NodeState& node(runtime::NodeId node);
  const NodeState& node(runtime::NodeId node) const;
  Link& link(runtime::NodeId from, runtime::NodeId to);
  const Link& link(runtime::NodeId from, runtime::NodeId to) const;

  void SendPeer(runtime::NodeId from, runtime::NodeId to, std::vector<uint8_t> message);
  void Launch(runtime::NodeId from, runtime::NodeId to, std::vector<uint8_t> frame, bool duplicate);
  void Arrive(runtime::NodeId from, runtime::NodeId to, uint64_t generation, uint64_t sequence,
              std::vector<uint8_t> frame);
  void Deliver(runtime::NodeId from, runtime::NodeId to, std::vector<uint8_t> frame);
  void Drop(runtime::NodeId from, runtime::NodeId to, uint64_t& counter);
  void SetCut(runtime::NodeId from, runtime::NodeId to, bool cut);
  void ResetLink(runtime::NodeId from, runtime::NodeId to);
  void NotifyPeerState(runtime::NodeId at, runtime::NodeId peer, bool reachable);
  void FlapStep(runtime::NodeId a, runtime::NodeId b, Duration half_period, Instant end,
                uint64_t epoch);

  void SendToClient(runtime::NodeId from, runtime::ConnectionId connection,
                    std::vector<uint8_t> message);
  // The broker's close (Transport::CloseClient).
  void CloseFromBroker(runtime::NodeId from, runtime::ConnectionId connection);
  // Removes the connection; notifies the broker (if up and `notify_broker`) and the client (if
  // `notify_client`).
  void CloseConnection(runtime::ConnectionId connection, bool notify_broker, bool notify_client);

  SimLoop& world_;
  Random random_;
  TraceHash* const trace_;
  LinkOptions default_options_;
  Duration client_latency_ = Duration::Microseconds(200);
  std::map<runtime::NodeId, std::unique_ptr<NodeState>> nodes_;
  // The same states by id, for ids below kSmallIdsMax (lookups only; never iterated).
  static constexpr runtime::NodeId kSmallIdsMax = 1024;
  std::vector<NodeState*> node_by_small_id_;
  std::map<std::pair<runtime::NodeId, runtime::NodeId>, Link> links_;
  std::map<runtime::ConnectionId, ClientConnection> clients_;
  runtime::ConnectionId next_connection_ = 1;
  uint64_t heal_epoch_ = 0;  // Bumped by HealAll(); pending flap steps of older epochs stop.
  size_t in_flight_ = 0;
  SimNetworkStats stats_;
};

}  // namespace eddy::sim
