// TimeIndex: proves that Lookup(T) returns the base offset of the first batch whose max
// timestamp is >= T, for random timestamp sequences against a brute-force scan (RapidCheck), that
// suffix truncation forgets the right entries, and that the file format round-trips and rejects
// damage.

#include "core/log/time_index.h"

#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;

TEST(TimeIndexTest, KeepsOnlyIncreasingMaxima) {
  TimeIndex index(10);
  index.Observe(10, 500);
  index.Observe(12, 400);  // older than the max: no entry
  index.Observe(15, 900);
  EXPECT_EQ(index.entry_count(), 2u);
  EXPECT_EQ(index.max_timestamp(), 900);
  EXPECT_EQ(index.Lookup(0), 10);
  EXPECT_EQ(index.Lookup(500), 10);
  EXPECT_EQ(index.Lookup(501), 15);
  EXPECT_EQ(index.Lookup(901), std::nullopt);
  index.TruncateFrom(15);
  EXPECT_EQ(index.max_timestamp(), 500);
  EXPECT_EQ(index.last_entry_offset(), 10);
  index.TruncateFrom(10);
  EXPECT_EQ(index.max_timestamp(), std::nullopt);
}

TEST(TimeIndexTest, EncodeDecode) {
  TimeIndex index(7);
  index.Observe(7, -5);
  index.Observe(9, 100);
  const std::vector<uint8_t> bytes = index.Encode();
  EDDY_ASSERT_OK_AND_ASSIGN(TimeIndex decoded, TimeIndex::Decode(7, bytes));
  EXPECT_EQ(decoded.entry_count(), 2u);
  EXPECT_EQ(decoded.Lookup(50), 9);
  EXPECT_THAT(TimeIndex::Decode(8, bytes), StatusIs(absl::StatusCode::kDataLoss));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 1;
    EXPECT_THAT(TimeIndex::Decode(7, bad), StatusIs(absl::StatusCode::kDataLoss)) << i;
  }
}

RC_GTEST_PROP(TimeIndexProperty, LookupMatchesScan, (const std::vector<int16_t>& timestamps)) {
  TimeIndex index(0);
  for (size_t i = 0; i < timestamps.size(); ++i) {
    index.Observe(static_cast<int64_t>(i) * 3, timestamps[i]);  // batches of 3 offsets
  }
  const int16_t probe = *rc::gen::arbitrary<int16_t>();
  std::optional<int64_t> expected;
  for (size_t i = 0; i < timestamps.size() && !expected; ++i) {
    if (timestamps[i] >= probe) expected = static_cast<int64_t>(i) * 3;
  }
  RC_ASSERT(index.Lookup(probe) == expected);
  auto decoded = TimeIndex::Decode(0, index.Encode());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->Lookup(probe) == expected);
}

}  // namespace
}  // namespace eddy::log
