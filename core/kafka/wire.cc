#include "core/kafka/wire.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::kafka {

std::string Records::Flatten() const {
  std::string out;
  out.reserve(size_bytes_);
  for (std::span<const uint8_t> piece : pieces_) {
    out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  }
  return out;
}

bool Records::operator==(const Records& other) const {
  if (is_null_ != other.is_null_ || size_bytes_ != other.size_bytes_) return false;
  if (pieces_.size() == 1 && other.pieces_.size() == 1) {
    return std::memcmp(pieces_[0].data(), other.pieces_[0].data(), size_bytes_) == 0;
  }
  return Flatten() == other.Flatten();
}

// ---- Reader ----

void Reader::Fail(absl::string_view what) {
  if (status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("kafka: malformed input at byte ", position_, ": ", what));
  }
  position_ = bytes_.size();
}

bool Reader::Need(size_t size_bytes, const char* what) {
  if (remaining_bytes() >= size_bytes) [[likely]] {
    return true;
  }
  if (status_.ok()) {
    Fail(absl::StrCat(what, " needs ", size_bytes, " bytes, ", remaining_bytes(), " left"));
  }
  position_ = bytes_.size();
  return false;
}

namespace {
uint64_t LoadBigEndian(const uint8_t* data, int size_bytes) {
  uint64_t value = 0;
  for (int i = 0; i < size_bytes; ++i) value = (value << 8) | data[i];
  return value;
}
}  // namespace

int8_t Reader::Int8() {
  if (!Need(1, "int8")) return 0;
  return static_cast<int8_t>(bytes_[position_++]);
}
int16_t Reader::Int16() { return static_cast<int16_t>(Uint16()); }
uint16_t Reader::Uint16() {
  if (!Need(2, "int16")) return 0;
  uint16_t value = static_cast<uint16_t>(LoadBigEndian(bytes_.data() + position_, 2));
  position_ += 2;
  return value;
}
int32_t Reader::Int32() { return static_cast<int32_t>(Uint32()); }
uint32_t Reader::Uint32() {
  if (!Need(4, "int32")) return 0;
  uint32_t value = static_cast<uint32_t>(LoadBigEndian(bytes_.data() + position_, 4));
  position_ += 4;
  return value;
}
int64_t Reader::Int64() {
  if (!Need(8, "int64")) return 0;
  uint64_t value = LoadBigEndian(bytes_.data() + position_, 8);
  position_ += 8;
  return static_cast<int64_t>(value);
}
double Reader::Float64() {
  if (!Need(8, "float64")) return 0;
  uint64_t bits = LoadBigEndian(bytes_.data() + position_, 8);
  position_ += 8;
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
Uuid Reader::ReadUuid() {
  Uuid uuid;
  if (!Need(16, "uuid")) return uuid;
  std::memcpy(uuid.bytes.data(), bytes_.data() + position_, 16);
  position_ += 16;
  return uuid;
}

uint32_t Reader::UnsignedVarint() {
  uint32_t value = 0;
  for (size_t i = 0; i < kUnsignedVarintSizeBytesMax; ++i) {
    if (!Need(1, "unsigned varint")) return 0;
    const uint8_t byte = bytes_[position_++];
    if (i == kUnsignedVarintSizeBytesMax - 1 && (byte & 0xf0) != 0) {
      Fail("unsigned varint exceeds 32 bits");
      return 0;
    }
    value |= static_cast<uint32_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  EDDY_UNREACHABLE();
}

uint64_t Reader::UnsignedVarlong(size_t size_bytes_max, const char* what) {
  const int value_bits = size_bytes_max == kUnsignedVarintSizeBytesMax ? 32 : 64;
  uint64_t value = 0;
  for (size_t i = 0; i < size_bytes_max; ++i) {
    if (!Need(1, what)) return 0;
    const uint8_t byte = bytes_[position_++];
    const int shift = static_cast<int>(7 * i);
    // The last byte may only carry the bits that are left.
    if (i == size_bytes_max - 1 && (byte >> (value_bits - shift)) != 0) {
      Fail(absl::StrCat(what, " exceeds ", value_bits, " bits"));
      return 0;
    }
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  EDDY_UNREACHABLE();
}

int32_t Reader::Varint() {
  const uint32_t u = static_cast<uint32_t>(UnsignedVarlong(kUnsignedVarintSizeBytesMax, "varint"));
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1u) + 1u));
}

int64_t Reader::Varlong() {
  const uint64_t u = UnsignedVarlong(kVarlongSizeBytesMax, "varlong");
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1u) + 1u));
}

int64_t Reader::Length(bool flexible, bool wide, const char* what) {
  int64_t length;
  if (flexible) {
    length = static_cast<int64_t>(UnsignedVarint()) - 1;
  } else {
    length = wide ? Int32() : Int16();
  }
  if (!ok()) return -1;
  if (length < -1) {
    Fail(absl::StrCat(what, " length ", length, " is negative"));
    return -1;
  }
  return length;
}

std::optional<std::string> Reader::NullableString(bool flexible, bool nullable) {
  const int64_t length = Length(flexible, /*wide=*/false, "string");
  if (!ok()) return std::nullopt;
  if (length < 0) {
    if (!nullable) Fail("null in a non-nullable string");
    return std::nullopt;
  }
  if (length > kStringLengthMax) {
    Fail(absl::StrCat("string length ", length, " exceeds ", kStringLengthMax));
    return std::nullopt;
  }
  if (!Need(static_cast<size_t>(length), "string")) return std::nullopt;
  std::string value(reinterpret_cast<const char*>(bytes_.data() + position_),
                    static_cast<size_t>(length));
  position_ += static_cast<size_t>(length);
  return value;
}

std::optional<std::string> Reader::NullableBytes(bool flexible, bool nullable) {
  Records records = ReadRecords(flexible, nullable);
  if (!ok() || records.is_null()) return std::nullopt;
  return records.Flatten();
}

Records Reader::ReadRecords(bool flexible, bool nullable) {
  const int64_t length = Length(flexible, /*wide=*/true, "bytes");
  if (!ok()) return Records();
  if (length < 0) {
    if (!nullable) Fail("null in non-nullable bytes");
    return Records();
  }
  if (length > kBytesSizeBytesMax) {
    Fail(absl::StrCat("bytes length ", length, " exceeds ", kBytesSizeBytesMax));
    return Records();
  }
  if (!Need(static_cast<size_t>(length), "bytes")) return Records();
  Records records = Records::Of(bytes_.subspan(position_, static_cast<size_t>(length)));
  position_ += static_cast<size_t>(length);
  return records;
}

int32_t Reader::ArrayCount(bool flexible, size_t element_size_bytes_min, bool nullable) {
  int64_t count;
  if (flexible) {
    count = static_cast<int64_t>(UnsignedVarint()) - 1;
  } else {
    count = Int32();
  }
  if (!ok()) return 0;
  if (count < 0) {
    if (count < -1) {
      Fail(absl::StrCat("array count ", count, " is negative"));
    } else if (!nullable) {
      Fail("null in a non-nullable array");
    }
    return count == -1 && nullable ? -1 : 0;
  }
  if (count > kArrayCountMax) {
    Fail(absl::StrCat("array count ", count, " exceeds ", kArrayCountMax));
    return 0;
  }
  if (static_cast<uint64_t>(count) * element_size_bytes_min > remaining_bytes()) {
    Fail(absl::StrCat("array count ", count, " of elements of at least ", element_size_bytes_min,
                      " bytes exceeds the ", remaining_bytes(), " bytes left"));
    return 0;
  }
  return static_cast<int32_t>(count);
}

uint32_t Reader::TaggedFieldCount() {
  const uint32_t count = UnsignedVarint();
  if (!ok()) return 0;
  if (count > kTaggedFieldCountMax || uint64_t{count} * 2 > remaining_bytes()) {
    Fail(absl::StrCat("tagged field count ", count, " exceeds the limit or the bytes left"));
    return 0;
  }
  return count;
}

std::span<const uint8_t> Reader::Raw(size_t size_bytes) {
  if (!Need(size_bytes, "raw bytes")) return {};
  std::span<const uint8_t> view = bytes_.subspan(position_, size_bytes);
  position_ += size_bytes;
  return view;
}

Reader Reader::Split(size_t size_bytes) {
  Reader sub(Raw(size_bytes));
  if (!ok()) sub.Fail("split of a failed reader");
  return sub;
}

void Reader::Join(const Reader& sub, const char* what) {
  if (!sub.ok()) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(sub.status().message(), " (in ", what,
                                                        " ending at byte ", position_, ")"));
    }
    position_ = bytes_.size();
  } else if (sub.remaining_bytes() != 0) {
    Fail(absl::StrCat(what, " left ", sub.remaining_bytes(), " bytes unread"));
  }
}

// ---- Writer ----

void Writer::BigEndian(uint64_t value, int size_bytes) {
  for (int shift = (size_bytes - 1) * 8; shift >= 0; shift -= 8) {
    buffer_.push_back(static_cast<uint8_t>(value >> shift));
  }
}

void Writer::Float64(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  BigEndian(bits, 8);
}

void Writer::UnsignedVarint(uint32_t value) {
  while (value >= 0x80) {
    buffer_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  buffer_.push_back(static_cast<uint8_t>(value));
}

void Writer::UnsignedVarlong(uint64_t value) {
  while (value >= 0x80) {
    buffer_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  buffer_.push_back(static_cast<uint8_t>(value));
}

void Writer::Varint(int32_t value) {
  UnsignedVarlong((static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31));
}

void Writer::Varlong(int64_t value) {
  UnsignedVarlong((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

size_t UnsignedVarintSizeBytes(uint32_t value) {
  size_t size_bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size_bytes;
  }
  return size_bytes;
}

void Writer::String(std::string_view value, bool flexible) {
  EDDY_CHECK_LE(value.size(), kStringLengthMax);
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(value.size() + 1));
  } else {
    Int16(static_cast<int16_t>(value.size()));
  }
  Raw(value.data(), value.size());
}

void Writer::NullString(bool flexible) {
  if (flexible) {
    UnsignedVarint(0);
  } else {
    Int16(-1);
  }
}

void Writer::Bytes(std::string_view value, bool flexible) {
  EDDY_CHECK_LE(value.size(), kBytesSizeBytesMax);
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(value.size() + 1));
  } else {
    Int32(static_cast<int32_t>(value.size()));
  }
  Raw(value.data(), value.size());
}

void Writer::NullBytes(bool flexible) {
  if (flexible) {
    UnsignedVarint(0);
  } else {
    Int32(-1);
  }
}

void Writer::WriteRecords(const Records& records, bool flexible) {
  if (records.is_null()) {
    NullBytes(flexible);
    return;
  }
  EDDY_CHECK_LE(records.size_bytes(), kBytesSizeBytesMax);
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(records.size_bytes() + 1));
  } else {
    Int32(static_cast<int32_t>(records.size_bytes()));
  }
  for (std::span<const uint8_t> piece : records.pieces()) {
    externals_.push_back(External{buffer_.size(), piece});
    external_size_bytes_ += piece.size();
  }
}

void Writer::ArrayCount(size_t count, bool flexible) {
  EDDY_CHECK_LE(count, size_t{INT32_MAX} - 1);
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(count + 1));
  } else {
    Int32(static_cast<int32_t>(count));
  }
}

void Writer::NullArray(bool flexible) {
  if (flexible) {
    UnsignedVarint(0);
  } else {
    Int32(-1);
  }
}

void Writer::Raw(const void* data, size_t size_bytes) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  buffer_.insert(buffer_.end(), bytes, bytes + size_bytes);
}

std::vector<std::span<const uint8_t>> Writer::Pieces() const {
  std::vector<std::span<const uint8_t>> pieces;
  pieces.reserve(2 * externals_.size() + 1);
  size_t owned_position = 0;
  for (const External& external : externals_) {
    EDDY_CHECK_LE(owned_position, external.buffer_position);
    if (external.buffer_position > owned_position) {
      pieces.emplace_back(buffer_.data() + owned_position,
                          external.buffer_position - owned_position);
    }
    pieces.push_back(external.bytes);
    owned_position = external.buffer_position;
  }
  if (buffer_.size() > owned_position) {
    pieces.emplace_back(buffer_.data() + owned_position, buffer_.size() - owned_position);
  }
  return pieces;
}

std::string Writer::Flatten() const {
  std::string out;
  out.reserve(size_bytes());
  for (std::span<const uint8_t> piece : Pieces()) {
    out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  }
  EDDY_CHECK_EQ(out.size(), size_bytes());
  return out;
}

void WriteUnknownTaggedFieldsBelow(uint64_t tag_limit, const UnknownTaggedFields& fields,
                                   size_t* index, Writer& writer) {
  while (*index < fields.size() && fields[*index].tag < tag_limit) {
    const UnknownTaggedField& field = fields[*index];
    writer.UnsignedVarint(field.tag);
    writer.UnsignedVarint(static_cast<uint32_t>(field.data.size()));
    writer.Raw(field.data.data(), field.data.size());
    ++*index;
  }
}

size_t UnknownTaggedFieldsSizeBytes(const UnknownTaggedFields& fields) {
  size_t size_bytes = 0;
  for (const UnknownTaggedField& field : fields) {
    size_bytes += UnsignedVarintSizeBytes(field.tag) +
                  UnsignedVarintSizeBytes(static_cast<uint32_t>(field.data.size())) +
                  field.data.size();
  }
  return size_bytes;
}

absl::Status FieldError(absl::string_view message, absl::string_view field, int16_t version,
                        absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("kafka: cannot encode ", message, ".", field, " at version ", version, ": ",
                   problem));
}

}  // namespace eddy::kafka
