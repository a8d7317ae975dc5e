#include "sim/trace/trace_hash.h"

#include "core/base/check.h"
#include "sim/trace/digest.h"

namespace eddy::sim {

void TraceHash::Fold(Instant time, uint32_t node, TraceEvent kind, uint64_t digest) {
  EDDY_CHECK_GE(time.nanoseconds(), 0);
  const uint64_t before = value_;
  value_ = MixWord(value_, static_cast<uint64_t>(time.nanoseconds()));
  value_ = MixWord(value_, (uint64_t{node} << 32) | static_cast<uint32_t>(kind));
  value_ = MixWord(value_, digest);
  ++events_folded_;
  // Not a proof of anything, but a hash stuck at one value would make every comparison vacuous.
  EDDY_CHECK_NE(value_, before);
}

}  // namespace eddy::sim
