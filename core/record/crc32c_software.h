// A portable, table-driven CRC32C (slicing-by-8), written independently of ISA-L.
//
// Same contract and results as crc32c.h. It exists to cross-check the accelerated
// implementation in tests and to give the benchmark a baseline; production code calls
// Crc32c()/Crc32cExtend() from crc32c.h.
#pragma once

#include <cstdint>
#include <span>

namespace eddy::record {

uint32_t Crc32cSoftware(std::span<const uint8_t> data);
uint32_t Crc32cExtendSoftware(uint32_t crc, std::span<const uint8_t> data);

}  // namespace eddy::record
