// Proves Crc32c() (ISA-L) computes the standard CRC32C: the catalogue check value for
// "123456789", the four iSCSI test vectors of RFC 3720 appendix B.4, and agreement with the
// independent table-driven Crc32cSoftware() on seeded random buffers of every length 0..600 and
// larger ones, at every start alignment 0..15 (ISA-L has separate head/tail paths, so odd
// lengths and offsets are where an error would hide). Also that Extend() composes at any split.
#include "core/record/crc32c.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/base/random.h"
#include "core/record/crc32c_software.h"
#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace eddy::record {
namespace {

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::vector<uint8_t> RandomBytes(Random& random, size_t size_bytes) {
  std::vector<uint8_t> bytes(size_bytes);
  for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random.Next());
  return bytes;
}

TEST(Crc32cTest, CheckValue) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32cSoftware(AsBytes("123456789")), 0xE3069283u);
}

TEST(Crc32cTest, EmptyIsZero) {
  EXPECT_EQ(Crc32c({}), 0u);
  EXPECT_EQ(Crc32cSoftware({}), 0u);
  EXPECT_EQ(Crc32cExtend(0x12345678u, {}), 0x12345678u);
}

TEST(Crc32cTest, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xFF);
  std::vector<uint8_t> ascending(32);
  std::vector<uint8_t> descending(32);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<uint8_t>(i);
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(Crc32cSoftware(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32cSoftware(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32cSoftware(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32cSoftware(descending), 0x113FDB5Cu);
}

TEST(Crc32cTest, MatchesSoftwareOnEveryLengthAndAlignment) {
  Random random(20261124);
  const std::vector<uint8_t> buffer = RandomBytes(random, 600 + 16);
  for (size_t alignment = 0; alignment < 16; ++alignment) {
    for (size_t length = 0; length <= 600; ++length) {
      const std::span<const uint8_t> data(buffer.data() + alignment, length);
      ASSERT_EQ(Crc32c(data), Crc32cSoftware(data))
          << "alignment " << alignment << " length " << length;
    }
  }
}

TEST(Crc32cTest, MatchesSoftwareOnLargeBuffers) {
  Random random(7);
  for (size_t size_bytes : {4096u, 65536u, 65537u, 1048576u + 3u}) {
    const std::vector<uint8_t> buffer = RandomBytes(random, size_bytes);
    EXPECT_EQ(Crc32c(buffer), Crc32cSoftware(buffer)) << size_bytes;
  }
}

TEST(Crc32cTest, SingleBitFlipChangesCrc) {
  Random random(3);
  std::vector<uint8_t> buffer = RandomBytes(random, 1024);
  const uint32_t original = Crc32c(buffer);
  for (size_t bit = 0; bit < buffer.size() * 8; bit += 37) {
    buffer[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(Crc32c(buffer), original) << "bit " << bit;
    buffer[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  EXPECT_EQ(Crc32c(buffer), original);
}

RC_GTEST_PROP(Crc32cProperty, ExtendComposesAtAnySplit, (const std::vector<uint8_t>& data)) {
  const size_t split = *rc::gen::inRange<size_t>(0, data.size() + 1);
  const std::span<const uint8_t> all(data);
  const uint32_t whole = Crc32c(all);
  RC_ASSERT(Crc32cExtend(Crc32c(all.first(split)), all.subspan(split)) == whole);
  RC_ASSERT(Crc32cExtendSoftware(Crc32cSoftware(all.first(split)), all.subspan(split)) == whole);
  RC_ASSERT(Crc32cSoftware(all) == whole);
}

}  // namespace
}  // namespace eddy::record
