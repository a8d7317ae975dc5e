#include "net/transport/tcp_connector.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "core/base/check.h"
#include "net/transport/asio_status.h"
#include "net/transport/kafka_frame.h"

namespace eddy::net {

namespace asio = boost::asio;
using boost::system::error_code;
using CloseReason = StreamConnection::CloseReason;

TcpConnector::TcpConnector(AsioLoop& loop, TcpConnectorOptions options)
    : loop_(loop), options_(options) {
  EDDY_CHECK_GT(options_.connect_timeout, Duration::Zero());
}

TcpConnector::~TcpConnector() {
  alive_.reset();
  for (auto& [id, connection] : connections_) {
    if (connection->connect_timer != runtime::kNoTimer) loop_.Cancel(connection->connect_timer);
    if (connection->stream != nullptr) connection->stream->Abort();
  }
}

TcpConnector::Connection::~Connection() {
  error_code ignored;
  if (socket != nullptr) socket->close(ignored);
  resolver.cancel();
}

TcpConnector::Connection* TcpConnector::Find(runtime::ConnectionId id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

runtime::ConnectionId TcpConnector::Connect(const runtime::Address& address, Handlers handlers) {
  const runtime::ConnectionId id = next_connection_id_++;
  auto connection = std::unique_ptr<Connection>(
      new Connection{std::make_shared<Handlers>(std::move(handlers)),
                     asio::ip::tcp::resolver(loop_.io_context()),
                     std::make_shared<asio::ip::tcp::socket>(loop_.io_context()),
                     nullptr,
                     runtime::kNoTimer,
                     {},
                     0,
                     false});
  ++stats_.connects_started;
  // Every handler below finds its connection by id: after Close() it is gone and they do nothing.
  connection->resolver.async_resolve(
      address.host, std::to_string(address.port), asio::ip::tcp::resolver::numeric_service,
      [this, id, alive = std::weak_ptr<char>(alive_)](
          const error_code& error, asio::ip::tcp::resolver::results_type endpoints) {
        if (!alive.expired()) OnResolved(id, error, std::move(endpoints));
      });
  connection->connect_timer = loop_.ScheduleAfter(options_.connect_timeout, [this, id] {
    Connection* timed_out = Find(id);
    EDDY_CHECK(timed_out != nullptr);  // Close() and Fail() cancel the timer.
    timed_out->connect_timer = runtime::kNoTimer;
    Fail(id, absl::UnavailableError("connect timed out"));
  });
  connections_.emplace(id, std::move(connection));
  return id;
}

void TcpConnector::OnResolved(runtime::ConnectionId id, const error_code& error,
                              asio::ip::tcp::resolver::results_type endpoints) {
  Connection* connection = Find(id);
  if (connection == nullptr) return;
  if (error) return Fail(id, AsioErrorToStatus(error, "resolve"));
  asio::async_connect(*connection->socket, endpoints,
                      [this, id, alive = std::weak_ptr<char>(alive_), socket = connection->socket](
                          const error_code& connect_error, const asio::ip::tcp::endpoint&) {
                        if (!alive.expired()) OnConnected(id, connect_error);
                      });
}

void TcpConnector::OnConnected(runtime::ConnectionId id, const error_code& error) {
  Connection* connection = Find(id);
  if (connection == nullptr) return;
  if (error) return Fail(id, AsioErrorToStatus(error, "connect"));
  EDDY_CHECK(connection->stream == nullptr);
  loop_.Cancel(connection->connect_timer);
  connection->connect_timer = runtime::kNoTimer;
  StreamConnection::Callbacks callbacks;
  callbacks.on_frame = [this, id](std::vector<uint8_t> message) {
    OnMessage(id, std::move(message));
  };
  callbacks.on_closed = [this, id, alive = std::weak_ptr<char>(alive_)](CloseReason reason,
                                                                        absl::Status why) {
    if (!alive.expired()) OnStreamClosed(id, reason, why);
  };
  connection->stream =
      StreamConnection::Create(std::move(*connection->socket), KafkaFrameFormat::Get(),
                               options_.limits, std::move(callbacks));
  connection->stream->Start();
  ++stats_.connects_established;
  while (!connection->pending.empty()) {
    connection->pending_bytes -= connection->pending.front().size();
    std::vector<uint8_t> message = std::move(connection->pending.front());
    connection->pending.pop_front();
    SendFramed(*connection, std::move(message));
  }
  EDDY_CHECK_EQ(connection->pending_bytes, 0u);
}

void TcpConnector::OnMessage(runtime::ConnectionId id, std::vector<uint8_t> message) {
  Connection* connection = Find(id);
  EDDY_CHECK(connection != nullptr);  // Close() aborts the stream, which then delivers nothing.
  ++stats_.frames_received;
  std::shared_ptr<Handlers> handlers = connection->handlers;
  if (handlers->on_message) handlers->on_message(std::move(message));
}

void TcpConnector::OnStreamClosed(runtime::ConnectionId id, CloseReason reason,
                                  const absl::Status& why) {
  if (Find(id) == nullptr) return;
  switch (reason) {
    case CloseReason::kBadHeader:
      ++stats_.frames_oversized;
      break;
    case CloseReason::kTruncated:
      ++stats_.frames_truncated;
      break;
    case CloseReason::kWriteQueueFull:
      ++stats_.write_queue_overflows;
      break;
    case CloseReason::kEndOfStream:
    case CloseReason::kError:
      ++stats_.closed_by_broker;
      break;
    case CloseReason::kBadPayload:
      break;  // Kafka frames carry no checksum.
  }
  Fail(id, why);
}

void TcpConnector::Fail(runtime::ConnectionId id, const absl::Status& why) {
  auto it = connections_.find(id);
  EDDY_CHECK(it != connections_.end());
  std::unique_ptr<Connection> connection = std::move(it->second);
  connections_.erase(it);
  if (connection->stream == nullptr) ++stats_.connect_failures;
  if (connection->connect_timer != runtime::kNoTimer) loop_.Cancel(connection->connect_timer);
  if (connection->stream != nullptr) connection->stream->Abort();
  std::shared_ptr<Handlers> handlers = connection->handlers;
  connection.reset();  // Closes the socket and resolver; their handlers find no connection.
  // connector.h promises kUnavailable whatever the cause: the client reconnects or gives up.
  if (handlers->on_closed) {
    handlers->on_closed(absl::UnavailableError(absl::StrCat("connection closed: ", why.message())));
  }
}

void TcpConnector::Send(runtime::ConnectionId id, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  Connection* connection = Find(id);
  if (connection == nullptr || connection->failing) {
    ++stats_.frames_dropped;
    return;
  }
  if (connection->stream != nullptr) return SendFramed(*connection, std::move(message));
  if (connection->pending_bytes + message.size() > options_.pending_bytes_max) {
    // Close as the stream would on a full write queue, but later: never inline from Send().
    ++stats_.write_queue_overflows;
    connection->pending.clear();
    connection->pending_bytes = 0;
    connection->failing = true;
    loop_.Post([this, id, alive = std::weak_ptr<char>(alive_)] {
      if (alive.expired() || Find(id) == nullptr) return;
      Fail(id, absl::ResourceExhaustedError("pending queue full"));
    });
    return;
  }
  connection->pending_bytes += message.size();
  connection->pending.push_back(std::move(message));
}

void TcpConnector::SendFramed(Connection& connection, std::vector<uint8_t> message) {
  EDDY_CHECK(connection.stream != nullptr);
  const auto prefix = EncodeKafkaSizePrefix(message.size());
  if (connection.stream->Send(std::vector<uint8_t>(prefix.begin(), prefix.end()),
                              std::move(message))) {
    ++stats_.frames_sent;
  } else {
    ++stats_.frames_dropped;  // Closed or overflowed: on_closed is on its way.
  }
}

void TcpConnector::Close(runtime::ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  if (connection.connect_timer != runtime::kNoTimer) loop_.Cancel(connection.connect_timer);
  // An established connection drains its queued requests, then the broker sees it close.
  if (connection.stream != nullptr) connection.stream->CloseAfterWrites();
  connections_.erase(it);
}

}  // namespace eddy::net
