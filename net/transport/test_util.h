// Helpers for the loopback tests of net/transport: run the loop until a condition (with a
// generous deadline instead of sleeps), a free port, and a raw TCP socket that writes arbitrary
// bytes and collects what it reads, all on the test's AsioLoop.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "core/base/check.h"
#include "net/loop/asio_loop.h"

namespace eddy::net::testing {

inline constexpr Duration kTestDeadline = Duration::Seconds(30);

// Runs the loop until `done()` holds or `deadline` has passed; returns done().
template <typename Predicate>
bool RunUntil(AsioLoop& loop, Predicate done, Duration deadline = kTestDeadline) {
  bool expired = false;
  const runtime::TimerId timer = loop.ScheduleAfter(deadline, [&expired] { expired = true; });
  loop.RunUntil([&] { return done() || expired; });
  loop.Cancel(timer);
  return done();
}

// Runs every handler that is ready now, without waiting.
inline void RunReady(AsioLoop& loop) {
  if (loop.io_context().stopped()) loop.io_context().restart();
  loop.io_context().poll();
}

// Runs the loop for `duration` of real time. Only for tests that sweep over timing to reach
// many interleavings (each outcome is still checked); never to wait for a result.
inline void RunFor(AsioLoop& loop, Duration duration) {
  bool fired = false;
  loop.ScheduleAfter(duration, [&fired] { fired = true; });
  loop.RunUntil([&fired] { return fired; });
}

// A port nothing listens on (bound then released; the kernel does not hand it out again soon).
inline uint16_t UnusedPort(AsioLoop& loop) {
  boost::system::error_code error;
  boost::asio::ip::tcp::acceptor acceptor(loop.io_context());
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol(), error);
  EDDY_CHECK(!error);
  acceptor.bind(endpoint, error);
  EDDY_CHECK(!error);
  const uint16_t port = acceptor.local_endpoint(error).port();
  EDDY_CHECK(!error);
  return port;
}

// A client socket under the test's control. Connect and Write block (fine on loopback for small
// amounts: the kernel completes the handshake and buffers the bytes without the server's loop).
class RawSocket {
 public:
  RawSocket(AsioLoop& loop, uint16_t port) : state_(std::make_shared<State>(loop)) {
    boost::system::error_code error;
    state_->socket.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), error);
    EDDY_CHECK_MSG(!error, error.message());
    ReadMore(state_);
  }
  ~RawSocket() { Close(); }

  void Write(const std::vector<uint8_t>& bytes) {
    boost::system::error_code error;
    boost::asio::write(state_->socket, boost::asio::buffer(bytes), error);
    EDDY_CHECK_MSG(!error, error.message());
  }
  void ShutdownSend() {
    boost::system::error_code ignored;
    state_->socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  }
  void Close() {
    boost::system::error_code ignored;
    state_->socket.close(ignored);
  }
  // Everything read so far, and whether the other side has closed (or reset).
  const std::vector<uint8_t>& received() const { return state_->received; }
  bool closed() const { return state_->closed; }

 private:
  struct State {
    explicit State(AsioLoop& loop) : socket(loop.io_context()) {}
    boost::asio::ip::tcp::socket socket;
    std::vector<uint8_t> buffer = std::vector<uint8_t>(64 * 1024);
    std::vector<uint8_t> received;
    bool closed = false;
  };

  static void ReadMore(std::shared_ptr<State> state) {
    State& s = *state;
    s.socket.async_read_some(boost::asio::buffer(s.buffer),
                             [state = std::move(state)](const boost::system::error_code& error,
                                                        size_t bytes_read) mutable {
                               if (error) {
                                 state->closed = true;
                                 return;
                               }
                               state->received.insert(state->received.end(), state->buffer.begin(),
                                                      state->buffer.begin() + bytes_read);
                               ReadMore(std::move(state));
                             });
  }

  std::shared_ptr<State> state_;
};

}  // namespace eddy::net::testing
