// TimerQueue: pending callbacks ordered by (due time, scheduling sequence), the data structure
// under SimLoop and SimNodeClock.
//
// A binary min-heap of small entries (due, sequence, slot, generation) over a slot array that
// holds the callbacks, with a free list. An id names (slot, generation): Cancel() finds its
// entry in O(1) without a map, destroys the callback at once and leaves the heap entry behind as
// garbage, recognised (its slot's generation moved on) and dropped as soon as it reaches the top
// (the top is always live, so NextKey() is a plain read), or by a rebuild when garbage outgrows
// the live entries. Every operation is a pure function of
// the calls made, so the order in which callbacks come out is deterministic: by due time, then
// by the order they were pushed.
//
// Ids are never kNoTimer, and an id is never valid again once its callback ran or was
// cancelled (a slot's generation increases with every reuse; 2^32 reuses of one slot would be
// needed to repeat one).
//
// OWNERSHIP: owns pending callbacks; destroying the queue destroys them unrun. Single-threaded.
#pragma once

#include <cstdint>
#include <vector>

#include "core/base/units.h"
#include "core/runtime/clock.h"

namespace eddy::sim {

class TimerQueue {
 public:
  using Callback = runtime::Clock::Callback;
  // Slots are 32-bit indexes; one is reserved for ids that are never valid.
  static constexpr uint32_t kSlotsMax = 0xffff'fffe;

  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Adds `callback`, due at `due`, after everything already pushed with the same due time.
  runtime::TimerId Push(Instant due, Callback callback);
  // An id that no entry has or will ever have (for a clock that discards what it is given).
  runtime::TimerId DeadId();

  // Destroys the callback of a pending entry and returns true; false if `id` is not pending.
  // The queue is consistent before the callback's destructor runs (it may call back in).
  bool Cancel(runtime::TimerId id);

  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }

  // The earliest pending entry. REQUIRES: !empty().
  struct Key {
    Instant due;
    uint64_t sequence = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  Key NextKey() const { return Key{heap_.front().due, heap_.front().sequence}; }

  // Removes the earliest pending entry and returns its callback. REQUIRES: !empty().
  struct Popped {
    Key key;
    Callback callback;
  };
  Popped Pop();

  // Removes every pending entry and returns their callbacks, for the caller to destroy once its
  // own state is consistent.
  std::vector<Callback> TakeAll();

 private:
  struct Entry {
    Instant due;
    uint64_t sequence;
    uint32_t slot;
    uint32_t generation;
  };
  struct Slot {
    Callback callback;
    uint32_t generation = 0;
    bool live = false;
  };
  // The heap's order, as a type so the heap algorithms inline it.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
    }
  };
  bool Stale(const Entry& e) const {
    const Slot& s = slots_[e.slot];
    return !s.live || s.generation != e.generation;
  }
  void DropGarbageAtTop();
  void Release(uint32_t slot);

  std::vector<Entry> heap_;  // a min-heap by (due, sequence), live entries and garbage
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_ = 0;
  uint64_t next_sequence_ = 1;
  uint32_t dead_ids_ = 0;
};

}  // namespace eddy::sim
