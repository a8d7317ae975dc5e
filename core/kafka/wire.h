// Kafka wire primitives: the bounds-checked Reader and the scatter-gather Writer that every
// generated message codec is built from (see PROTOCOL.md, "Primitive encodings").
//
// Reader: a cursor over untrusted bytes with a STICKY error. The first read that does not fit
// (too few bytes left, a length or count over its named limit, an over-long varint, a null where
// null is not allowed) records an absl::Status (kInvalidArgument) naming what was read and
// where; from then on every read returns a zero value, every count is 0 and remaining_bytes()
// is 0, so generated decoders run straight-line and check ok() once. Nothing is ever read past
// the end of the span, and no length or count is used to allocate before it has been checked
// against the bytes that remain: an array count of 2^31 fails before any allocation.
// The Reader does not own its bytes; views it hands out (Records) point into them, so the input
// buffer must outlive every decoded message that holds a Records field.
//
// Writer: appends big-endian fixed-width values, unsigned varints and length-prefixed values to
// an owned buffer, except Records pieces, which it keeps as views (never copied): the output is
// a list of pieces (Pieces()) for scatter-gather sends, or Flatten() for tests. Views given to
// a Writer must outlive it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/base/units.h"

namespace eddy::kafka {

// Named limits on untrusted input.
// Largest request or response frame (Kafka's socket.request.max.bytes default, 100 MiB).
inline constexpr uint32_t kFrameSizeBytesMax = 100 * 1024 * 1024;
// Longest string: Kafka's STRING and COMPACT_STRING both carry at most Short.MAX_VALUE bytes.
inline constexpr uint32_t kStringLengthMax = 32767;
// Largest BYTES / RECORDS value: a whole frame.
inline constexpr uint32_t kBytesSizeBytesMax = kFrameSizeBytesMax;
// Most elements in one array (also bounded by the remaining bytes, per element's minimum size).
inline constexpr uint32_t kArrayCountMax = 1u << 20;
// Most entries in one tagged-field section.
inline constexpr uint32_t kTaggedFieldCountMax = 1024;
// An unsigned varint carries a uint32: at most 5 bytes.
inline constexpr size_t kUnsignedVarintSizeBytesMax = 5;
inline constexpr size_t kVarlongSizeBytesMax = 10;

static_assert(kBytesSizeBytesMax <= INT32_MAX, "BYTES lengths are int32 on the wire");
static_assert(kArrayCountMax <= INT32_MAX, "array counts are int32 on the wire");

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};

// A tagged field the decoder did not recognise (or whose tag is not defined at the message's
// version), kept verbatim so a re-encode reproduces it.
struct UnknownTaggedField {
  uint32_t tag = 0;
  std::string data;
  bool operator==(const UnknownTaggedField&) const = default;
};
using UnknownTaggedFields = std::vector<UnknownTaggedField>;

// A RECORDS field: record batches as views, never copied or parsed by the codec. Decoding gives
// one piece pointing into the input buffer; an encoder may pass several (scatter-gather pieces
// of log reads). Null is distinct from empty (Kafka's nullable records).
class Records {
 public:
  Records() = default;  // null
  static Records Empty() {
    Records records;
    records.is_null_ = false;
    return records;
  }
  static Records Of(std::span<const uint8_t> bytes) {
    Records records = Empty();
    records.Append(bytes);
    return records;
  }
  // Adds a piece; makes the value non-null. The bytes must outlive every use of this value.
  void Append(std::span<const uint8_t> bytes) {
    is_null_ = false;
    if (!bytes.empty()) {
      pieces_.push_back(bytes);
      size_bytes_ += bytes.size();
    }
  }
  bool is_null() const { return is_null_; }
  size_t size_bytes() const { return size_bytes_; }
  std::span<const std::span<const uint8_t>> pieces() const { return pieces_; }
  // The bytes, copied into one string (tests and small payloads only).
  std::string Flatten() const;
  // Equal when both are null, or both non-null with the same bytes (however they are split).
  bool operator==(const Records& other) const;

 private:
  bool is_null_ = true;
  size_t size_bytes_ = 0;
  absl::InlinedVector<std::span<const uint8_t>, 1> pieces_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  explicit Reader(std::string_view bytes)
      : bytes_(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  size_t position() const { return position_; }
  size_t remaining_bytes() const { return bytes_.size() - position_; }

  int8_t Int8();
  int16_t Int16();
  int32_t Int32();
  int64_t Int64();
  uint16_t Uint16();
  uint32_t Uint32();
  double Float64();
  bool Bool() { return Int8() != 0; }
  Uuid ReadUuid();
  uint32_t UnsignedVarint();
  // Zig-zag VARINT (at most 5 bytes) and VARLONG (at most 10 bytes), as inside records.
  int32_t Varint();
  int64_t Varlong();

  // STRING (int16 length) or COMPACT_STRING (unsigned varint length + 1). A null fails unless
  // `nullable`; Nullable* returns std::nullopt for it.
  std::string String(bool flexible) { return NullableString(flexible, false).value_or(""); }
  std::optional<std::string> NullableString(bool flexible, bool nullable);
  // BYTES (int32 length) or COMPACT_BYTES.
  std::string Bytes(bool flexible) { return NullableBytes(flexible, false).value_or(""); }
  std::optional<std::string> NullableBytes(bool flexible, bool nullable);
  // RECORDS: a view of the next length bytes; null only when `nullable`.
  Records ReadRecords(bool flexible, bool nullable);
  // ARRAY (int32 count) or COMPACT_ARRAY count; -1 for null (fails unless `nullable`). Fails
  // when count > kArrayCountMax or count * element_size_bytes_min > remaining_bytes().
  int32_t ArrayCount(bool flexible, size_t element_size_bytes_min, bool nullable);
  // Count of a tagged-field section (each entry takes at least 2 bytes).
  uint32_t TaggedFieldCount();

  // The next `size_bytes` bytes as a view (empty on failure).
  std::span<const uint8_t> Raw(size_t size_bytes);
  // A reader over the next `size_bytes` bytes; this reader moves past them. Hand the sub-reader
  // back to Join, which adopts its error and fails when it did not consume exactly everything.
  Reader Split(size_t size_bytes);
  void Join(const Reader& sub, const char* what);

  // Records the first error (later ones are dropped) and stops the reader.
  void Fail(absl::string_view what);

 private:
  // Length prefix of STRING/BYTES: -1 for null.
  int64_t Length(bool flexible, bool wide, const char* what);
  bool Need(size_t size_bytes, const char* what);
  uint64_t UnsignedVarlong(size_t size_bytes_max, const char* what);

  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
  absl::Status status_;
};

class Writer {
 public:
  Writer() = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Reserve(size_t size_bytes) { buffer_.reserve(size_bytes); }

  void Int8(int8_t value) { buffer_.push_back(static_cast<uint8_t>(value)); }
  void Int16(int16_t value) { BigEndian(static_cast<uint16_t>(value), 2); }
  void Int32(int32_t value) { BigEndian(static_cast<uint32_t>(value), 4); }
  void Int64(int64_t value) { BigEndian(static_cast<uint64_t>(value), 8); }
  void Uint16(uint16_t value) { BigEndian(value, 2); }
  void Uint32(uint32_t value) { BigEndian(value, 4); }
  void Float64(double value);
  void Bool(bool value) { Int8(value ? 1 : 0); }
  void WriteUuid(const Uuid& value) { Raw(value.bytes.data(), value.bytes.size()); }
  void UnsignedVarint(uint32_t value);
  void Varint(int32_t value);
  void Varlong(int64_t value);

  // REQUIRES: value.size() <= kStringLengthMax (Validate() of the message checks it).
  void String(std::string_view value, bool flexible);
  void NullString(bool flexible);
  void Bytes(std::string_view value, bool flexible);
  void NullBytes(bool flexible);
  // Writes the length prefix and keeps every piece as a view.
  void WriteRecords(const Records& records, bool flexible);
  void ArrayCount(size_t count, bool flexible);
  void NullArray(bool flexible);

  void Raw(const void* data, size_t size_bytes);

  size_t size_bytes() const { return buffer_.size() + external_size_bytes_; }
  // The output in order: owned stretches and the Records views between them. Valid until the
  // next write.
  std::vector<std::span<const uint8_t>> Pieces() const;
  std::string Flatten() const;

 private:
  void BigEndian(uint64_t value, int size_bytes);
  void UnsignedVarlong(uint64_t value);

  struct External {
    size_t buffer_position;  // owned bytes before this piece
    std::span<const uint8_t> bytes;
  };
  std::vector<uint8_t> buffer_;
  std::vector<External> externals_;
  size_t external_size_bytes_ = 0;
};

// Encoded sizes, for Size(version).
size_t UnsignedVarintSizeBytes(uint32_t value);
inline size_t StringSizeBytes(size_t length, bool flexible) {
  return flexible ? UnsignedVarintSizeBytes(static_cast<uint32_t>(length + 1)) + length
                  : 2 + length;
}
inline size_t NullStringSizeBytes(bool flexible) { return flexible ? 1 : 2; }
inline size_t BytesSizeBytes(size_t length, bool flexible) {
  return flexible ? UnsignedVarintSizeBytes(static_cast<uint32_t>(length + 1)) + length
                  : 4 + length;
}
inline size_t NullBytesSizeBytes(bool flexible) { return flexible ? 1 : 4; }
inline size_t NullArraySizeBytes(bool flexible) { return flexible ? 1 : 4; }
inline size_t ArrayCountSizeBytes(size_t count, bool flexible) {
  return flexible ? UnsignedVarintSizeBytes(static_cast<uint32_t>(count + 1)) : 4;
}
inline size_t RecordsSizeBytes(const Records& records, bool flexible) {
  return records.is_null() ? NullBytesSizeBytes(flexible)
                           : BytesSizeBytes(records.size_bytes(), flexible);
}

// Tagged-field sections: writes every unknown field from *index on whose tag is below
// `tag_limit` (the generated encoders merge them with the known fields in tag order).
void WriteUnknownTaggedFieldsBelow(uint64_t tag_limit, const UnknownTaggedFields& fields,
                                   size_t* index, Writer& writer);
size_t UnknownTaggedFieldsSizeBytes(const UnknownTaggedFields& fields);

// Status for a message field that cannot be encoded at `version` (generated Validate()).
absl::Status FieldError(absl::string_view message, absl::string_view field, int16_t version,
                        absl::string_view problem);

// Decodes a whole message body. With `trailing_size_bytes` null the message must consume every
// byte (kInvalidArgument otherwise); with it non-null, bytes after the message are allowed and
// counted there. Kafka's Java broker ignores such bytes, and a real client sends them:
// librdkafka 2.0.2 ends its flexible ListGroups v4 request with one extra empty tagged-field
// section (golden frame librdkafka-ListGroups-v4-0.bin), so a broker decodes requests with a
// counter and tests decode strictly.
template <typename Message>
absl::Status DecodeBody(int16_t version, std::span<const uint8_t> bytes, Message* message,
                        size_t* trailing_size_bytes = nullptr) {
  Reader reader(bytes);
  absl::Status status = message->Decode(version, reader);
  if (!status.ok()) return status;
  if (trailing_size_bytes != nullptr) {
    *trailing_size_bytes = reader.remaining_bytes();
  } else if (reader.remaining_bytes() != 0) {
    return absl::InvalidArgumentError("kafka: " + std::to_string(reader.remaining_bytes()) +
                                      " trailing bytes after " + Message::kName);
  }
  return absl::OkStatus();
}

}  // namespace eddy::kafka
