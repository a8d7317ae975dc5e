// SignalWatch: runs a callback on the loop when the process receives one of the given signals
// (SIGTERM, SIGINT, ...), instead of the signal's default action. The callback runs on the loop
// thread, never in signal context, once per delivery while the watch lives.
//
// OWNERSHIP: the AsioLoop outlives the watch; destroying it restores nothing (the signals stay
// caught by Asio until the loop ends) but runs no further callback.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "boost/asio/signal_set.hpp"
#include "net/loop/asio_loop.h"

namespace eddy::net {

class SignalWatch {
 public:
  SignalWatch(AsioLoop& loop, const std::vector<int>& signals, std::function<void(int)> on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  void Wait();

  boost::asio::signal_set set_;
  std::function<void(int)> on_signal_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace eddy::net
