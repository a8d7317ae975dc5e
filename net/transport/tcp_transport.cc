#include "net/transport/tcp_transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/address.hpp"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "net/transport/asio_status.h"
#include "net/transport/kafka_frame.h"
#include "net/transport/peer_frame.h"

namespace eddy::net {

namespace asio = boost::asio;
using boost::system::error_code;
using CloseReason = StreamConnection::CloseReason;

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::Create(AsioLoop& loop,
                                                                   TcpTransportOptions options) {
  if (options.self == runtime::kNoNode) return absl::InvalidArgumentError("self is node 0");
  std::unique_ptr<TcpTransport> transport(new TcpTransport(loop, std::move(options)));
  absl::Status status = transport->Listen(Listener::kPeer, transport->options_.peer_port);
  if (status.ok()) status = transport->Listen(Listener::kClient, transport->options_.client_port);
  if (status.ok()) status = transport->StartPeerLinks();
  if (!status.ok()) return status;
  return transport;
}

TcpTransport::TcpTransport(AsioLoop& loop, TcpTransportOptions options)
    : loop_(loop),
      options_(std::move(options)),
      random_(options_.random_seed),
      peer_acceptor_(loop.io_context()),
      client_acceptor_(loop.io_context()) {}

TcpTransport::~TcpTransport() {
  alive_.reset();
  error_code ignored;
  peer_acceptor_.close(ignored);
  client_acceptor_.close(ignored);
  while (!incoming_peers_.empty()) DropIncomingPeer(incoming_peers_.begin());
  for (auto& [id, client] : clients_) client->Abort();
  links_.clear();
}

absl::Status TcpTransport::Listen(Listener listener, uint16_t port) {
  error_code error;
  const asio::ip::address address = asio::ip::make_address(options_.listen_host, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("listen host ", options_.listen_host));
  const asio::ip::tcp::endpoint endpoint(address, port);
  asio::ip::tcp::acceptor& socket = acceptor(listener);
  const char* what = listener == Listener::kPeer ? "peer listener" : "client listener";
  socket.open(endpoint.protocol(), error);
  if (error) return AsioErrorToStatus(error, what);
  // A restarted broker must get its port back while old connections sit in TIME_WAIT.
  socket.set_option(asio::socket_base::reuse_address(true), error);
  if (error) return AsioErrorToStatus(error, what);
  socket.bind(endpoint, error);
  if (error) return AsioErrorToStatus(error, absl::StrCat(what, " bind ", port));
  socket.listen(asio::socket_base::max_listen_connections, error);
  if (error) return AsioErrorToStatus(error, what);
  const uint16_t bound = socket.local_endpoint(error).port();
  if (error) return AsioErrorToStatus(error, what);
  (listener == Listener::kPeer ? peer_port_ : client_port_) = bound;
  Accept(listener);
  return absl::OkStatus();
}

absl::Status TcpTransport::StartPeerLinks() {
  for (const auto& [peer, address] : options_.peers) {
    if (peer == options_.self) continue;
    EDDY_RETURN_IF_ERROR(SetPeerAddress(peer, address));
  }
  return absl::OkStatus();
}

absl::Status TcpTransport::SetPeerAddress(runtime::NodeId peer, runtime::Address address) {
  if (peer == runtime::kNoNode || peer == options_.self) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer ", peer, " (self is ", options_.self, ")"));
  }
  if (address.host.empty() || address.port < 1 || address.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("peer ", peer, " address ", address.host, ":", address.port));
  }
  // Replacing the link drops its connection and queue: best effort, as on any reconnect. We may
  // be inside one of the old link's callbacks (a peer-state handler), so it is shut down now
  // and destroyed later, off its own call stack.
  if (auto old = links_.find(peer); old != links_.end()) {
    old->second->Shutdown();
    loop_.Post([retired = std::move(old->second)] {});
    links_.erase(old);
  }
  auto on_reachable = [this, peer](bool reachable) {
    if (peer_state_handler_) peer_state_handler_(peer, reachable);
  };
  links_.emplace(peer, std::make_unique<PeerLink>(loop_, options_.self, peer, std::move(address),
                                                  options_.peer_link, random_.Next(), stats_,
                                                  std::move(on_reachable)));
  return absl::OkStatus();
}

asio::ip::tcp::acceptor& TcpTransport::acceptor(Listener listener) {
  return listener == Listener::kPeer ? peer_acceptor_ : client_acceptor_;
}

void TcpTransport::Accept(Listener listener) {
  acceptor(listener).async_accept([this, listener, alive = std::weak_ptr<char>(alive_)](
                                      const error_code& error, asio::ip::tcp::socket socket) {
    if (alive.expired()) return;
    OnAccepted(listener, error, std::move(socket));
  });
}

void TcpTransport::OnAccepted(Listener listener, const error_code& error,
                              asio::ip::tcp::socket socket) {
  if (error) {
    // Usually descriptors exhausted: back off instead of spinning on the failing accept.
    ++stats_.accept_errors;
    loop_.ScheduleAfter(kAcceptRetryDelay, [this, listener, alive = std::weak_ptr<char>(alive_)] {
      if (!alive.expired()) Accept(listener);
    });
    return;
  }
  if (listener == Listener::kPeer) {
    AddIncomingPeer(std::move(socket));
  } else {
    AddClient(std::move(socket));
  }
  Accept(listener);
}

void TcpTransport::AddIncomingPeer(asio::ip::tcp::socket socket) {
  if (incoming_peers_.size() >= kIncomingPeerConnectionsMax) {
    ++stats_.peer_connections_refused;
    return;  // The socket closes as it goes out of scope.
  }
  const uint64_t id = next_incoming_peer_id_++;
  StreamConnection::Callbacks callbacks;
  callbacks.on_frame = [this, id](std::vector<uint8_t> payload) {
    OnIncomingPeerFrame(id, std::move(payload));
  };
  callbacks.on_closed = [this, id, alive = std::weak_ptr<char>(alive_)](CloseReason reason,
                                                                        absl::Status) {
    if (!alive.expired()) OnIncomingPeerClosed(id, reason);
  };
  auto connection = StreamConnection::Create(std::move(socket), PeerFrameFormat::Get(),
                                             options_.connection_limits, std::move(callbacks));
  connection->Start();
  const runtime::TimerId hello_timer =
      loop_.ScheduleAfter(options_.peer_hello_timeout, [this, id] { OnHelloTimeout(id); });
  incoming_peers_.emplace(id, IncomingPeer{std::move(connection), runtime::kNoNode, hello_timer});
  ++stats_.peer_connections_accepted;
}

void TcpTransport::OnIncomingPeerFrame(uint64_t id, std::vector<uint8_t> payload) {
  auto it = incoming_peers_.find(id);
  EDDY_CHECK(it != incoming_peers_.end());  // Closed connections deliver nothing.
  IncomingPeer& incoming = it->second;
  if (incoming.from != runtime::kNoNode) {
    if (!peer_handler_) {
      ++stats_.peer_messages_no_handler;
      return;
    }
    ++stats_.peer_messages_delivered;
    peer_handler_(incoming.from, std::move(payload));
    return;
  }
  absl::StatusOr<PeerHello> hello = DecodePeerHello(payload);
  if (!hello.ok() || hello->to != options_.self || hello->from == options_.self) {
    ++stats_.peer_hellos_rejected;
    DropIncomingPeer(it);
    return;
  }
  loop_.Cancel(incoming.hello_timer);
  incoming.hello_timer = runtime::kNoTimer;
  // The sender keeps one connection to us: an older one from the same node is stale.
  for (auto other = incoming_peers_.begin(); other != incoming_peers_.end();) {
    if (other->first != id && other->second.from == hello->from) {
      ++stats_.peer_connections_replaced;
      DropIncomingPeer(other++);
    } else {
      ++other;
    }
  }
  incoming.from = hello->from;
}

void TcpTransport::OnIncomingPeerClosed(uint64_t id, CloseReason reason) {
  switch (reason) {
    case CloseReason::kBadPayload:
      ++stats_.peer_frames_corrupt;
      break;
    case CloseReason::kBadHeader:
      ++stats_.peer_frames_malformed;
      break;
    case CloseReason::kTruncated:
      ++stats_.peer_frames_truncated;
      break;
    case CloseReason::kWriteQueueFull:  // We never write to incoming peer connections.
    case CloseReason::kEndOfStream:
    case CloseReason::kError:
      break;
  }
  auto it = incoming_peers_.find(id);
  if (it != incoming_peers_.end()) DropIncomingPeer(it);
}

void TcpTransport::OnHelloTimeout(uint64_t id) {
  auto it = incoming_peers_.find(id);
  EDDY_CHECK(it != incoming_peers_.end());  // DropIncomingPeer cancels the timer.
  EDDY_CHECK_EQ(it->second.from, runtime::kNoNode);
  it->second.hello_timer = runtime::kNoTimer;
  ++stats_.peer_hello_timeouts;
  DropIncomingPeer(it);
}

void TcpTransport::DropIncomingPeer(std::map<uint64_t, IncomingPeer>::iterator it) {
  if (it->second.hello_timer != runtime::kNoTimer) loop_.Cancel(it->second.hello_timer);
  it->second.connection->Abort();
  incoming_peers_.erase(it);
}

void TcpTransport::AddClient(asio::ip::tcp::socket socket) {
  if (clients_.size() >= options_.client_connections_max) {
    ++stats_.client_connections_refused;
    return;  // The socket closes as it goes out of scope: the client sees the refusal.
  }
  const runtime::ConnectionId id = next_connection_id_++;
  StreamConnection::Callbacks callbacks;
  callbacks.on_frame = [this, id](std::vector<uint8_t> payload) {
    OnClientFrame(id, std::move(payload));
  };
  callbacks.on_closed = [this, id, alive = std::weak_ptr<char>(alive_)](CloseReason reason,
                                                                        absl::Status) {
    if (!alive.expired()) OnClientClosed(id, reason);
  };
  auto connection = StreamConnection::Create(std::move(socket), KafkaFrameFormat::Get(),
                                             options_.connection_limits, std::move(callbacks));
  connection->Start();
  clients_.emplace(id, std::move(connection));
  ++stats_.client_connections_accepted;
}

void TcpTransport::OnClientFrame(runtime::ConnectionId connection, std::vector<uint8_t> payload) {
  EDDY_CHECK(clients_.contains(connection));  // Closed connections deliver nothing.
  ++stats_.client_frames_received;
  if (!client_handler_) {
    ++stats_.client_messages_no_handler;
    return;
  }
  client_handler_(connection, std::move(payload));
}

void TcpTransport::OnClientClosed(runtime::ConnectionId connection, CloseReason reason) {
  switch (reason) {
    case CloseReason::kBadHeader:
      ++stats_.client_frames_oversized;
      break;
    case CloseReason::kTruncated:
      ++stats_.client_frames_truncated;
      break;
    case CloseReason::kWriteQueueFull:
      ++stats_.client_write_queue_overflows;
      break;
    case CloseReason::kBadPayload:  // Kafka frames carry no checksum.
    case CloseReason::kEndOfStream:
    case CloseReason::kError:
      break;
  }
  // A CloseClient() in between removed it, and then the broker must not hear of it.
  if (clients_.erase(connection) == 0) return;
  ++stats_.client_connections_closed;
  if (client_closed_handler_) client_closed_handler_(connection);
}

void TcpTransport::SendToPeer(runtime::NodeId to, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  auto it = links_.find(to);
  if (it == links_.end()) {
    ++stats_.peer_messages_dropped;
    return;
  }
  it->second->Send(std::move(message));
}

void TcpTransport::SendToClient(runtime::ConnectionId connection, std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  auto it = clients_.find(connection);
  if (it == clients_.end()) {
    ++stats_.client_frames_dropped;
    return;
  }
  const auto prefix = EncodeKafkaSizePrefix(message.size());
  // Keep a reference: an overflow inside Send posts the close, it never erases inline.
  if (it->second->Send(std::vector<uint8_t>(prefix.begin(), prefix.end()), std::move(message))) {
    ++stats_.client_frames_sent;
  } else {
    ++stats_.client_frames_dropped;
  }
}

void TcpTransport::CloseClient(runtime::ConnectionId connection) {
  auto it = clients_.find(connection);
  if (it == clients_.end()) return;
  // The connection lives on, owned by its pending writes and reads, until it has drained.
  it->second->CloseAfterWrites();
  clients_.erase(it);
}

bool TcpTransport::peer_connected(runtime::NodeId peer) const {
  auto it = links_.find(peer);
  return it != links_.end() && it->second->connected();
}

}  // namespace eddy::net
