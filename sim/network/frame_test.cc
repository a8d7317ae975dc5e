// Proves the frame check catches what the network does to frames: every single-bit flip of a
// frame (header or payload) is rejected with kDataLoss, truncated or extended frames are
// rejected, arbitrary bytes never crash the decoder, and clean frames round-trip.
#include "sim/network/frame.h"

#include <vector>

#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace eddy::sim {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

TEST(FrameTest, RoundTrips) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  auto decoded = DecodeFrame(EncodeFrame(payload));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, payload);
  EXPECT_THAT(DecodeFrame(EncodeFrame({})), IsOk());
}

TEST(FrameTest, EverySingleBitFlipIsDetected) {
  std::vector<uint8_t> payload(100);
  Random random(5);
  for (uint8_t& byte : payload) byte = static_cast<uint8_t>(random.Next());
  std::vector<uint8_t> frame = EncodeFrame(payload);
  for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
    frame[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_THAT(DecodeFrame(frame), StatusIs(absl::StatusCode::kDataLoss)) << "bit " << bit;
    frame[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

TEST(FrameTest, WrongSizesAreDetected) {
  std::vector<uint8_t> frame = EncodeFrame(std::vector<uint8_t>(10, 7));
  std::vector<uint8_t> shorter(frame.begin(), frame.end() - 1);
  EXPECT_THAT(DecodeFrame(shorter), StatusIs(absl::StatusCode::kDataLoss));
  frame.push_back(0);
  EXPECT_THAT(DecodeFrame(frame), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeFrame(std::vector<uint8_t>(3, 0)), StatusIs(absl::StatusCode::kDataLoss));
}

RC_GTEST_PROP(FrameProperty, ArbitraryBytesNeverCrashAndRoundTripIsExact,
              (const std::vector<uint8_t>& bytes)) {
  (void)DecodeFrame(bytes);  // Must not crash, whatever it answers.
  auto decoded = DecodeFrame(EncodeFrame(bytes));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == bytes);
}

}  // namespace
}  // namespace eddy::sim
