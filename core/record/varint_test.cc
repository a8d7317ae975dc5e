// Proves the zig-zag varint/varlong writer emits Kafka's bytes (hand-computed from the
// definition: zig-zag, then 7-bit little-endian groups) and that ByteReader reads them back,
// round-trips every value RapidCheck draws, and rejects what Kafka's format cannot hold:
// truncation, over-long encodings, and bits beyond 32/64 — without moving the cursor on failure.
#include "core/record/varint.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "core/record/byte_reader.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace eddy::record {
namespace {

std::vector<uint8_t> EncodeVarint(int32_t n) {
  std::vector<uint8_t> out(kVarintSizeBytesMax);
  out.resize(static_cast<size_t>(WriteVarint(n, out.data()) - out.data()));
  return out;
}

std::vector<uint8_t> EncodeVarlong(int64_t n) {
  std::vector<uint8_t> out(kVarlongSizeBytesMax);
  out.resize(static_cast<size_t>(WriteVarlong(n, out.data()) - out.data()));
  return out;
}

using Bytes = std::vector<uint8_t>;

TEST(VarintTest, KnownEncodings) {
  EXPECT_EQ(EncodeVarint(0), (Bytes{0x00}));
  EXPECT_EQ(EncodeVarint(-1), (Bytes{0x01}));
  EXPECT_EQ(EncodeVarint(1), (Bytes{0x02}));
  EXPECT_EQ(EncodeVarint(63), (Bytes{0x7E}));
  EXPECT_EQ(EncodeVarint(-64), (Bytes{0x7F}));
  EXPECT_EQ(EncodeVarint(64), (Bytes{0x80, 0x01}));
  EXPECT_EQ(EncodeVarint(300), (Bytes{0xD8, 0x04}));
  EXPECT_EQ(EncodeVarint(std::numeric_limits<int32_t>::max()),
            (Bytes{0xFE, 0xFF, 0xFF, 0xFF, 0x0F}));
  EXPECT_EQ(EncodeVarint(std::numeric_limits<int32_t>::min()),
            (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  EXPECT_EQ(EncodeVarlong(0), (Bytes{0x00}));
  EXPECT_EQ(EncodeVarlong(-1), (Bytes{0x01}));
  EXPECT_EQ(EncodeVarlong(std::numeric_limits<int64_t>::max()),
            (Bytes{0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  EXPECT_EQ(EncodeVarlong(std::numeric_limits<int64_t>::min()),
            (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(VarintTest, ReaderAcceptsNonMinimalEncodings) {
  const Bytes bytes = {0x80, 0x00, 0x82, 0x80, 0x00};
  ByteReader reader(bytes);
  int32_t value = -7;
  ASSERT_TRUE(reader.ReadVarint(&value));
  EXPECT_EQ(value, 0);
  ASSERT_TRUE(reader.ReadVarint(&value));
  EXPECT_EQ(value, 1);
  EXPECT_TRUE(reader.empty());
}

TEST(VarintTest, ReaderRejectsWithoutMoving) {
  const std::vector<Bytes> bad_varints = {
      {},                                    // nothing
      {0x80},                                // truncated
      {0xFF, 0xFF, 0xFF, 0xFF},              // truncated at the 4th byte
      {0x80, 0x80, 0x80, 0x80, 0x80, 0x00},  // sixth byte
      {0xFF, 0xFF, 0xFF, 0xFF, 0x1F},        // bit 32 set
      {0x80, 0x80, 0x80, 0x80, 0x10},        // bit 32 set alone
  };
  for (const Bytes& bytes : bad_varints) {
    ByteReader reader(bytes);
    int32_t value = 0;
    EXPECT_FALSE(reader.ReadVarint(&value));
    EXPECT_EQ(reader.position(), 0u);
  }
  const std::vector<Bytes> bad_varlongs = {
      {0x80, 0x80},
      {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02},        // bit 64
      {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00},  // eleventh byte
  };
  for (const Bytes& bytes : bad_varlongs) {
    ByteReader reader(bytes);
    int64_t value = 0;
    EXPECT_FALSE(reader.ReadVarlong(&value));
    EXPECT_EQ(reader.position(), 0u);
  }
}

TEST(ByteReaderTest, ReadBytesIsBounded) {
  const Bytes bytes = {1, 2, 3};
  ByteReader reader(bytes);
  std::span<const uint8_t> span;
  EXPECT_FALSE(reader.ReadBytes(4, &span));
  EXPECT_FALSE(reader.ReadBytes(std::numeric_limits<size_t>::max(), &span));
  ASSERT_TRUE(reader.ReadBytes(2, &span));
  EXPECT_EQ(span.size(), 2u);
  EXPECT_EQ(span[1], 2);
  int8_t byte = 0;
  ASSERT_TRUE(reader.ReadInt8(&byte));
  EXPECT_EQ(byte, 3);
  EXPECT_FALSE(reader.ReadInt8(&byte));
  EXPECT_TRUE(reader.ReadBytes(0, &span));
}

RC_GTEST_PROP(VarintProperty, VarintRoundTrips, (int32_t n)) {
  const Bytes bytes = EncodeVarint(n);
  RC_ASSERT(bytes.size() == VarintSizeBytes(n));
  ByteReader reader(bytes);
  int32_t decoded = 0;
  RC_ASSERT(reader.ReadVarint(&decoded));
  RC_ASSERT(decoded == n);
  RC_ASSERT(reader.empty());
}

RC_GTEST_PROP(VarintProperty, VarlongRoundTrips, (int64_t n)) {
  const Bytes bytes = EncodeVarlong(n);
  RC_ASSERT(bytes.size() == VarlongSizeBytes(n));
  ByteReader reader(bytes);
  int64_t decoded = 0;
  RC_ASSERT(reader.ReadVarlong(&decoded));
  RC_ASSERT(decoded == n);
  RC_ASSERT(reader.empty());
}

RC_GTEST_PROP(VarintProperty, ZigZagRoundTripsAndSmallValuesTakeOneByte, (int32_t n)) {
  RC_ASSERT(ZigZagDecode32(ZigZagEncode32(n)) == n);
  // Small magnitudes get small codes: |n| <= 63 fits one byte.
  if (n >= -64 && n <= 63) RC_ASSERT(VarintSizeBytes(n) == 1u);
}

}  // namespace
}  // namespace eddy::record
