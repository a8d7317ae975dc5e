// SystemWallClock: the wall-clock seam on the host's system clock (std::chrono::system_clock).
//
// Not monotonic: NTP steps and operators move it. Only record timestamps and time-based
// retention read it (core/runtime/wall_clock.h).
#pragma once

#include <chrono>
#include <cstdint>

#include "core/runtime/wall_clock.h"

namespace eddy::net {

class SystemWallClock final : public runtime::WallClock {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace eddy::net
