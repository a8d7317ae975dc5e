// AsioLoop: the real-world event loop and clock, on a Boost.Asio io_context.
//
// Implements runtime::Clock with std::chrono::steady_clock and asio::steady_timer. Every callback
// runs on the thread that calls Run*(), later than it was scheduled, exactly once unless
// cancelled. Callbacks due at the same time run in scheduling order (asio's timer queue is
// ordered by expiry; Post() uses an ordered handler queue).
//
// OWNERSHIP: owns the io_context and every pending callback. Not thread-safe: one loop thread.
// No Asio type leaks through this header beyond the io_context accessor that net/ uses for
// sockets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "core/runtime/clock.h"

namespace eddy::net {

class AsioLoop final : public runtime::Clock {
 public:
  AsioLoop();
  ~AsioLoop() override;
  AsioLoop(const AsioLoop&) = delete;
  AsioLoop& operator=(const AsioLoop&) = delete;

  // Nanoseconds since this loop was created, from steady_clock.
  Instant Now() const override;
  runtime::TimerId ScheduleAfter(Duration delay, Callback callback) override;
  bool Cancel(runtime::TimerId timer) override;

  // Runs until no callback or I/O is pending, or Stop(). Returns how many handlers ran.
  uint64_t Run();
  // Runs one ready handler, waiting for timers if needed; false if nothing is pending.
  bool RunOne() {
    if (io_context_.stopped()) io_context_.restart();
    return io_context_.run_one() > 0;
  }
  // Runs until `done()` is true after some handler, or nothing is pending.
  template <typename Predicate>
  void RunUntil(Predicate done) {
    // An io_context that ran out of work stays stopped until restarted.
    if (io_context_.stopped()) io_context_.restart();
    while (!done() && io_context_.run_one() > 0) {
    }
  }
  void Stop() { io_context_.stop(); }

  boost::asio::io_context& io_context() { return io_context_; }
  size_t pending_count() const { return pending_.size(); }

 private:
  struct Pending {
    Callback callback;
    std::unique_ptr<boost::asio::steady_timer> timer;  // Null for zero-delay posts.
  };

  void Fire(runtime::TimerId timer);

  boost::asio::io_context io_context_;
  const std::chrono::steady_clock::time_point start_;
  runtime::TimerId next_timer_ = 1;
  std::map<runtime::TimerId, Pending> pending_;
};

}  // namespace eddy::net
