// ConnectionPool: the connections a consumer or an admin client keeps — one per broker id, and
// one to "any broker" (Metadata, admin requests) that rotates through the bootstrap addresses and
// the brokers the metadata named, so a dead bootstrap broker costs one failed attempt.
//
// Closed connections are not destroyed at once: a connection's own callback may be on the stack
// when its owner decides to replace it. They are kept until Sweep(), which the owner calls from
// a timer (no connection callback below it).
//
// LOOP AFFINITY: the owner's loop. OWNERSHIP: the runtime outlives the pool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "clients/broker_connection.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

class ConnectionPool {
 public:
  ConnectionPool(runtime::ClientRuntime& runtime, std::vector<runtime::Address> bootstrap,
                 ConnectionOptions options);

  // The open connection to broker `id`, opened to `address` if there is none (or it closed, or
  // the broker moved).
  BrokerConnection& To(int32_t id, const runtime::Address& address);
  // The open "any broker" connection, or a new one to the next of bootstrap + `known` in turn.
  BrokerConnection& Any(const std::vector<runtime::Address>& known);
  // Closes (failing what is outstanding, kUnavailable) so the next call opens a fresh one.
  void Close(int32_t id);
  void CloseAny();
  void CloseAll();
  // Destroys closed connections. REQUIRES: no connection callback on the stack.
  void Sweep() { retired_.clear(); }

 private:
  void Retire(std::unique_ptr<BrokerConnection> connection);

  runtime::ClientRuntime& runtime_;
  const std::vector<runtime::Address> bootstrap_;
  const ConnectionOptions options_;
  std::map<int32_t, std::unique_ptr<BrokerConnection>> by_broker_;
  std::unique_ptr<BrokerConnection> any_;
  size_t any_turn_ = 0;
  std::vector<std::unique_ptr<BrokerConnection>> retired_;
};

}  // namespace eddy::clients
