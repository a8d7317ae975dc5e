// Segment file names: proves names sort bytewise in offset order (recovery relies on List()'s
// order matching offsets), round-trip through the parser, and that foreign names are ignored.

#include "core/log/segment_file_names.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace eddy::log {
namespace {

TEST(SegmentFileNamesTest, FormatsTwentyDigitsAndSuffix) {
  EXPECT_EQ(SegmentFileNameFor(0, SegmentFileKind::kLog), "00000000000000000000.log");
  EXPECT_EQ(SegmentFileNameFor(42, SegmentFileKind::kIndex), "00000000000000000042.index");
  EXPECT_EQ(SegmentFileNameFor(INT64_MAX, SegmentFileKind::kTimeIndex),
            "09223372036854775807.timeindex");
}

TEST(SegmentFileNamesTest, RoundTrips) {
  for (int64_t base : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1} << 40, INT64_MAX}) {
    for (SegmentFileKind kind :
         {SegmentFileKind::kLog, SegmentFileKind::kIndex, SegmentFileKind::kTimeIndex}) {
      const auto parsed = ParseSegmentFileName(SegmentFileNameFor(base, kind));
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(parsed->base_offset, base);
      EXPECT_EQ(parsed->kind, kind);
    }
  }
}

TEST(SegmentFileNamesTest, BytewiseOrderIsOffsetOrder) {
  std::vector<int64_t> bases = {5, 100, 7, 1000000, 0, 99};
  std::vector<std::string> names;
  for (int64_t base : bases) names.push_back(SegmentFileNameFor(base, SegmentFileKind::kLog));
  std::sort(names.begin(), names.end());
  std::sort(bases.begin(), bases.end());
  for (size_t i = 0; i < bases.size(); ++i) {
    EXPECT_EQ(ParseSegmentFileName(names[i])->base_offset, bases[i]);
  }
}

TEST(SegmentFileNamesTest, RejectsForeignNames) {
  for (const char* name :
       {"", "x.log", "0000000000000000000.log", "00000000000000000000.lo",
        "00000000000000000000.log.tmp", "0000000000000000000a.log", "99999999999999999999.log",
        "00000000000000000000.snapshot", "000000000000000000000.log"}) {
    EXPECT_FALSE(ParseSegmentFileName(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace eddy::log
