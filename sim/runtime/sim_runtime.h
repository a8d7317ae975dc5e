// SimRuntime: one simulated broker's view of the world — the runtime seam implemented by the
// simulator. Its clock is the node's SimNodeClock (drift, jumps, pauses, crash drops), its wall
// clock a SimWallClock over it (skew, steps both ways), its disk a
// SimDisk that outlives crashes, its transport the node's view of the SimNetwork, its Random a
// generator derived from the world seed for this node and this incarnation.
//
// Created and owned by SimWorld; stable across crashes and restarts, so a broker rebuilt after a
// restart is handed the same object. Everything that could differ between incarnations is reset
// by SimWorld::Restart().
#pragma once

#include <cstdint>

#include "core/base/random.h"
#include "core/runtime/runtime.h"
#include "sim/clock/sim_node_clock.h"
#include "sim/clock/sim_wall_clock.h"
#include "sim/disk/sim_disk.h"

namespace eddy::sim {

class SimWorld;

class SimRuntime final : public runtime::Runtime {
 public:
  SimRuntime(SimWorld& world, runtime::NodeId self, uint64_t node_seed);
  SimRuntime(const SimRuntime&) = delete;
  SimRuntime& operator=(const SimRuntime&) = delete;

  runtime::NodeId self() const override { return self_; }
  runtime::Clock& clock() override { return clock_; }
  runtime::WallClock& wall_clock() override { return wall_clock_; }
  runtime::Disk& disk() override { return disk_; }
  runtime::Transport& transport() override;
  Random& random() override { return random_; }
  // True only in a world with buggify enabled, at a site enabled for this run, with the site's
  // firing probability drawn from this node's own buggify generator.
  bool Buggify(const char* site) override;

  // Simulator access.
  SimNodeClock& node_clock() { return clock_; }
  SimWallClock& sim_wall_clock() { return wall_clock_; }
  SimDisk& sim_disk() { return disk_; }
  const SimDisk& sim_disk() const { return disk_; }
  bool up() const { return !clock_.down(); }
  bool paused() const { return clock_.paused(); }
  // 0 for the first life, +1 per restart.
  uint64_t incarnation() const { return incarnation_; }
  uint64_t buggify_fired() const { return buggify_fired_; }

 private:
  friend class SimWorld;

  // Starts incarnation `incarnation_`: a fresh generator, derived, never reused.
  void Reincarnate();

  SimWorld& world_;
  const runtime::NodeId self_;
  const uint64_t node_seed_;
  uint64_t incarnation_ = 0;
  SimNodeClock clock_;
  // The host's, not the process's: it keeps its skew and steps across crashes.
  SimWallClock wall_clock_;
  SimDisk disk_;
  Random random_;
  Random buggify_random_;
  uint64_t buggify_fired_ = 0;
};

}  // namespace eddy::sim
