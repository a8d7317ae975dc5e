// The frame every simulated peer message travels in (byte layout: sim/network/FORMAT.md).
//
// The simulated network corrupts frames on purpose; the receiving side must detect every such
// frame and drop it, as transport.h promises ("never delivered corrupted"). Encoding and
// decoding are pure functions over bytes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::sim {

inline constexpr uint32_t kFrameMagic = 0x45534e46;  // "ESNF": Eddy simulated network frame.
inline constexpr uint64_t kFrameHeaderSizeBytes = 16;

// Header + payload. REQUIRES: payload.size() < 2^32.
std::vector<uint8_t> EncodeFrame(std::span<const uint8_t> payload);

// The payload of a well-formed frame; kDataLoss for a bad magic, a length that disagrees with
// the frame's size, or a checksum mismatch. Never crashes on any input.
absl::StatusOr<std::vector<uint8_t>> DecodeFrame(std::span<const uint8_t> frame);

// The same checks as DecodeFrame without copying the payload: the frame's checksum (a digest of
// the payload, see FORMAT.md) if the frame is well-formed, kDataLoss otherwise. The payload is
// then frame[kFrameHeaderSizeBytes, end).
absl::StatusOr<uint64_t> VerifyFrame(std::span<const uint8_t> frame);

}  // namespace eddy::sim
