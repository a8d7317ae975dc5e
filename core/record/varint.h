// Kafka's zig-zag variable-length integers (protobuf's sint32/sint64 wire encoding): the value is
// zig-zag mapped to unsigned ((n << 1) ^ (n >> 63)) and written 7 bits per byte, least
// significant group first, high bit set on every byte but the last. A varint (int32) takes 1-5
// bytes, a varlong (int64) 1-10. Writers always emit the shortest form.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eddy::record {

inline constexpr size_t kVarintSizeBytesMax = 5;
inline constexpr size_t kVarlongSizeBytesMax = 10;

constexpr uint32_t ZigZagEncode32(int32_t n) {
  return (static_cast<uint32_t>(n) << 1) ^ static_cast<uint32_t>(n >> 31);
}
constexpr uint64_t ZigZagEncode64(int64_t n) {
  return (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
}
constexpr int32_t ZigZagDecode32(uint32_t u) {
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1u) + 1u));
}
constexpr int64_t ZigZagDecode64(uint64_t u) {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1u) + 1u));
}
static_assert(ZigZagEncode32(-1) == 1 && ZigZagEncode32(1) == 2 && ZigZagDecode32(3) == -2);
static_assert(ZigZagDecode64(ZigZagEncode64(INT64_MIN)) == INT64_MIN);

// Bytes WriteVarint/WriteVarlong would write for `n`.
constexpr size_t VarintSizeBytes(int32_t n) {
  uint32_t u = ZigZagEncode32(n);
  size_t size_bytes = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++size_bytes;
  }
  return size_bytes;
}
constexpr size_t VarlongSizeBytes(int64_t n) {
  uint64_t u = ZigZagEncode64(n);
  size_t size_bytes = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++size_bytes;
  }
  return size_bytes;
}
static_assert(VarintSizeBytes(INT32_MIN) == kVarintSizeBytesMax);
static_assert(VarlongSizeBytes(INT64_MAX) == kVarlongSizeBytesMax);

// Write `n` at `out` and return the position after it.
// REQUIRES: `out` has room for VarintSizeBytes(n) / VarlongSizeBytes(n) bytes.
uint8_t* WriteVarint(int32_t n, uint8_t* out);
uint8_t* WriteVarlong(int64_t n, uint8_t* out);

}  // namespace eddy::record
