#include "net/loop/asio_loop.h"

#include <chrono>
#include <utility>

#include "boost/asio/post.hpp"
#include "core/base/check.h"

namespace eddy::net {

AsioLoop::AsioLoop() : start_(std::chrono::steady_clock::now()) {}

AsioLoop::~AsioLoop() {
  // Destroy callbacks before the io_context so nothing they own outlives what they reference.
  pending_.clear();
}

Instant AsioLoop::Now() const {
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  return Instant::FromNanoseconds(
      std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

runtime::TimerId AsioLoop::ScheduleAfter(Duration delay, Callback callback) {
  const runtime::TimerId timer = next_timer_++;
  Pending pending{std::move(callback), nullptr};
  if (delay > Duration::Zero()) {
    pending.timer = std::make_unique<boost::asio::steady_timer>(
        io_context_, std::chrono::nanoseconds(delay.nanoseconds()));
    pending.timer->async_wait([this, timer](const boost::system::error_code& error) {
      if (!error) Fire(timer);  // operation_aborted: cancelled, already erased.
    });
    pending_.emplace(timer, std::move(pending));
  } else {
    pending_.emplace(timer, std::move(pending));
    boost::asio::post(io_context_, [this, timer] { Fire(timer); });
  }
  return timer;
}

bool AsioLoop::Cancel(runtime::TimerId timer) {
  auto it = pending_.find(timer);
  if (it == pending_.end()) return false;
  if (it->second.timer != nullptr) it->second.timer->cancel();
  // The timer object must outlive its cancelled wait handler's invocation; asio keeps the
  // handler, not the timer, so destroying the timer after cancel() is safe.
  pending_.erase(it);
  return true;
}

void AsioLoop::Fire(runtime::TimerId timer) {
  auto it = pending_.find(timer);
  if (it == pending_.end()) return;  // Cancelled after the post was queued.
  Callback callback = std::move(it->second.callback);
  pending_.erase(it);
  std::move(callback)();
}

uint64_t AsioLoop::Run() {
  if (io_context_.stopped()) io_context_.restart();
  return io_context_.run();
}

}  // namespace eddy::net
