// The Kafka protocol's framing: a 4-byte big-endian signed size, then that many bytes (the
// request or response, header included). TCP carries it intact, so there is no checksum.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/transport/frame_format.h"

namespace eddy::net {

inline constexpr uint64_t kKafkaSizePrefixBytes = 4;

// The prefix for a frame of `size_bytes`. REQUIRES: size_bytes <= INT32_MAX.
std::array<uint8_t, kKafkaSizePrefixBytes> EncodeKafkaSizePrefix(uint64_t size_bytes);

class KafkaFrameFormat final : public FrameFormat {
 public:
  // The program-wide instance.
  static const KafkaFrameFormat& Get();

  uint64_t header_size_bytes() const override { return kKafkaSizePrefixBytes; }
  // kInvalidArgument for a negative size, kResourceExhausted above kMessageSizeBytesMax.
  absl::StatusOr<uint64_t> PayloadSize(std::span<const uint8_t> header) const override;
  absl::Status Verify(std::span<const uint8_t> header,
                      std::span<const uint8_t> payload) const override;
};

}  // namespace eddy::net
