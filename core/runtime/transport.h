// The transport part of the runtime seam: whole messages between brokers and from clients.
//
// LOOP AFFINITY: methods are called on the owning loop; handlers run on it, never inline from
// Send().
//
// DELIVERY: best effort. A message may be lost, delayed, duplicated or reordered (the simulator
// does all of these on purpose; TCP reconnects do some), but it is never delivered corrupted: a
// frame that fails its checksum is dropped and counted by the transport. Protocols above must
// tolerate all of this (Raft does by design; client requests carry correlation ids).
//
// Messages are opaque byte strings no larger than kMessageSizeBytesMax; framing, checksums and
// connection management are the transport's business.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/limits.h"

namespace eddy::runtime {

// A broker of the cluster. Stable across restarts.
using NodeId = uint32_t;
inline constexpr NodeId kNoNode = 0;

// A client connection accepted by this node; unique for the node's lifetime, never reused.
using ConnectionId = uint64_t;

// Largest message the transport carries: one full batch plus room for its envelope.
inline constexpr uint64_t kMessageSizeBytesMax = limits::kBatchSizeBytesMax + 64 * kKiB;

class Transport {
 public:
  using PeerHandler = absl::AnyInvocable<void(NodeId from, std::vector<uint8_t> message)>;
  using PeerStateHandler = absl::AnyInvocable<void(NodeId peer, bool reachable)>;
  using ClientHandler =
      absl::AnyInvocable<void(ConnectionId connection, std::vector<uint8_t> message)>;
  using ClientClosedHandler = absl::AnyInvocable<void(ConnectionId connection)>;

  virtual ~Transport() = default;

  // Sends to another broker. Returns at once; delivery is not confirmed.
  // REQUIRES: message.size() <= kMessageSizeBytesMax.
  virtual void SendToPeer(NodeId to, std::vector<uint8_t> message) = 0;

  // Sends a reply on a client connection; dropped silently if the connection has closed.
  virtual void SendToClient(ConnectionId connection, std::vector<uint8_t> message) = 0;
  // Closes a client connection from this side (bad input, overload), as a TCP close: replies
  // already sent still reach the client, then it sees the connection closed; nothing it sends
  // afterwards arrives. The ClientClosedHandler does not run for it. No-op once closed.
  virtual void CloseClient(ConnectionId connection) = 0;

  // Handlers are installed once, before the loop starts delivering.
  virtual void SetPeerHandler(PeerHandler handler) = 0;
  virtual void SetPeerStateHandler(PeerStateHandler handler) = 0;
  virtual void SetClientHandler(ClientHandler handler) = 0;
  virtual void SetClientClosedHandler(ClientClosedHandler handler) = 0;
};

}  // namespace eddy::runtime
