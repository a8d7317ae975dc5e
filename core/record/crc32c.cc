#include "core/record/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstddef>

#include "core/base/check.h"

namespace eddy::record {
namespace {

// ISA-L's crc32_iscsi takes an `int` length; feed it in chunks well below INT_MAX.
constexpr size_t kIsalChunkSizeBytesMax = size_t{1} << 30;

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data) {
  // crc32_iscsi works on the raw CRC register: it neither inverts its input value nor its result
  // (verified: crc32_iscsi("123456789", 9, 0xFFFFFFFF) == ~0xE3069283). Undo the final XOR of the
  // finished CRC to get the register back, run, and finish again.
  uint32_t state = ~crc;
  size_t offset = 0;
  while (offset < data.size()) {
    const size_t chunk_size_bytes = std::min(data.size() - offset, kIsalChunkSizeBytesMax);
    EDDY_CHECK_LE(chunk_size_bytes, kIsalChunkSizeBytesMax);
    // ISA-L's prototype lacks const but never writes through the pointer.
    state = crc32_iscsi(const_cast<unsigned char*>(data.data() + offset),
                        static_cast<int>(chunk_size_bytes), state);
    offset += chunk_size_bytes;
  }
  EDDY_CHECK_EQ(offset, data.size());
  return ~state;
}

uint32_t Crc32c(std::span<const uint8_t> data) { return Crc32cExtend(0, data); }

}  // namespace eddy::record
