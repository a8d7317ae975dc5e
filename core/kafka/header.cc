#include "core/kafka/header.h"

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::kafka {

int16_t RequestHeaderVersion(const ApiInfo* api, int16_t api_version) {
  return api != nullptr && api_version >= api->flexible_version_min ? 2 : 1;
}

int16_t ResponseHeaderVersion(const ApiInfo* api, int16_t api_version) {
  if (api == nullptr || api->response_header_always_v0) return 0;
  return api_version >= api->flexible_version_min ? 1 : 0;
}

void EncodeRequestHeader(const RequestHeader& header, int16_t header_version, Writer& writer) {
  EDDY_CHECK(header_version == 1 || header_version == 2);
  writer.Int16(header.api_key);
  writer.Int16(header.api_version);
  writer.Int32(header.correlation_id);
  // The client id stays a non-compact STRING even in header v2 (KIP-482).
  if (header.client_id.has_value()) {
    writer.String(*header.client_id, /*flexible=*/false);
  } else {
    writer.NullString(/*flexible=*/false);
  }
  if (header_version == 2) {
    writer.UnsignedVarint(static_cast<uint32_t>(header.unknown_tagged_fields.size()));
    size_t index = 0;
    WriteUnknownTaggedFieldsBelow(UINT64_MAX, header.unknown_tagged_fields, &index, writer);
  }
}

size_t RequestHeaderSizeBytes(const RequestHeader& header, int16_t header_version) {
  size_t size_bytes = kRequestHeaderSizeBytesMin;
  size_bytes += header.client_id.has_value() ? StringSizeBytes(header.client_id->size(), false)
                                             : NullStringSizeBytes(false);
  if (header_version == 2) {
    size_bytes +=
        UnsignedVarintSizeBytes(static_cast<uint32_t>(header.unknown_tagged_fields.size())) +
        UnknownTaggedFieldsSizeBytes(header.unknown_tagged_fields);
  }
  return size_bytes;
}

namespace {
void DecodeTaggedFields(Reader& reader, UnknownTaggedFields* fields) {
  const uint32_t count = reader.TaggedFieldCount();
  for (uint32_t i = 0; i < count && reader.ok(); ++i) {
    const uint32_t tag = reader.UnsignedVarint();
    const uint32_t size_bytes = reader.UnsignedVarint();
    const std::span<const uint8_t> data = reader.Raw(size_bytes);
    if (!reader.ok()) return;
    fields->push_back(
        UnknownTaggedField{tag, std::string(reinterpret_cast<const char*>(data.data()), data.size())});
  }
}
}  // namespace

absl::Status DecodeRequestHeader(int16_t header_version, Reader& reader, RequestHeader* header) {
  EDDY_CHECK(header_version == 1 || header_version == 2);
  *header = RequestHeader();
  header->api_key = reader.Int16();
  header->api_version = reader.Int16();
  header->correlation_id = reader.Int32();
  header->client_id = reader.NullableString(/*flexible=*/false, /*nullable=*/true);
  if (header_version == 2) DecodeTaggedFields(reader, &header->unknown_tagged_fields);
  return reader.status();
}

void EncodeResponseHeader(const ResponseHeader& header, int16_t header_version, Writer& writer) {
  EDDY_CHECK(header_version == 0 || header_version == 1);
  writer.Int32(header.correlation_id);
  if (header_version == 1) {
    writer.UnsignedVarint(static_cast<uint32_t>(header.unknown_tagged_fields.size()));
    size_t index = 0;
    WriteUnknownTaggedFieldsBelow(UINT64_MAX, header.unknown_tagged_fields, &index, writer);
  }
}

size_t ResponseHeaderSizeBytes(const ResponseHeader& header, int16_t header_version) {
  if (header_version == 0) return 4;
  return 4 + UnsignedVarintSizeBytes(static_cast<uint32_t>(header.unknown_tagged_fields.size())) +
         UnknownTaggedFieldsSizeBytes(header.unknown_tagged_fields);
}

absl::Status DecodeResponseHeader(int16_t header_version, Reader& reader, ResponseHeader* header) {
  EDDY_CHECK(header_version == 0 || header_version == 1);
  *header = ResponseHeader();
  header->correlation_id = reader.Int32();
  if (header_version == 1) DecodeTaggedFields(reader, &header->unknown_tagged_fields);
  return reader.status();
}

absl::StatusOr<uint32_t> ParseFrameSize(std::span<const uint8_t> prefix, uint32_t size_bytes_min) {
  EDDY_CHECK_GE(prefix.size(), 4u);
  Reader reader(prefix.first(4));
  const int32_t size_bytes = reader.Int32();
  if (size_bytes < 0 || static_cast<uint32_t>(size_bytes) < size_bytes_min ||
      static_cast<uint32_t>(size_bytes) > kFrameSizeBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: frame size ", size_bytes,
                                                   " outside [", size_bytes_min, ", ",
                                                   kFrameSizeBytesMax, "]"));
  }
  return static_cast<uint32_t>(size_bytes);
}

RequestFrame ParseRequestFrame(std::span<const uint8_t> frame) {
  RequestFrame result;
  if (frame.size() < kRequestHeaderSizeBytesMin) {
    result.status = absl::InvalidArgumentError(
        absl::StrCat("kafka: request frame of ", frame.size(), " bytes has no header"));
    return result;
  }
  Reader ids(frame.first(kRequestHeaderSizeBytesMin));
  const int16_t api_key = ids.Int16();
  const int16_t api_version = ids.Int16();
  EDDY_CHECK(ids.ok());
  result.api = FindApi(api_key);
  result.header_version = RequestHeaderVersion(result.api, api_version);
  Reader reader(frame);
  result.status = DecodeRequestHeader(result.header_version, reader, &result.header);
  result.ids_parsed = true;
  EDDY_CHECK_EQ(result.header.api_key, api_key);
  if (!result.status.ok()) return result;
  result.body = frame.subspan(reader.position());
  if (result.api == nullptr) {
    result.status = absl::NotFoundError(absl::StrCat("kafka: unknown api key ", api_key));
  } else if (api_version < result.api->version_min || api_version > result.api->version_max) {
    result.status = absl::OutOfRangeError(
        absl::StrCat("kafka: ", result.api->name, " v", api_version, " is outside the supported ",
                     result.api->version_min, "-", result.api->version_max));
  }
  return result;
}

ApiVersionsAnswer AnswerApiVersions(int16_t request_version) {
  ApiVersionsAnswer answer;
  const bool supported = request_version >= ApiVersionsRequest::kVersionMin &&
                         request_version <= ApiVersionsRequest::kVersionMax;
  answer.response_version = supported ? request_version : 0;
  answer.response.error_code =
      ToWire(supported ? ErrorCode::kNone : ErrorCode::kUnsupportedVersion);
  for (const ApiInfo& api : SupportedApis()) {
    ApiVersionsResponse::ApiVersion entry;
    entry.api_key = api.api_key;
    entry.min_version = api.version_min;
    entry.max_version = api.version_max;
    answer.response.api_keys.push_back(entry);
  }
  EDDY_CHECK_OK(answer.response.Validate(answer.response_version));
  return answer;
}

absl::Status CheckFrameBody(int16_t api_key, int16_t body_api_key, int16_t version,
                            int16_t version_min, int16_t version_max, size_t size_bytes) {
  if (api_key != body_api_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: header api key ", api_key, " but a body of api key ", body_api_key));
  }
  if (version < version_min || version > version_max) {
    return absl::InvalidArgumentError(absl::StrCat("kafka: api key ", api_key, " has no version ",
                                                   version));
  }
  if (size_bytes > kFrameSizeBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka: frame of ", size_bytes, " bytes exceeds ", kFrameSizeBytesMax));
  }
  return absl::OkStatus();
}

}  // namespace eddy::kafka
