// Internal: encoding and parsing of one record inside a RecordBatch v2 (see FORMAT.md, "Record").
// Shared by RecordBatchBuilder, EncodeRecordBatch and RecordBatchReader so the writer and the
// reader cannot drift apart. Not part of the package's public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/limits.h"
#include "core/record/byte_reader.h"
#include "core/record/record.h"
#include "core/record/varint.h"

namespace eddy::record::internal {

using OptionalBytes = std::optional<std::span<const uint8_t>>;

inline OptionalBytes AsOptionalBytes(const std::optional<std::vector<uint8_t>>& bytes) {
  if (!bytes.has_value()) return std::nullopt;
  return std::span<const uint8_t>(*bytes);
}
inline OptionalBytes AsOptionalBytes(const OptionalBytes& bytes) { return bytes; }
inline std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A nullable field's length on the wire: -1 for null.
// REQUIRES: the field was validated against limits::kRecordFieldSizeBytesMax.
inline int32_t NullableLength(const OptionalBytes& bytes) {
  if (!bytes.has_value()) return -1;
  EDDY_CHECK_LE(bytes->size(), limits::kRecordFieldSizeBytesMax);
  return static_cast<int32_t>(bytes->size());
}

inline size_t NullableFieldSizeBytes(const OptionalBytes& bytes) {
  const int32_t length = NullableLength(bytes);
  return VarintSizeBytes(length) + (length > 0 ? static_cast<size_t>(length) : 0);
}

inline uint8_t* WriteNullableField(const OptionalBytes& bytes, uint8_t* out) {
  out = WriteVarint(NullableLength(bytes), out);
  if (bytes.has_value() && !bytes->empty()) {
    std::copy(bytes->begin(), bytes->end(), out);
    out += bytes->size();
  }
  return out;
}

// The fields of one record as the writer sees them; HeaderT is Header or HeaderView.
template <typename HeaderT>
struct RecordFields {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  OptionalBytes key;
  OptionalBytes value;
  std::span<const HeaderT> headers;
};

inline RecordFields<Header> FieldsOf(const Record& record) {
  return {record.attributes,           record.timestamp_delta,        record.offset_delta,
          AsOptionalBytes(record.key), AsOptionalBytes(record.value), record.headers};
}

// kInvalidArgument if any field is larger than the named limits allow.
template <typename HeaderT>
absl::Status ValidateRecordFields(const RecordFields<HeaderT>& fields) {
  const auto too_large = [](const OptionalBytes& bytes) {
    return bytes.has_value() && bytes->size() > limits::kRecordFieldSizeBytesMax;
  };
  if (too_large(fields.key) || too_large(fields.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("record key or value exceeds ", limits::kRecordFieldSizeBytesMax, " bytes"));
  }
  if (fields.headers.size() > limits::kRecordHeaderCountMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record has ", fields.headers.size(), " headers, limit ", limits::kRecordHeaderCountMax));
  }
  for (const HeaderT& header : fields.headers) {
    if (header.key.size() > limits::kRecordFieldSizeBytesMax ||
        too_large(AsOptionalBytes(header.value))) {
      return absl::InvalidArgumentError(absl::StrCat("record header key or value exceeds ",
                                                     limits::kRecordFieldSizeBytesMax, " bytes"));
    }
  }
  return absl::OkStatus();
}

// Bytes after the record's length varint. REQUIRES: ValidateRecordFields(fields) is OK.
template <typename HeaderT>
size_t RecordBodySizeBytes(const RecordFields<HeaderT>& fields) {
  size_t size_bytes = 1 + VarlongSizeBytes(fields.timestamp_delta) +
                      VarintSizeBytes(fields.offset_delta) + NullableFieldSizeBytes(fields.key) +
                      NullableFieldSizeBytes(fields.value) +
                      VarintSizeBytes(static_cast<int32_t>(fields.headers.size()));
  for (const HeaderT& header : fields.headers) {
    size_bytes += NullableFieldSizeBytes(AsBytes(header.key)) +
                  NullableFieldSizeBytes(AsOptionalBytes(header.value));
  }
  return size_bytes;
}

// Whole record on the wire, length varint included. REQUIRES: body_size_bytes fits an int32.
inline size_t RecordSizeBytes(size_t body_size_bytes) {
  EDDY_CHECK_LE(body_size_bytes, size_t{INT32_MAX});
  return VarintSizeBytes(static_cast<int32_t>(body_size_bytes)) + body_size_bytes;
}

// Writes the whole record (length varint first) at `out`; returns the position after it.
// REQUIRES: body_size_bytes == RecordBodySizeBytes(fields), and `out` has RecordSizeBytes() room.
template <typename HeaderT>
uint8_t* WriteRecord(const RecordFields<HeaderT>& fields, size_t body_size_bytes, uint8_t* out) {
  EDDY_CHECK_LE(body_size_bytes, size_t{INT32_MAX});
  out = WriteVarint(static_cast<int32_t>(body_size_bytes), out);
  uint8_t* const body_start = out;
  *out++ = static_cast<uint8_t>(fields.attributes);
  out = WriteVarlong(fields.timestamp_delta, out);
  out = WriteVarint(fields.offset_delta, out);
  out = WriteNullableField(fields.key, out);
  out = WriteNullableField(fields.value, out);
  out = WriteVarint(static_cast<int32_t>(fields.headers.size()), out);
  for (const HeaderT& header : fields.headers) {
    out = WriteNullableField(AsBytes(header.key), out);
    out = WriteNullableField(AsOptionalBytes(header.value), out);
  }
  EDDY_CHECK_EQ(static_cast<size_t>(out - body_start), body_size_bytes);
  return out;
}

// Parses one record at the reader's position into `record` (whose spans then point into the
// reader's buffer; its headers vector is cleared and refilled). On error returns
// kInvalidArgument and `record` is unspecified. Never reads outside the reader's span, and
// allocates for headers at most one HeaderView per two bytes actually present.
absl::Status ParseRecord(ByteReader& reader, RecordView* record);

}  // namespace eddy::record::internal
