// The partition log's model property (core/log/log_model_check.h) on the real POSIX disk, in a
// fresh temporary directory per case: the same random sequences of appends, reads, truncations,
// flushes and clean reopens as on the SimDisk, minus crashes (a real disk cannot be made to lose
// its page cache on demand). It proves the log's assumptions about the disk seam hold for real
// files, not only for the simulator. A SimLoop drives completions: PosixDisk completes through
// Clock::Post. Budget: RapidCheck's default 100 cases (well under a second on tmpfs); override with
// RC_PARAMS.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/base/check.h"
#include "core/log/log_model_check.h"
#include "gtest/gtest.h"
#include "net/disk/posix_disk.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log::testing {
namespace {

std::string MakeTempDirectory() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/posix_log_XXXXXX";
  EDDY_CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

class PosixWorld final : public ModelCheckWorld {
 public:
  PosixWorld() : directory_(MakeTempDirectory()), disk_(loop_, directory_) {}
  ~PosixWorld() override {
    loop_.RunUntilIdle();
    std::filesystem::remove_all(directory_);
  }
  sim::SimLoop& loop() override { return loop_; }
  runtime::Disk& disk() override { return disk_; }
  bool can_crash() const override { return false; }
  void Crash(const sim::CrashOptions&, Random&) override { EDDY_UNREACHABLE(); }

 private:
  sim::SimLoop loop_;
  std::string directory_;
  net::PosixDisk disk_;
};

RC_GTEST_PROP(PosixLogModel, RealFiles, ()) {
  RunLogModelCase([] { return std::make_unique<PosixWorld>(); });
}

}  // namespace
}  // namespace eddy::log::testing
