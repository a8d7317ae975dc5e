#include "net/loop/signal_watch.h"

#include <utility>

namespace eddy::net {

SignalWatch::SignalWatch(AsioLoop& loop, const std::vector<int>& signals,
                         std::function<void(int)> on_signal)
    : set_(loop.io_context()), on_signal_(std::move(on_signal)) {
  for (int signal : signals) set_.add(signal);
  Wait();
}

SignalWatch::~SignalWatch() {
  alive_.reset();
  boost::system::error_code ignored;
  set_.cancel(ignored);
}

void SignalWatch::Wait() {
  std::weak_ptr<char> alive = alive_;
  set_.async_wait([this, alive](const boost::system::error_code& error, int signal) {
    if (alive.expired() || error) return;
    Wait();
    on_signal_(signal);
  });
}

}  // namespace eddy::net
