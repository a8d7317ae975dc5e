// FaultProfile: which fault kinds one simulation run enables, and how hard each one hits.
//
// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): instead of every run suffering every
// fault a little, each run draws, from its seed, a random subset of fault kinds at random
// intensities. Runs that leave a fault out explore deeper states the fault would have cut short;
// runs that crank one up stress it. DrawFaultProfile() enables each kind with probability 1/2 and
// draws its intensity uniformly in the kind's range. A zero rate / false flag means "off".
//
// Rates are parts per million (sim/base/rate.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/units.h"
#include "sim/clock/sim_wall_clock.h"

namespace eddy::sim {

struct FaultProfile {
  // ---- Network, per message.
  uint32_t loss_ppm = 0;           // 0–30 %
  uint32_t duplicate_ppm = 0;      // 0–50 %
  uint32_t corruption_ppm = 0;     // 0–10 %
  uint32_t latency_spike_ppm = 0;  // 0–5 %
  bool reorder = false;
  // How late a duplicate may arrive after the original (a replayed stale message): 10 ms–5 s.
  Duration duplicate_delay_max = Duration::Milliseconds(50);
  // Per-link variety: each directed link gets its own rates, uniform in [0, the rates above],
  // and its own latency ceiling, instead of every link sharing them.
  bool per_link_rates = false;
  // ---- Network topology, as scheduled actions.
  bool partitions = false;  // Symmetric, one-way, isolate-one.
  bool clogging = false;
  bool flapping = false;
  bool connection_resets = false;
  // ---- Processes, as scheduled actions.
  bool crashes = false;
  uint32_t torn_write_ppm = 0;  // Per crash: keep a torn unsynced tail. 80–100 % if crashes.
  // Per durable step (a replica's log flush that a hard-state save follows): crash the node
  // right there, between the two durable steps (FaultInjector::AimCrash). 0.1–2 % if on.
  uint32_t aimed_crash_ppm = 0;
  // As a scheduled action: every node crashes at the same instant (a power loss), beyond the
  // injector's unavailable_nodes_max; each restarts after its own downtime. Half the time if
  // crashes are on.
  bool power_losses = false;
  bool pauses = false;
  bool clock_jumps = false;
  int64_t clock_drift_ppm_max = 0;  // 0 = off; else drift drawn in ±this. Up to ±20 %.
  bool slow_nodes = false;
  // ---- Storage, per operation. Data-damaging kinds reach only the nodes the harness allows.
  uint32_t disk_latency_spike_ppm = 0;   // 0–5 %
  uint32_t read_corruption_ppm = 0;      // 0–1 %
  uint32_t write_corruption_ppm = 0;     // 0–1 %
  uint32_t misdirection_ppm = 0;         // 0–10 %
  uint32_t latent_sector_error_ppm = 0;  // 0–0.5 %
  uint32_t no_space_ppm = 0;             // 0–1 %
  uint32_t sync_failure_ppm = 0;         // 0–2 %
  // ---- Code paths.
  bool buggify = false;
  // ---- Schedule: fault phases alternate with healed phases (network clean, every node up).
  Duration fault_phase_min = Duration::Seconds(5);
  Duration fault_phase_max = Duration::Seconds(30);
  Duration healed_phase_min = Duration::Seconds(5);
  Duration healed_phase_max = Duration::Seconds(15);
  // Mean gap between scheduled actions (crash, partition, clog...) inside a fault phase.
  Duration action_interval_mean = Duration::Seconds(2);

  // Names of the enabled kinds, each with its intensity ("loss=12.5%"), in a fixed order.
  std::vector<std::string> EnabledKinds() const;
  // One line: "faults: loss=12.5% crashes(torn=91.0%) ..." or "faults: none".
  std::string ToString() const;
  bool AnyActionEnabled() const {
    return partitions || clogging || flapping || connection_resets || crashes || power_losses ||
           pauses || clock_jumps || clock_drift_ppm_max != 0 || slow_nodes;
  }
};

// Draws a profile from `random` (swarm: each kind on with probability 1/2).
FaultProfile DrawFaultProfile(Random& random);

// Wall-clock faults for a run with faults: each node's skew and its random steps, both ways,
// drawn from their own generator (the caller's seed and salt) so that adding them shifts no other
// fault's stream. Half the runs skew only; a few step by hours (an operator's mistake).
WallClockOptions DrawWallClockFaults(Random& random);

// The profile with every fault off (the schedule fields keep their defaults).
inline FaultProfile NoFaults() { return FaultProfile{}; }

}  // namespace eddy::sim
