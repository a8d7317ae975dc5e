// Big-endian loads and stores for the log's own index files (FORMAT.md). Kept local to core/log
// because core/record's helpers are private to that package.
#pragma once

#include <cstdint>
#include <vector>

namespace eddy::log::internal {

inline uint32_t Load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline uint64_t Load64(const uint8_t* p) {
  return (uint64_t{Load32(p)} << 32) | uint64_t{Load32(p + 4)};
}

inline void Put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

inline void Put64(std::vector<uint8_t>& out, uint64_t v) {
  Put32(out, static_cast<uint32_t>(v >> 32));
  Put32(out, static_cast<uint32_t>(v));
}

}  // namespace eddy::log::internal
