// SerialQueue: runs asynchronous steps one at a time, in the order they were enqueued.
//
// The disk seam orders operations per file only. Directory changes of a log (creating a segment,
// removing files, syncing the directory, writing index files) need an order ACROSS files: a
// segment must not be re-created while its removal is pending, retention must remove the oldest
// segment durably before the next one, index files must be gone before a re-opened segment is
// changed. The log funnels those through one SerialQueue.
//
// LOOP AFFINITY: single loop. A step receives `next` and must call it exactly once when done
// (from a completion, or inline). Destroying the queue drops steps not yet started; a `next`
// called after destruction does nothing.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "absl/functional/any_invocable.h"

namespace eddy::log {

class SerialQueue {
 public:
  using Next = absl::AnyInvocable<void() &&>;
  using Step = absl::AnyInvocable<void(Next next) &&>;

  // Bounds the backlog; a log enqueues a handful of steps per roll, truncation or flush.
  static constexpr size_t kStepCountMax = 1 << 16;

  SerialQueue() = default;
  SerialQueue(const SerialQueue&) = delete;
  SerialQueue& operator=(const SerialQueue&) = delete;

  void Enqueue(Step step);

  // Steps waiting or running.
  size_t size() const { return steps_.size() + (running_ ? 1 : 0); }

 private:
  void RunNext();

  std::deque<Step> steps_;
  bool running_ = false;
  std::shared_ptr<SerialQueue*> self_ = std::make_shared<SerialQueue*>(this);
};

}  // namespace eddy::log
