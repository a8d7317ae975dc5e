// The partition log against its model, on a SimDisk that crashes with torn tails: random
// sequences of appends, reads, truncations, flushes, reopens and crashes (see log_model_check.h
// for the checked properties). The same property runs on the real POSIX disk in
// tests/log/posix_log_model_test.cc. A second property runs it with a FileCache of one or two
// files, so segment files are closed and reopened on demand throughout. Budget: RapidCheck's default (100 cases); for a big run:
//   RC_PARAMS="max_success=10000" bazel test //core/log:partition_log_model_test

#include <memory>

#include "core/log/log_model_check.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log::testing {
namespace {

class SimWorld final : public ModelCheckWorld {
 public:
  sim::SimLoop& loop() override { return loop_; }
  runtime::Disk& disk() override { return disk_; }
  bool can_crash() const override { return true; }
  void Crash(const sim::CrashOptions& options, Random& random) override {
    disk_.Crash(options, random);
  }

 private:
  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
};

RC_GTEST_PROP(PartitionLogModel, SimDiskWithCrashes, ()) {
  RunLogModelCase([] { return std::make_unique<SimWorld>(); });
}

// The same with a budget of one or two open files: every read of an older segment, every
// append after a flush and every truncation reopens a file the cache closed.
RC_GTEST_PROP(PartitionLogModel, SimDiskWithCrashesAndTinyFileBudget, ()) {
  const size_t open_file_count_max = *rc::gen::inRange<size_t>(1, 3);
  RunLogModelCase([] { return std::make_unique<SimWorld>(); }, open_file_count_max);
}

}  // namespace
}  // namespace eddy::log::testing
