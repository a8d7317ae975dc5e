// Proves the header rules: header versions follow each API's flexible range (open-ended, so a
// too-new version gets the header a newer client sends), the ApiVersions response header is
// always v0; request frames give back api key, version and correlation id whenever the first 8
// bytes are there, with unknown keys, unsupported versions and malformed headers each reported
// as such; the KIP-511 answer carries the supported list at v0; and frames are written with the
// right size prefix, checked byte for byte against the published layout.
#include "core/kafka/header.h"

#include <string>

#include "core/base/status_matchers.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/metadata.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HeaderTest, HeaderVersionsFollowFlexibleVersions) {
  const ApiInfo* metadata = FindApi(3);
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(RequestHeaderVersion(metadata, 8), 1);
  EXPECT_EQ(RequestHeaderVersion(metadata, 9), 2);
  EXPECT_EQ(RequestHeaderVersion(metadata, 100), 2);  // newer than supported: still flexible
  EXPECT_EQ(ResponseHeaderVersion(metadata, 8), 0);
  EXPECT_EQ(ResponseHeaderVersion(metadata, 9), 1);
  const ApiInfo* api_versions = FindApi(18);
  ASSERT_NE(api_versions, nullptr);
  EXPECT_EQ(RequestHeaderVersion(api_versions, 3), 2);
  EXPECT_EQ(ResponseHeaderVersion(api_versions, 3), 0);  // KIP-511
  EXPECT_EQ(RequestHeaderVersion(nullptr, 5), 1);
}

TEST(HeaderTest, ParsesAFlexibleRequestFrame) {
  // Heartbeat v4: header v2 = key 12, version 4, correlation 7, client id "ab", no tags.
  const std::string frame = Bytes({0, 12, 0, 4, 0, 0, 0, 7, 0, 2, 'a', 'b', 0,
                                   /*body*/ 2, 'g', 0, 0, 0, 1, 2, 'm', 0, 0});
  const RequestFrame parsed = ParseRequestFrame(Span(frame));
  EDDY_ASSERT_OK(parsed.status);
  EXPECT_TRUE(parsed.ids_parsed);
  EXPECT_EQ(parsed.header.api_key, 12);
  EXPECT_EQ(parsed.header.api_version, 4);
  EXPECT_EQ(parsed.header.correlation_id, 7);
  EXPECT_EQ(parsed.header.client_id, "ab");
  EXPECT_EQ(parsed.header_version, 2);
  HeartbeatRequest request;
  EDDY_ASSERT_OK(DecodeBody(4, parsed.body, &request));
  EXPECT_EQ(request.group_id, "g");
  EXPECT_EQ(request.generation_id, 1);
  EXPECT_EQ(request.member_id, "m");
  EXPECT_EQ(request.group_instance_id, std::nullopt);
}

TEST(HeaderTest, ReportsUnknownKeysUnsupportedVersionsAndMalformedHeaders) {
  const std::string unknown = Bytes({0x03, 0xe7, 0, 0, 0, 0, 0, 9, 0xff, 0xff});
  RequestFrame parsed = ParseRequestFrame(Span(unknown));
  EXPECT_THAT(parsed.status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(parsed.ids_parsed);
  EXPECT_EQ(parsed.header.api_key, 999);
  EXPECT_EQ(parsed.header.correlation_id, 9);

  const std::string too_new = Bytes({0, 12, 0x7f, 0, 0, 0, 1, 0, 0xff, 0xff, 0});
  parsed = ParseRequestFrame(Span(too_new));
  EXPECT_THAT(parsed.status, StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(parsed.header.api_version, 0x7f00);
  EXPECT_EQ(parsed.header.correlation_id, 256);

  const std::string bad_client_id = Bytes({0, 12, 0, 0, 0, 0, 0, 5, 0, 9, 'x'});
  parsed = ParseRequestFrame(Span(bad_client_id));
  EXPECT_THAT(parsed.status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(parsed.ids_parsed);
  EXPECT_EQ(parsed.header.correlation_id, 5);

  const std::string short_frame = Bytes({0, 12, 0, 0, 0, 0, 0});
  parsed = ParseRequestFrame(Span(short_frame));
  EXPECT_THAT(parsed.status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(parsed.ids_parsed);
}

TEST(HeaderTest, EveryTruncationOfAHeaderIsAnError) {
  const std::string frame = Bytes({0, 12, 0, 4, 0, 0, 0, 7, 0, 2, 'a', 'b', 1, 5, 1, 'z'});
  EDDY_ASSERT_OK(ParseRequestFrame(Span(frame)).status);
  for (size_t length = 0; length < 16; ++length) {
    const std::string prefix = frame.substr(0, length);
    const RequestFrame parsed = ParseRequestFrame(Span(prefix));
    EXPECT_FALSE(parsed.status.ok()) << length;
    EXPECT_EQ(parsed.ids_parsed, length >= 8) << length;
  }
}

TEST(HeaderTest, FrameSize) {
  EXPECT_THAT(ParseFrameSize(Span(Bytes({0, 0, 0, 8}))), IsOk());
  EXPECT_THAT(ParseFrameSize(Span(Bytes({0, 0, 0, 7}))), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFrameSize(Span(Bytes({0xff, 0xff, 0xff, 0xff}))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseFrameSize(Span(Bytes({0x10, 0, 0, 0}))),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ApiVersionsTest, Kip511AnswerIsV0WithTheList) {
  const ApiVersionsAnswer answer = AnswerApiVersions(99);
  EXPECT_EQ(answer.response_version, 0);
  EXPECT_EQ(answer.response.error_code, ToWire(ErrorCode::kUnsupportedVersion));
  ASSERT_EQ(answer.response.api_keys.size(), SupportedApis().size());
  const ApiVersionsAnswer supported = AnswerApiVersions(3);
  EXPECT_EQ(supported.response_version, 3);
  EXPECT_EQ(supported.response.error_code, 0);
  for (size_t i = 0; i < SupportedApis().size(); ++i) {
    EXPECT_EQ(supported.response.api_keys[i].api_key, SupportedApis()[i].api_key);
    EXPECT_EQ(supported.response.api_keys[i].max_version, SupportedApis()[i].version_max);
  }
}

TEST(ApiVersionsTest, V0ResponseBytesMatchThePublishedLayout) {
  ApiVersionsResponse response;
  response.error_code = 35;
  response.api_keys.push_back({18, 0, 4, {}});
  Writer writer;
  EDDY_ASSERT_OK(EncodeResponseFrame(42, 0, response, writer));
  // size, correlation id, error_code int16, array int32 count, (key, min, max) int16s.
  EXPECT_EQ(writer.Flatten(), Bytes({0, 0, 0, 16, 0, 0, 0, 42, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0,
                                     0, 4}));
}

TEST(ApiVersionsTest, V3ResponseUsesHeaderV0AndCompactBody) {
  ApiVersionsResponse response;
  response.api_keys.push_back({3, 0, 12, {}});
  response.throttle_time_ms = 1;
  Writer writer;
  EDDY_ASSERT_OK(EncodeResponseFrame(1, 3, response, writer));
  // Header v0 (no tag section); body: error, compact array (1 + 1), entry + its empty tags,
  // throttle, empty tags.
  EXPECT_EQ(writer.Flatten(), Bytes({0, 0, 0, 19, 0, 0, 0, 1, 0, 0, 2, 0, 3, 0, 0, 0, 12, 0, 0,
                                     0, 0, 1, 0}));
}

TEST(FrameTest, RequestFrameRoundTrip) {
  HeartbeatRequest request;
  request.group_id = "group";
  request.generation_id = 3;
  request.member_id = "member";
  request.group_instance_id = "static";
  RequestHeader header{12, 3, 77, "client", {}};
  Writer writer;
  EDDY_ASSERT_OK(EncodeRequestFrame(header, request, writer));
  const std::string bytes = writer.Flatten();
  EDDY_ASSERT_OK_AND_ASSIGN(const uint32_t size_bytes, ParseFrameSize(Span(bytes)));
  ASSERT_EQ(size_bytes + 4, bytes.size());
  const std::string frame = bytes.substr(4);
  const RequestFrame parsed = ParseRequestFrame(Span(frame));
  EDDY_ASSERT_OK(parsed.status);
  EXPECT_EQ(parsed.header, header);
  EXPECT_EQ(parsed.header_version, 1);
  HeartbeatRequest decoded;
  EDDY_ASSERT_OK(DecodeBody(3, parsed.body, &decoded));
  EXPECT_EQ(decoded, request);

  header.api_key = 3;  // header and body disagree
  Writer mismatch;
  EXPECT_THAT(EncodeRequestFrame(header, request, mismatch),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(mismatch.size_bytes(), 0u);
}

TEST(FrameTest, FieldsAbsentAtAVersionMustHoldTheirDefault) {
  HeartbeatRequest request;
  request.group_instance_id = "static";  // v3+
  Writer writer;
  EXPECT_THAT(request.Encode(2, writer), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(writer.size_bytes(), 0u);
  HeartbeatResponse response;
  response.throttle_time_ms = 5;  // ignorable: dropped at v0
  EXPECT_THAT(response.Encode(0, writer), IsOk());
  EXPECT_EQ(writer.Flatten(), Bytes({0, 0}));
  MetadataRequest metadata;
  metadata.topics = std::nullopt;  // null means "all topics" only from v1 on
  Writer metadata_writer;
  EXPECT_THAT(metadata.Encode(0, metadata_writer), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(metadata.Encode(1, metadata_writer), IsOk());
}

}  // namespace
}  // namespace eddy::kafka
