// The simulated client endpoint: it reaches brokers by address, gets replies in order on its own
// clock, sees a refusal, a reset and a broker crash as on_closed (the broker sees its closes),
// and after Close() nothing of that connection runs. Its streams come from the seed and its
// index alone.
#include "sim/runtime/sim_client.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim {
namespace {

using runtime::ConnectionId;
using runtime::Connector;

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// Node `id` answers every client message with "re:" + the message, and records closes.
struct EchoBroker {
  EchoBroker(SimWorld& world, runtime::NodeId id) {
    runtime::Transport& transport = world.node(id).transport();
    transport.SetClientHandler([&transport, this](ConnectionId c, std::vector<uint8_t> m) {
      ++requests;
      std::vector<uint8_t> reply = Bytes("re:" + Text(m));
      transport.SendToClient(c, std::move(reply));
    });
    transport.SetClientClosedHandler([this](ConnectionId c) { closed.push_back(c); });
  }
  int requests = 0;
  std::vector<ConnectionId> closed;
};

struct Seen {
  std::vector<std::string> replies;
  std::vector<absl::Status> closes;
};

Connector::Handlers Record(Seen& seen) {
  return Connector::Handlers{
      .on_message = [&seen](std::vector<uint8_t> m) { seen.replies.push_back(Text(m)); },
      .on_closed = [&seen](absl::Status why) { seen.closes.push_back(why); }};
}

TEST(SimClientTest, RepliesArriveInOrderOnTheClientsClock) {
  SimWorld world({.seed = 1});
  EchoBroker broker(world, 2);
  SimClient& client = world.AddClient();
  Seen seen;
  const ConnectionId c = client.connector().Connect(world.address(2), Record(seen));
  for (const char* m : {"a", "b", "c"}) client.connector().Send(c, Bytes(m));
  EXPECT_TRUE(seen.replies.empty());  // never inline
  const uint64_t callbacks = client.node_clock().callbacks_run();
  world.loop().RunUntilIdle();
  EXPECT_EQ(seen.replies, (std::vector<std::string>{"re:a", "re:b", "re:c"}));
  EXPECT_EQ(client.node_clock().callbacks_run(), callbacks + 3);
  EXPECT_TRUE(seen.closes.empty());
  EXPECT_EQ(broker.requests, 3);
  EXPECT_EQ(client.open_connections(), 1u);
}

TEST(SimClientTest, AnUnknownAddressOrADownBrokerIsRefused) {
  SimWorld world({.seed = 1});
  SimClient& client = world.AddClient();
  Seen unknown;
  client.connector().Connect(runtime::Address{"node-9", 9092}, Record(unknown));
  world.Crash(3);
  Seen down;
  client.connector().Connect(world.address(3), Record(down));
  world.loop().RunUntilIdle();
  ASSERT_EQ(unknown.closes.size(), 1u);
  EXPECT_EQ(unknown.closes[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(unknown.closes[0].message().find("node-9:9092"), std::string::npos);
  ASSERT_EQ(down.closes.size(), 1u);
  EXPECT_EQ(client.open_connections(), 0u);
}

TEST(SimClientTest, ABrokerCrashClosesTheConnectionAtBothEnds) {
  SimWorld world({.seed = 1});
  EchoBroker broker(world, 1);
  SimClient& client = world.AddClient();
  Seen seen;
  const ConnectionId c = client.connector().Connect(world.address(1), Record(seen));
  client.connector().Send(c, Bytes("x"));
  world.loop().RunUntilIdle();
  world.Crash(1);
  world.loop().RunUntilIdle();
  ASSERT_EQ(seen.closes.size(), 1u);
  client.connector().Send(c, Bytes("after"));  // dropped: closed
  world.Restart(1);
  world.loop().RunUntilIdle();
  EXPECT_EQ(seen.replies, std::vector<std::string>{"re:x"});
  EXPECT_EQ(client.open_connections(), 0u);
}

TEST(SimClientTest, AResetIsSeenByBothEndsAndACloseOnlyByTheBroker) {
  SimWorld world({.seed = 1});
  EchoBroker broker(world, 1);
  SimClient& client = world.AddClient();
  Seen reset;
  Seen closed;
  const ConnectionId a = client.connector().Connect(world.address(1), Record(reset));
  const ConnectionId b = client.connector().Connect(world.address(1), Record(closed));
  client.connector().Send(b, Bytes("late"));  // its reply would arrive after the close
  world.network().ResetClient(a);
  client.connector().Close(b);
  world.loop().RunUntilIdle();
  EXPECT_EQ(reset.closes.size(), 1u);
  EXPECT_TRUE(closed.closes.empty());
  EXPECT_TRUE(closed.replies.empty());
  EXPECT_EQ(broker.closed, (std::vector<ConnectionId>{a, b}));
}

TEST(SimClientTest, AddressesCanBeSetAndStreamsDependOnlyOnSeedAndIndex) {
  SimWorld world({.seed = 5});
  world.SetAddress(2, runtime::Address{"broker-two.example", 19092});
  EXPECT_EQ(world.Resolve(runtime::Address{"broker-two.example", 19092}), 2u);
  EXPECT_FALSE(world.Resolve(runtime::Address{"node-2", 9092}).has_value());
  EXPECT_EQ(world.Resolve(world.address(3)), 3u);
  SimWorld other({.seed = 5, .nodes = {1, 2, 3, 4, 5}});
  EXPECT_EQ(world.AddClient().random().Next(), other.AddClient().random().Next());
  EXPECT_NE(world.AddClient().random().Next(), world.client(0).random().Next());
  EXPECT_EQ(world.client_count(), 2u);
}

}  // namespace
}  // namespace eddy::sim
