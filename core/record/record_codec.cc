#include "core/record/record_codec.h"

#include <algorithm>

#include "absl/strings/string_view.h"
#include "core/base/status_macros.h"

namespace eddy::record::internal {
namespace {

// The smallest header on the wire: key length 0 and value length -1, one byte each.
constexpr size_t kHeaderSizeBytesMin = 2;

absl::Status Malformed(absl::string_view what, const ByteReader& reader) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed record: ", what, " at record byte ", reader.position()));
}

// Positions in messages count from the start of the record's body (after its length varint).

// Reads a varint length followed by that many bytes; -1 means null unless `nullable` is false.
absl::Status ReadLengthPrefixed(ByteReader& reader, bool nullable, absl::string_view what,
                                OptionalBytes* bytes) {
  int32_t length = 0;
  if (!reader.ReadVarint(&length)) return Malformed(absl::StrCat(what, " length varint"), reader);
  if (length == -1 && nullable) {
    *bytes = std::nullopt;
    return absl::OkStatus();
  }
  if (length < 0) {
    return Malformed(absl::StrCat(what, " has negative length ", length), reader);
  }
  std::span<const uint8_t> data;
  if (!reader.ReadBytes(static_cast<size_t>(length), &data)) {
    return Malformed(absl::StrCat(what, " length ", length, " exceeds the ",
                                  reader.remaining_bytes(), " bytes left in the record"),
                     reader);
  }
  *bytes = data;
  return absl::OkStatus();
}

absl::Status ParseHeaders(ByteReader& body, RecordView* record) {
  int32_t header_count = 0;
  if (!body.ReadVarint(&header_count)) return Malformed("header count varint", body);
  if (header_count < 0 || static_cast<uint32_t>(header_count) > limits::kRecordHeaderCountMax ||
      static_cast<size_t>(header_count) > body.remaining_bytes() / kHeaderSizeBytesMin) {
    return Malformed(absl::StrCat("header count ", header_count, " impossible with ",
                                  body.remaining_bytes(), " bytes left"),
                     body);
  }
  record->headers.clear();
  record->headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    OptionalBytes key;
    OptionalBytes value;
    EDDY_RETURN_IF_ERROR(ReadLengthPrefixed(body, /*nullable=*/false, "header key", &key));
    EDDY_RETURN_IF_ERROR(ReadLengthPrefixed(body, /*nullable=*/true, "header value", &value));
    EDDY_CHECK(key.has_value());
    record->headers.push_back(HeaderView{
        std::string_view(reinterpret_cast<const char*>(key->data()), key->size()), value});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRecord(ByteReader& reader, RecordView* record) {
  int32_t body_size_bytes = 0;
  if (!reader.ReadVarint(&body_size_bytes)) return Malformed("record length varint", reader);
  std::span<const uint8_t> body_bytes;
  if (body_size_bytes < 0 || !reader.ReadBytes(static_cast<size_t>(body_size_bytes), &body_bytes)) {
    return Malformed(absl::StrCat("record length ", body_size_bytes, " with ",
                                  reader.remaining_bytes(), " bytes left in the batch"),
                     reader);
  }
  ByteReader body(body_bytes);
  if (!body.ReadInt8(&record->attributes)) return Malformed("attributes", body);
  if (!body.ReadVarlong(&record->timestamp_delta)) return Malformed("timestamp delta", body);
  if (!body.ReadVarint(&record->offset_delta)) return Malformed("offset delta", body);
  EDDY_RETURN_IF_ERROR(ReadLengthPrefixed(body, /*nullable=*/true, "key", &record->key));
  EDDY_RETURN_IF_ERROR(ReadLengthPrefixed(body, /*nullable=*/true, "value", &record->value));
  EDDY_RETURN_IF_ERROR(ParseHeaders(body, record));
  if (!body.empty()) {
    return Malformed(absl::StrCat(body.remaining_bytes(), " bytes after the last header"), body);
  }
  return absl::OkStatus();
}

}  // namespace eddy::record::internal
