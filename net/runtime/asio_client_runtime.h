// AsioClientRuntime: the client side of the seam (core/runtime/connector.h) in the real world —
// an AsioLoop's clock, the system wall clock, a TcpConnector and a Random seeded from the OS —
// for the C++ client library (clients/) and tools built on it (the load generator).
//
// OWNERSHIP: the AsioLoop outlives it. Single loop; not thread-safe.
#pragma once

#include "core/base/random.h"
#include "core/runtime/connector.h"
#include "net/loop/asio_loop.h"
#include "net/runtime/asio_runtime.h"
#include "net/runtime/system_wall_clock.h"
#include "net/transport/tcp_connector.h"

namespace eddy::net {

class AsioClientRuntime final : public runtime::ClientRuntime {
 public:
  explicit AsioClientRuntime(AsioLoop& loop, uint64_t random_seed = 0)
      : loop_(loop), connector_(loop), random_(random_seed != 0 ? random_seed : OsRandomSeed()) {}

  runtime::Clock& clock() override { return loop_; }
  runtime::WallClock& wall_clock() override { return wall_clock_; }
  runtime::Connector& connector() override { return connector_; }
  Random& random() override { return random_; }

  AsioLoop& loop() { return loop_; }

 private:
  AsioLoop& loop_;
  SystemWallClock wall_clock_;
  TcpConnector connector_;
  Random random_;
};

}  // namespace eddy::net
