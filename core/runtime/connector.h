// The client side of the runtime seam: what a Kafka client library needs to reach brokers.
//
// A client (clients/: producer, consumer, admin) is written against ClientRuntime only, exactly
// as a broker is written against Runtime: no socket, thread, clock or randomness of its own. The
// real world implements it on TCP (net/), the simulator as a world-level endpoint with its own
// clock (sim/runtime/sim_client.h).
//
// CONNECTIONS behave like TCP: reliable and ordered while open, with latency. A message is one
// whole Kafka frame WITHOUT its int32 size prefix (core/kafka/header.h); the transport frames it.
// A connection ends with exactly one on_closed, unless the client closed it first: refused (no
// broker at that address, or it is down), reset, or the broker crashed. Loss is thus visible at
// both ends: the broker sees Transport's ClientClosedHandler, the client on_closed.
//
// LOOP AFFINITY: methods are called on the client's loop; handlers run on it, never inline from
// Connect() or Send().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "core/base/random.h"
#include "core/runtime/clock.h"
#include "core/runtime/transport.h"
#include "core/runtime/wall_clock.h"

namespace eddy::runtime {

// Where a broker listens, as Kafka's Metadata names it: a host and a port.
struct Address {
  std::string host;
  int32_t port = 0;

  friend bool operator==(const Address&, const Address&) = default;
};

class Connector {
 public:
  struct Handlers {
    // One reply frame from the broker, in the order the broker sent them.
    absl::AnyInvocable<void(std::vector<uint8_t> message)> on_message = nullptr;
    // The connection is gone (kUnavailable: refused, reset, broker crashed). Once; never after
    // Close().
    absl::AnyInvocable<void(absl::Status why)> on_closed = nullptr;
  };

  virtual ~Connector() = default;

  // Opens a connection to `address`. Returns at once; messages sent before it is established
  // are queued, and a refusal arrives as on_closed.
  virtual ConnectionId Connect(const Address& address, Handlers handlers) = 0;
  // Sends one request frame. Dropped if the connection has closed.
  // REQUIRES: message.size() <= kMessageSizeBytesMax.
  virtual void Send(ConnectionId connection, std::vector<uint8_t> message) = 0;
  // Closes from the client's side: the broker is told, on_closed does not run.
  virtual void Close(ConnectionId connection) = 0;
};

// Everything a client library may use to reach the outside world.
class ClientRuntime {
 public:
  virtual ~ClientRuntime() = default;

  virtual Clock& clock() = 0;
  // Record timestamps (CreateTime) and nothing else (wall_clock.h).
  virtual WallClock& wall_clock() = 0;
  virtual Connector& connector() = 0;
  // The only randomness a client may use (sticky partitions, backoff jitter).
  virtual Random& random() = 0;
};

}  // namespace eddy::runtime
