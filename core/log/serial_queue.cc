#include "core/log/serial_queue.h"

#include <memory>
#include <utility>

#include "core/base/check.h"

namespace eddy::log {

void SerialQueue::Enqueue(Step step) {
  EDDY_CHECK_LT(steps_.size(), kStepCountMax);
  steps_.push_back(std::move(step));
  if (!running_) RunNext();
}

void SerialQueue::RunNext() {
  // A loop rather than recursion: steps that finish inline would otherwise nest.
  while (!running_ && !steps_.empty()) {
    Step step = std::move(steps_.front());
    steps_.pop_front();
    running_ = true;
    // Shared with `next`, which may run inline (then the loop continues) or later.
    auto in_step = std::make_shared<bool>(true);
    auto finished_inline = std::make_shared<bool>(false);
    std::weak_ptr<SerialQueue*> weak = self_;
    std::move(step)([weak, in_step, finished_inline]() mutable {
      std::shared_ptr<SerialQueue*> self = weak.lock();
      if (self == nullptr) return;
      SerialQueue* queue = *self;
      EDDY_CHECK(queue->running_);
      queue->running_ = false;
      if (*in_step) {
        *finished_inline = true;
      } else {
        queue->RunNext();
      }
    });
    *in_step = false;
    if (!*finished_inline) return;
  }
}

}  // namespace eddy::log
