#include "raft/memory_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "raft/membership.h"

namespace eddy::raft {

MemoryLog::MemoryLog(SnapshotMeta snapshot) : snapshot_(std::move(snapshot)) {
  EDDY_CHECK_GE(snapshot_.last_offset(), kNoOffset);
}

int64_t MemoryLog::LastOffset() const {
  return entries_.empty() ? snapshot_.last_offset() : entries_.back().last_offset();
}

size_t MemoryLog::IndexOf(int64_t offset) const {
  EDDY_CHECK_GE(offset, FirstOffset());
  EDDY_CHECK_LE(offset, LastOffset());
  auto it = std::lower_bound(entries_.begin(), entries_.end(), offset,
                             [](const Entry& e, int64_t o) { return e.last_offset() < o; });
  EDDY_CHECK(it != entries_.end());
  EDDY_CHECK_LE(it->base_offset(), offset);
  return static_cast<size_t>(it - entries_.begin());
}

absl::StatusOr<EntryMeta> MemoryLog::EntryContaining(int64_t offset) const {
  if (offset < FirstOffset() || offset > LastOffset()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " outside [", FirstOffset(),
                                              ", ", LastOffset(), "]"));
  }
  return EntryMeta::FromProto(entries_[IndexOf(offset)]);
}

const Entry& MemoryLog::EntryAt(int64_t offset) const { return entries_[IndexOf(offset)]; }

void MemoryLog::Append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  const int64_t base = entries.front().base_offset();
  EDDY_CHECK_GE(base, FirstOffset());
  EDDY_CHECK_LE(base, LastOffset() + 1);
  if (base <= LastOffset()) {
    const size_t index = IndexOf(base);
    EDDY_CHECK_EQ(entries_[index].base_offset(), base);  // truncation only at entry boundaries
    entries_.resize(index);
  }
  for (Entry& e : entries) {
    EDDY_CHECK_EQ(e.base_offset(), LastOffset() + 1);
    EDDY_CHECK_LE(e.base_offset(), e.last_offset());
    entries_.push_back(std::move(e));
  }
}

void MemoryLog::InstallSnapshot(const SnapshotMeta& meta) {
  entries_.clear();
  snapshot_ = meta;
}

void MemoryLog::CompactTo(int64_t last_offset, uint64_t state_size_bytes) {
  if (last_offset <= snapshot_.last_offset()) return;
  const size_t index = IndexOf(last_offset);
  EDDY_CHECK_EQ(entries_[index].last_offset(), last_offset);
  Membership membership = Membership::FromProto(snapshot_.conf_state());
  for (size_t i = 0; i <= index; ++i) {
    if (entries_[i].type() == ENTRY_CONF_CHANGE) {
      membership.Apply(entries_[i].conf_change().type(), entries_[i].conf_change().node_id());
    }
  }
  snapshot_.set_last_offset(last_offset);
  snapshot_.set_term(entries_[index].term());
  *snapshot_.mutable_conf_state() = membership.ToProto();
  snapshot_.set_size_bytes(state_size_bytes);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(index) + 1);
  EDDY_CHECK_EQ(FirstOffset(), last_offset + 1);
}

}  // namespace eddy::raft
