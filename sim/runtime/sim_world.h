// SimWorld: one simulated cluster — a single SimLoop, one seed, a SimNetwork, and one SimRuntime
// (node view: clock, disk, transport, random) per broker — plus the process faults.
//
// Every source of nondeterminism is derived from `SimWorldOptions::seed`, in a fixed order at
// construction: the world's own generators (crash tearing, buggify site activation), the
// network's, then, per node in ascending id order, the node's seed (from which its Random per
// incarnation, its disk's fault generator and its buggify generator derive). Adding draws inside
// one node never shifts another node's streams.
//
// PROCESS FAULTS:
//   Crash(node)   power loss: the node's pending timers, disk completions and undelivered
//                 messages are destroyed (the clock goes down); its disk loses what was not
//                 durable, keeping a torn tail if asked; its transport handlers are destroyed,
//                 client connections closed, peers told it is unreachable. Until Restart(),
//                 anything the dead broker's leftovers submit is discarded unrun.
//   Restart(node) the node comes back with a fresh Random (new incarnation) over the same SimDisk;
//                 the owner then builds a new broker on node(id) (see SetLifecycleHandlers).
//   Pause/Resume  the node's events are held (SIGSTOP, a GC pause), then run in order.
//   SetSlow       extra latency on every disk operation and on every message to/from the node.
//   SetClockDrift / JumpClock  the node's local clock runs fast/slow, or leaps forward.
//   StepWallClock the node's wall clock steps either way (its random steps: WallClockOptions);
//                 the monotonic clock does not move.
//
// Fault calls must come from the world's own events or from outside the loop, never from inside
// the affected node's callbacks (a crash destroys the very handler that would be running).
//
// OWNERSHIP: owns everything it creates. Brokers built on node(id) must be destroyed before the
// world, and before their node is restarted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/random.h"
#include "core/runtime/transport.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/sim_loop.h"
#include "sim/network/link_options.h"
#include "sim/network/sim_network.h"
#include "sim/runtime/sim_client.h"
#include "sim/runtime/sim_runtime.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {

struct SimWorldOptions {
  uint64_t seed = 1;
  // Broker ids, each != kNoNode, distinct.
  std::vector<runtime::NodeId> nodes = {1, 2, 3};
  // Nodes (among `nodes`) that exist but are not started: powered off, unreachable, empty disk,
  // until Start(id) (e.g. brokers that join the cluster later).
  std::vector<runtime::NodeId> started_later = {};
  SimDiskOptions disk = {};  // fault_seed is replaced per node.
  // Each node's clock starts at a different local time, drawn in [0, clock_offset_max] from the
  // node's seed: monotonic clocks of different machines share no epoch, and code that compares
  // Instants across nodes (e.g. one sent in a message) should fail in simulation, not production.
  Duration clock_offset_max = Duration::Zero();
  // Every node's wall clock: the epoch, skews and random steps (none by default).
  WallClockOptions wall_clock = {};
  LinkOptions link = {};
  // Buggify: each call site is enabled for the whole run with `buggify_site_ppm`; an enabled
  // site fires with `buggify_fire_ppm` per call. Off unless `buggify` is set.
  bool buggify = false;
  uint32_t buggify_site_ppm = 250'000;
  uint32_t buggify_fire_ppm = 250'000;
};

// Counters of everything injected and detected, by name, for the runner's coverage report.
// Ordered, so it prints the same way every time.
using FaultCoverage = std::map<std::string, uint64_t>;
std::string FormatCoverage(const FaultCoverage& coverage);

class SimWorld {
 public:
  static constexpr size_t kNodesMax = SimNetwork::kNodesMax;
  static constexpr size_t kBuggifySitesMax = 4096;
  static constexpr size_t kClientsMax = 4096;
  static constexpr int32_t kDefaultPort = 9092;
  static constexpr uint64_t kClientSeedSalt = 0xc11e'7500ULL;

  explicit SimWorld(SimWorldOptions options);
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  SimLoop& loop() { return loop_; }
  SimNetwork& network() { return *network_; }
  TraceHash& trace() { return trace_; }
  Instant Now() const { return loop_.Now(); }
  uint64_t seed() const { return options_.seed; }

  const std::vector<runtime::NodeId>& node_ids() const { return options_.nodes; }
  SimRuntime& node(runtime::NodeId id);
  const SimRuntime& node(runtime::NodeId id) const;

  // Kafka clients in the world (sim_client.h), numbered from 0 in the order added.
  SimClient& AddClient();
  SimClient& client(uint32_t index);
  size_t client_count() const { return clients_.size(); }

  // Where each broker listens, as clients and Metadata name it: "node-<id>":9092 unless set.
  const runtime::Address& address(runtime::NodeId id) const;
  // REQUIRES: no other broker has `address`.
  void SetAddress(runtime::NodeId id, runtime::Address address);
  // The broker listening at `address`, if any.
  std::optional<runtime::NodeId> Resolve(const runtime::Address& address) const;

  // Called right after a crash (destroy the broker) and right after a restart (build a new
  // one). Optional; the fault injector relies on them.
  void SetLifecycleHandlers(absl::AnyInvocable<void(runtime::NodeId)> on_crash,
                            absl::AnyInvocable<void(runtime::NodeId)> on_restart);

  // First start of a node listed in `started_later`: like Restart(), but not a fault (not
  // counted) and not a new incarnation. REQUIRES: never started yet.
  void Start(runtime::NodeId id);
  // False only for a node in `started_later` that Start() has not started yet.
  bool started(runtime::NodeId id) const { return !not_started_.contains(id); }

  // Process faults. REQUIRES (Crash, Pause, Resume): node up. REQUIRES (Restart): node down.
  void Crash(runtime::NodeId id, const CrashOptions& crash = {});
  void Restart(runtime::NodeId id);
  void Pause(runtime::NodeId id);
  void Resume(runtime::NodeId id);
  void SetSlow(runtime::NodeId id, Duration extra_latency);
  void SetClockDrift(runtime::NodeId id, int64_t drift_ppm);
  void JumpClock(runtime::NodeId id, Duration forward);
  // Steps the node's wall clock by `delta`, either way (NTP, an operator).
  void StepWallClock(runtime::NodeId id, Duration delta);

  void SetBuggifyEnabled(bool enabled) { options_.buggify = enabled; }
  bool buggify_enabled() const { return options_.buggify; }

  // Everything injected so far: world process faults, network and summed disk counters, and
  // whatever Count() recorded.
  FaultCoverage Coverage() const;
  // Records one occurrence of a named fault or recovery event (for injectors and harnesses; the
  // event is folded into the trace too).
  void Count(const std::string& name, runtime::NodeId id = runtime::kNoNode) {
    CountFault(name, id);
  }

  // Shorthands for the loop.
  void RunFor(Duration duration) { loop_.RunFor(duration); }
  void RunUntil(Instant deadline) { loop_.RunUntil(deadline); }

 private:
  friend class SimRuntime;
  friend class SimClient;

  // Is `site` enabled for this run? Drawn once per site, on first use.
  bool BuggifySiteEnabled(const char* site);
  void CountFault(const std::string& name, runtime::NodeId id);

  SimWorldOptions options_;
  Random seeder_;  // Used only during construction, in the order documented above.
  SimLoop loop_;
  TraceHash trace_;
  std::unique_ptr<SimNetwork> network_;
  std::map<runtime::NodeId, std::unique_ptr<SimRuntime>> nodes_;
  std::map<runtime::NodeId, runtime::Address> addresses_;
  // After the network: destroyed before it.
  std::vector<std::unique_ptr<SimClient>> clients_;
  Random crash_random_;
  Random buggify_site_random_;
  std::map<std::string, bool> buggify_sites_;
  std::set<runtime::NodeId> not_started_;
  FaultCoverage counters_;
  absl::AnyInvocable<void(runtime::NodeId)> on_crash_;
  absl::AnyInvocable<void(runtime::NodeId)> on_restart_;
};

}  // namespace eddy::sim
