// KafkaListener on a simulated broker, driven by the client library's BrokerConnection and by
// raw frames: ApiVersions lists only what the handler implements (and answers an unknown
// version with UNSUPPORTED_VERSION at v0); responses leave in request order whatever order the
// handler completes them in; a request without a response (acks=0) holds nothing up; and every
// kind of bad input — a malformed header, an unknown key, an unsupported version, an API not
// implemented, a body the handler cannot decode, too many queued requests — closes the
// connection and is counted, never crashing the broker.
#include "core/broker/kafka_listener.h"

#include <map>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/kafka/generated/api_versions.h"
#include "core/kafka/generated/metadata.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker {
namespace {

using clients::BrokerConnection;
using clients::Reply;
using kafka::MetadataRequest;
using kafka::MetadataResponse;

// Implements Metadata only: answers with controller_id = the request's correlation id, at
// once, or holds the answer until Release() when `hold` is set; a request with allow-auto-
// creation off is answered with no response; one for topic "bad" is reported undecodable.
struct MetadataOnly final : RequestHandler {
  bool Implements(int16_t api_key) const override { return api_key == MetadataRequest::kApiKey; }
  void Handle(runtime::ConnectionId, const kafka::RequestFrame& frame, Respond respond) override {
    kafka::Reader reader(frame.body);
    MetadataRequest request;
    if (!request.Decode(frame.header.api_version, reader).ok()) {
      return std::move(respond)(absl::InvalidArgumentError("body"));
    }
    if (request.topics.has_value() && !request.topics->empty() &&
        request.topics->front().name == "bad") {
      return std::move(respond)(absl::InvalidArgumentError("bad topic"));
    }
    if (request.topics.has_value() && !request.topics->empty() &&
        request.topics->front().name == "huge") {
      return std::move(respond)(
          Response{std::vector<uint8_t>(runtime::kMessageSizeBytesMax + 1, 0)});
    }
    if (!request.allow_auto_topic_creation) return std::move(respond)(Response{});
    MetadataResponse response;
    response.controller_id = frame.header.correlation_id;
    absl::StatusOr<Response> encoded = EncodeResponse(frame.header, response);
    if (hold) {
      held.push_back([respond = std::move(respond), encoded = std::move(encoded)]() mutable {
        std::move(respond)(std::move(encoded));
      });
      return;
    }
    std::move(respond)(std::move(encoded));
  }
  void OnClosed(runtime::ConnectionId) override { ++closed; }
  void ReleaseNewestFirst() {
    while (!held.empty()) {
      std::move(held.back())();
      held.pop_back();
    }
  }
  bool hold = false;
  std::vector<absl::AnyInvocable<void() &&>> held;
  int closed = 0;
};

struct Fixture {
  Fixture() : listener(world.node(1), handler), client(world.AddClient()) {}
  sim::SimWorld world{sim::SimWorldOptions{.seed = 1}};
  MetadataOnly handler;
  KafkaListener listener;
  sim::SimClient& client;
};

using MetadataOutcome = absl::StatusOr<Reply<MetadataResponse>>;

void AskMetadata(BrokerConnection& c, std::vector<MetadataOutcome>& out,
                 const char* topic = nullptr) {
  MetadataRequest request;
  if (topic != nullptr) {
    request.topics->emplace_back();
    request.topics->back().name = topic;
  }
  c.Call<MetadataRequest, MetadataResponse>(
      request, 9, [&out](MetadataOutcome o) { out.push_back(std::move(o)); });
}

TEST(KafkaListenerTest, ApiVersionsListsOnlyWhatTheBrokerImplements) {
  Fixture f;
  BrokerConnection c(f.client, f.world.address(1));
  std::vector<absl::StatusOr<Reply<kafka::ApiVersionsResponse>>> out;
  c.Call<kafka::ApiVersionsRequest, kafka::ApiVersionsResponse>(
      {}, 3, [&](auto o) { out.push_back(std::move(o)); });
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok()) << out[0].status();
  std::map<int16_t, int16_t> max_versions;
  for (const auto& api : out[0]->response.api_keys) max_versions[api.api_key] = api.max_version;
  EXPECT_EQ(max_versions, (std::map<int16_t, int16_t>{{MetadataRequest::kApiKey, 12},
                                                       {kafka::ApiVersionsRequest::kApiKey, 4}}));
  EXPECT_EQ(f.listener.stats().api_versions_answered, 1u);
}

TEST(KafkaListenerTest, AnApiVersionsAtAnUnknownVersionGetsUnsupportedVersionAtV0) {
  Fixture f;
  std::vector<std::vector<uint8_t>> replies;
  runtime::Connector& connector = f.client.connector();
  const runtime::ConnectionId c = connector.Connect(
      f.world.address(1), {.on_message = [&](std::vector<uint8_t> m) { replies.push_back(m); }});
  // A newer client: ApiVersions v9, header v2, a body this broker cannot know.
  kafka::Writer w;
  w.Int16(kafka::ApiVersionsRequest::kApiKey);
  w.Int16(9);
  w.Int32(77);
  w.String("future", false);
  w.UnsignedVarint(0);
  w.Raw("\x05\x06\x07", 3);
  const std::string flat = w.Flatten();
  connector.Send(c, std::vector<uint8_t>(flat.begin(), flat.end()));
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(replies.size(), 1u);
  kafka::Reader reader{std::span<const uint8_t>(replies[0])};
  kafka::ResponseHeader header;
  ASSERT_TRUE(kafka::DecodeResponseHeader(0, reader, &header).ok());
  EXPECT_EQ(header.correlation_id, 77);
  kafka::ApiVersionsResponse response;
  ASSERT_TRUE(response.Decode(0, reader).ok());
  EXPECT_EQ(response.error_code, kafka::ToWire(kafka::ErrorCode::kUnsupportedVersion));
  EXPECT_EQ(f.listener.open_connections(), 1u);
}

TEST(KafkaListenerTest, ResponsesLeaveInRequestOrderWhateverOrderTheyComplete) {
  Fixture f;
  f.handler.hold = true;
  BrokerConnection c(f.client, f.world.address(1));
  std::vector<MetadataOutcome> out;
  AskMetadata(c, out);
  AskMetadata(c, out);
  MetadataRequest one_way;  // answered with no response: it must hold nothing up
  one_way.allow_auto_topic_creation = false;
  ASSERT_TRUE(c.SendOneWay(one_way, 9).ok());
  AskMetadata(c, out);
  AskMetadata(c, out);
  f.world.RunFor(Duration::Milliseconds(100));  // well within the requests' timeout
  ASSERT_EQ(f.handler.held.size(), 4u);
  f.handler.ReleaseNewestFirst();
  f.world.loop().RunUntilIdle();
  // BrokerConnection fails the connection on any reply out of order: all four arrived right.
  ASSERT_EQ(out.size(), 4u);
  const int32_t correlation_ids[] = {0, 1, 3, 4};  // 2 was the one-way request's
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(out[i].ok()) << out[i].status();
    EXPECT_EQ(out[i]->response.controller_id, correlation_ids[i]);
  }
  EXPECT_EQ(f.listener.stats().responses, 4u);
  EXPECT_EQ(f.listener.stats().requests, 5u);
}

// Sends raw bytes on a fresh connection and reports whether the broker closed it.
bool ClosedAfter(Fixture& f, std::vector<uint8_t> frame) {
  bool closed = false;
  runtime::Connector& connector = f.client.connector();
  const runtime::ConnectionId c =
      connector.Connect(f.world.address(1), {.on_closed = [&](absl::Status) { closed = true; }});
  connector.Send(c, std::move(frame));
  f.world.loop().RunUntilIdle();
  if (!closed) connector.Close(c);
  f.world.loop().RunUntilIdle();
  return closed;
}

std::vector<uint8_t> Header(int16_t key, int16_t version) {
  kafka::Writer w;
  w.Int16(key);
  w.Int16(version);
  w.Int32(5);
  w.String("raw", false);
  if (version >= 9) w.UnsignedVarint(0);
  const std::string flat = w.Flatten();
  return std::vector<uint8_t>(flat.begin(), flat.end());
}

TEST(KafkaListenerTest, BadInputClosesTheConnectionAndIsCounted) {
  Fixture f;
  EXPECT_TRUE(ClosedAfter(f, {0, 3, 0}));  // shorter than a header
  EXPECT_EQ(f.listener.stats().malformed_requests, 1u);
  EXPECT_TRUE(ClosedAfter(f, Header(999, 0)));              // unknown key
  EXPECT_TRUE(ClosedAfter(f, Header(MetadataRequest::kApiKey, 40)));  // no such version
  EXPECT_TRUE(ClosedAfter(f, Header(0, 9)));                // Produce: not implemented here
  EXPECT_EQ(f.listener.stats().unsupported_requests, 3u);
  std::vector<uint8_t> truncated = Header(MetadataRequest::kApiKey, 9);
  truncated.push_back(0x7f);  // a topics count with no topics after it
  EXPECT_TRUE(ClosedAfter(f, truncated));
  EXPECT_EQ(f.listener.stats().malformed_requests, 2u);
  // The handler's own verdict closes it too, and the broker keeps serving others.
  BrokerConnection c(f.client, f.world.address(1));
  std::vector<MetadataOutcome> out;
  AskMetadata(c, out, "bad");
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status().code(), absl::StatusCode::kUnavailable);
  BrokerConnection fresh(f.client, f.world.address(1));
  AskMetadata(fresh, out);
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[1].ok()) << out[1].status();
  EXPECT_EQ(f.listener.stats().connections_closed, 6u);
  EXPECT_EQ(f.listener.open_connections(), 1u);
}

TEST(KafkaListenerTest, AClientThatQueuesTooManyRequestsIsDisconnected) {
  Fixture f;
  f.handler.hold = true;
  BrokerConnection c(f.client, f.world.address(1));
  std::vector<MetadataOutcome> out;
  for (size_t i = 0; i <= KafkaListener::kQueuedRequestsMax; ++i) AskMetadata(c, out);
  f.world.loop().RunUntilIdle();
  EXPECT_EQ(f.listener.stats().overloaded_connections, 1u);
  EXPECT_EQ(out.size(), KafkaListener::kQueuedRequestsMax + 1);
  EXPECT_FALSE(c.open());
  f.handler.ReleaseNewestFirst();  // late completions of a closed connection go nowhere
  f.world.loop().RunUntilIdle();
  EXPECT_EQ(f.listener.stats().responses, 0u);
}

TEST(KafkaListenerTest, AResponseBeyondOneTransportMessageClosesTheConnection) {
  Fixture f;
  BrokerConnection c(f.client, f.world.address(1));
  std::vector<MetadataOutcome> out;
  AskMetadata(c, out, "huge");
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(f.listener.stats().oversized_responses, 1u);
  EXPECT_EQ(f.listener.stats().responses, 0u);
}

}  // namespace
}  // namespace eddy::broker
