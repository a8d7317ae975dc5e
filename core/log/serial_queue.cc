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
  // A loop rather than recursion: steps that finish inline would otherwise nest. A step may own
  // (through what it captured) the object that owns this queue, so the queue can be destroyed
  // when a finished step is: `alive` notices.
  const std::weak_ptr<SerialQueue*> alive = self_;
  while (!running_ && !steps_.empty()) {
    auto in_step = std::make_shared<bool>(true);
    auto finished_inline = std::make_shared<bool>(false);
    {
      Step step = std::move(steps_.front());
      steps_.pop_front();
      running_ = true;
      std::move(step)([alive, in_step, finished_inline]() mutable {
        // Not holding the lock across RunNext(): `alive` must expire if the queue dies inside.
        SerialQueue* queue = nullptr;
        if (std::shared_ptr<SerialQueue*> self = alive.lock()) queue = *self;
        if (queue == nullptr) return;
        EDDY_CHECK(queue->running_);
        queue->running_ = false;
        if (*in_step) {
          *finished_inline = true;  // the loop in RunNext picks up the next step
        } else {
          queue->RunNext();
        }
      });
      *in_step = false;
    }  // the step (and what it captured) is destroyed here
    if (alive.expired() || !*finished_inline) return;
  }
}

}  // namespace eddy::log
