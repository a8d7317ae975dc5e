// Proves the path helpers every Disk implementation and the log share.
#include "core/runtime/disk.h"
#include "gtest/gtest.h"

namespace eddy::runtime {
namespace {

TEST(DiskPathTest, JoinUsesExactlyOneSeparator) {
  EXPECT_EQ(JoinPath("log", "00000000000000000000.log"), "log/00000000000000000000.log");
  EXPECT_EQ(JoinPath("log/", "/x"), "log/x");
  EXPECT_EQ(JoinPath("", "x"), "x");
}

TEST(DiskPathTest, ParentDirectory) {
  EXPECT_EQ(ParentDirectory("a/b/c"), "a/b");
  EXPECT_EQ(ParentDirectory("c"), "");
}

}  // namespace
}  // namespace eddy::runtime
