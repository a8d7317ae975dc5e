#include "net/transport/peer_link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/detail/socket_option.hpp"
#include "core/base/check.h"
#include "net/transport/asio_status.h"
#include "net/transport/peer_frame.h"

namespace eddy::net {

namespace asio = boost::asio;
using boost::system::error_code;

PeerLink::PeerLink(AsioLoop& loop, runtime::NodeId self, runtime::NodeId peer,
                   runtime::Address address, const PeerLinkOptions& options, uint64_t jitter_seed,
                   TcpTransportStats& stats, ReachableHandler on_reachable)
    : loop_(loop),
      self_(self),
      peer_(peer),
      address_(std::move(address)),
      options_(options),
      stats_(stats),
      on_reachable_(std::move(on_reachable)),
      backoff_(options.reconnect_backoff_min),
      jitter_(jitter_seed),
      resolver_(loop.io_context()) {
  EDDY_CHECK_NE(self, runtime::kNoNode);
  EDDY_CHECK_NE(peer, runtime::kNoNode);
  EDDY_CHECK_NE(self, peer);
  EDDY_CHECK_GT(options.reconnect_backoff_min, Duration::Zero());
  EDDY_CHECK_LE(options.reconnect_backoff_min, options.reconnect_backoff_max);
  Resolve();
}

PeerLink::~PeerLink() { Shutdown(); }

void PeerLink::Shutdown() {
  alive_.reset();
  on_reachable_ = nullptr;
  if (timer_ != runtime::kNoTimer) loop_.Cancel(timer_);
  timer_ = runtime::kNoTimer;
  if (connection_ != nullptr) connection_->Abort();
  connection_.reset();
  if (connecting_ != nullptr) {
    error_code ignored;
    connecting_->close(ignored);  // The pending connect completes, aborted, and finds us gone.
    connecting_.reset();
  }
  resolver_.cancel();
  pending_.clear();
  pending_bytes_ = 0;
}

void PeerLink::Resolve() {
  state_ = State::kResolving;
  // Asynchronous even for numeric addresses, so a slow DNS never stalls the loop.
  resolver_.async_resolve(
      address_.host, std::to_string(address_.port), asio::ip::tcp::resolver::numeric_service,
      [this, alive = std::weak_ptr<char>(alive_)](const error_code& error,
                                                  asio::ip::tcp::resolver::results_type endpoints) {
        if (alive.expired()) return;
        OnResolved(error, std::move(endpoints));
      });
}

void PeerLink::OnResolved(const error_code& error,
                          asio::ip::tcp::resolver::results_type endpoints) {
  EDDY_CHECK(state_ == State::kResolving);
  if (error) return OnConnectFailed(AsioErrorToStatus(error, "resolve"));
  state_ = State::kConnecting;
  EDDY_CHECK(connecting_ == nullptr);
  connecting_ = std::make_shared<asio::ip::tcp::socket>(loop_.io_context());
  // Closing the socket aborts the connect, which then completes with an error.
  timer_ = loop_.ScheduleAfter(options_.connect_timeout, [this] {
    timer_ = runtime::kNoTimer;
    error_code ignored;
    connecting_->close(ignored);
  });
  asio::async_connect(*connecting_, endpoints,
                      [this, alive = std::weak_ptr<char>(alive_), socket = connecting_](
                          const error_code& connect_error, const asio::ip::tcp::endpoint&) {
                        if (alive.expired()) return;
                        OnConnected(connect_error);
                      });
}

void PeerLink::OnConnected(const error_code& error) {
  EDDY_CHECK(state_ == State::kConnecting);
  if (timer_ != runtime::kNoTimer) {
    loop_.Cancel(timer_);
    timer_ = runtime::kNoTimer;
  }
  EDDY_CHECK(connecting_ != nullptr);
  std::shared_ptr<asio::ip::tcp::socket> socket = std::move(connecting_);
  if (error) return OnConnectFailed(AsioErrorToStatus(error, "connect"));
  if (options_.unacknowledged_timeout > Duration::Zero()) {
    using UserTimeout = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_USER_TIMEOUT>;
    error_code ignored;  // An older kernel without the option keeps its default.
    socket->set_option(
        UserTimeout(static_cast<int>(options_.unacknowledged_timeout.milliseconds())), ignored);
  }
  StreamConnection::Callbacks callbacks;
  // The peer never writes on our outgoing connection; a frame from it is ignored.
  callbacks.on_frame = [](std::vector<uint8_t>) {};
  callbacks.on_closed = [this, alive = std::weak_ptr<char>(alive_)](
                            StreamConnection::CloseReason reason, absl::Status why) {
    if (alive.expired()) return;
    OnConnectionClosed(reason, why);
  };
  connection_ = StreamConnection::Create(std::move(*socket), PeerFrameFormat::Get(),
                                         options_.limits, std::move(callbacks));
  connection_->Start();
  state_ = State::kConnected;
  backoff_ = options_.reconnect_backoff_min;
  ++stats_.peer_connects;
  SendFramed(EncodePeerHello(PeerHello{self_, peer_}));
  while (!pending_.empty() && connection_->open()) {
    pending_bytes_ -= pending_.front().size();
    SendFramed(std::move(pending_.front()));
    pending_.pop_front();
  }
  SetReachable(true);
}

void PeerLink::OnConnectFailed(const absl::Status& why) {
  EDDY_CHECK(!why.ok());
  ++stats_.peer_connect_failures;
  SetReachable(false);
  if (!alive_) return;
  ScheduleReconnect();
}

void PeerLink::OnConnectionClosed(StreamConnection::CloseReason reason, const absl::Status& why) {
  static_cast<void>(why);
  EDDY_CHECK(state_ == State::kConnected);
  if (reason == StreamConnection::CloseReason::kWriteQueueFull) {
    ++stats_.peer_write_queue_overflows;
  }
  ++stats_.peer_disconnects;
  connection_.reset();
  SetReachable(false);
  if (!alive_) return;
  // A connection that was up deserves a quick retry: start from the minimum backoff.
  backoff_ = options_.reconnect_backoff_min;
  ScheduleReconnect();
}

void PeerLink::ScheduleReconnect() {
  EDDY_CHECK_EQ(timer_, runtime::kNoTimer);
  state_ = State::kBackoff;
  const int64_t backoff_ns = backoff_.nanoseconds();
  const Duration wait =
      Duration::Nanoseconds(jitter_.UniformInRange(backoff_ns - backoff_ns / 2, backoff_ns));
  EDDY_CHECK_LE(wait, backoff_);
  timer_ = loop_.ScheduleAfter(wait, [this] {
    timer_ = runtime::kNoTimer;
    Resolve();
  });
  backoff_ = std::min(backoff_ * 2, options_.reconnect_backoff_max);
}

void PeerLink::SetReachable(bool reachable) {
  if (reachable_ == reachable) return;
  reachable_ = reachable;
  // Runs from completions only (connect, close), never from Send. The handler may Shutdown()
  // this link (its peer moved): hold it locally so it is not destroyed while it runs.
  auto on_reachable = std::move(on_reachable_);
  if (on_reachable) on_reachable(reachable);
  if (!alive_) return;  // Shut down meanwhile.
  on_reachable_ = std::move(on_reachable);
}

void PeerLink::Send(std::vector<uint8_t> message) {
  EDDY_CHECK_LE(message.size(), runtime::kMessageSizeBytesMax);
  if (!alive_) {
    ++stats_.peer_messages_dropped;
    return;
  }
  if (state_ == State::kConnected) {
    SendFramed(std::move(message));
    return;
  }
  if (pending_bytes_ + message.size() > options_.pending_bytes_max) {
    ++stats_.peer_messages_dropped;
    return;
  }
  pending_bytes_ += message.size();
  pending_.push_back(std::move(message));
  ++stats_.peer_messages_queued;
}

void PeerLink::SendFramed(std::vector<uint8_t> message) {
  EDDY_CHECK(connection_ != nullptr);
  const auto header = EncodePeerFrameHeader(message);
  if (connection_->Send(std::vector<uint8_t>(header.begin(), header.end()), std::move(message))) {
    ++stats_.peer_messages_sent;
  } else {
    ++stats_.peer_messages_dropped;  // Closed or overflowed; on_closed is on its way.
  }
}

}  // namespace eddy::net
