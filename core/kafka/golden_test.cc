// Proves the codec against bytes real clients sent (core/kafka/testdata/, captured from kcat and
// confluent-kafka-python (librdkafka 2.0.2), kafka-python 2.0.2 and kafkajs 2.2.4; see its
// MANIFEST.tsv): every frame's header gives back the manifest's api key, version, header
// version, correlation id and client id; every body decodes with the codec of its API and
// version and re-encodes byte-identically (header and body, so the whole frame); the record
// batches inside Produce requests are views that parse as valid RecordBatch v2 (checked by
// core/record); and spot checks of decoded fields match what the capture drivers asked for.
// Then, for every frame: every strict prefix fails to parse, and every one of the 255
// single-byte corruptions at every position either fails or decodes to a message that
// round-trips (run under ASan/UBSan in CI, so no read may leave the frame).
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "core/kafka/generated/api_versions.h"
#include "core/kafka/generated/apis_testing.h"
#include "core/kafka/generated/join_group.h"
#include "core/kafka/generated/list_groups.h"
#include "core/kafka/generated/produce.h"
#include "core/kafka/header.h"
#include "core/record/batch_splitter.h"
#include "core/record/record_batch_reader.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

constexpr char kTestdata[] = "core/kafka/testdata/";

struct GoldenFrame {
  std::string file;
  std::string client;
  int16_t api_key = 0;
  std::string api_name;
  int16_t api_version = 0;
  int16_t header_version = 0;
  int32_t correlation_id = 0;
  std::string client_id;
  std::string bytes;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, '\t')) fields.push_back(field);
  return fields;
}

std::vector<GoldenFrame> LoadFrames() {
  std::ifstream manifest(std::string(kTestdata) + "MANIFEST.tsv");
  std::string line;
  std::getline(manifest, line);  // header row
  const std::vector<std::string> columns = SplitTabs(line);
  std::vector<GoldenFrame> frames;
  while (std::getline(manifest, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = SplitTabs(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < columns.size() && i < fields.size(); ++i) row[columns[i]] = fields[i];
    GoldenFrame frame;
    frame.file = row["file"];
    frame.client = row["client"];
    frame.api_key = static_cast<int16_t>(std::stoi(row["api_key"]));
    frame.api_name = row["api_name"];
    frame.api_version = static_cast<int16_t>(std::stoi(row["api_version"]));
    frame.header_version = static_cast<int16_t>(std::stoi(row["header_version"]));
    frame.correlation_id = std::stoi(row["correlation_id"]);
    frame.client_id = row["client_id"];
    frame.bytes = ReadFile(std::string(kTestdata) + frame.file);
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::span<const uint8_t> AsBytes(const std::string& bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

// Frames whose body ends in bytes Kafka's broker ignores (see DecodeBody in wire.h): librdkafka
// 2.0.2 writes the tagged-field section of its ListGroups v4 request twice. Keyed by the
// frame's file name prefix (client-Api-vN).
size_t KnownTrailingBytes(const GoldenFrame& frame) {
  return frame.file.rfind("librdkafka-ListGroups-v4-", 0) == 0 ? 1 : 0;
}

// Frames of APIs Eddy's codec covers (the capture also holds ACL and reassignment frames), with
// the known trailing bytes cut off (TolerantDecodeAcceptsKnownTrailingBytes covers them).
std::vector<GoldenFrame> SupportedFrames() {
  std::vector<GoldenFrame> frames = LoadFrames();
  std::erase_if(frames, [](const GoldenFrame& frame) { return FindApi(frame.api_key) == nullptr; });
  for (GoldenFrame& frame : frames) {
    const size_t trailing = KnownTrailingBytes(frame);
    if (trailing > 0 && frame.bytes.size() > trailing) {
      frame.bytes.resize(frame.bytes.size() - trailing);
    }
  }
  return frames;
}

TEST(GoldenTest, TolerantDecodeAcceptsKnownTrailingBytes) {
  int checked_count = 0;
  for (const GoldenFrame& frame : LoadFrames()) {
    const size_t trailing = KnownTrailingBytes(frame);
    if (trailing == 0) continue;
    SCOPED_TRACE(frame.file);
    ++checked_count;
    const RequestFrame parsed = ParseRequestFrame(AsBytes(frame.bytes));
    ASSERT_TRUE(parsed.status.ok()) << parsed.status;
    ListGroupsRequest request;
    EXPECT_FALSE(DecodeBody(parsed.header.api_version, parsed.body, &request).ok());
    size_t trailing_size_bytes = 0;
    EDDY_ASSERT_OK(DecodeBody(parsed.header.api_version, parsed.body, &request,
                              &trailing_size_bytes));
    EXPECT_EQ(trailing_size_bytes, trailing);
    EXPECT_FALSE(request.states_filter.empty());
  }
  EXPECT_GT(checked_count, 0);
}

TEST(GoldenTest, ManifestIsThereAndCoversEveryClient) {
  const std::vector<GoldenFrame> frames = SupportedFrames();
  ASSERT_GT(frames.size(), 100u);
  std::map<std::string, int> per_client;
  for (const GoldenFrame& frame : frames) {
    ASSERT_FALSE(frame.bytes.empty()) << frame.file;
    ++per_client[frame.client];
  }
  for (const char* client : {"kcat", "confluent-kafka", "kafka-python", "kafkajs"}) {
    EXPECT_GT(per_client[client], 5) << client;
  }
}

TEST(GoldenTest, EveryFrameDecodesAndReencodesByteIdentically) {
  for (const GoldenFrame& frame : SupportedFrames()) {
    SCOPED_TRACE(frame.file);
    const RequestFrame parsed = ParseRequestFrame(AsBytes(frame.bytes));
    ASSERT_TRUE(parsed.status.ok()) << parsed.status;
    EXPECT_EQ(parsed.header.api_key, frame.api_key);
    EXPECT_EQ(parsed.header.api_version, frame.api_version);
    EXPECT_EQ(parsed.header_version, frame.header_version);
    EXPECT_EQ(parsed.header.correlation_id, frame.correlation_id);
    EXPECT_EQ(parsed.header.client_id.value_or(""), frame.client_id);
    EXPECT_STREQ(parsed.api->name, frame.api_name.c_str());
    absl::StatusOr<std::string> body =
        testing::ReencodeRequestBody(frame.api_key, frame.api_version, parsed.body);
    ASSERT_TRUE(body.ok()) << body.status();
    Writer header;
    EncodeRequestHeader(parsed.header, parsed.header_version, header);
    EXPECT_EQ(header.Flatten() + *body, frame.bytes);
  }
}

TEST(GoldenTest, ProduceRecordsAreViewsOfValidBatches) {
  int batch_count = 0;
  for (const GoldenFrame& frame : SupportedFrames()) {
    if (frame.api_key != ProduceRequest::kApiKey || frame.api_version < 3) continue;
    SCOPED_TRACE(frame.file);
    const RequestFrame parsed = ParseRequestFrame(AsBytes(frame.bytes));
    ProduceRequest request;
    EDDY_ASSERT_OK(DecodeBody(frame.api_version, parsed.body, &request));
    ASSERT_FALSE(request.topic_data.empty());
    for (const auto& topic : request.topic_data) {
      EXPECT_EQ(topic.name.rfind("eddy-", 0), 0u) << topic.name;
      for (const auto& partition : topic.partition_data) {
        ASSERT_FALSE(partition.records.is_null());
        ASSERT_EQ(partition.records.pieces().size(), 1u);
        const std::span<const uint8_t> view = partition.records.pieces()[0];
        // A view into the frame, not a copy.
        EXPECT_GE(view.data(), AsBytes(frame.bytes).data());
        EXPECT_LE(view.data() + view.size(), AsBytes(frame.bytes).data() + frame.bytes.size());
        record::BatchSplitter splitter(view);
        std::span<const uint8_t> batch;
        record::BatchHeader batch_header;
        while (true) {
          absl::StatusOr<bool> next = splitter.Next(&batch, &batch_header);
          ASSERT_TRUE(next.ok()) << next.status();
          if (!*next) break;
          absl::StatusOr<record::RecordBatchReader> reader = record::RecordBatchReader::Open(batch);
          // Compressed batches are valid Kafka that core/record does not decode yet.
          if (reader.status().code() == absl::StatusCode::kUnimplemented) continue;
          ASSERT_TRUE(reader.ok()) << reader.status();
          EXPECT_GT(reader->header().record_count, 0);
          ++batch_count;
        }
        EXPECT_EQ(splitter.remaining_bytes(), 0u);
      }
    }
  }
  EXPECT_GT(batch_count, 5);
}

TEST(GoldenTest, SpotChecksOfDecodedFields) {
  int api_versions_count = 0, join_group_count = 0;
  for (const GoldenFrame& frame : SupportedFrames()) {
    SCOPED_TRACE(frame.file);
    const RequestFrame parsed = ParseRequestFrame(AsBytes(frame.bytes));
    if (frame.api_key == ApiVersionsRequest::kApiKey && frame.api_version >= 3) {
      ApiVersionsRequest request;
      EDDY_ASSERT_OK(DecodeBody(frame.api_version, parsed.body, &request));
      // KIP-511 names: librdkafka's own, or the wrapper's (confluent-kafka-python sets it);
      // kafka-python and kafkajs never send v3.
      const std::string expected_name =
          frame.client == "confluent-kafka" ? "confluent-kafka-python" : "librdkafka";
      EXPECT_EQ(request.client_software_name, expected_name);
      EXPECT_FALSE(request.client_software_version.empty());
      ++api_versions_count;
    }
    if (frame.api_key == JoinGroupRequest::kApiKey) {
      JoinGroupRequest request;
      EDDY_ASSERT_OK(DecodeBody(frame.api_version, parsed.body, &request));
      EXPECT_EQ(request.protocol_type, "consumer");
      EXPECT_FALSE(request.protocols.empty());
      EXPECT_EQ(request.group_id.rfind("eddy-", 0), 0u) << request.group_id;
      EXPECT_GT(request.session_timeout_ms, 0);
      ++join_group_count;
    }
  }
  EXPECT_GT(api_versions_count, 0);
  EXPECT_GT(join_group_count, 0);
}

// Parses a whole frame the way a broker would: header, then the body of its API.
absl::Status ParseAndCheck(std::span<const uint8_t> frame) {
  const RequestFrame parsed = ParseRequestFrame(frame);
  if (!parsed.status.ok()) return parsed.status;
  return testing::CheckRequestBody(parsed.header.api_key, parsed.header.api_version, parsed.body);
}

TEST(GoldenTest, EveryTruncationFails) {
  for (const GoldenFrame& frame : SupportedFrames()) {
    SCOPED_TRACE(frame.file);
    for (size_t length = 0; length < frame.bytes.size(); ++length) {
      const std::string prefix = frame.bytes.substr(0, length);  // own allocation: ASan bounds
      EXPECT_FALSE(ParseAndCheck(AsBytes(prefix)).ok()) << length;
    }
  }
}

// One test per client, so Bazel's shards can run them in parallel (this is the slow part,
// about 4 million parses; slower still under the sanitizers).
class CorruptionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CorruptionTest, EverySingleByteCorruptionIsSafe) {
  size_t decoded_count = 0, rejected_count = 0, frame_count = 0;
  for (const GoldenFrame& frame : SupportedFrames()) {
    if (frame.client != GetParam()) continue;
    ++frame_count;
    std::string corrupted = frame.bytes;
    for (size_t position = 0; position < frame.bytes.size(); ++position) {
      for (int flip = 1; flip < 256; ++flip) {
        corrupted[position] = static_cast<char>(frame.bytes[position] ^ flip);
        // CheckRequestBody aborts if a decoded message does not round-trip.
        if (ParseAndCheck(AsBytes(corrupted)).ok()) {
          ++decoded_count;
        } else {
          ++rejected_count;
        }
      }
      corrupted[position] = frame.bytes[position];
    }
  }
  ASSERT_GT(frame_count, 0u);
  // Both outcomes occur: corrupting a value byte decodes, corrupting a length mostly fails.
  EXPECT_GT(decoded_count, 0u);
  EXPECT_GT(rejected_count, 0u);
}

std::vector<std::string> Clients() {
  std::vector<std::string> clients;
  for (const GoldenFrame& frame : SupportedFrames()) {
    if (std::find(clients.begin(), clients.end(), frame.client) == clients.end()) {
      clients.push_back(frame.client);
    }
  }
  return clients;
}

INSTANTIATE_TEST_SUITE_P(EveryClient, CorruptionTest, ::testing::ValuesIn(Clients()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace eddy::kafka
