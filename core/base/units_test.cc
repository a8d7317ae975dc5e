// Proves the unit conversions and the Instant/Duration arithmetic that timers rely on.
#include "core/base/units.h"

#include "gtest/gtest.h"

namespace eddy {
namespace {

TEST(UnitsTest, DurationConversions) {
  EXPECT_EQ(Duration::Seconds(2).milliseconds(), 2000);
  EXPECT_EQ(Duration::Milliseconds(3).microseconds(), 3000);
  EXPECT_EQ(Duration::Microseconds(5).nanoseconds(), 5000);
  EXPECT_DOUBLE_EQ(Duration::Milliseconds(1500).seconds(), 1.5);
}

TEST(UnitsTest, InstantArithmetic) {
  const Instant start = Instant::FromNanoseconds(100);
  const Instant later = start + Duration::Milliseconds(1);
  EXPECT_EQ(later - start, Duration::Milliseconds(1));
  EXPECT_LT(start, later);
  EXPECT_EQ(later - Duration::Milliseconds(1), start);
}

TEST(UnitsTest, ByteSizes) {
  EXPECT_EQ(kKiB, 1024u);
  EXPECT_EQ(kMiB, 1024u * 1024u);
  EXPECT_EQ(kGiB / kMiB, 1024u);
}

}  // namespace
}  // namespace eddy
