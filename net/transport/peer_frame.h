// The frame every broker-to-broker message travels in over TCP (byte layout: FORMAT.md), and
// the hello that opens each peer connection.
//
// TCP's own checksum is weak (16 bits, and nothing covers a NIC's or a kernel's memory), and
// transport.h promises never to deliver corrupted bytes, so each frame carries a CRC32C over its
// length and payload. A frame that fails it is dropped and the connection closed: after damage
// the stream's framing itself can no longer be trusted.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/runtime/transport.h"
#include "net/transport/frame_format.h"

namespace eddy::net {

inline constexpr uint32_t kPeerFrameMagic = 0x45505446;  // "EPTF": Eddy peer transport frame.
inline constexpr uint64_t kPeerFrameHeaderSizeBytes = 12;
inline constexpr uint32_t kPeerHelloMagic = 0x4550484c;  // "EPHL": Eddy peer hello.
inline constexpr uint64_t kPeerHelloSizeBytes = 12;
static_assert(kPeerFrameHeaderSizeBytes <= FrameFormat::kHeaderSizeBytesMax);

// The header for `payload`. REQUIRES: payload.size() <= kMessageSizeBytesMax.
std::array<uint8_t, kPeerFrameHeaderSizeBytes> EncodePeerFrameHeader(
    std::span<const uint8_t> payload);
// Header + payload in one buffer (tests, tools).
std::vector<uint8_t> EncodePeerFrame(std::span<const uint8_t> payload);

// The hello payload: who is calling, and whom it means to reach.
struct PeerHello {
  runtime::NodeId from = runtime::kNoNode;
  runtime::NodeId to = runtime::kNoNode;
};
std::vector<uint8_t> EncodePeerHello(const PeerHello& hello);
// kInvalidArgument unless `payload` is exactly a hello with a valid `from`. Never crashes.
absl::StatusOr<PeerHello> DecodePeerHello(std::span<const uint8_t> payload);

class PeerFrameFormat final : public FrameFormat {
 public:
  static const PeerFrameFormat& Get();

  uint64_t header_size_bytes() const override { return kPeerFrameHeaderSizeBytes; }
  // kInvalidArgument for a bad magic, kResourceExhausted above kMessageSizeBytesMax.
  absl::StatusOr<uint64_t> PayloadSize(std::span<const uint8_t> header) const override;
  // kDataLoss on a checksum mismatch.
  absl::Status Verify(std::span<const uint8_t> header,
                      std::span<const uint8_t> payload) const override;
};

}  // namespace eddy::net
