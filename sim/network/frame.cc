#include "sim/network/frame.h"

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/trace/digest.h"

namespace eddy::sim {
namespace {

void PutU32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}
void PutU64(uint8_t* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
}
uint32_t GetU32(const uint8_t* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | in[i];
  return value;
}
uint64_t GetU64(const uint8_t* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[i];
  return value;
}

// Covers the magic and length as well as the payload, so a flip anywhere is caught.
uint64_t FrameChecksum(uint32_t magic, uint32_t length, std::span<const uint8_t> payload) {
  return Digest64(payload, (uint64_t{magic} << 32) | length);
}

}  // namespace

std::vector<uint8_t> EncodeFrame(std::span<const uint8_t> payload) {
  EDDY_CHECK_LT(payload.size(), uint64_t{1} << 32);
  const uint32_t length = static_cast<uint32_t>(payload.size());
  std::vector<uint8_t> frame(kFrameHeaderSizeBytes + payload.size());
  PutU32(frame.data(), kFrameMagic);
  PutU32(frame.data() + 4, length);
  PutU64(frame.data() + 8, FrameChecksum(kFrameMagic, length, payload));
  std::copy(payload.begin(), payload.end(), frame.begin() + kFrameHeaderSizeBytes);
  return frame;
}

absl::StatusOr<uint64_t> VerifyFrame(std::span<const uint8_t> frame) {
  if (frame.size() < kFrameHeaderSizeBytes) {
    return absl::DataLossError(absl::StrCat("frame of ", frame.size(), " bytes too short"));
  }
  const uint32_t magic = GetU32(frame.data());
  const uint32_t length = GetU32(frame.data() + 4);
  const uint64_t checksum = GetU64(frame.data() + 8);
  if (magic != kFrameMagic) return absl::DataLossError(absl::StrCat("bad frame magic ", magic));
  if (uint64_t{length} != frame.size() - kFrameHeaderSizeBytes) {
    return absl::DataLossError(absl::StrCat(
        "frame length ", length, " but ", frame.size() - kFrameHeaderSizeBytes, " payload bytes"));
  }
  const std::span<const uint8_t> payload = frame.subspan(kFrameHeaderSizeBytes);
  if (FrameChecksum(magic, length, payload) != checksum) {
    return absl::DataLossError("frame checksum mismatch");
  }
  return checksum;
}

absl::StatusOr<std::vector<uint8_t>> DecodeFrame(std::span<const uint8_t> frame) {
  absl::StatusOr<uint64_t> checksum = VerifyFrame(frame);
  if (!checksum.ok()) return checksum.status();
  const std::span<const uint8_t> payload = frame.subspan(kFrameHeaderSizeBytes);
  return std::vector<uint8_t>(payload.begin(), payload.end());
}

}  // namespace eddy::sim
