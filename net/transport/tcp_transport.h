// TcpTransport: the transport seam (core/runtime/transport.h) on real TCP, on an AsioLoop.
//
// PEERS: one outgoing connection per configured peer (PeerLink: reconnects with backoff,
// reports reachability to the PeerStateHandler), carrying checksummed peer frames (FORMAT.md).
// Incoming peer connections arrive on the peer listener; the first frame names the sender
// (hello) and every later one is delivered as a message from it. A frame that fails its check
// is dropped and counted, and its connection closed. Delivery is best effort: what is queued in
// a connection when it breaks is lost.
//
// CLIENTS: the Kafka listener. Each accepted connection gets a fresh ConnectionId (never reused
// within this transport's lifetime); each frame (Kafka's int32 size prefix stripped) goes to the
// ClientHandler in order. SendToClient writes the prefix and the frame. CloseClient is an orderly
// TCP close (queued replies first). The ClientClosedHandler runs when the client closes or the
// connection breaks, including when this transport closes it for bad input (an oversized or
// truncated frame) or because the client does not read its replies (write queue full); it does
// not run after CloseClient.
//
// Handlers run on the loop, never inline from a Send* call. Every bad input is counted in
// stats(); nothing a peer or client sends can crash the process.
//
// OWNERSHIP: the AsioLoop outlives the transport. Destroying the transport closes every
// connection and listener at once; no handler runs afterwards. Single loop; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/ip/tcp.hpp"
#include "core/base/random.h"
#include "core/runtime/connector.h"
#include "core/runtime/transport.h"
#include "net/loop/asio_loop.h"
#include "net/transport/peer_link.h"
#include "net/transport/stream_connection.h"
#include "net/transport/tcp_transport_stats.h"

namespace eddy::net {

struct TcpTransportOptions {
  runtime::NodeId self = runtime::kNoNode;
  // Local address both listeners bind to ("0.0.0.0" for every interface). Numeric.
  std::string listen_host = "127.0.0.1";
  // 0 picks an ephemeral port (read it back with peer_port() / client_port()).
  uint16_t peer_port = 0;
  uint16_t client_port = 0;
  // Where every other broker's peer listener is (more can be added: SetPeerAddress). Entries
  // for `self` are ignored.
  std::map<runtime::NodeId, runtime::Address> peers;
  PeerLinkOptions peer_link;
  // Limits of every accepted connection's write queue (clients and incoming peers).
  StreamConnectionLimits connection_limits;
  uint64_t client_connections_max = 10000;
  // Seeds the reconnect jitter (the runtime's OS-seeded randomness in production).
  uint64_t random_seed = 0;
  // An incoming peer connection that has not said hello by then is closed, so silent
  // connections cannot hold the kIncomingPeerConnectionsMax slots.
  Duration peer_hello_timeout = Duration::Seconds(10);
};

class TcpTransport final : public runtime::Transport {
 public:
  // Incoming peer connections open at once; a cluster has few brokers, so this is generous.
  static constexpr uint64_t kIncomingPeerConnectionsMax = 1024;
  // Wait before accepting again after an accept error (descriptors exhausted).
  static constexpr Duration kAcceptRetryDelay = Duration::Milliseconds(100);

  // Binds both listeners and starts connecting to the peers. kInvalidArgument for self = 0, a
  // bad listen_host or peer address (SetPeerAddress); kUnavailable if a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> Create(AsioLoop& loop,
                                                              TcpTransportOptions options);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // REQUIRES: message.size() <= kMessageSizeBytesMax. A message to an unknown peer (or to self)
  // is dropped and counted.
  void SendToPeer(runtime::NodeId to, std::vector<uint8_t> message) override;
  // REQUIRES: message.size() <= kMessageSizeBytesMax.
  void SendToClient(runtime::ConnectionId connection, std::vector<uint8_t> message) override;
  void CloseClient(runtime::ConnectionId connection) override;

  void SetPeerHandler(PeerHandler handler) override { peer_handler_ = std::move(handler); }
  void SetPeerStateHandler(PeerStateHandler handler) override {
    peer_state_handler_ = std::move(handler);
  }
  void SetClientHandler(ClientHandler handler) override { client_handler_ = std::move(handler); }
  void SetClientClosedHandler(ClientClosedHandler handler) override {
    client_closed_handler_ = std::move(handler);
  }

  // Adds a peer, or moves it to a new address (its connection is then re-established). For
  // membership changes, and for tests whose ports are known only once bound.
  // May be called from inside a handler. kInvalidArgument (and no change) for node 0, self, an
  // empty host or a port outside 1..65535.
  absl::Status SetPeerAddress(runtime::NodeId peer, runtime::Address address);

  uint16_t peer_port() const { return peer_port_; }
  uint16_t client_port() const { return client_port_; }
  const TcpTransportStats& stats() const { return stats_; }
  size_t open_client_connections() const { return clients_.size(); }
  // True while the outgoing connection to `peer` is established.
  bool peer_connected(runtime::NodeId peer) const;

 private:
  enum class Listener { kPeer, kClient };
  struct IncomingPeer {
    std::shared_ptr<StreamConnection> connection;
    runtime::NodeId from = runtime::kNoNode;           // kNoNode until the hello arrived.
    runtime::TimerId hello_timer = runtime::kNoTimer;  // Until the hello arrived.
  };

  TcpTransport(AsioLoop& loop, TcpTransportOptions options);
  absl::Status Listen(Listener listener, uint16_t port);
  absl::Status StartPeerLinks();
  void Accept(Listener listener);
  void OnAccepted(Listener listener, const boost::system::error_code& error,
                  boost::asio::ip::tcp::socket socket);
  void AddIncomingPeer(boost::asio::ip::tcp::socket socket);
  void OnIncomingPeerFrame(uint64_t id, std::vector<uint8_t> payload);
  void OnIncomingPeerClosed(uint64_t id, StreamConnection::CloseReason reason);
  void OnHelloTimeout(uint64_t id);
  // Closes and forgets an incoming peer connection (no callback follows).
  void DropIncomingPeer(std::map<uint64_t, IncomingPeer>::iterator it);
  void AddClient(boost::asio::ip::tcp::socket socket);
  void OnClientFrame(runtime::ConnectionId connection, std::vector<uint8_t> payload);
  void OnClientClosed(runtime::ConnectionId connection, StreamConnection::CloseReason reason);
  boost::asio::ip::tcp::acceptor& acceptor(Listener listener);

  AsioLoop& loop_;
  const TcpTransportOptions options_;
  Random random_;  // Seeds each PeerLink's jitter.
  TcpTransportStats stats_;
  boost::asio::ip::tcp::acceptor peer_acceptor_;
  boost::asio::ip::tcp::acceptor client_acceptor_;
  uint16_t peer_port_ = 0;
  uint16_t client_port_ = 0;

  std::map<runtime::NodeId, std::unique_ptr<PeerLink>> links_;
  std::map<uint64_t, IncomingPeer> incoming_peers_;
  uint64_t next_incoming_peer_id_ = 1;
  std::map<runtime::ConnectionId, std::shared_ptr<StreamConnection>> clients_;
  runtime::ConnectionId next_connection_id_ = 1;

  PeerHandler peer_handler_ = nullptr;
  PeerStateHandler peer_state_handler_ = nullptr;
  ClientHandler client_handler_ = nullptr;
  ClientClosedHandler client_closed_handler_ = nullptr;
  // Handlers of asynchronous operations hold a weak reference and do nothing once it expired.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace eddy::net
