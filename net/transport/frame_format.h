// FrameFormat: how a byte stream is cut into whole messages (a fixed-size header that gives the
// payload's length, then the payload). StreamConnection reads with one; the two formats are the
// Kafka protocol's size prefix (kafka_frame.h) and our checksummed peer frame (peer_frame.h).
//
// Implementations are stateless and live for the whole program (StreamConnection keeps a
// reference past its owner's lifetime while it drains).
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::net {

class FrameFormat {
 public:
  // Longest header any format uses; StreamConnection's header buffer has this size.
  static constexpr uint64_t kHeaderSizeBytesMax = 16;

  virtual ~FrameFormat() = default;

  virtual uint64_t header_size_bytes() const = 0;
  // The payload length the header announces. kInvalidArgument for a header that is not a
  // header (bad magic), kResourceExhausted for a length beyond the format's limit.
  virtual absl::StatusOr<uint64_t> PayloadSize(std::span<const uint8_t> header) const = 0;
  // kDataLoss if the payload does not match the header's checksum (formats without one: OK).
  virtual absl::Status Verify(std::span<const uint8_t> header,
                              std::span<const uint8_t> payload) const = 0;
};

}  // namespace eddy::net
