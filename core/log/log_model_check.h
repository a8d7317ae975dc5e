// Test-only: the model-based property of the partition log, parameterised over the disk.
//
// One call runs one RapidCheck case: a random sequence of appends (leader and follower), reads,
// suffix and prefix truncations, flushes (awaited or left in flight), clean reopens and — when the
// disk can crash — crashes followed by recovery, checked step by step against a model that is
// just a std::vector of the batches the log should hold. After a crash the log must hold every
// batch up to the flushed offset it reported before the crash, byte for byte, and beyond that
// only batches that were really appended at those offsets (nothing torn, nothing invented);
// offsets stay dense throughout, and Raft's view (TermAt, LastOffsetBefore, last term) always
// agrees with the model. One batch in five is hidden (a Raft no-op, with the driver's classifier
// in LogOptions), and HiddenCountBefore always agrees with the model (Kafka offsets as such are
// checked by partition_log_kafka_model_test).
//
// Must be called from inside a RapidCheck property (it draws with rc::gen).
#pragma once

#include <functional>
#include <memory>

#include "core/base/random.h"
#include "core/runtime/disk.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log::testing {

// The world one case runs in. The loop drives the disk's completions.
class ModelCheckWorld {
 public:
  virtual ~ModelCheckWorld() = default;
  virtual sim::SimLoop& loop() = 0;
  virtual runtime::Disk& disk() = 0;
  // Whether Crash() is supported (SimDisk yes, a real disk no).
  virtual bool can_crash() const = 0;
  virtual void Crash(const sim::CrashOptions& options, Random& random) = 0;
};

// Runs one case in a fresh world from `make_world`. With open_file_count_max > 0 the log shares
// a FileCache of that many files across its reopens (so segment files are evicted and reopened
// on demand all the time), and the case also checks that an idle log keeps at most that many
// files open; with 0 the log uses its private default.
void RunLogModelCase(const std::function<std::unique_ptr<ModelCheckWorld>()>& make_world,
                     size_t open_file_count_max = 0);

}  // namespace eddy::log::testing
