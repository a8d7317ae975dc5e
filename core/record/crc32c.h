// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
//
// Values are the standard, finalised CRC (initial value and final XOR 0xFFFFFFFF), so
// Crc32c("123456789") == 0xE3069283 and results compare directly with the `crc` field on the
// wire. Computed by ISA-L's hardware-accelerated crc32_iscsi (SSE4.2 crc32 + PCLMUL folding).
// Pure functions: no state, safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>

namespace eddy::record {

// CRC32C of `data`.
uint32_t Crc32c(std::span<const uint8_t> data);

// Extends a finished CRC32C with more bytes: Crc32cExtend(Crc32c(a), b) == Crc32c(a ++ b).
// Crc32cExtend(0, data) == Crc32c(data), so 0 is the CRC of the empty string and a valid start.
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data);

}  // namespace eddy::record
