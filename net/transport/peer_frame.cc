#include "net/transport/peer_frame.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/crc32c.h"
#include "net/transport/byte_order.h"

namespace eddy::net {
namespace {

// Covers the length field too, so a damaged length that still happens to pass the size limit
// is caught once the (wrongly sized) payload has been read.
uint32_t FrameChecksum(const uint8_t* length_field, std::span<const uint8_t> payload) {
  const uint32_t crc = record::Crc32c(std::span<const uint8_t>(length_field, 4));
  return record::Crc32cExtend(crc, payload);
}

}  // namespace

std::array<uint8_t, kPeerFrameHeaderSizeBytes> EncodePeerFrameHeader(
    std::span<const uint8_t> payload) {
  EDDY_CHECK_LE(payload.size(), runtime::kMessageSizeBytesMax);
  std::array<uint8_t, kPeerFrameHeaderSizeBytes> header;
  StoreBigEndian32(header.data(), kPeerFrameMagic);
  StoreBigEndian32(header.data() + 4, static_cast<uint32_t>(payload.size()));
  StoreBigEndian32(header.data() + 8, FrameChecksum(header.data() + 4, payload));
  return header;
}

std::vector<uint8_t> EncodePeerFrame(std::span<const uint8_t> payload) {
  const auto header = EncodePeerFrameHeader(payload);
  // Sized once and copied into (an insert after the header trips GCC 12's -Warray-bounds at -O2).
  std::vector<uint8_t> frame(kPeerFrameHeaderSizeBytes + payload.size());
  std::copy(header.begin(), header.end(), frame.begin());
  std::copy(payload.begin(), payload.end(), frame.begin() + kPeerFrameHeaderSizeBytes);
  EDDY_CHECK_EQ(frame.size(), kPeerFrameHeaderSizeBytes + payload.size());
  return frame;
}

std::vector<uint8_t> EncodePeerHello(const PeerHello& hello) {
  EDDY_CHECK_NE(hello.from, runtime::kNoNode);
  std::vector<uint8_t> payload(kPeerHelloSizeBytes);
  StoreBigEndian32(payload.data(), kPeerHelloMagic);
  StoreBigEndian32(payload.data() + 4, hello.from);
  StoreBigEndian32(payload.data() + 8, hello.to);
  return payload;
}

absl::StatusOr<PeerHello> DecodePeerHello(std::span<const uint8_t> payload) {
  if (payload.size() != kPeerHelloSizeBytes) {
    return absl::InvalidArgumentError(absl::StrCat("hello of ", payload.size(), " bytes"));
  }
  if (LoadBigEndian32(payload.data()) != kPeerHelloMagic) {
    return absl::InvalidArgumentError("first peer frame is not a hello");
  }
  PeerHello hello{LoadBigEndian32(payload.data() + 4), LoadBigEndian32(payload.data() + 8)};
  if (hello.from == runtime::kNoNode) return absl::InvalidArgumentError("hello from node 0");
  return hello;
}

const PeerFrameFormat& PeerFrameFormat::Get() {
  static const PeerFrameFormat* const format = new PeerFrameFormat();
  return *format;
}

absl::StatusOr<uint64_t> PeerFrameFormat::PayloadSize(std::span<const uint8_t> header) const {
  EDDY_CHECK_EQ(header.size(), kPeerFrameHeaderSizeBytes);
  if (LoadBigEndian32(header.data()) != kPeerFrameMagic) {
    return absl::InvalidArgumentError("bad peer frame magic");
  }
  const uint64_t size = LoadBigEndian32(header.data() + 4);
  if (size > runtime::kMessageSizeBytesMax) {
    return absl::ResourceExhaustedError(absl::StrCat("peer frame of ", size, " bytes"));
  }
  return size;
}

absl::Status PeerFrameFormat::Verify(std::span<const uint8_t> header,
                                     std::span<const uint8_t> payload) const {
  EDDY_CHECK_EQ(header.size(), kPeerFrameHeaderSizeBytes);
  EDDY_CHECK_EQ(uint64_t{LoadBigEndian32(header.data() + 4)}, payload.size());
  const uint32_t expected = LoadBigEndian32(header.data() + 8);
  const uint32_t actual = FrameChecksum(header.data() + 4, payload);
  if (expected != actual) {
    return absl::DataLossError(
        absl::StrCat("peer frame checksum ", actual, " != header's ", expected));
  }
  return absl::OkStatus();
}

}  // namespace eddy::net
