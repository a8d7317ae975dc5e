#include "core/record/crc32c_software.h"

#include <array>
#include <cstddef>

namespace eddy::record {
namespace {

// Reflected Castagnoli polynomial.
constexpr uint32_t kCastagnoliReflected = 0x82F63B78u;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0][b] is the CRC register after shifting byte b through eight zero bits; tables[k][b] is
// tables[0][b] advanced by k more zero bytes, which lets the loop fold eight bytes per step.
constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kCastagnoliReflected : 0u);
    tables[0][byte] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFFu];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();
static_assert(kTables[0][1] == 0xF26B8303u, "first table entry of the reflected Castagnoli CRC");

}  // namespace

uint32_t Crc32cExtendSoftware(uint32_t crc, std::span<const uint8_t> data) {
  uint32_t state = ~crc;
  const uint8_t* p = data.data();
  size_t remaining = data.size();
  while (remaining >= 8) {
    // Assemble little-endian words byte by byte: alignment- and host-independent.
    const uint32_t low = state ^ (uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
                                  (uint32_t{p[3]} << 24));
    state = kTables[7][low & 0xFFu] ^ kTables[6][(low >> 8) & 0xFFu] ^
            kTables[5][(low >> 16) & 0xFFu] ^ kTables[4][low >> 24] ^ kTables[3][p[4]] ^
            kTables[2][p[5]] ^ kTables[1][p[6]] ^ kTables[0][p[7]];
    p += 8;
    remaining -= 8;
  }
  while (remaining > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xFFu];
    ++p;
    --remaining;
  }
  return ~state;
}

uint32_t Crc32cSoftware(std::span<const uint8_t> data) { return Crc32cExtendSoftware(0, data); }

}  // namespace eddy::record
