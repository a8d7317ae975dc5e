#include "raft/driver/open_gate.h"

#include <utility>

#include "core/base/check.h"

namespace eddy::raft::driver {

OpenGate::OpenGate(runtime::Clock& clock, size_t inside_max)
    : clock_(clock), inside_max_(inside_max) {
  EDDY_CHECK_GT(inside_max_, 0u);
}

void OpenGate::Enter(absl::AnyInvocable<void()> start) {
  if (inside_ < inside_max_) {
    ++inside_;
    return start();
  }
  waiting_.push_back(std::move(start));
}

void OpenGate::Leave() {
  EDDY_CHECK_GT(inside_, 0u);
  if (waiting_.empty()) {
    --inside_;
    return;
  }
  // The leaver's place passes to the first waiting, in an event of its own: Leave runs inside
  // the leaver's completion, which must not run another replica's code.
  absl::AnyInvocable<void()> next = std::move(waiting_.front());
  waiting_.pop_front();
  clock_.Post(std::move(next));
}

}  // namespace eddy::raft::driver
