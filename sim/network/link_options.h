// LinkOptions: how one directed link between two simulated brokers behaves.
#pragma once

#include <cstdint>

#include "core/base/units.h"

namespace eddy::sim {

// Rates are parts per million per message (sim/base/rate.h).
struct LinkOptions {
  // One-way latency, uniform in [latency_min, latency_max].
  Duration latency_min = Duration::Microseconds(100);
  Duration latency_max = Duration::Microseconds(500);
  // Occasionally a message takes up to latency_spike_max longer (a retransmission, a queue).
  uint32_t latency_spike_ppm = 0;
  Duration latency_spike_max = Duration::Milliseconds(100);
  uint32_t loss_ppm = 0;
  // A duplicate is a second copy of the frame delivered up to duplicate_delay_max later (a
  // replayed packet, a retried request).
  uint32_t duplicate_ppm = 0;
  Duration duplicate_delay_max = Duration::Milliseconds(50);
  // One bit of the frame flipped in flight; the receiver's frame check must catch it.
  uint32_t corruption_ppm = 0;
  // false: messages on this link arrive in the order sent (one TCP connection). true: each
  // message gets its own latency, so later ones may overtake earlier ones.
  bool reorder = false;
};

}  // namespace eddy::sim
