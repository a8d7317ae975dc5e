#include "sim/trace/trace_hash.h"

#include <cinttypes>
#include <cstdio>

#include "core/base/check.h"

namespace eddy::sim {

namespace {

// One fold step: xor the word in, multiply by an odd constant, xorshift. Each is a bijection of
// the state for a fixed word, so a difference in any folded word survives every later step;
// the multiply and shift carry it across the whole state. Cheap on purpose: it runs for every
// event the simulator processes.
constexpr uint64_t FoldWord(uint64_t state, uint64_t word) {
  state = (state ^ word) * 0x9e3779b97f4a7c15ULL;
  return state ^ (state >> 32);
}

}  // namespace

void TraceHash::Fold(Instant time, uint32_t node, TraceEvent kind, uint64_t digest) {
  EDDY_CHECK_GE(time.nanoseconds(), 0);
  const uint64_t before = value_;
  value_ = FoldWord(value_, static_cast<uint64_t>(time.nanoseconds()));
  value_ = FoldWord(value_, (uint64_t{node} << 32) | static_cast<uint32_t>(kind));
  value_ = FoldWord(value_, digest);
  ++events_folded_;
  // Not a proof of anything, but a hash stuck at one value would make every comparison vacuous.
  EDDY_CHECK_NE(value_, before);
  if (recent_max_ > 0) {
    if (recent_.size() == recent_max_) recent_.pop_front();
    recent_.push_back({time, node, kind, digest, value_});
  }
}

const char* TraceEventName(TraceEvent kind) {
  switch (kind) {
    case TraceEvent::kTimer:
      return "timer";
    case TraceEvent::kDiskOperation:
      return "disk_op";
    case TraceEvent::kPeerDelivered:
      return "peer_delivered";
    case TraceEvent::kPeerDropped:
      return "peer_dropped";
    case TraceEvent::kClientDelivered:
      return "client_delivered";
    case TraceEvent::kPeerState:
      return "peer_state";
    case TraceEvent::kFault:
      return "fault";
  }
  return "unknown";
}

void TraceHash::KeepRecent(size_t count) {
  EDDY_CHECK_LE(count, kRecentEventsMax);
  recent_max_ = count;
  while (recent_.size() > recent_max_) recent_.pop_front();
}

std::string TraceHash::FormatRecent() const {
  std::string out;
  char line[160];
  for (const Event& e : recent_) {
    std::snprintf(line, sizeof(line),
                  "@%" PRId64 ".%06" PRId64 "ms node %u %s digest=%016" PRIx64 " hash=%016" PRIx64
                  "\n",
                  e.time.nanoseconds() / 1'000'000, e.time.nanoseconds() % 1'000'000, e.node,
                  TraceEventName(e.kind), e.digest, e.hash_after);
    out += line;
  }
  return out;
}

}  // namespace eddy::sim
