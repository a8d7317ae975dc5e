// SimClient: a Kafka client's endpoint in the simulated world — the client side of the seam
// (core/runtime/connector.h) implemented by the simulator.
//
// Each client has its own SimNodeClock (so a client's timers and handlers interleave with the
// brokers' deterministically), its own SimWallClock (skewed and stepped like a node's), and a
// Random derived from the world seed and the client's index alone: adding a client shifts no
// broker's or other client's stream. Its connections are SimNetwork client connections: reliable,
// ordered, with latency; closed by a reset or the broker's crash. Replies and closes reach the
// client on its own clock, in arrival order; after Close() nothing of that connection runs.
//
// Addresses resolve through the world's table (SimWorld::address): an address no broker has,
// or a broker that is down, is refused.
//
// OWNERSHIP: created and owned by SimWorld (AddClient); lives as long as the world.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/base/random.h"
#include "core/runtime/connector.h"
#include "sim/clock/sim_node_clock.h"
#include "sim/clock/sim_wall_clock.h"

namespace eddy::sim {

class SimWorld;

class SimClient final : public runtime::ClientRuntime, private runtime::Connector {
 public:
  // Clients' clocks are traced under ids from here up (brokers' ids are far below).
  static constexpr uint32_t kTraceIdBase = 0x4000'0000;

  SimClient(SimWorld& world, uint32_t index, uint64_t seed);
  SimClient(const SimClient&) = delete;
  SimClient& operator=(const SimClient&) = delete;

  runtime::Clock& clock() override { return clock_; }
  runtime::WallClock& wall_clock() override { return wall_clock_; }
  runtime::Connector& connector() override { return *this; }
  Random& random() override { return random_; }

  uint32_t index() const { return index_; }
  SimNodeClock& node_clock() { return clock_; }
  SimWallClock& sim_wall_clock() { return wall_clock_; }
  size_t open_connections() const { return connections_.size(); }

 private:
  runtime::ConnectionId Connect(const runtime::Address& address, Handlers handlers) override;
  void Send(runtime::ConnectionId connection, std::vector<uint8_t> message) override;
  void Close(runtime::ConnectionId connection) override;

  struct Connection {
    runtime::Address address;
    Handlers handlers;
  };
  void Deliver(runtime::ConnectionId connection, std::vector<uint8_t> message);
  void Closed(runtime::ConnectionId connection);

  SimWorld& world_;
  const uint32_t index_;
  SimNodeClock clock_;
  SimWallClock wall_clock_;
  Random random_;
  std::map<runtime::ConnectionId, Connection> connections_;
};

}  // namespace eddy::sim
