// RetentionPolicy: proves the size and age rules delete exactly the right prefix of segments
// and never the active one.

#include "core/log/retention_policy.h"

#include <vector>

#include "gtest/gtest.h"

namespace eddy::log {
namespace {

std::vector<SegmentSummary> FourSegments() {
  return {{0, 100, 1000}, {10, 100, 2000}, {20, 100, 3000}, {30, 50, std::nullopt}};
}

TEST(RetentionPolicyTest, NothingConfiguredKeepsEverything) {
  EXPECT_EQ(RetentionPolicy(LogOptions{}).SegmentsToDelete(FourSegments(), 1 << 30), 0u);
}

TEST(RetentionPolicyTest, SizeKeepsAtLeastTheLimit) {
  LogOptions options;
  options.retention_size_bytes = 150;  // total 350: dropping 0 leaves 250, 10 leaves 150, stop
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 0), 2u);
  options.retention_size_bytes = 351;
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 0), 0u);
  options.retention_size_bytes = 0;  // everything but the active segment
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 0), 3u);
}

TEST(RetentionPolicyTest, AgeDeletesExpiredPrefix) {
  LogOptions options;
  options.retention_age_ms = 1000;
  // now 3500: segments whose newest record is older than 2500 go.
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 3500), 2u);
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 1999), 0u);
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(FourSegments(), 1 << 30), 3u);
}

TEST(RetentionPolicyTest, StopsAtFirstSegmentToKeep) {
  LogOptions options;
  options.retention_age_ms = 10;
  std::vector<SegmentSummary> segments = {{0, 1, 5000}, {1, 1, 100}, {2, 1, std::nullopt}};
  // The first segment is young, so the old second one stays too (only a prefix goes).
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete(segments, 5005), 0u);
}

TEST(RetentionPolicyTest, SingleSegmentNeverDeleted) {
  LogOptions options;
  options.retention_size_bytes = 0;
  options.retention_age_ms = 0;
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete({{0, 100, 1}}, 1 << 30), 0u);
  EXPECT_EQ(RetentionPolicy(options).SegmentsToDelete({}, 0), 0u);
}

}  // namespace
}  // namespace eddy::log
