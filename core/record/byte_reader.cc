#include "core/record/byte_reader.h"

#include "core/base/check.h"
#include "core/record/varint.h"

namespace eddy::record {

bool ByteReader::ReadInt8(int8_t* value) {
  if (remaining_bytes() < 1) return false;
  *value = static_cast<int8_t>(bytes_[position_]);
  ++position_;
  return true;
}

// `last_byte_bits`: how many value bits the final permitted byte may carry (32 - 4*7 = 4 for a
// varint, 64 - 9*7 = 1 for a varlong); anything above them would not fit the integer.

bool ByteReader::ReadUnsigned(size_t size_bytes_max, int last_byte_bits, uint64_t* value) {
  uint64_t result = 0;
  size_t position = position_;
  for (size_t i = 0; i < size_bytes_max; ++i) {
    if (position >= bytes_.size()) return false;
    const uint8_t byte = bytes_[position++];
    const bool is_last_permitted = (i + 1 == size_bytes_max);
    if (is_last_permitted && (byte >> last_byte_bits) != 0) return false;
    result |= uint64_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80u) == 0) {
      EDDY_CHECK_LE(position - position_, size_bytes_max);
      position_ = position;
      *value = result;
      return true;
    }
  }
  return false;
}

bool ByteReader::ReadVarint(int32_t* value) {
  uint64_t u = 0;
  if (!ReadUnsigned(kVarintSizeBytesMax, 32 - 7 * (kVarintSizeBytesMax - 1), &u)) return false;
  EDDY_CHECK_LE(u, uint64_t{UINT32_MAX});
  *value = ZigZagDecode32(static_cast<uint32_t>(u));
  return true;
}

bool ByteReader::ReadVarlong(int64_t* value) {
  uint64_t u = 0;
  if (!ReadUnsigned(kVarlongSizeBytesMax, 64 - 7 * (kVarlongSizeBytesMax - 1), &u)) return false;
  *value = ZigZagDecode64(u);
  return true;
}

bool ByteReader::ReadBytes(size_t size_bytes, std::span<const uint8_t>* bytes) {
  if (size_bytes > remaining_bytes()) return false;
  *bytes = bytes_.subspan(position_, size_bytes);
  position_ += size_bytes;
  EDDY_CHECK_LE(position_, bytes_.size());
  return true;
}

}  // namespace eddy::record
