// TcpConnector: the client side of the seam (core/runtime/connector.h) on real TCP, for client
// libraries running on an AsioLoop.
//
// Connect() resolves host:port asynchronously, connects (with a timeout) and then carries Kafka
// frames (int32 size prefix) both ways. Requests sent before the connection is up wait in a
// bounded queue and go out in order once it is. Each reply frame goes to on_message in order.
// The connection ends with exactly one on_closed(kUnavailable) — refused, unresolvable, timed
// out, reset, closed by the broker, an oversized reply, or a write queue beyond its bound —
// unless Close() came first; after Close() no handler runs.
//
// Handlers run on the loop, never inline from Connect(), Send() or Close().
//
// OWNERSHIP: the AsioLoop outlives the connector. Destroying it closes every connection at once
// without running handlers. Single loop; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "core/runtime/connector.h"
#include "net/loop/asio_loop.h"
#include "net/transport/stream_connection.h"

namespace eddy::net {

struct TcpConnectorOptions {
  Duration connect_timeout = Duration::Seconds(10);
  // Bytes of requests held until the connection is established.
  uint64_t pending_bytes_max = 64 * kMiB;
  StreamConnectionLimits limits;
};

struct TcpConnectorStats {
  uint64_t connects_started = 0;
  uint64_t connects_established = 0;
  uint64_t connect_failures = 0;  // Resolve or connect failed, or timed out.
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t frames_dropped = 0;         // Send() on a closed connection.
  uint64_t frames_oversized = 0;       // Reply size prefix negative or above the limit.
  uint64_t frames_truncated = 0;       // Broker's stream ended inside a frame.
  uint64_t write_queue_overflows = 0;  // Pending or write queue beyond its bound.
  uint64_t closed_by_broker = 0;       // Established connections the broker side ended.
};

class TcpConnector final : public runtime::Connector {
 public:
  explicit TcpConnector(AsioLoop& loop, TcpConnectorOptions options = {});
  ~TcpConnector() override;
  TcpConnector(const TcpConnector&) = delete;
  TcpConnector& operator=(const TcpConnector&) = delete;

  runtime::ConnectionId Connect(const runtime::Address& address, Handlers handlers) override;
  // REQUIRES: message.size() <= kMessageSizeBytesMax.
  void Send(runtime::ConnectionId connection, std::vector<uint8_t> message) override;
  void Close(runtime::ConnectionId connection) override;

  const TcpConnectorStats& stats() const { return stats_; }
  size_t open_connections() const { return connections_.size(); }

 private:
  struct Connection {
    // Shared so a handler that closes its own connection does not destroy itself mid-call.
    std::shared_ptr<Handlers> handlers;
    // Closes the socket: a pending connect completes, aborted, and finds no connection.
    ~Connection();

    boost::asio::ip::tcp::resolver resolver;
    // While connecting. Shared with the connect handler: Asio's range connect reads the socket
    // when it completes, even when aborted, so the socket must outlive the operation.
    std::shared_ptr<boost::asio::ip::tcp::socket> socket;
    std::shared_ptr<StreamConnection> stream;  // Once connected.
    runtime::TimerId connect_timer = runtime::kNoTimer;
    std::deque<std::vector<uint8_t>> pending;
    uint64_t pending_bytes = 0;
    bool failing = false;  // A Fail() is posted; further sends are dropped.
  };

  void OnResolved(runtime::ConnectionId id, const boost::system::error_code& error,
                  boost::asio::ip::tcp::resolver::results_type endpoints);
  void OnConnected(runtime::ConnectionId id, const boost::system::error_code& error);
  void OnMessage(runtime::ConnectionId id, std::vector<uint8_t> message);
  void OnStreamClosed(runtime::ConnectionId id, StreamConnection::CloseReason reason,
                      const absl::Status& why);
  // Forgets the connection and runs its on_closed(kUnavailable). Called on the loop only.
  void Fail(runtime::ConnectionId id, const absl::Status& why);
  void SendFramed(Connection& connection, std::vector<uint8_t> message);
  Connection* Find(runtime::ConnectionId id);

  AsioLoop& loop_;
  const TcpConnectorOptions options_;
  TcpConnectorStats stats_;
  std::map<runtime::ConnectionId, std::unique_ptr<Connection>> connections_;
  runtime::ConnectionId next_connection_id_ = 1;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace eddy::net
