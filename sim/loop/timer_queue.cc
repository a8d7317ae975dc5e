#include "sim/loop/timer_queue.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"

namespace eddy::sim {
namespace {

constexpr uint32_t kDeadSlot = 0xffff'ffff;
static_assert(TimerQueue::kSlotsMax < kDeadSlot);

runtime::TimerId MakeId(uint32_t slot, uint32_t generation) {
  return (uint64_t{generation} << 32) | slot;
}

}  // namespace

runtime::TimerId TimerQueue::Push(Instant due, Callback callback) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    EDDY_CHECK_LT(slots_.size(), size_t{kSlotsMax});
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  EDDY_CHECK(!s.live);
  ++s.generation;  // starts at 1, so no id is kNoTimer
  s.live = true;
  s.callback = std::move(callback);
  ++live_;
  heap_.push_back(Entry{due, next_sequence_++, slot, s.generation});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return MakeId(slot, s.generation);
}

runtime::TimerId TimerQueue::DeadId() { return MakeId(kDeadSlot, ++dead_ids_); }

bool TimerQueue::Cancel(runtime::TimerId id) {
  const uint32_t slot = static_cast<uint32_t>(id & 0xffff'ffff);
  const uint32_t generation = static_cast<uint32_t>(id >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.live || s.generation != generation) return false;
  Callback doomed = std::move(s.callback);
  Release(slot);
  DropGarbageAtTop();  // keeps the top live
  // Garbage beyond the live entries (plus slack) is swept in one linear rebuild.
  if (heap_.size() > 2 * live_ + 64) {
    std::erase_if(heap_, [this](const Entry& e) { return Stale(e); });
    std::make_heap(heap_.begin(), heap_.end(), Later{});
    EDDY_CHECK_EQ(heap_.size(), live_);
  }
  return true;  // `doomed` is destroyed here, with the queue consistent
}

void TimerQueue::Release(uint32_t slot) {
  Slot& s = slots_[slot];
  s.live = false;
  s.callback = nullptr;
  free_slots_.push_back(slot);
  EDDY_CHECK_GT(live_, 0u);
  --live_;
}

void TimerQueue::DropGarbageAtTop() {
  while (!heap_.empty() && Stale(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

TimerQueue::Popped TimerQueue::Pop() {
  EDDY_CHECK_GT(live_, 0u);
  EDDY_CHECK(!heap_.empty() && !Stale(heap_.front()));
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Entry e = heap_.back();
  heap_.pop_back();
  Popped popped{Key{e.due, e.sequence}, std::move(slots_[e.slot].callback)};
  Release(e.slot);
  DropGarbageAtTop();  // keeps the top live
  return popped;
}

std::vector<TimerQueue::Callback> TimerQueue::TakeAll() {
  std::vector<Callback> taken;
  taken.reserve(live_);
  for (const Entry& e : heap_) {
    if (Stale(e)) continue;
    taken.push_back(std::move(slots_[e.slot].callback));
    Release(e.slot);
  }
  heap_.clear();
  EDDY_CHECK_EQ(live_, 0u);
  return taken;
}

}  // namespace eddy::sim
