// Counters of TcpTransport: traffic, connection events, and every kind of bad input or overload
// (each is counted where it is detected; none is silent).
#pragma once

#include <cstdint>

namespace eddy::net {

struct TcpTransportStats {
  // Peers, outgoing side (one connection per peer).
  uint64_t peer_messages_sent = 0;          // Handed to a connection's queue.
  uint64_t peer_messages_queued = 0;        // Held while the peer was not connected.
  uint64_t peer_messages_dropped = 0;       // Pending queue full, or lost with a connection.
  uint64_t peer_connects = 0;               // Connections established.
  uint64_t peer_connect_failures = 0;       // Resolve/connect failures and timeouts.
  uint64_t peer_disconnects = 0;            // Established connections that broke.
  uint64_t peer_write_queue_overflows = 0;  // Connections closed because the peer lagged.
  // Peers, incoming side.
  uint64_t peer_connections_accepted = 0;
  uint64_t peer_connections_refused = 0;  // Over kIncomingPeerConnectionsMax.
  uint64_t peer_messages_delivered = 0;
  uint64_t peer_frames_corrupt = 0;        // Checksum mismatches (dropped, connection closed).
  uint64_t peer_frames_malformed = 0;      // Bad magic or oversized length (connection closed).
  uint64_t peer_frames_truncated = 0;      // Stream ended inside a frame.
  uint64_t peer_hellos_rejected = 0;       // First frame not a hello, or for another node.
  uint64_t peer_hello_timeouts = 0;        // No hello within peer_hello_timeout.
  uint64_t peer_connections_replaced = 0;  // Older connection from a node that said hello again.
  uint64_t peer_messages_no_handler = 0;
  // Clients.
  uint64_t client_connections_accepted = 0;
  uint64_t client_connections_refused = 0;  // Over client_connections_max.
  uint64_t client_connections_closed = 0;   // By the client or the network (handler ran).
  uint64_t client_frames_received = 0;
  uint64_t client_frames_sent = 0;
  uint64_t client_frames_dropped = 0;    // SendToClient on a closed connection.
  uint64_t client_frames_oversized = 0;  // Size prefix negative or above the limit.
  uint64_t client_frames_truncated = 0;  // Stream ended inside a frame.
  uint64_t client_write_queue_overflows = 0;
  uint64_t client_messages_no_handler = 0;
  // Listeners.
  uint64_t accept_errors = 0;
};

}  // namespace eddy::net
