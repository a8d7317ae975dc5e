// GroupChecker: what the consumer groups of a BrokerSim saw, and the checks on it (broker_sim.h,
// THE CHECKS, consumer groups). History-based, from the members' side only:
//   * ONE OWNER: within one generation of a group, no partition is assigned to two members
//     (a static member is one member across its restarts: it keeps its place);
//   * NO STEP BACK: an OffsetFetch never returns less than a commit that was acknowledged
//     before the fetch was sent (committed offsets never go backwards: a stale generation's
//     commit accepted, or offsets lost on a coordinator failover, show up here);
//   * AT LEAST ONCE, NONE SKIPPED (commit after process): at the end, every acknowledged
//     record below a group's final committed offset was processed by a member of that group.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/broker/data_checker.h"

namespace eddy::sim::broker {

class GroupChecker {
 public:
  // `member` names the member (its instance id if static, else its member id).
  std::optional<std::string> Assigned(const std::string& group, int32_t generation,
                                      const std::string& member,
                                      const std::vector<PartitionKey>& partitions);
  void Processed(const std::string& group, const PartitionKey& partition, int64_t offset);
  void CommitAcked(const std::string& group, const PartitionKey& partition, int64_t offset);
  // The floor an OffsetFetch sent now must meet (the highest acknowledged commit), -1 if none.
  int64_t Floor(const std::string& group, const PartitionKey& partition) const;
  // An OffsetFetch sent when the floor was `floor` answered `offset`.
  std::optional<std::string> Fetched(const std::string& group, const PartitionKey& partition,
                                     int64_t floor, int64_t offset);
  // Every acknowledged record below `committed` was processed by the group.
  std::optional<std::string> CheckProcessed(
      const std::string& group, const PartitionKey& partition, int64_t committed,
      const std::map<int64_t, std::string>& acked) const;

  uint64_t assignments() const { return assignments_; }
  uint64_t fetches_checked() const { return fetches_checked_; }
  uint64_t commits_acked() const { return commits_acked_; }

 private:
  std::map<std::pair<std::string, int32_t>, std::map<PartitionKey, std::string>> owners_;
  std::map<std::pair<std::string, PartitionKey>, int64_t> floor_;
  std::map<std::pair<std::string, PartitionKey>, std::set<int64_t>> processed_;
  uint64_t assignments_ = 0;
  uint64_t fetches_checked_ = 0;
  uint64_t commits_acked_ = 0;
};

}  // namespace eddy::sim::broker
