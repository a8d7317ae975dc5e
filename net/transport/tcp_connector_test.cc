// Proves TcpConnector keeps the connector.h contract on loopback TCP: a refused or unresolvable
// connection ends in one on_closed(kUnavailable); requests sent before the connection is up are
// queued and, with their replies from a TcpTransport client listener, keep their order; the
// broker's CloseClient reaches the client as on_closed after the replies; the client's Close()
// reaches the broker's ClientClosedHandler and silences the client's handlers; an oversized
// reply closes the connection. Waits run the loop until a condition, with a generous deadline.
#include "net/transport/tcp_connector.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "net/transport/byte_order.h"
#include "net/transport/tcp_transport.h"
#include "net/transport/test_util.h"

namespace eddy::net {
namespace {

using ::eddy::net::testing::RunUntil;
using ::eddy::net::testing::UnusedPort;
using ::eddy::testing::StatusIs;
using runtime::ConnectionId;

std::vector<uint8_t> Bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

// What one client connection's handlers saw.
struct Seen {
  std::vector<std::vector<uint8_t>> messages;
  std::vector<absl::Status> closes;
};

runtime::Connector::Handlers Record(Seen& seen) {
  runtime::Connector::Handlers handlers;
  handlers.on_message = [&seen](std::vector<uint8_t> message) {
    seen.messages.push_back(std::move(message));
  };
  handlers.on_closed = [&seen](absl::Status why) { seen.closes.push_back(std::move(why)); };
  return handlers;
}

// A broker's client listener that echoes every request with an "echo " prefix.
struct EchoBroker {
  explicit EchoBroker(AsioLoop& loop) {
    TcpTransportOptions options;
    options.self = 1;
    auto created = TcpTransport::Create(loop, options);
    EDDY_CHECK_OK(created);
    transport = *std::move(created);
    transport->SetClientHandler([this](ConnectionId connection, std::vector<uint8_t> message) {
      requests.push_back(message);
      last_connection = connection;
      std::vector<uint8_t> reply = Bytes("echo ");
      reply.insert(reply.end(), message.begin(), message.end());
      transport->SendToClient(connection, std::move(reply));
    });
    transport->SetClientClosedHandler(
        [this](ConnectionId connection) { closed.push_back(connection); });
  }
  runtime::Address address() const { return {"127.0.0.1", transport->client_port()}; }

  std::unique_ptr<TcpTransport> transport;
  std::vector<std::vector<uint8_t>> requests;
  std::vector<ConnectionId> closed;
  ConnectionId last_connection = 0;
};

TEST(TcpConnectorTest, RefusedConnectionClosesOnce) {
  AsioLoop loop;
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect({"127.0.0.1", UnusedPort(loop)}, Record(seen));
  connector.Send(connection, Bytes("queued, then lost"));
  EXPECT_TRUE(seen.closes.empty());  // Never inline from Connect or Send.
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  EXPECT_THAT(seen.closes[0], StatusIs(absl::StatusCode::kUnavailable));
  loop.Post([] {});
  loop.Run();  // Nothing else is pending: no second on_closed can follow.
  EXPECT_EQ(seen.closes.size(), 1u);
  EXPECT_EQ(connector.stats().connect_failures, 1u);
  EXPECT_EQ(connector.open_connections(), 0u);
  connector.Send(connection, Bytes("dropped"));
  connector.Close(connection);  // No-op once closed.
}

TEST(TcpConnectorTest, UnresolvableHostCloses) {
  AsioLoop loop;
  TcpConnector connector(loop);
  Seen seen;
  connector.Connect({"no such host.invalid", 9092}, Record(seen));
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  EXPECT_THAT(seen.closes[0], StatusIs(absl::StatusCode::kUnavailable));
}

TEST(TcpConnectorTest, RoundTripInOrderWithATcpTransport) {
  AsioLoop loop;
  EchoBroker broker(loop);
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect(broker.address(), Record(seen));
  for (int i = 0; i < 100; ++i) connector.Send(connection, Bytes(std::to_string(i)));
  ASSERT_TRUE(RunUntil(loop, [&] { return seen.messages.size() == 100; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(seen.messages[i], Bytes("echo " + std::to_string(i)));
  }
  connector.Send(connection, Bytes("more"));  // Now sent directly, not queued.
  ASSERT_TRUE(RunUntil(loop, [&] { return seen.messages.size() == 101; }));
  EXPECT_EQ(seen.messages[100], Bytes("echo more"));
  EXPECT_TRUE(seen.closes.empty());
  EXPECT_EQ(connector.stats().frames_sent, 101u);
  EXPECT_EQ(connector.stats().frames_received, 101u);
}

TEST(TcpConnectorTest, BrokerCloseArrivesAfterTheReplies) {
  AsioLoop loop;
  EchoBroker broker(loop);
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect(broker.address(), Record(seen));
  connector.Send(connection, Bytes("hi"));
  ASSERT_TRUE(RunUntil(loop, [&] { return broker.requests.size() == 1; }));
  broker.transport->SendToClient(broker.last_connection, Bytes("bye"));
  broker.transport->CloseClient(broker.last_connection);
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  ASSERT_EQ(seen.messages.size(), 2u);
  EXPECT_EQ(seen.messages[0], Bytes("echo hi"));
  EXPECT_EQ(seen.messages[1], Bytes("bye"));
  EXPECT_THAT(seen.closes[0], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(broker.closed.empty());
  EXPECT_EQ(connector.stats().closed_by_broker, 1u);
}

TEST(TcpConnectorTest, ClientCloseReachesTheBrokerAndSilencesHandlers) {
  AsioLoop loop;
  EchoBroker broker(loop);
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect(broker.address(), Record(seen));
  connector.Send(connection, Bytes("last words"));
  ASSERT_TRUE(RunUntil(loop, [&] { return connector.stats().connects_established == 1; }));
  connector.Close(connection);  // The queued request still goes out before the close.
  ASSERT_TRUE(RunUntil(loop, [&] { return broker.closed.size() == 1; }));
  ASSERT_EQ(broker.requests.size(), 1u);
  EXPECT_EQ(broker.requests[0], Bytes("last words"));
  EXPECT_TRUE(seen.closes.empty());
  EXPECT_TRUE(seen.messages.empty());  // The echo arrived after Close(): not delivered.
}

TEST(TcpConnectorTest, CloseWhileConnectingRunsNoHandler) {
  AsioLoop loop;
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect({"127.0.0.1", UnusedPort(loop)}, Record(seen));
  connector.Close(connection);
  loop.Run();
  EXPECT_TRUE(seen.closes.empty());
}

TEST(TcpConnectorTest, BrokerCrashClosesTheConnection) {
  AsioLoop loop;
  auto broker = std::make_unique<EchoBroker>(loop);
  TcpConnector connector(loop);
  Seen seen;
  const ConnectionId connection = connector.Connect(broker->address(), Record(seen));
  connector.Send(connection, Bytes("hi"));
  ASSERT_TRUE(RunUntil(loop, [&] { return seen.messages.size() == 1; }));
  broker.reset();
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  EXPECT_THAT(seen.closes[0], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(connector.open_connections(), 0u);
}

TEST(TcpConnectorTest, PendingQueueOverflowClosesLaterNotInline) {
  AsioLoop loop;
  EchoBroker broker(loop);
  TcpConnectorOptions options;
  options.pending_bytes_max = 100;
  TcpConnector connector(loop, options);
  Seen seen;
  const ConnectionId connection = connector.Connect(broker.address(), Record(seen));
  connector.Send(connection, std::vector<uint8_t>(60, 1));
  connector.Send(connection, std::vector<uint8_t>(60, 2));  // Over the bound.
  EXPECT_TRUE(seen.closes.empty());
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  EXPECT_EQ(connector.stats().write_queue_overflows, 1u);
  EXPECT_TRUE(seen.messages.empty());
}

// Closing at every point of resolve -> connect -> established must leave no operation touching
// freed memory (run under --config=asan) and run no handler.
TEST(TcpConnectorTest, CloseAtAnyPointOfConnecting) {
  AsioLoop loop;
  EchoBroker broker(loop);
  Seen seen;
  for (int step = 0; step < 60; ++step) {
    TcpConnector connector(loop);
    const ConnectionId connection = connector.Connect(broker.address(), Record(seen));
    connector.Send(connection, Bytes("x"));
    testing::RunFor(loop, Duration::Microseconds(50 * step));
    connector.Close(connection);
    connector.Connect(broker.address(), Record(seen));
    testing::RunFor(loop, Duration::Microseconds(50 * step));
  }  // Each connector is destroyed with a connection in some state of connecting.
  ASSERT_TRUE(RunUntil(loop, [&] { return broker.transport->open_client_connections() == 0; }));
  EXPECT_TRUE(seen.closes.empty());
}

TEST(TcpConnectorTest, OversizedReplyClosesTheConnection) {
  AsioLoop loop;
  // A "broker" that answers with a size prefix beyond the limit.
  boost::asio::ip::tcp::acceptor acceptor(
      loop.io_context(),
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  boost::asio::ip::tcp::socket accepted(loop.io_context());
  std::vector<uint8_t> bad_prefix(4);
  StoreBigEndian32(bad_prefix.data(), 0x7fffffffu);
  acceptor.async_accept(accepted, [&](const boost::system::error_code& error) {
    EDDY_CHECK(!error);
    boost::system::error_code ignored;
    boost::asio::write(accepted, boost::asio::buffer(bad_prefix), ignored);
  });
  TcpConnector connector(loop);
  Seen seen;
  connector.Connect({"127.0.0.1", acceptor.local_endpoint().port()}, Record(seen));
  ASSERT_TRUE(RunUntil(loop, [&] { return !seen.closes.empty(); }));
  EXPECT_THAT(seen.closes[0], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(seen.messages.empty());
  EXPECT_EQ(connector.stats().frames_oversized, 1u);
}

}  // namespace
}  // namespace eddy::net
