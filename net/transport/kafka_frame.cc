#include "net/transport/kafka_frame.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/runtime/transport.h"
#include "net/transport/byte_order.h"

namespace eddy::net {

std::array<uint8_t, kKafkaSizePrefixBytes> EncodeKafkaSizePrefix(uint64_t size_bytes) {
  EDDY_CHECK_LE(size_bytes, uint64_t{INT32_MAX});
  std::array<uint8_t, kKafkaSizePrefixBytes> prefix;
  StoreBigEndian32(prefix.data(), static_cast<uint32_t>(size_bytes));
  return prefix;
}

const KafkaFrameFormat& KafkaFrameFormat::Get() {
  static const KafkaFrameFormat* const format = new KafkaFrameFormat();
  return *format;
}

absl::StatusOr<uint64_t> KafkaFrameFormat::PayloadSize(std::span<const uint8_t> header) const {
  EDDY_CHECK_EQ(header.size(), kKafkaSizePrefixBytes);
  const int32_t size = static_cast<int32_t>(LoadBigEndian32(header.data()));
  if (size < 0) return absl::InvalidArgumentError(absl::StrCat("negative frame size ", size));
  if (static_cast<uint64_t>(size) > runtime::kMessageSizeBytesMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("frame of ", size, " bytes exceeds ", runtime::kMessageSizeBytesMax));
  }
  return static_cast<uint64_t>(size);
}

absl::Status KafkaFrameFormat::Verify(std::span<const uint8_t> header,
                                      std::span<const uint8_t> payload) const {
  // PayloadSize already validated the header; the stream reader sized the payload from it.
  EDDY_CHECK_EQ(uint64_t{LoadBigEndian32(header.data())}, payload.size());
  return absl::OkStatus();
}

}  // namespace eddy::net
