// TraceHash: folds every event a simulated world processes into one 64-bit value.
//
// Two runs with the same seed must process the same events, at the same virtual times, on the
// same nodes, with the same payloads, in the same order; if they do, their trace hashes are
// equal. The hash is order-sensitive (each fold mixes the previous state), so a swapped pair of
// events changes it. It is cheap enough to fold every event.
//
// Not thread-safe (nothing in the simulator is).
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "core/base/units.h"

namespace eddy::sim {

// What kind of event was processed. Values are part of the hash: append, never renumber.
enum class TraceEvent : uint32_t {
  kTimer = 1,            // A node-clock callback ran (timers, posted work, disk completions).
  kDiskOperation = 2,    // A disk operation was submitted (payload: size and path digest).
  kPeerDelivered = 3,    // A peer message passed its checksum and reached the handler.
  kPeerDropped = 4,      // A peer message was dropped (loss, cut link, down node, bad frame).
  kClientDelivered = 5,  // A client connection message reached its handler.
  kPeerState = 6,        // A peer-state (reachable/unreachable) notification ran.
  kFault = 7,            // The world injected a fault (crash, restart, pause, partition...).
};

const char* TraceEventName(TraceEvent kind);

class TraceHash {
 public:
  // Upper bound for KeepRecent().
  static constexpr size_t kRecentEventsMax = 1 << 20;

  struct Event {
    Instant time;
    uint32_t node;
    TraceEvent kind;
    uint64_t digest;
    uint64_t hash_after;  // The trace hash right after this event: where two runs diverge.
  };

  // Folds one event. `digest` summarises the payload (0 if none).
  void Fold(Instant time, uint32_t node, TraceEvent kind, uint64_t digest);

  // Also remember the last `count` events (0: none, the default), for a readable trace of a
  // failing run. REQUIRES: count <= kRecentEventsMax.
  void KeepRecent(size_t count);
  const std::deque<Event>& recent() const { return recent_; }
  // One line per remembered event: "@12.345678ms node 2 peer_delivered digest=... hash=...".
  std::string FormatRecent() const;

  uint64_t value() const { return value_; }
  uint64_t events_folded() const { return events_folded_; }

 private:
  uint64_t value_ = 0x6a09e667f3bcc908ULL;  // Arbitrary non-zero start.
  uint64_t events_folded_ = 0;
  size_t recent_max_ = 0;
  std::deque<Event> recent_;
};

}  // namespace eddy::sim
