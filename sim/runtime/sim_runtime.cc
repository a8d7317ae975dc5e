#include "sim/runtime/sim_runtime.h"

#include "core/base/check.h"
#include "sim/base/rate.h"
#include "sim/runtime/sim_world.h"
#include "sim/trace/digest.h"

namespace eddy::sim {
namespace {

SimDiskOptions DiskOptionsFor(SimDiskOptions options, uint64_t node_seed) {
  options.fault_seed = MixWord(node_seed, 0xd15c);
  return options;
}

// Where the node's monotonic clock starts (SimWorldOptions::clock_offset_max).
Duration ClockOffset(Duration offset_max, uint64_t node_seed) {
  EDDY_CHECK_GE(offset_max.nanoseconds(), 0);
  if (offset_max == Duration::Zero()) return Duration::Zero();
  Random offset_random(MixWord(node_seed, 0x0ff5e7));
  return Duration::Nanoseconds(offset_random.UniformInRange(0, offset_max.nanoseconds()));
}

}  // namespace

SimRuntime::SimRuntime(SimWorld& world, runtime::NodeId self, uint64_t node_seed)
    : world_(world),
      self_(self),
      node_seed_(node_seed),
      clock_(world.loop_, self, &world.trace_),
      wall_clock_(clock_, clock_.Now() + ClockOffset(world.options_.clock_offset_max, node_seed),
                  world.options_.wall_clock, MixWord(node_seed, 0x3a11c10c),
                  [this](Duration) { world_.CountFault("process.wall_clock_step", self_); }),
      disk_(clock_, DiskOptionsFor(world.options_.disk, node_seed)),
      random_(MixWord(node_seed, 0)),
      buggify_random_(MixWord(node_seed, 0xb06)) {
  EDDY_CHECK_NE(self, runtime::kNoNode);
  disk_.SetTrace(&world.trace_, self, &world.loop_);
  const Duration offset = ClockOffset(world.options_.clock_offset_max, node_seed);
  if (world.options_.clock_offset_max > Duration::Zero()) clock_.Jump(offset);
}

runtime::Transport& SimRuntime::transport() { return world_.network().transport(self_); }

void SimRuntime::Reincarnate() {
  ++incarnation_;
  // Incarnation k's generator: a pure function of (node seed, k), independent of how many draws
  // earlier incarnations made.
  random_ = Random(MixWord(node_seed_, incarnation_ * 2 + 1));
}

bool SimRuntime::Buggify(const char* site) {
  EDDY_CHECK(site != nullptr);
  if (!world_.buggify_enabled() || !up()) return false;
  if (!world_.BuggifySiteEnabled(site)) return false;
  if (!DrawPpm(buggify_random_, world_.options_.buggify_fire_ppm)) return false;
  ++buggify_fired_;
  world_.CountFault("buggify.fired", self_);
  return true;
}

}  // namespace eddy::sim
