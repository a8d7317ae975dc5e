// The checkers work: each classic driver bug, planted behind DriverOptions::bug (a test-only
// switch), must be caught — some safety property reported violated — within 200 seeds of the
// sweep's configuration. The test runs seeds in order until the first violation and reports
// which seed and which property caught the bug. A bug no seed catches fails the test.
#include <string>

#include "gtest/gtest.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/sweep/sweep_options.h"

namespace eddy::sim::cluster {
namespace {

using raft::driver::DriverBug;

constexpr uint64_t kSeedsMax = 200;

class PlantedBugTest : public testing::TestWithParam<DriverBug> {};

TEST_P(PlantedBugTest, CaughtWithinTwoHundredSeeds) {
  const DriverBug bug = GetParam();
  for (uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    ClusterOptions options = SweepOptions(seed);
    options.bug = bug;
    Cluster cluster(options);
    const RunResult r = cluster.Run();
    if (r.violation.has_value()) {
      std::printf("%s caught at seed %llu by %s: %s\n  replay: %s\n",
                  raft::driver::DriverBugName(bug), static_cast<unsigned long long>(seed),
                  r.violation->property.c_str(), r.violation->detail.c_str(),
                  r.replay_command.c_str());
      SUCCEED();
      return;
    }
  }
  FAIL() << raft::driver::DriverBugName(bug) << " was not caught within " << kSeedsMax
         << " seeds";
}

INSTANTIATE_TEST_SUITE_P(
    Bugs, PlantedBugTest,
    testing::Values(DriverBug::kAckBeforeFsync, DriverBug::kApplyBeforeCommit,
                    DriverBug::kSkipCrcOnRead, DriverBug::kTruncateCommittedOnConflict,
                    DriverBug::kForgetTermOnRestart),
    [](const testing::TestParamInfo<DriverBug>& info) {
      std::string name = raft::driver::DriverBugName(info.param);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace eddy::sim::cluster
