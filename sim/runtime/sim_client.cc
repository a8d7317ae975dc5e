#include "sim/runtime/sim_client.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/runtime/sim_world.h"
#include "sim/trace/digest.h"

namespace eddy::sim {

SimClient::SimClient(SimWorld& world, uint32_t index, uint64_t seed)
    : world_(world),
      index_(index),
      clock_(world.loop(), kTraceIdBase + index, &world.trace()),
      wall_clock_(clock_, clock_.Now(), world.options_.wall_clock, MixWord(seed, 0x3a11c10c),
                  [this](Duration) { world_.CountFault("client.wall_clock_step", runtime::kNoNode); }),
      random_(MixWord(seed, 0)) {}

runtime::ConnectionId SimClient::Connect(const runtime::Address& address, Handlers handlers) {
  // An unknown address is refused by the network like a down broker (kNoNode is never one).
  const runtime::NodeId broker = world_.Resolve(address).value_or(runtime::kNoNode);
  SimNetwork::ClientCallbacks callbacks;
  // Filled in before the network can call back (a refusal inside ConnectClient is posted).
  auto slot = std::make_shared<runtime::ConnectionId>(0);
  callbacks.on_message = [this, slot](std::vector<uint8_t> message) {
    Deliver(*slot, std::move(message));
  };
  callbacks.on_closed = [this, slot] { Closed(*slot); };
  const runtime::ConnectionId connection =
      world_.network().ConnectClient(broker, std::move(callbacks));
  *slot = connection;
  connections_.emplace(connection, Connection{address, std::move(handlers)});
  return connection;
}

void SimClient::Send(runtime::ConnectionId connection, std::vector<uint8_t> message) {
  if (!connections_.contains(connection)) return;
  world_.network().SendFromClient(connection, std::move(message));
}

void SimClient::Close(runtime::ConnectionId connection) {
  if (connections_.erase(connection) == 0) return;
  world_.network().CloseClient(connection);
}

void SimClient::Deliver(runtime::ConnectionId connection, std::vector<uint8_t> message) {
  clock_.RunOrPost([this, connection, message = std::move(message)]() mutable {
    auto it = connections_.find(connection);
    if (it == connections_.end() || !it->second.handlers.on_message) return;
    it->second.handlers.on_message(std::move(message));
  });
}

void SimClient::Closed(runtime::ConnectionId connection) {
  clock_.RunOrPost([this, connection] {
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;  // closed by the client first
    Connection closed = std::move(it->second);
    connections_.erase(it);
    if (!closed.handlers.on_closed) return;
    std::move(closed.handlers.on_closed)(absl::UnavailableError(
        absl::StrCat("connection to ", closed.address.host, ":", closed.address.port,
                     " closed: refused, reset, or the broker went down")));
  });
}

}  // namespace eddy::sim
