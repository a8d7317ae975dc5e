// TrafficCluster: a whole simulated run without real brokers — a SimWorld with one TrafficNode
// per broker (rebuilt after every restart), a simulated client that keeps a connection to a
// random broker and sends it requests, and, optionally, a FaultInjector driving a swarm profile
// drawn from the seed. It is the simulator's self-test: everything the world can do, exercised
// together, reduced to a trace hash and coverage counters that must replay bit for bit.
//
// Seeds: the world gets `seed`; the fault profile, schedule and injector draw from generators
// forked from Random(seed ^ kFaultSeedSalt), so the world's streams do not depend on whether
// faults are on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/faults/fault_injector.h"
#include "sim/faults/fault_profile.h"
#include "sim/runtime/sim_world.h"
#include "sim/workload/traffic_node.h"

namespace eddy::sim {

struct TrafficClusterOptions {
  uint64_t seed = 1;
  std::vector<runtime::NodeId> nodes = {1, 2, 3};
  Duration run_duration = Duration::Seconds(60);
  bool faults = true;  // Draw a swarm profile from the seed and inject it.
  // Nodes whose disks may get data-damaging faults; default: all but the lowest id.
  std::vector<runtime::NodeId> storage_fault_nodes = {};
  bool default_storage_fault_nodes = true;
};

struct TrafficRunResult {
  uint64_t trace_hash = 0;
  uint64_t events = 0;
  Instant end;
  std::string profile;   // FaultProfile::ToString(), or "faults: none".
  std::string schedule;  // FormatSchedule().
  FaultCoverage coverage;
  TrafficNodeStats totals;  // Summed over every node and incarnation.
  uint64_t client_replies = 0;
  uint64_t client_connections = 0;
};

class TrafficCluster {
 public:
  static constexpr uint64_t kFaultSeedSalt = 0xfa017'5eedULL;
  static constexpr size_t kClientRequestsInFlightMax = 16;

  explicit TrafficCluster(TrafficClusterOptions options);
  ~TrafficCluster();

  // Runs to the end of run_duration and summarises.
  TrafficRunResult Run();

  SimWorld& world() { return *world_; }
  FaultInjector* injector() { return injector_.get(); }

 private:
  void StartNode(runtime::NodeId id);
  void StopNode(runtime::NodeId id);
  void Accumulate(const TrafficNodeStats& stats);
  void ClientStep();
  void ConnectClient();

  TrafficClusterOptions options_;
  std::unique_ptr<SimWorld> world_;
  std::unique_ptr<FaultInjector> injector_;
  std::string profile_text_;
  std::string schedule_text_;
  std::map<runtime::NodeId, std::unique_ptr<TrafficNode>> nodes_;
  TrafficNodeStats totals_;
  Random client_random_;
  runtime::ConnectionId connection_ = 0;
  bool connected_ = false;
  size_t client_in_flight_ = 0;
  uint64_t client_replies_ = 0;
  uint64_t client_connections_ = 0;
  runtime::TimerId client_timer_ = runtime::kNoTimer;
};

}  // namespace eddy::sim
