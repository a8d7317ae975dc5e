// FaultInjector: drives a SimWorld through a FaultProfile's schedule.
//
// At the start of each FAULT phase it turns the profile's per-message network faults and
// per-operation storage faults on, and from then on, at random intervals (uniform in
// [0, 2 × action_interval_mean]), takes one action drawn among the profile's enabled kinds:
// crash a node (restarted after a drawn downtime), lose power (crash every node at once,
// beyond unavailable_nodes_max), pause one (resumed later), partition
// (symmetric split, one-way split, or isolate-one; healed later), clog a link, flap a link,
// reset a connection (between brokers, or a client's), jump a clock, drift a clock, slow a
// node. At the start of each HEALED phase it undoes everything: network clean and whole, disks
// without faults, every node restarted and resumed, clocks without drift, no slow nodes.
// healed() tells liveness checkers where they are.
//
// CONSTRAINTS the harness sets (FaultInjectorOptions):
//   * storage_fault_nodes: only these nodes' disks get data-damaging faults (corruption,
//     misdirection, latent sector errors), so the harness can keep at least one replica of every
//     committed record valid. Latency, ENOSPC and fsync failures reach every node.
//   * unavailable_nodes_max: at most this many nodes crashed or paused at once (default 1:
//     a 3-node group keeps its quorum of processes). Nodes not started yet (SimWorld's
//     `started_later`) do not count, and healing does not start them.
//
// Restarts go through SimWorld::Restart(), which calls the world's lifecycle handlers: the
// harness rebuilds its broker there.
//
// DETERMINISM: all draws come from the injector's own generator; every action is a world-loop
// event. Actions scheduled in one phase are void in the next (phase epochs).
//
// OWNERSHIP: the world outlives the injector. Destroying the injector cancels its pending events.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/random.h"
#include "core/runtime/transport.h"
#include "sim/faults/fault_profile.h"
#include "sim/faults/fault_schedule.h"
#include "sim/network/link_options.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim {

struct FaultInjectorOptions {
  std::set<runtime::NodeId> storage_fault_nodes = {};
  size_t unavailable_nodes_max = 1;
  // Latency of a clean link (healed phases, and the base under faults).
  LinkOptions clean_link = {};
  // How long a crashed node stays down / a paused node stays paused / a partition lasts.
  Duration downtime_min = Duration::Milliseconds(100);
  Duration downtime_max = Duration::Seconds(5);
};

class FaultInjector {
 public:
  static constexpr size_t kLogEntriesMax = 4096;  // Oldest entries are dropped beyond this.
  // Phase starts plus at most a few undo actions per action; far below this.
  static constexpr size_t kPendingEventsMax = 1 << 16;

  FaultInjector(SimWorld& world, FaultProfile profile, std::vector<FaultPhase> schedule,
                FaultInjectorOptions options, uint64_t seed);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Schedules every phase transition on the world loop. Call once, before running the loop.
  void Start();

  // Called at the start of every phase, after the injector applied it (e.g. a liveness checker
  // arms its deadline when a healed phase begins).
  void SetPhaseHandler(absl::AnyInvocable<void(const FaultPhase&)> handler) {
    phase_handler_ = std::move(handler);
  }

  // A durable step just completed on `node` (the harness calls this between a log flush and
  // the hard-state save after it): in a fault phase of a profile with crashes, with probability
  // aimed_crash_ppm and within the unavailability budget, crashes the node at this instant (in
  // a world event of its own, since the caller is inside the node's code), as a drawn crash
  // would. Returns whether a crash was scheduled.
  bool AimCrash(runtime::NodeId node);
  // The same at a rate and after a delay the harness chooses, for windows a run meets only a
  // few times (a replica's removal in progress, a fresh replica's first save), where the
  // profile's per-call rate would almost never fire. Still only in fault phases of a profile
  // with aimed crashes, within the budget. REQUIRES: ppm <= kPpm, delay >= 0.
  bool AimCrash(runtime::NodeId node, uint32_t ppm, Duration delay);

  bool healed() const { return healed_; }
  // Start of the current healed phase. REQUIRES: healed().
  Instant healed_since() const;
  const FaultProfile& profile() const { return profile_; }
  const std::vector<FaultPhase>& schedule() const { return schedule_; }
  // Human-readable record of every injected action ("@1234ms crash node 2 (torn)").
  const std::deque<std::string>& log() const { return log_; }
  uint64_t actions_taken() const { return actions_taken_; }

 private:
  enum class Action {
    kCrash,
    kPause,
    kPartition,
    kClog,
    kFlap,
    kReset,
    kJump,
    kDrift,
    kSlow,
    kPowerLoss,
  };

  void BeginPhase(size_t index);
  void ApplyFaultConditions();
  void Heal();
  void ScheduleNextAction(uint64_t epoch);
  void TakeAction(uint64_t epoch);
  std::vector<Action> EnabledActions() const;
  // Runs `work` on the world loop after `delay`; tracked so the destructor can cancel it.
  void After(Duration delay, absl::AnyInvocable<void()> work);
  // Undo later, unless the phase changed meanwhile.
  void Later(Duration delay, uint64_t epoch, absl::AnyInvocable<void()> undo);
  Duration DrawDowntime();
  runtime::NodeId DrawNode();
  // A node that is up and unpaused, or kNoNode if the unavailability budget is spent.
  runtime::NodeId DrawNodeToTakeDown();
  size_t unavailable_count() const;
  void Log(std::string entry);

  void Reset();
  void Crash(uint64_t epoch);
  // Crashes every running node at once (FaultProfile::power_losses).
  void PowerLoss(uint64_t epoch);
  void CrashNode(runtime::NodeId id, uint64_t epoch);
  void Pause(uint64_t epoch);
  void Partition(uint64_t epoch);

  SimWorld& world_;
  const FaultProfile profile_;
  const std::vector<FaultPhase> schedule_;
  const FaultInjectorOptions options_;
  Random random_;
  bool started_ = false;
  bool healed_ = true;
  size_t phase_index_ = 0;
  uint64_t epoch_ = 0;  // Bumped at every phase change.
  uint64_t actions_taken_ = 0;
  std::deque<std::string> log_;
  absl::AnyInvocable<void(const FaultPhase&)> phase_handler_;
  // World-loop events not yet run, by token (tokens ascend; the map is only looked up and
  // cleared, so its order never reaches the run).
  std::map<uint64_t, runtime::TimerId> pending_;
  uint64_t next_token_ = 1;
};

}  // namespace eddy::sim
