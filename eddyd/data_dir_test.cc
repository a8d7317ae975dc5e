// The data directory: formatted on first start (meta.properties names the node), found on the
// next, and refused when it belongs to another node or holds files that are not Eddy's.
#include "eddyd/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::eddyd {
namespace {

using ::testing::HasSubstr;

std::string FreshDirectory(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(DataDirectoryTest, FormattedOnceThenFound) {
  const std::string dir = FreshDirectory("fresh") + "/nested/data";
  auto first = PrepareDataDirectory(dir, 4);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, DataDirectoryState::kFormatted);
  EXPECT_TRUE(std::filesystem::exists(dir + "/meta.properties"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/meta.properties.tmp"));
  auto second = PrepareDataDirectory(dir, 4);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, DataDirectoryState::kExisting);
}

TEST(DataDirectoryTest, AnotherNodesDirectoryIsRefused) {
  const std::string dir = FreshDirectory("other");
  ASSERT_TRUE(PrepareDataDirectory(dir, 1).ok());
  auto wrong = PrepareDataDirectory(dir, 2);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.status().message(), HasSubstr("belongs to node.id 1"));
}

TEST(DataDirectoryTest, AForeignNonEmptyDirectoryIsRefused) {
  const std::string dir = FreshDirectory("foreign");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/somebody-elses-file") << "x";
  auto refused = PrepareDataDirectory(dir, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("not an Eddy data directory"));
}

TEST(DataDirectoryTest, ADamagedMetaFileIsRefused) {
  const std::string dir = FreshDirectory("damaged");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/meta.properties") << "version=9\nnode.id=1\n";
  auto refused = PrepareDataDirectory(dir, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("unsupported format version"));
}

}  // namespace
}  // namespace eddy::eddyd
