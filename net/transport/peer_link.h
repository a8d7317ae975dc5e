// PeerLink: this broker's one outgoing connection to one peer, kept up for the transport's
// lifetime. Resolves the peer's address, connects (with a timeout), sends a hello naming both
// ends, then writes peer frames; when the connection fails or breaks it retries with
// exponential backoff (reconnect_backoff_min doubling up to reconnect_backoff_max, jittered).
//
// Messages sent while not connected wait in a bounded pending queue and go out after the hello
// once connected; beyond the bound they are dropped and counted. What was queued inside a
// connection when it broke is lost (transport.h's best effort).
//
// REACHABILITY: starts assumed reachable (as in the simulator); on_reachable(false) when a
// connection attempt fails or an established connection breaks, on_reachable(true) when a
// connection is established again. Only changes are reported.
//
// The connection is one-way: the peer never writes to it; we read from it only to notice it
// closing.
//
// OWNERSHIP: owned by TcpTransport; the loop and the stats outlive it. Destroying it closes the
// connection; no callback runs afterwards.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "boost/asio/ip/tcp.hpp"
#include "core/base/random.h"
#include "core/base/units.h"
#include "core/runtime/connector.h"
#include "core/runtime/transport.h"
#include "net/loop/asio_loop.h"
#include "net/transport/stream_connection.h"
#include "net/transport/tcp_transport_stats.h"

namespace eddy::net {

struct PeerLinkOptions {
  // Each wait is drawn uniformly from [backoff/2, backoff], so brokers restarted together do not
  // reconnect in lockstep; the backoff doubles from min to max after each failure.
  Duration reconnect_backoff_min = Duration::Milliseconds(50);
  Duration reconnect_backoff_max = Duration::Seconds(2);
  Duration connect_timeout = Duration::Seconds(3);
  // How long written bytes may stay unacknowledged before the kernel drops the connection
  // (TCP_USER_TIMEOUT): a peer host that vanished without a reset is noticed in this time rather
  // than after TCP's retransmission limit (~15 minutes). Zero keeps the kernel's default.
  Duration unacknowledged_timeout = Duration::Seconds(10);
  // Bytes of messages held while disconnected.
  uint64_t pending_bytes_max = 32 * kMiB;
  StreamConnectionLimits limits;
};

class PeerLink {
 public:
  using ReachableHandler = absl::AnyInvocable<void(bool reachable)>;

  // Starts connecting at once (completions run on the loop). REQUIRES: self != peer, both set.
  // `jitter_seed` seeds the backoff jitter (the runtime's OS-seeded randomness, forked per link).
  PeerLink(AsioLoop& loop, runtime::NodeId self, runtime::NodeId peer, runtime::Address address,
           const PeerLinkOptions& options, uint64_t jitter_seed, TcpTransportStats& stats,
           ReachableHandler on_reachable);
  ~PeerLink();
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // REQUIRES: message.size() <= kMessageSizeBytesMax.
  void Send(std::vector<uint8_t> message);
  // Closes everything and silences every callback, without destroying the link: for a link
  // being replaced from inside one of its own callbacks (destroyed later, off its call stack).
  void Shutdown();

  bool connected() const { return state_ == State::kConnected; }
  bool reachable() const { return reachable_; }

 private:
  enum class State { kResolving, kConnecting, kConnected, kBackoff };

  void Resolve();
  void OnResolved(const boost::system::error_code& error,
                  boost::asio::ip::tcp::resolver::results_type endpoints);
  void OnConnected(const boost::system::error_code& error);
  void OnConnectFailed(const absl::Status& why);
  void OnConnectionClosed(StreamConnection::CloseReason reason, const absl::Status& why);
  void ScheduleReconnect();
  void SetReachable(bool reachable);
  void SendFramed(std::vector<uint8_t> message);

  AsioLoop& loop_;
  const runtime::NodeId self_;
  const runtime::NodeId peer_;
  const runtime::Address address_;
  const PeerLinkOptions options_;
  TcpTransportStats& stats_;
  ReachableHandler on_reachable_;

  State state_ = State::kResolving;
  bool reachable_ = true;
  Duration backoff_;
  Random jitter_;
  boost::asio::ip::tcp::resolver resolver_;
  // While connecting. Shared with the connect handler: Asio's range connect reads the socket
  // when it completes, even when aborted, so the socket must outlive the operation.
  std::shared_ptr<boost::asio::ip::tcp::socket> connecting_;
  std::shared_ptr<StreamConnection> connection_;  // While connected.
  runtime::TimerId timer_ = runtime::kNoTimer;    // Backoff or connect timeout.
  std::deque<std::vector<uint8_t>> pending_;
  uint64_t pending_bytes_ = 0;
  // Handlers of asynchronous operations hold a weak reference and do nothing once it expired
  // (the link was destroyed while they were queued).
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace eddy::net
