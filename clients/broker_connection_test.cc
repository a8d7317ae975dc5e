// BrokerConnection against a small Kafka broker on a simulated node (ApiVersions answered with
// core/kafka's own answer): replies are matched in order and decoded at the request's version;
// a reply out of order, a malformed reply, a timeout, a broker crash and Close() each fail every
// outstanding request exactly once, with the right code, and leave the connection closed.
#include "clients/broker_connection.h"

#include <string>
#include <vector>

#include "core/kafka/generated/api_versions.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/header.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::clients {
namespace {

using kafka::ApiVersionsRequest;
using kafka::ApiVersionsResponse;
using runtime::ConnectionId;
using Outcome = absl::StatusOr<Reply<ApiVersionsResponse>>;

// Answers ApiVersions on node 1, unless told to stay silent, scramble the correlation id or
// garble the body.
struct TinyBroker {
  enum class Mode { kAnswer, kSilent, kWrongCorrelation, kGarbled };

  explicit TinyBroker(sim::SimWorld& world) {
    runtime::Transport& transport = world.node(1).transport();
    transport.SetClientHandler([&transport, this](ConnectionId c, std::vector<uint8_t> m) {
      ++requests;
      const kafka::RequestFrame request = kafka::ParseRequestFrame(m);
      ASSERT_TRUE(request.status.ok()) << request.status;
      client_ids.push_back(request.header.client_id.value_or("(null)"));
      if (mode == Mode::kSilent) return;
      const kafka::ApiVersionsAnswer answer = kafka::AnswerApiVersions(request.header.api_version);
      const int32_t correlation_id = request.header.correlation_id +
                                     (mode == Mode::kWrongCorrelation ? 1 : 0);
      kafka::Writer writer;
      ASSERT_TRUE(kafka::EncodeResponseFrame(correlation_id, answer.response_version,
                                             answer.response, writer)
                      .ok());
      const std::string flat = writer.Flatten();
      std::vector<uint8_t> reply(flat.begin() + 4, flat.end());
      if (mode == Mode::kGarbled) reply.resize(reply.size() - 3);
      transport.SendToClient(c, std::move(reply));
    });
    transport.SetClientClosedHandler([this](ConnectionId) { ++closed; });
  }

  Mode mode = Mode::kAnswer;
  int requests = 0;
  int closed = 0;
  std::vector<std::string> client_ids;
};

struct Fixture {
  Fixture() : broker(world), client(world.AddClient()) {}
  sim::SimWorld world{sim::SimWorldOptions{.seed = 1}};
  TinyBroker broker;
  sim::SimClient& client;
};

void Ask(BrokerConnection& connection, int16_t version, std::vector<Outcome>& outcomes) {
  connection.Call<ApiVersionsRequest, ApiVersionsResponse>(
      ApiVersionsRequest{}, version, [&outcomes](Outcome outcome) {
        outcomes.push_back(std::move(outcome));
      });
}

TEST(BrokerConnectionTest, RepliesAreMatchedInOrderAndDecodedAtTheRequestsVersion) {
  Fixture f;
  BrokerConnection connection(f.client, f.world.address(1), {.client_id = "unit"});
  std::vector<Outcome> outcomes;
  for (int16_t version : {0, 3, 4}) Ask(connection, version, outcomes);
  EXPECT_EQ(connection.outstanding(), 3u);
  EXPECT_TRUE(outcomes.empty());
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 3u);
  for (const Outcome& o : outcomes) {
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->response.error_code, 0);
    EXPECT_FALSE(o->response.api_keys.empty());
  }
  EXPECT_EQ(connection.outstanding(), 0u);
  EXPECT_TRUE(connection.open());
  EXPECT_EQ(f.broker.client_ids, (std::vector<std::string>{"unit", "unit", "unit"}));
  EXPECT_EQ(connection.stats().replies, 3u);
}

TEST(BrokerConnectionTest, AReplyOutOfOrderClosesTheConnectionAndFailsEveryRequest) {
  Fixture f;
  f.broker.mode = TinyBroker::Mode::kWrongCorrelation;
  BrokerConnection connection(f.client, f.world.address(1));
  std::vector<Outcome> outcomes;
  Ask(connection, 3, outcomes);
  Ask(connection, 3, outcomes);
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(outcomes[1].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(connection.open());
  EXPECT_EQ(connection.stats().malformed_replies, 1u);
  EXPECT_EQ(f.broker.closed, 1);  // the broker sees the close
}

TEST(BrokerConnectionTest, AMalformedReplyFailsItsRequestAndClosesTheConnection) {
  Fixture f;
  f.broker.mode = TinyBroker::Mode::kGarbled;
  BrokerConnection connection(f.client, f.world.address(1));
  std::vector<Outcome> outcomes;
  Ask(connection, 3, outcomes);
  Ask(connection, 3, outcomes);
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].status().code(), absl::StatusCode::kDataLoss) << outcomes[0].status();
  EXPECT_EQ(outcomes[1].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(connection.open());
}

TEST(BrokerConnectionTest, ASilentBrokerTimesOutTheOldestAndLosesTheRest) {
  Fixture f;
  f.broker.mode = TinyBroker::Mode::kSilent;
  BrokerConnection connection(f.client, f.world.address(1),
                              {.request_timeout = Duration::Seconds(2)});
  std::vector<Outcome> outcomes;
  Ask(connection, 3, outcomes);
  f.world.RunFor(Duration::Milliseconds(500));
  Ask(connection, 3, outcomes);
  f.world.RunFor(Duration::Milliseconds(1400));
  EXPECT_TRUE(outcomes.empty());
  f.world.RunFor(Duration::Milliseconds(200));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(outcomes[1].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(connection.stats().timeouts, 1u);
  // Closed: later calls fail at once, never reach the broker.
  Ask(connection, 3, outcomes);
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[2].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(f.broker.requests, 2);
}

TEST(BrokerConnectionTest, ABrokerCrashFailsOutstandingRequestsAsUnavailable) {
  Fixture f;
  f.broker.mode = TinyBroker::Mode::kSilent;
  BrokerConnection connection(f.client, f.world.address(1));
  std::vector<Outcome> outcomes;
  Ask(connection, 4, outcomes);
  f.world.RunFor(Duration::Milliseconds(10));
  f.world.Crash(1);
  f.world.RunFor(Duration::Milliseconds(10));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(connection.open());
  EXPECT_EQ(connection.stats().failed_requests, 1u);
}

TEST(BrokerConnectionTest, CloseFailsWhatIsOutstandingAndABadVersionFailsAlone) {
  Fixture f;
  BrokerConnection connection(f.client, f.world.address(1));
  std::vector<Outcome> outcomes;
  Ask(connection, 99, outcomes);  // no such version: refused before sending
  f.world.loop().RunUntilIdle();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(connection.open());
  Ask(connection, 3, outcomes);
  connection.Close();
  connection.Close();  // idempotent
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].status().code(), absl::StatusCode::kUnavailable);
  f.world.loop().RunUntilIdle();
  EXPECT_EQ(outcomes.size(), 2u);  // the reply that arrives later runs nothing
  EXPECT_EQ(f.broker.closed, 1);
}

TEST(BrokerConnectionTest, OneWayRequestsTakeNoReplySlotAndDestroyingRunsNoCallback) {
  Fixture f;
  f.broker.mode = TinyBroker::Mode::kSilent;
  std::vector<Outcome> outcomes;
  {
    BrokerConnection connection(f.client, f.world.address(1));
    EXPECT_TRUE(connection.SendOneWay(ApiVersionsRequest{}, 3).ok());
    EXPECT_EQ(connection.outstanding(), 0u);
    EXPECT_FALSE(connection.SendOneWay(ApiVersionsRequest{}, 99).ok());
    Ask(connection, 3, outcomes);
    f.world.RunFor(Duration::Milliseconds(10));
  }
  f.world.RunFor(Duration::Seconds(60));  // past the timeout
  EXPECT_TRUE(outcomes.empty());
  EXPECT_EQ(f.broker.requests, 2);
  EXPECT_EQ(f.broker.closed, 1);
}

}  // namespace
}  // namespace eddy::clients
