// AsioRuntime: the whole runtime seam (core/runtime/runtime.h) in the real world, on one
// AsioLoop — the loop's steady clock, the system wall clock, PosixDisk under the broker's data
// directory, TcpTransport (peer links and the Kafka listener) and a Random seeded from the OS.
//
// The broker code that runs on it is exactly the code the simulator runs on SimRuntime; if
// broker code had to change to run here, the seam is wrong.
//
// OWNERSHIP: the AsioLoop outlives the runtime; the runtime outlives every broker built on it.
// Single loop; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/base/random.h"
#include "core/runtime/runtime.h"
#include "net/disk/posix_disk.h"
#include "net/loop/asio_loop.h"
#include "net/runtime/system_wall_clock.h"
#include "net/transport/tcp_transport.h"

namespace eddy::net {

struct AsioRuntimeOptions {
  runtime::NodeId self = runtime::kNoNode;
  // The broker's data directory (log.dirs); must exist. Every disk path is relative to it.
  std::string data_directory;
  // The listeners and peers. Its `self` and `random_seed` are set by the runtime.
  TcpTransportOptions transport;
  // 0 (the default) seeds the node's Random from the OS; anything else is for tests.
  uint64_t random_seed = 0;
};

class AsioRuntime final : public runtime::Runtime {
 public:
  // kInvalidArgument for self = 0 or a missing data directory; the transport's errors when a
  // listener cannot be bound or an address is bad.
  static absl::StatusOr<std::unique_ptr<AsioRuntime>> Create(AsioLoop& loop,
                                                             AsioRuntimeOptions options);
  AsioRuntime(const AsioRuntime&) = delete;
  AsioRuntime& operator=(const AsioRuntime&) = delete;

  runtime::NodeId self() const override { return self_; }
  runtime::Clock& clock() override { return loop_; }
  runtime::WallClock& wall_clock() override { return wall_clock_; }
  runtime::Disk& disk() override { return disk_; }
  runtime::Transport& transport() override { return *transport_; }
  Random& random() override { return random_; }

  AsioLoop& loop() { return loop_; }
  TcpTransport& tcp_transport() { return *transport_; }
  PosixDisk& posix_disk() { return disk_; }

 private:
  AsioRuntime(AsioLoop& loop, runtime::NodeId self, std::string data_directory, uint64_t seed);

  AsioLoop& loop_;
  const runtime::NodeId self_;
  SystemWallClock wall_clock_;
  PosixDisk disk_;
  Random random_;
  std::unique_ptr<TcpTransport> transport_;
};

// 64 bits from the OS's entropy source (getrandom), for seeding a node's Random.
uint64_t OsRandomSeed();

}  // namespace eddy::net
