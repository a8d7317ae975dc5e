// The runtime seam as a whole: everything a broker may use to reach the outside world.
//
// Broker code receives a Runtime& in its constructor and never touches sockets, files, clocks,
// threads or randomness any other way; that is what lets the same code run on real hardware
// (net::AsioRuntime) and inside the deterministic simulator (sim::SimRuntime).
//
// OWNERSHIP: the runtime outlives everything that holds a reference to it. All its parts belong
// to the same single-threaded loop.
#pragma once

#include "core/base/random.h"
#include "core/runtime/clock.h"
#include "core/runtime/disk.h"
#include "core/runtime/transport.h"
#include "core/runtime/wall_clock.h"

namespace eddy::runtime {

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Which broker this is.
  virtual NodeId self() const = 0;

  virtual Clock& clock() = 0;
  // Calendar time, for timestamps and time-based retention only (wall_clock.h).
  virtual WallClock& wall_clock() = 0;
  virtual Disk& disk() = 0;
  virtual Transport& transport() = 0;

  // This node's seeded generator: seeded from the OS once at start in the real world, derived
  // from the run's seed in the simulator. The only source of randomness broker code may use.
  virtual Random& random() = 0;

  // Fault-injection hook ("buggify", after FoundationDB), keyed by call site: true asks the caller
  // to take a rare but legal path right now (a shorter batch, an extra delay, an early flush, a
  // spurious retry) so the simulator exercises it. Always false outside the simulator. Call it as
  // EDDY_BUGGIFY(runtime) so the site is the call's "file:line". The answer must never be needed
  // for correctness: code must be correct whether it is true or false.
  virtual bool Buggify(const char* site) {
    static_cast<void>(site);
    return false;
  }
};

}  // namespace eddy::runtime

#define EDDY_BUGGIFY_STRINGIFY_(x) #x
#define EDDY_BUGGIFY_LINE_(x) EDDY_BUGGIFY_STRINGIFY_(x)
// True (rarely, only in simulation) when this call site should take its fault-prone path.
#define EDDY_BUGGIFY(runtime) ((runtime).Buggify(__FILE__ ":" EDDY_BUGGIFY_LINE_(__LINE__)))
