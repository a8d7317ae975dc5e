// The partition log against its model, on a SimDisk that crashes with torn tails: random
// sequences of appends, reads, truncations, flushes, reopens and crashes (see log_model_check.h
// for the checked properties). The same property runs on the real POSIX disk in
// tests/log/posix_log_model_test.cc. Budget: RapidCheck's default (100 cases); for a big run:
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

}  // namespace
}  // namespace eddy::log::testing
