// Proves TcpTransport keeps the transport.h contract on loopback TCP: peer messages round-trip
// and survive a peer's restart (with (peer,false)/(peer,true) events around it); a damaged peer
// frame is dropped, counted and closes its connection; client frames arrive in order without
// their size prefix and replies go back prefixed; oversized, truncated and random input closes
// the connection (counted, the closed handler runs) without crashing; CloseClient delivers the
// queued replies before the close. Every wait runs the loop until a condition, with a generous
// deadline; nothing sleeps.
#include "net/transport/tcp_transport.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "net/transport/byte_order.h"
#include "net/transport/kafka_frame.h"
#include "net/transport/peer_frame.h"
#include "net/transport/test_util.h"

namespace eddy::net {
namespace {

using ::eddy::net::testing::RawSocket;
using ::eddy::net::testing::RunReady;
using ::eddy::net::testing::RunUntil;
using ::eddy::net::testing::UnusedPort;
using ::eddy::testing::IsOk;
using runtime::ConnectionId;
using runtime::NodeId;

std::vector<uint8_t> Bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::vector<uint8_t> KafkaFrame(const std::vector<uint8_t>& payload) {
  const auto prefix = EncodeKafkaSizePrefix(payload.size());
  std::vector<uint8_t> frame(prefix.begin(), prefix.end());
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// Splits a byte stream of Kafka frames; a trailing partial frame is left out.
std::vector<std::vector<uint8_t>> SplitKafkaFrames(const std::vector<uint8_t>& stream) {
  std::vector<std::vector<uint8_t>> frames;
  size_t at = 0;
  while (stream.size() - at >= 4) {
    const size_t size = LoadBigEndian32(stream.data() + at);
    if (stream.size() - at - 4 < size) break;
    frames.emplace_back(stream.begin() + at + 4, stream.begin() + at + 4 + size);
    at += 4 + size;
  }
  return frames;
}

// One broker's transport and everything its handlers saw.
struct Node {
  std::unique_ptr<TcpTransport> transport;
  std::vector<std::pair<NodeId, std::vector<uint8_t>>> peer_messages;
  std::vector<std::pair<NodeId, bool>> peer_states;
  std::vector<std::pair<ConnectionId, std::vector<uint8_t>>> client_messages;
  std::vector<ConnectionId> closed_clients;
};

TcpTransportOptions FastOptions(NodeId self, uint16_t peer_port = 0) {
  TcpTransportOptions options;
  options.self = self;
  options.peer_port = peer_port;
  options.peer_link.reconnect_backoff_min = Duration::Milliseconds(5);
  options.peer_link.reconnect_backoff_max = Duration::Milliseconds(50);
  return options;
}

std::unique_ptr<Node> StartNode(AsioLoop& loop, TcpTransportOptions options) {
  auto node = std::make_unique<Node>();
  absl::StatusOr<std::unique_ptr<TcpTransport>> transport = TcpTransport::Create(loop, options);
  EDDY_CHECK_OK(transport);
  node->transport = *std::move(transport);
  Node* n = node.get();
  n->transport->SetPeerHandler([n](NodeId from, std::vector<uint8_t> message) {
    n->peer_messages.emplace_back(from, std::move(message));
  });
  n->transport->SetPeerStateHandler(
      [n](NodeId peer, bool reachable) { n->peer_states.emplace_back(peer, reachable); });
  n->transport->SetClientHandler([n](ConnectionId connection, std::vector<uint8_t> message) {
    n->client_messages.emplace_back(connection, std::move(message));
  });
  n->transport->SetClientClosedHandler(
      [n](ConnectionId connection) { n->closed_clients.push_back(connection); });
  return node;
}

runtime::Address Loopback(uint16_t port) { return runtime::Address{"127.0.0.1", port}; }

TEST(TcpTransportTest, PeerMessagesRoundTripInOrder) {
  AsioLoop loop;
  auto a = StartNode(loop, FastOptions(1));
  auto b = StartNode(loop, FastOptions(2));
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(b->transport->peer_port())), IsOk());
  EXPECT_THAT(b->transport->SetPeerAddress(1, Loopback(a->transport->peer_port())), IsOk());
  // Sent before the connection exists: held, then sent after the hello.
  for (int i = 0; i < 100; ++i) a->transport->SendToPeer(2, Bytes("m" + std::to_string(i)));
  b->transport->SendToPeer(1, Bytes("reply"));
  ASSERT_TRUE(RunUntil(
      loop, [&] { return b->peer_messages.size() == 100 && a->peer_messages.size() == 1; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(b->peer_messages[i].first, 1u);
    EXPECT_EQ(b->peer_messages[i].second, Bytes("m" + std::to_string(i)));
  }
  EXPECT_EQ(a->peer_messages[0], std::make_pair(NodeId{2}, Bytes("reply")));
  EXPECT_TRUE(a->peer_states.empty());  // Reachable from the start, as assumed.
  EXPECT_EQ(b->transport->stats().peer_messages_delivered, 100u);
  EXPECT_EQ(b->transport->stats().peer_frames_corrupt, 0u);
}

TEST(TcpTransportTest, LargePeerMessageArrivesIntact) {
  AsioLoop loop;
  auto a = StartNode(loop, FastOptions(1));
  auto b = StartNode(loop, FastOptions(2));
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(b->transport->peer_port())), IsOk());
  std::vector<uint8_t> big(runtime::kMessageSizeBytesMax);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 131 + i / 4099);
  a->transport->SendToPeer(2, big);
  ASSERT_TRUE(RunUntil(loop, [&] { return b->peer_messages.size() == 1; }));
  EXPECT_TRUE(b->peer_messages[0].second == big);
}

TEST(TcpTransportTest, ReconnectsAfterPeerRestartWithStateEvents) {
  AsioLoop loop;
  auto a = StartNode(loop, FastOptions(1));
  auto b = StartNode(loop, FastOptions(2));
  const uint16_t b_port = b->transport->peer_port();
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(b_port)), IsOk());
  a->transport->SendToPeer(2, Bytes("before"));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->peer_messages.size() == 1; }));

  b.reset();  // Broker 2 crashes.
  ASSERT_TRUE(RunUntil(loop, [&] { return a->peer_states.size() == 1; }));
  EXPECT_EQ(a->peer_states[0], std::make_pair(NodeId{2}, false));

  b = StartNode(loop, FastOptions(2, b_port));  // ... and restarts on the same port.
  ASSERT_TRUE(RunUntil(loop, [&] { return a->peer_states.size() == 2; }));
  EXPECT_EQ(a->peer_states[1], std::make_pair(NodeId{2}, true));
  a->transport->SendToPeer(2, Bytes("after"));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->peer_messages.size() == 1; }));
  EXPECT_EQ(b->peer_messages[0], std::make_pair(NodeId{1}, Bytes("after")));
  EXPECT_GE(a->transport->stats().peer_connects, 2u);
  EXPECT_EQ(a->transport->stats().peer_disconnects, 1u);
}

TEST(TcpTransportTest, UnreachablePeerReportsDownThenUp) {
  AsioLoop loop;
  const uint16_t port = UnusedPort(loop);
  auto a = StartNode(loop, FastOptions(1));
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(port)), IsOk());
  a->transport->SendToPeer(2, Bytes("waits"));
  ASSERT_TRUE(RunUntil(loop, [&] { return a->peer_states.size() == 1; }));
  EXPECT_EQ(a->peer_states[0], std::make_pair(NodeId{2}, false));
  EXPECT_FALSE(a->transport->peer_connected(2));
  EXPECT_GE(a->transport->stats().peer_connect_failures, 1u);

  auto b = StartNode(loop, FastOptions(2, port));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->peer_messages.size() == 1; }));
  EXPECT_EQ(b->peer_messages[0].second, Bytes("waits"));  // Held while the peer was down.
  ASSERT_TRUE(RunUntil(loop, [&] { return a->peer_states.size() == 2; }));
  EXPECT_EQ(a->peer_states[1], std::make_pair(NodeId{2}, true));
}

TEST(TcpTransportTest, CorruptPeerFrameIsDroppedCountedAndClosesTheConnection) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  RawSocket raw(loop, b->transport->peer_port());
  std::vector<uint8_t> stream = EncodePeerFrame(EncodePeerHello(PeerHello{1, 2}));
  const std::vector<uint8_t> good = EncodePeerFrame(Bytes("good"));
  std::vector<uint8_t> corrupt = EncodePeerFrame(Bytes("evil"));
  corrupt.back() ^= 0x01;
  stream.insert(stream.end(), good.begin(), good.end());
  stream.insert(stream.end(), corrupt.begin(), corrupt.end());
  stream.insert(stream.end(), good.begin(), good.end());  // After the damage: never read.
  raw.Write(stream);
  ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  ASSERT_EQ(b->peer_messages.size(), 1u);
  EXPECT_EQ(b->peer_messages[0], std::make_pair(NodeId{1}, Bytes("good")));
  EXPECT_EQ(b->transport->stats().peer_frames_corrupt, 1u);
}

TEST(TcpTransportTest, BadPeerHeadersAndHellosAreRefused) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  {
    RawSocket raw(loop, b->transport->peer_port());
    std::vector<uint8_t> frame = EncodePeerFrame(EncodePeerHello(PeerHello{1, 2}));
    frame[0] ^= 0xff;  // Bad magic.
    raw.Write(frame);
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  {
    RawSocket raw(loop, b->transport->peer_port());
    raw.Write(EncodePeerFrame(EncodePeerHello(PeerHello{1, 3})));  // Meant for node 3.
    raw.Write(EncodePeerFrame(Bytes("misrouted")));
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  {
    RawSocket raw(loop, b->transport->peer_port());
    raw.Write(EncodePeerFrame(Bytes("no hello")));
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  EXPECT_TRUE(b->peer_messages.empty());
  EXPECT_EQ(b->transport->stats().peer_frames_malformed, 1u);
  EXPECT_EQ(b->transport->stats().peer_hellos_rejected, 2u);
}

TEST(TcpTransportTest, SilentPeerConnectionIsClosedAfterTheHelloTimeout) {
  AsioLoop loop;
  TcpTransportOptions options = FastOptions(2);
  options.peer_hello_timeout = Duration::Milliseconds(20);
  auto b = StartNode(loop, options);
  RawSocket raw(loop, b->transport->peer_port());
  ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  EXPECT_EQ(b->transport->stats().peer_hello_timeouts, 1u);
}

TEST(TcpTransportTest, PeerCanBeMovedFromInsideItsStateHandler) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  auto a = StartNode(loop, FastOptions(1));
  std::vector<bool> states;
  // Node 2 is first configured where nothing listens; on hearing it is down, A moves it.
  a->transport->SetPeerStateHandler([&](NodeId peer, bool reachable) {
    states.push_back(reachable);
    if (!reachable)
      EDDY_CHECK_OK(a->transport->SetPeerAddress(peer, Loopback(b->transport->peer_port())));
  });
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(UnusedPort(loop))), IsOk());
  ASSERT_TRUE(RunUntil(loop, [&] { return !states.empty(); }));
  a->transport->SendToPeer(2, Bytes("found you"));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->peer_messages.size() == 1; }));
  EXPECT_EQ(b->peer_messages[0].second, Bytes("found you"));
  EXPECT_EQ(states, std::vector<bool>{false});  // The new link starts assumed reachable.
}

// Destroying a transport at every point of its peer link's resolve -> connect -> hello must
// leave no operation touching freed memory (run under --config=asan).
TEST(TcpTransportTest, DestroyAtAnyPointOfConnecting) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  for (int step = 0; step < 60; ++step) {
    auto a = StartNode(loop, FastOptions(1));
    EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(b->transport->peer_port())), IsOk());
    a->transport->SendToPeer(2, Bytes("x"));
    testing::RunFor(loop, Duration::Microseconds(50 * step));
  }
  auto a = StartNode(loop, FastOptions(1));  // And once established.
  EXPECT_THAT(a->transport->SetPeerAddress(2, Loopback(b->transport->peer_port())), IsOk());
  ASSERT_TRUE(RunUntil(loop, [&] { return a->transport->peer_connected(2); }));
  a.reset();
  ASSERT_TRUE(RunUntil(loop, [&] { return b->transport->stats().peer_connections_accepted > 0; }));
}

TEST(TcpTransportTest, ClientFramesRoundTripInOrder) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  RawSocket raw(loop, b->transport->client_port());
  std::vector<uint8_t> stream;
  for (int i = 0; i < 50; ++i) {
    const std::vector<uint8_t> frame = KafkaFrame(Bytes("request " + std::to_string(i)));
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  const std::vector<uint8_t> empty = KafkaFrame({});
  stream.insert(stream.end(), empty.begin(), empty.end());
  // In two writes cut inside a frame: framing must not depend on how TCP segments the stream.
  raw.Write(std::vector<uint8_t>(stream.begin(), stream.begin() + 101));
  raw.Write(std::vector<uint8_t>(stream.begin() + 101, stream.end()));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->client_messages.size() == 51; }));
  const ConnectionId connection = b->client_messages[0].first;
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(b->client_messages[i].first, connection);
    EXPECT_EQ(b->client_messages[i].second, Bytes("request " + std::to_string(i)));
    b->transport->SendToClient(connection, Bytes("reply " + std::to_string(i)));
  }
  EXPECT_TRUE(b->client_messages[50].second.empty());
  ASSERT_TRUE(RunUntil(loop, [&] { return SplitKafkaFrames(raw.received()).size() == 50; }));
  const auto replies = SplitKafkaFrames(raw.received());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(replies[i], Bytes("reply " + std::to_string(i)));

  raw.Close();  // The client goes away: the broker hears of it.
  ASSERT_TRUE(RunUntil(loop, [&] { return b->closed_clients.size() == 1; }));
  EXPECT_EQ(b->closed_clients[0], connection);
  EXPECT_EQ(b->transport->open_client_connections(), 0u);
  b->transport->SendToClient(connection, Bytes("too late"));  // Dropped, no crash.
  EXPECT_EQ(b->transport->stats().client_frames_dropped, 1u);
}

TEST(TcpTransportTest, EachClientConnectionGetsAFreshId) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  RawSocket first(loop, b->transport->client_port());
  RawSocket second(loop, b->transport->client_port());
  first.Write(KafkaFrame(Bytes("1")));
  second.Write(KafkaFrame(Bytes("2")));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->client_messages.size() == 2; }));
  EXPECT_NE(b->client_messages[0].first, b->client_messages[1].first);
}

TEST(TcpTransportTest, OversizedClientFrameClosesTheConnection) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  for (const uint32_t size :
       {static_cast<uint32_t>(runtime::kMessageSizeBytesMax + 1), 0x7fffffffu, 0xffffffffu}) {
    RawSocket raw(loop, b->transport->client_port());
    std::vector<uint8_t> header(4);
    StoreBigEndian32(header.data(), size);
    raw.Write(header);
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  ASSERT_TRUE(RunUntil(loop, [&] { return b->closed_clients.size() == 3; }));
  EXPECT_TRUE(b->client_messages.empty());
  EXPECT_EQ(b->transport->stats().client_frames_oversized, 3u);
}

TEST(TcpTransportTest, TruncatedClientFrameClosesTheConnection) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  {
    RawSocket raw(loop, b->transport->client_port());
    std::vector<uint8_t> partial = KafkaFrame(std::vector<uint8_t>(100, 7));
    partial.resize(4 + 10);
    raw.Write(KafkaFrame(Bytes("whole")));
    raw.Write(partial);
    raw.ShutdownSend();
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  {
    RawSocket raw(loop, b->transport->client_port());
    raw.Write({0, 0});  // Half a size prefix.
    raw.ShutdownSend();
    ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  }
  ASSERT_TRUE(RunUntil(loop, [&] { return b->closed_clients.size() == 2; }));
  ASSERT_EQ(b->client_messages.size(), 1u);
  EXPECT_EQ(b->client_messages[0].second, Bytes("whole"));
  EXPECT_EQ(b->transport->stats().client_frames_truncated, 2u);
}

TEST(TcpTransportTest, RandomBytesNeverCrash) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  Random random(42);
  for (int round = 0; round < 50; ++round) {
    for (const uint16_t port : {b->transport->client_port(), b->transport->peer_port()}) {
      RawSocket raw(loop, port);
      std::vector<uint8_t> garbage(random.Uniform(200));
      for (auto& byte : garbage) byte = static_cast<uint8_t>(random.Next());
      // Small sizes, so some garbage parses as frames and reaches the handler.
      if (garbage.size() >= 4 && random.OneIn(2)) garbage[0] = garbage[1] = garbage[2] = 0;
      raw.Write(garbage);
      raw.ShutdownSend();
      ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
    }
  }
  ASSERT_TRUE(RunUntil(loop, [&] { return b->closed_clients.size() == 50; }));
  EXPECT_EQ(b->transport->open_client_connections(), 0u);
}

TEST(TcpTransportTest, CloseClientDeliversQueuedRepliesFirst) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  RawSocket raw(loop, b->transport->client_port());
  raw.Write(KafkaFrame(Bytes("request")));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->client_messages.size() == 1; }));
  const ConnectionId connection = b->client_messages[0].first;
  const std::vector<uint8_t> big(4 * kMiB, 0xab);  // Larger than the socket buffers.
  b->transport->SendToClient(connection, Bytes("first"));
  b->transport->SendToClient(connection, big);
  b->transport->SendToClient(connection, Bytes("last"));
  b->transport->CloseClient(connection);
  b->transport->SendToClient(connection, Bytes("after close"));  // Dropped.
  b->transport->CloseClient(connection);                         // No-op.
  raw.Write(KafkaFrame(Bytes("ignored")));  // Arrives after the close: never delivered.
  ASSERT_TRUE(RunUntil(loop, [&] { return raw.closed(); }));
  const auto replies = SplitKafkaFrames(raw.received());
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0], Bytes("first"));
  EXPECT_TRUE(replies[1] == big);
  EXPECT_EQ(replies[2], Bytes("last"));
  EXPECT_EQ(b->client_messages.size(), 1u);
  EXPECT_TRUE(b->closed_clients.empty());  // The broker's own close is not reported.
  EXPECT_EQ(b->transport->open_client_connections(), 0u);
}

TEST(TcpTransportTest, ClientThatDoesNotReadIsClosedWhenItsQueueOverflows) {
  AsioLoop loop;
  TcpTransportOptions options = FastOptions(2);
  options.connection_limits.write_queue_bytes_max = 1 * kMiB;
  auto b = StartNode(loop, options);
  RawSocket raw(loop, b->transport->client_port());
  raw.Write(KafkaFrame(Bytes("request")));
  ASSERT_TRUE(RunUntil(loop, [&] { return b->client_messages.size() == 1; }));
  const ConnectionId connection = b->client_messages[0].first;
  // Queued faster than any socket drains: no loop turn runs between the sends.
  for (int i = 0; i < 8; ++i) {
    b->transport->SendToClient(connection, std::vector<uint8_t>(256 * kKiB, 1));
  }
  EXPECT_TRUE(b->closed_clients.empty());  // Never inline from a send.
  ASSERT_TRUE(RunUntil(loop, [&] { return b->closed_clients.size() == 1; }));
  EXPECT_EQ(b->transport->stats().client_write_queue_overflows, 1u);
}

TEST(TcpTransportTest, ClientStreamCutAtRandomPointsKeepsFrames) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  RawSocket raw(loop, b->transport->client_port());
  Random random(11);
  std::vector<std::vector<uint8_t>> sent;
  std::vector<uint8_t> stream;
  for (int i = 0; i < 40; ++i) {
    // Mostly small, a few larger than StreamConnection's read chunk.
    const uint64_t size =
        random.OneIn(8) ? 300 * kKiB + random.Uniform(300 * kKiB) : random.Uniform(2000);
    std::vector<uint8_t> payload(size);
    for (auto& byte : payload) byte = static_cast<uint8_t>(random.Next());
    const std::vector<uint8_t> frame = KafkaFrame(payload);
    stream.insert(stream.end(), frame.begin(), frame.end());
    sent.push_back(std::move(payload));
  }
  size_t written = 0;
  while (written < stream.size()) {
    const size_t chunk = std::min<size_t>(stream.size() - written, 1 + random.Uniform(70000));
    raw.Write(std::vector<uint8_t>(stream.begin() + written, stream.begin() + written + chunk));
    written += chunk;
    RunReady(loop);  // Let the broker read in between, so the blocking writes never stall.
  }
  ASSERT_TRUE(RunUntil(loop, [&] { return b->client_messages.size() == sent.size(); }));
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_TRUE(b->client_messages[i].second == sent[i]) << "frame " << i;
  }
}

TEST(TcpTransportTest, InvalidPeerAddressesAreRefused) {
  AsioLoop loop;
  auto a = StartNode(loop, FastOptions(1));
  EXPECT_FALSE(a->transport->SetPeerAddress(runtime::kNoNode, Loopback(9)).ok());
  EXPECT_FALSE(a->transport->SetPeerAddress(1, Loopback(9)).ok());  // Self.
  EXPECT_FALSE(a->transport->SetPeerAddress(2, runtime::Address{"127.0.0.1", 0}).ok());
  EXPECT_FALSE(a->transport->SetPeerAddress(2, runtime::Address{"127.0.0.1", 70000}).ok());
  EXPECT_FALSE(a->transport->SetPeerAddress(2, runtime::Address{"", 9092}).ok());
  a->transport->SendToPeer(2, Bytes("nobody"));  // Unknown peer: dropped and counted.
  EXPECT_EQ(a->transport->stats().peer_messages_dropped, 1u);
  TcpTransportOptions options = FastOptions(3);
  options.peers[4] = runtime::Address{"127.0.0.1", -1};
  EXPECT_FALSE(TcpTransport::Create(loop, options).ok());
}

TEST(TcpTransportTest, BindingABusyPortFails) {
  AsioLoop loop;
  auto b = StartNode(loop, FastOptions(2));
  TcpTransportOptions options = FastOptions(3, b->transport->peer_port());
  EXPECT_FALSE(TcpTransport::Create(loop, options).ok());
  options = FastOptions(3);
  options.listen_host = "not an address";
  EXPECT_FALSE(TcpTransport::Create(loop, options).ok());
}

}  // namespace
}  // namespace eddy::net
