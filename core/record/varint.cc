#include "core/record/varint.h"

namespace eddy::record {
namespace {

uint8_t* WriteUnsigned(uint64_t u, uint8_t* out) {
  while (u >= 0x80) {
    *out++ = static_cast<uint8_t>(u | 0x80);
    u >>= 7;
  }
  *out++ = static_cast<uint8_t>(u);
  return out;
}

}  // namespace

uint8_t* WriteVarint(int32_t n, uint8_t* out) { return WriteUnsigned(ZigZagEncode32(n), out); }

uint8_t* WriteVarlong(int64_t n, uint8_t* out) { return WriteUnsigned(ZigZagEncode64(n), out); }

}  // namespace eddy::record
