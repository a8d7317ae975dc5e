// Proves the two framings reject what they must: a peer frame whose payload, length or checksum
// was damaged fails verification (every single-bit flip of a small frame is caught), a bad magic
// or an oversized length is refused from the header alone, the hello round-trips and refuses
// anything else; Kafka's size prefix refuses negative and oversized sizes.
#include <cstdint>
#include <span>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "net/transport/byte_order.h"
#include "net/transport/kafka_frame.h"
#include "net/transport/peer_frame.h"

namespace eddy::net {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

// Header checks, then payload checks, as StreamConnection applies them.
absl::Status CheckPeerFrame(const std::vector<uint8_t>& frame) {
  const PeerFrameFormat& format = PeerFrameFormat::Get();
  const std::span<const uint8_t> header(frame.data(), kPeerFrameHeaderSizeBytes);
  absl::StatusOr<uint64_t> size = format.PayloadSize(header);
  if (!size.ok()) return size.status();
  if (*size != frame.size() - kPeerFrameHeaderSizeBytes) return absl::DataLossError("length");
  return format.Verify(header, std::span<const uint8_t>(frame).subspan(kPeerFrameHeaderSizeBytes));
}

TEST(PeerFrameTest, IntactFrameVerifies) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  EXPECT_THAT(CheckPeerFrame(EncodePeerFrame(payload)), IsOk());
  EXPECT_THAT(CheckPeerFrame(EncodePeerFrame({})), IsOk());
}

TEST(PeerFrameTest, EveryBitFlipIsCaught) {
  const std::vector<uint8_t> frame = EncodePeerFrame(std::vector<uint8_t>{9, 8, 7, 6, 5, 4});
  for (size_t bit = 0; bit < frame.size() * 8; ++bit) {
    std::vector<uint8_t> damaged = frame;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(CheckPeerFrame(damaged).ok()) << "bit " << bit;
  }
}

TEST(PeerFrameTest, HeaderAloneRefusesBadMagicAndOversizedLength) {
  std::vector<uint8_t> frame = EncodePeerFrame(std::vector<uint8_t>{1});
  frame[0] ^= 0xff;
  EXPECT_THAT(PeerFrameFormat::Get().PayloadSize(std::span(frame.data(), 12)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  frame = EncodePeerFrame(std::vector<uint8_t>{1});
  StoreBigEndian32(frame.data() + 4, static_cast<uint32_t>(runtime::kMessageSizeBytesMax + 1));
  EXPECT_THAT(PeerFrameFormat::Get().PayloadSize(std::span(frame.data(), 12)),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(PeerFrameTest, HelloRoundTripsAndRefusesOthers) {
  absl::StatusOr<PeerHello> hello = DecodePeerHello(EncodePeerHello(PeerHello{3, 7}));
  ASSERT_THAT(hello, IsOk());
  EXPECT_EQ(hello->from, 3u);
  EXPECT_EQ(hello->to, 7u);
  std::vector<uint8_t> bad = EncodePeerHello(PeerHello{3, 7});
  bad.push_back(0);
  EXPECT_THAT(DecodePeerHello(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = EncodePeerHello(PeerHello{3, 7});
  bad[0] ^= 1;
  EXPECT_THAT(DecodePeerHello(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = EncodePeerHello(PeerHello{3, 7});
  StoreBigEndian32(bad.data() + 4, 0);
  EXPECT_THAT(DecodePeerHello(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodePeerHello({}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KafkaFrameTest, SizePrefixLimits) {
  const KafkaFrameFormat& format = KafkaFrameFormat::Get();
  auto prefix = EncodeKafkaSizePrefix(1234);
  EXPECT_EQ(LoadBigEndian32(prefix.data()), 1234u);
  absl::StatusOr<uint64_t> size = format.PayloadSize(prefix);
  ASSERT_THAT(size, IsOk());
  EXPECT_EQ(*size, 1234u);
  prefix = EncodeKafkaSizePrefix(runtime::kMessageSizeBytesMax);
  EXPECT_THAT(format.PayloadSize(prefix), IsOk());
  prefix = EncodeKafkaSizePrefix(runtime::kMessageSizeBytesMax + 1);
  EXPECT_THAT(format.PayloadSize(prefix), StatusIs(absl::StatusCode::kResourceExhausted));
  StoreBigEndian32(prefix.data(), 0x80000000u);
  EXPECT_THAT(format.PayloadSize(prefix), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eddy::net
