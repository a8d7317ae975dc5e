// Kafka request and response headers, request-frame parsing and the ApiVersions answer.
//
// Header versions (PROTOCOL.md, "Headers"): a request header is v1 (api key, api version,
// correlation id, nullable client id as a non-compact STRING) for a non-flexible request and v2
// (v1 + a tagged-field section) for a flexible one; a response header is v0 (correlation id)
// or v1 (+ tagged fields) likewise, except that the ApiVersions response header is always v0
// (KIP-511: a client that sent a version the broker does not know must still be able to read
// the answer). Request header v0 (no client id) is only used by ControlledShutdown v0, which
// Eddy does not support.
//
// Frames on the wire are an int32 size followed by that many bytes; the functions here take or
// produce the bytes AFTER the size prefix unless they say otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/kafka/errors.h"
#include "core/kafka/generated/api_versions.h"
#include "core/kafka/generated/apis.h"
#include "core/kafka/wire.h"

namespace eddy::kafka {

// Smallest request frame: api key, api version and correlation id.
inline constexpr size_t kRequestHeaderSizeBytesMin = 8;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;       // header v1+
  UnknownTaggedFields unknown_tagged_fields;  // header v2
  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  UnknownTaggedFields unknown_tagged_fields;  // header v1
  bool operator==(const ResponseHeader&) const = default;
};

// Header versions for a request of `api` (nullptr: unknown API) at `api_version`. Flexible
// ranges are open-ended, so versions above the supported maximum get the header they would
// have if Eddy knew them (what a newer client sends).
int16_t RequestHeaderVersion(const ApiInfo* api, int16_t api_version);
int16_t ResponseHeaderVersion(const ApiInfo* api, int16_t api_version);

// REQUIRES: header_version is 1 or 2 (requests), 0 or 1 (responses).
void EncodeRequestHeader(const RequestHeader& header, int16_t header_version, Writer& writer);
size_t RequestHeaderSizeBytes(const RequestHeader& header, int16_t header_version);
absl::Status DecodeRequestHeader(int16_t header_version, Reader& reader, RequestHeader* header);
void EncodeResponseHeader(const ResponseHeader& header, int16_t header_version, Writer& writer);
size_t ResponseHeaderSizeBytes(const ResponseHeader& header, int16_t header_version);
absl::Status DecodeResponseHeader(int16_t header_version, Reader& reader, ResponseHeader* header);

// Reads a frame's int32 size prefix: kInvalidArgument when negative, shorter than
// `size_bytes_min` or longer than kFrameSizeBytesMax (then the connection must be closed: the
// stream cannot be re-synchronised). REQUIRES: prefix.size() >= 4.
absl::StatusOr<uint32_t> ParseFrameSize(std::span<const uint8_t> prefix,
                                        uint32_t size_bytes_min = kRequestHeaderSizeBytesMin);

// What ParseRequestFrame found. `status` is:
//   OK                  the header parsed and the API/version is supported; `body` is the rest;
//   kInvalidArgument    a malformed header (fewer than 8 bytes, or a bad client id or tags);
//   kNotFound           an unknown api key (answer: close the connection, as Kafka does);
//   kOutOfRange         a known API at a version outside its range (answer: UNSUPPORTED_VERSION;
//                       for ApiVersions, the KIP-511 answer below).
// Whenever the first 8 bytes were there, `ids_parsed` is true and header.api_key,
// header.api_version and header.correlation_id hold them, so the broker can answer with the
// right error and correlation id.
struct RequestFrame {
  absl::Status status;
  bool ids_parsed = false;
  RequestHeader header;
  int16_t header_version = 1;
  const ApiInfo* api = nullptr;  // nullptr for unknown api keys
  // View into the frame after the header (empty unless the whole header parsed).
  std::span<const uint8_t> body;
};

// Parses a request frame (the bytes after the size prefix). Never reads outside `frame`;
// `body` points into it.
RequestFrame ParseRequestFrame(std::span<const uint8_t> frame);

// The answer to an ApiVersions request at `request_version`: the supported list, error NONE,
// encoded at the request's version; for an unsupported version (KIP-511), error
// UNSUPPORTED_VERSION with the list, encoded at v0 (which every client can read).
struct ApiVersionsAnswer {
  int16_t response_version = 0;
  ApiVersionsResponse response;
};
ApiVersionsAnswer AnswerApiVersions(int16_t request_version);

// A whole frame: int32 size, header, body. The header version follows the body's API and
// version. Errors: the body's Validate()/version errors; kInvalidArgument when header.api_key
// is not Body::kApiKey or the frame would exceed kFrameSizeBytesMax.
template <typename Body>
absl::Status EncodeRequestFrame(const RequestHeader& header, const Body& body, Writer& writer);
template <typename Body>
absl::Status EncodeResponseFrame(int32_t correlation_id, int16_t version, const Body& body,
                                 Writer& writer);

// ---- implementation ----

absl::Status CheckFrameBody(int16_t api_key, int16_t body_api_key, int16_t version,
                            int16_t version_min, int16_t version_max, size_t size_bytes);

template <typename Body>
absl::Status EncodeRequestFrame(const RequestHeader& header, const Body& body, Writer& writer) {
  const int16_t version = header.api_version;
  absl::Status status = body.Validate(version);
  const int16_t header_version = RequestHeaderVersion(FindApi(Body::kApiKey), version);
  const size_t size_bytes =
      status.ok() ? RequestHeaderSizeBytes(header, header_version) + body.Size(version) : 0;
  if (status.ok()) {
    status = CheckFrameBody(header.api_key, Body::kApiKey, version, Body::kVersionMin,
                            Body::kVersionMax, size_bytes);
  }
  if (!status.ok()) return status;
  writer.Int32(static_cast<int32_t>(size_bytes));
  EncodeRequestHeader(header, header_version, writer);
  body.EncodeTo(version, writer);
  return absl::OkStatus();
}

template <typename Body>
absl::Status EncodeResponseFrame(int32_t correlation_id, int16_t version, const Body& body,
                                 Writer& writer) {
  absl::Status status = body.Validate(version);
  const int16_t header_version = ResponseHeaderVersion(FindApi(Body::kApiKey), version);
  const ResponseHeader header{correlation_id, {}};
  const size_t size_bytes =
      status.ok() ? ResponseHeaderSizeBytes(header, header_version) + body.Size(version) : 0;
  if (status.ok()) {
    status = CheckFrameBody(Body::kApiKey, Body::kApiKey, version, Body::kVersionMin,
                            Body::kVersionMax, size_bytes);
  }
  if (!status.ok()) return status;
  writer.Int32(static_cast<int32_t>(size_bytes));
  EncodeResponseHeader(header, header_version, writer);
  body.EncodeTo(version, writer);
  return absl::OkStatus();
}

}  // namespace eddy::kafka
