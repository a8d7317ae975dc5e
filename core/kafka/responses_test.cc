// Proves that responses Eddy builds have exactly the byte layout of Kafka's protocol guide: each
// test spells the expected bytes out by hand, field by field, from the published layout
// (classic int16/int32 lengths before the flexible versions; compact lengths, tagged fields and
// their sections from them on), then checks encode == bytes, Size() == length, and that the
// bytes decode back to the same message. Also: record batches in a Fetch response are written
// as views (scatter-gather pieces), and unknown tagged fields survive decode -> encode.
#include <string>

#include "core/base/status_matchers.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/find_coordinator.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "gtest/gtest.h"

namespace eddy::kafka {
namespace {

// Big-endian bytes of `value` in `size_bytes` bytes.
std::string Be(int64_t value, int size_bytes) {
  std::string out;
  for (int shift = (size_bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<uint64_t>(value) >> shift) & 0xff));
  }
  return out;
}
std::string I8(int v) { return Be(v, 1); }
std::string I16(int v) { return Be(v, 2); }
std::string I32(int64_t v) { return Be(v, 4); }
std::string I64(int64_t v) { return Be(v, 8); }
std::string Str(const std::string& s) { return I16(static_cast<int>(s.size())) + s; }
std::string CompactStr(const std::string& s) { return I8(static_cast<int>(s.size()) + 1) + s; }

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

template <typename Message>
void ExpectBytes(const Message& message, int16_t version, const std::string& expected) {
  Writer writer;
  EDDY_ASSERT_OK(message.Encode(version, writer));
  EXPECT_EQ(writer.Flatten(), expected);
  EXPECT_EQ(message.Size(version), expected.size());
  Message decoded;
  EDDY_ASSERT_OK(DecodeBody(version, Span(expected), &decoded));
  EXPECT_EQ(decoded, message);
}

MetadataResponse OneBrokerOneTopic() {
  MetadataResponse response;
  response.brokers.push_back({});
  response.brokers[0].node_id = 1;
  response.brokers[0].host = "h";
  response.brokers[0].port = 9092;
  response.topics.push_back({});
  response.topics[0].name = "t";
  response.topics[0].partitions.push_back({});
  auto& partition = response.topics[0].partitions[0];
  partition.partition_index = 0;
  partition.leader_id = 1;
  partition.replica_nodes = {1};
  partition.isr_nodes = {1};
  return response;
}

TEST(ResponsesTest, MetadataV0) {
  const std::string expected = I32(1) + I32(1) + Str("h") + I32(9092) +  // brokers
                               I32(1) + I16(0) + Str("t") +              // topics
                               I32(1) + I16(0) + I32(0) + I32(1) +       // partitions
                               I32(1) + I32(1) + I32(1) + I32(1);        // replicas, isr
  ExpectBytes(OneBrokerOneTopic(), 0, expected);
}

TEST(ResponsesTest, MetadataV9IsCompactWithTagSections) {
  MetadataResponse response = OneBrokerOneTopic();
  response.cluster_id = "c";
  response.controller_id = 1;
  response.topics[0].partitions[0].leader_epoch = 4;
  const std::string expected =
      I32(0) +                                                         // throttle
      I8(2) + I32(1) + CompactStr("h") + I32(9092) + I8(0) + I8(0) +  // brokers: rack null, tags
      CompactStr("c") + I32(1) +                                       // cluster id, controller
      I8(2) + I16(0) + CompactStr("t") + I8(0) +                       // topic, is_internal
      I8(2) + I16(0) + I32(0) + I32(1) + I32(4) +                      // partition
      I8(2) + I32(1) + I8(2) + I32(1) + I8(1) + I8(0) +                // replicas, isr, offline, tags
      I32(INT32_MIN) + I8(0) +                                         // topic ops, topic tags
      I32(INT32_MIN) + I8(0);                                          // cluster ops, tags
  ExpectBytes(response, 9, expected);
}

TEST(ResponsesTest, ProduceV7) {
  ProduceResponse response;
  response.responses.push_back({});
  response.responses[0].name = "t";
  response.responses[0].partition_responses.push_back({});
  auto& partition = response.responses[0].partition_responses[0];
  partition.index = 2;
  partition.base_offset = 100;
  partition.log_start_offset = 0;
  response.throttle_time_ms = 5;
  const std::string expected = I32(1) + Str("t") + I32(1) + I32(2) + I16(0) + I64(100) +
                               I64(-1) + I64(0) + I32(5);
  ExpectBytes(response, 7, expected);
}

TEST(ResponsesTest, FindCoordinatorV2AndV4) {
  FindCoordinatorResponse v2;
  v2.node_id = 1;
  v2.host = "broker";
  v2.port = 9092;
  ExpectBytes(v2, 2, I32(0) + I16(0) + I16(-1) + I32(1) + Str("broker") + I32(9092));
  FindCoordinatorResponse v4;
  v4.coordinators.push_back({});
  v4.coordinators[0].key = "g";
  v4.coordinators[0].node_id = 1;
  v4.coordinators[0].host = "b";
  v4.coordinators[0].port = 9;
  ExpectBytes(v4, 4,
              I32(0) + I8(2) + CompactStr("g") + I32(1) + CompactStr("b") + I32(9) + I16(0) +
                  I8(0) + I8(0) + I8(0));
}

TEST(ResponsesTest, FetchV11CarriesRecordsAsViews) {
  const std::string batch_a(300, 'a'), batch_b(200, 'b');
  FetchResponse response;
  response.session_id = 7;
  response.responses.push_back({});
  response.responses[0].topic = "t";
  response.responses[0].partitions.push_back({});
  auto& partition = response.responses[0].partitions[0];
  partition.high_watermark = 10;
  partition.last_stable_offset = 10;
  partition.log_start_offset = 0;
  partition.aborted_transactions = std::nullopt;
  partition.records = Records::Empty();
  partition.records.Append(Span(batch_a));
  partition.records.Append(Span(batch_b));
  const std::string expected = I32(0) + I16(0) + I32(7) + I32(1) + Str("t") + I32(1) + I32(0) +
                               I16(0) + I64(10) + I64(10) + I64(0) + I32(-1) + I32(-1) +
                               I32(500) + batch_a + batch_b;
  ExpectBytes(response, 11, expected);
  Writer writer;
  EDDY_ASSERT_OK(response.Encode(11, writer));
  const auto pieces = writer.Pieces();
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(static_cast<const void*>(pieces[1].data()), batch_a.data());
  EXPECT_EQ(static_cast<const void*>(pieces[2].data()), batch_b.data());
}

TEST(ResponsesTest, FetchV12TaggedCurrentLeader) {
  FetchResponse response;
  response.responses.push_back({});
  response.responses[0].topic = "t";
  response.responses[0].partitions.push_back({});
  auto& partition = response.responses[0].partitions[0];
  partition.high_watermark = 5;
  partition.current_leader.leader_id = 2;
  partition.current_leader.leader_epoch = 3;
  partition.records = Records::Empty();
  const std::string expected = I32(0) + I16(0) + I32(0) + I8(2) + CompactStr("t") + I8(2) +
                               I32(0) + I16(0) + I64(5) + I64(-1) + I64(-1) +
                               I8(1) +            // aborted transactions: empty compact array
                               I32(-1) + I8(1) +  // preferred replica; empty records
                               I8(1) + I8(1) + I8(9) + I32(2) + I32(3) + I8(0) +  // tag 1
                               I8(0) + I8(0);     // topic tags, response tags
  ExpectBytes(response, 12, expected);
}

TEST(ResponsesTest, UnknownTaggedFieldsSurviveAndInterleaveByTag) {
  // Heartbeat v4 response with unknown tags 0 and 5 around nothing known.
  const std::string bytes = I32(0) + I16(27) + I8(2) + I8(0) + I8(1) + "x" + I8(5) + I8(2) + "yz";
  HeartbeatResponse response;
  EDDY_ASSERT_OK(DecodeBody(4, Span(bytes), &response));
  EXPECT_EQ(response.error_code, 27);
  ASSERT_EQ(response.unknown_tagged_fields.size(), 2u);
  EXPECT_EQ(response.unknown_tagged_fields[1].tag, 5u);
  EXPECT_EQ(response.unknown_tagged_fields[1].data, "yz");
  ExpectBytes(response, 4, bytes);
  // Known tag 1 (CurrentLeader) merges between unknown tags 0 and 5 in a Fetch partition.
  FetchResponse::FetchableTopicResponse::PartitionData partition;
  partition.current_leader.leader_id = 1;
  partition.unknown_tagged_fields = {{0, "a"}, {5, "b"}};
  Writer writer;
  partition.EncodeTo(12, writer);
  const std::string encoded = writer.Flatten();
  const std::string tags = I8(3) + I8(0) + I8(1) + "a" + I8(1) + I8(9) + I32(1) + I32(-1) +
                           I8(0) + I8(5) + I8(1) + "b";
  ASSERT_GE(encoded.size(), tags.size());
  EXPECT_EQ(encoded.substr(encoded.size() - tags.size()), tags);
}

TEST(ResponsesTest, TaggedFieldWithWrongSizeIsRejected) {
  // A Fetch partition's tag 1 (CurrentLeader) must fill exactly its declared size.
  FetchResponse::FetchableTopicResponse::PartitionData partition;
  Writer writer;
  partition.EncodeTo(12, writer);
  std::string bytes = writer.Flatten();
  bytes.back() = 1;  // one tagged field follows
  bytes += I8(1) + I8(10) + I32(1) + I32(2) + I8(0) + I8(0);  // size 10 for a 9-byte struct
  Reader reader(bytes);
  FetchResponse::FetchableTopicResponse::PartitionData decoded;
  decoded.DecodeFrom(12, reader);
  EXPECT_FALSE(reader.ok());
}

}  // namespace
}  // namespace eddy::kafka
