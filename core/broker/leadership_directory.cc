#include "core/broker/leadership_directory.h"

namespace eddy::broker {

void LeadershipDirectory::Learn(const Leadership& hint, Instant now) {
  auto it = hints_.find(hint.group);
  if (it == hints_.end()) {
    if (hints_.size() >= kGroupsMax) return;
    hints_.emplace(hint.group, Entry{hint, now});
    return;
  }
  // An older term's leader may still announce itself for a while (it has not heard of the new
  // one): never replace a newer term by it. A stale entry is replaced by anything.
  const bool stale = now - it->second.received > kHintLifetime;
  if (hint.term < it->second.hint.term && !stale) return;
  it->second = Entry{hint, now};
}

std::optional<Leadership> LeadershipDirectory::Find(raft::driver::GroupId group,
                                                        Instant now) const {
  auto it = hints_.find(group);
  if (it == hints_.end() || now - it->second.received > kHintLifetime) return std::nullopt;
  return it->second.hint;
}

}  // namespace eddy::broker
