// A bounds-checked cursor over untrusted bytes. Every read either succeeds entirely, advancing
// the cursor, or returns false and leaves the cursor where it was; nothing ever reads past the
// end of the span. Callers turn `false` into an absl::Status with their own context.
//
// Does not own the bytes: they must outlive the reader and every span it hands out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace eddy::record {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t position() const { return position_; }
  size_t remaining_bytes() const { return bytes_.size() - position_; }
  bool empty() const { return remaining_bytes() == 0; }

  bool ReadInt8(int8_t* value);

  // Zig-zag varint of at most 5 bytes whose value fits in 32 bits. Rejects (false) a truncated
  // varint, a sixth continuation byte, and a fifth byte carrying bits beyond bit 31. Accepts
  // non-minimal encodings, as Kafka does.
  bool ReadVarint(int32_t* value);
  // Zig-zag varlong of at most 10 bytes whose value fits in 64 bits; same rules.
  bool ReadVarlong(int64_t* value);

  // The next `size_bytes` bytes as a span into the underlying buffer.
  bool ReadBytes(size_t size_bytes, std::span<const uint8_t>* bytes);

 private:
  bool ReadUnsigned(size_t size_bytes_max, int last_byte_bits, uint64_t* value);

  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
};

}  // namespace eddy::record
