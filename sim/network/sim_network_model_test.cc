// Property test: SimNetwork against a model of which messages must arrive. With fixed latency
// (1.5 ms, FIFO) and no random faults, random sequences of sends, link cuts and restores,
// connection resets, crashes and restarts are applied at 1 ms steps (never tied with an arrival)
// to both the network and the model. The model delivers a message iff, at send, both ends are
// up and the link is not cut, and, at arrival, the receiver is up, the link is not cut, and
// neither a reset nor a crash of either end happened in between. The sequence of messages each
// node receives must equal the model's exactly. Budget: RC_PARAMS="max_success=N".
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/clock/sim_node_clock.h"
#include "sim/loop/sim_loop.h"
#include "sim/network/sim_network.h"

namespace eddy::sim {
namespace {

using runtime::NodeId;
using Op = std::tuple<uint8_t, uint8_t, uint8_t>;  // (kind, a, b)
using Link = std::pair<NodeId, NodeId>;

constexpr NodeId kNodes = 3;
const Duration kLatency = Duration::Microseconds(1500);

struct InFlight {
  Instant arrival;
  Link link;
  uint64_t generation;
  uint64_t id;
};

struct Model {
  std::map<Link, bool> cut;
  std::map<Link, uint64_t> generation;
  std::map<NodeId, bool> up;
  std::vector<InFlight> in_flight;  // In send order = arrival order (fixed latency).
  std::map<NodeId, std::vector<uint64_t>> received;

  void ArriveBefore(Instant time) {
    while (!in_flight.empty() && in_flight.front().arrival < time) {
      const InFlight m = in_flight.front();
      in_flight.erase(in_flight.begin());
      if (m.generation == generation[m.link] && up[m.link.second] && !cut[m.link]) {
        received[m.link.second].push_back(m.id);
      }
    }
  }
  void Reset(NodeId a, NodeId b) {
    ++generation[{a, b}];
    ++generation[{b, a}];
  }
};

std::vector<uint8_t> Payload(uint64_t id) {
  std::vector<uint8_t> bytes(8);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(id >> (8 * i));
  return bytes;
}

uint64_t IdOf(const std::vector<uint8_t>& bytes) {
  uint64_t id = 0;
  for (int i = 0; i < 8; ++i) id |= uint64_t{bytes[i]} << (8 * i);
  return id;
}

RC_GTEST_PROP(SimNetworkModel, DeliversExactlyWhatTheModelSays,
              (const std::vector<Op>& ops, uint64_t seed)) {
  SimLoop world;
  SimNetwork network(world, seed);
  network.SetDefaultLinkOptions({.latency_min = kLatency, .latency_max = kLatency});
  std::map<NodeId, std::unique_ptr<SimNodeClock>> clocks;
  std::map<NodeId, std::vector<uint64_t>> received;
  Model model;
  auto install = [&](NodeId id) {
    network.transport(id).SetPeerHandler(
        [&received, id](NodeId, std::vector<uint8_t> m) { received[id].push_back(IdOf(m)); });
  };
  for (NodeId id = 1; id <= kNodes; ++id) {
    clocks[id] = std::make_unique<SimNodeClock>(world, id);
    network.AddNode(id, *clocks[id]);
    install(id);
    model.up[id] = true;
  }
  uint64_t next_id = 0;
  for (size_t step = 0; step < ops.size(); ++step) {
    const Instant now = Instant() + Duration::Milliseconds(static_cast<int64_t>(step)) +
                        Duration::Microseconds(250);
    world.RunUntil(now);
    model.ArriveBefore(now);
    const auto& [kind, a_raw, b_raw] = ops[step];
    const NodeId a = 1 + a_raw % kNodes;
    const NodeId b = 1 + b_raw % kNodes;
    switch (kind % 8) {
      case 0:
      case 1:
      case 2:
        if (a == b) break;
        network.transport(a).SendToPeer(b, Payload(next_id));
        if (model.up[a] && model.up[b] && !model.cut[{a, b}]) {
          model.in_flight.push_back({now + kLatency, {a, b}, model.generation[{a, b}], next_id});
        }
        ++next_id;
        break;
      case 3:
        if (a == b) break;
        network.CutLink(a, b);
        model.cut[{a, b}] = true;
        break;
      case 4:
        if (a == b) break;
        network.RestoreLink(a, b);
        model.cut[{a, b}] = false;
        break;
      case 5:
        if (a == b) break;
        network.ResetConnection(a, b);
        model.Reset(a, b);
        break;
      case 6:
        if (!model.up[a]) break;
        network.SetNodeUp(a, false);
        clocks[a]->SetDown(true);
        model.up[a] = false;
        for (NodeId other = 1; other <= kNodes; ++other) {
          if (other != a) model.Reset(a, other);
        }
        break;
      case 7:
        if (model.up[a]) break;
        clocks[a]->SetDown(false);
        network.SetNodeUp(a, true);
        install(a);
        model.up[a] = true;
        break;
    }
  }
  world.RunUntilIdle();
  model.ArriveBefore(Instant() + Duration::Seconds(3600));
  for (NodeId id = 1; id <= kNodes; ++id) RC_ASSERT(received[id] == model.received[id]);
  RC_ASSERT(network.in_flight() == 0u);
}

}  // namespace
}  // namespace eddy::sim
