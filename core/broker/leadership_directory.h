// LeadershipDirectory: who leads the partitions a broker does not lead itself, as their leaders
// announced (LeadershipHints, broker_rpc.proto). Kafka's brokers learn leaders from the
// controller; Eddy's leaders are elected inside each partition's Raft group, so every leader
// tells every broker, about once a second and at once when it becomes ready, and a Metadata
// request answered by any broker — hosting the partition or not — names the leader.
//
// A hint is kept for its group's highest term; it goes stale after kHintLifetime without being
// repeated (its leader crashed or lost the group), and a stale hint is never used: the answer
// is then LEADER_NOT_AVAILABLE, never a guess. Pure logic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/base/units.h"
#include "raft/driver/driver_options.h"
#include "raft/types.h"

namespace eddy::broker {

struct Leadership {
  raft::driver::GroupId group = 0;
  raft::Term term = 0;
  int32_t leader = -1;       // the broker
  std::vector<int32_t> isr;  // brokers in sync, the leader first
};

class LeadershipDirectory {
 public:
  static constexpr Duration kHintLifetime = Duration::Seconds(5);
  // Groups remembered at most (a hint names a group of the cluster: bounded by its partitions).
  static constexpr size_t kGroupsMax = 200'000;

  // A hint received at `now`: kept if its term is at least the one known.
  void Learn(const Leadership& hint, Instant now);
  // The group's hint if one was received within kHintLifetime of `now`.
  std::optional<Leadership> Find(raft::driver::GroupId group, Instant now) const;
  void Forget(raft::driver::GroupId group) { hints_.erase(group); }
  size_t size() const { return hints_.size(); }

 private:
  struct Entry {
    Leadership hint;
    Instant received;
  };
  std::map<raft::driver::GroupId, Entry> hints_;
};

}  // namespace eddy::broker
