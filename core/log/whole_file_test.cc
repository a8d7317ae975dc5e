// Whole-file helpers: proves a written file reads back identically (including across the
// chunking of large reads), that rewriting replaces rather than appends, that the write is
// durable across a crash, and that a missing file reads as kNotFound.

#include "core/log/whole_file.h"

#include <vector>

#include "core/base/limits.h"
#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;

class WholeFileTest : public ::testing::Test {
 protected:
  absl::Status Write(std::string path, std::vector<uint8_t> bytes) {
    return sim::AwaitStatus(
        loop_, [&](auto done) { WriteWholeFile(disk_, path, std::move(bytes), std::move(done)); });
  }
  absl::StatusOr<std::vector<uint8_t>> Read(std::string path) {
    return sim::AwaitValue<std::vector<uint8_t>>(
        loop_, [&](auto done) { ReadWholeFile(disk_, path, std::move(done)); });
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
};

TEST_F(WholeFileTest, WriteThenRead) {
  std::vector<uint8_t> bytes(10000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  EDDY_ASSERT_OK(Write("a", bytes));
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> read, Read("a"));
  EXPECT_EQ(read, bytes);
  EDDY_ASSERT_OK(Write("a", {1, 2, 3}));
  EDDY_ASSERT_OK_AND_ASSIGN(read, Read("a"));
  EXPECT_EQ(read, (std::vector<uint8_t>{1, 2, 3}));
  EDDY_ASSERT_OK(Write("empty", {}));
  EDDY_ASSERT_OK_AND_ASSIGN(read, Read("empty"));
  EXPECT_TRUE(read.empty());
}

TEST_F(WholeFileTest, LargerThanOneDiskRead) {
  std::vector<uint8_t> bytes(limits::kDiskReadSizeBytesMax + 1000, 0x5a);
  bytes.back() = 1;
  EDDY_ASSERT_OK(Write("big", bytes));
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> read, Read("big"));
  EXPECT_EQ(read, bytes);
}

TEST_F(WholeFileTest, ContentsDurableAfterDirectorySync) {
  EDDY_ASSERT_OK(Write("x", {9, 9}));
  EDDY_ASSERT_OK(
      sim::AwaitStatus(loop_, [&](auto done) { disk_.SyncDirectory("", std::move(done)); }));
  Random random(1);
  disk_.Crash({.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> read, Read("x"));
  EXPECT_EQ(read, (std::vector<uint8_t>{9, 9}));
}

TEST_F(WholeFileTest, MissingFile) {
  EXPECT_THAT(Read("nope"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace eddy::log
