#include "sim/broker/group_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace eddy::sim::broker {

std::optional<std::string> GroupChecker::Assigned(const std::string& group, int32_t generation,
                                                  const std::string& member,
                                                  const std::vector<PartitionKey>& partitions) {
  ++assignments_;
  std::map<PartitionKey, std::string>& owners = owners_[{group, generation}];
  for (const PartitionKey& p : partitions) {
    auto [it, fresh] = owners.emplace(p, member);
    if (!fresh && it->second != member) {
      return absl::StrCat("group ", group, " generation ", generation, ": partition ", p.first,
                          "-", p.second, " assigned to both ", it->second, " and ", member);
    }
  }
  return std::nullopt;
}

void GroupChecker::Processed(const std::string& group, const PartitionKey& partition,
                             int64_t offset) {
  processed_[{group, partition}].insert(offset);
}

void GroupChecker::CommitAcked(const std::string& group, const PartitionKey& partition,
                               int64_t offset) {
  ++commits_acked_;
  int64_t& floor = floor_.try_emplace({group, partition}, -1).first->second;
  floor = std::max(floor, offset);
}

int64_t GroupChecker::Floor(const std::string& group, const PartitionKey& partition) const {
  auto it = floor_.find({group, partition});
  return it == floor_.end() ? -1 : it->second;
}

std::optional<std::string> GroupChecker::Fetched(const std::string& group,
                                                 const PartitionKey& partition, int64_t floor,
                                                 int64_t offset) {
  ++fetches_checked_;
  if (offset >= floor) return std::nullopt;
  return absl::StrCat("group ", group, ": the committed offset of ", partition.first, "-",
                      partition.second, " went back to ", offset, " after ", floor,
                      " was acknowledged");
}

std::optional<std::string> GroupChecker::CheckProcessed(
    const std::string& group, const PartitionKey& partition, int64_t committed,
    const std::map<int64_t, std::string>& acked) const {
  auto it = processed_.find({group, partition});
  for (const auto& [offset, value] : acked) {
    if (offset >= committed) break;
    if (it == processed_.end() || !it->second.contains(offset)) {
      return absl::StrCat("group ", group, " committed ", partition.first, "-", partition.second,
                          " up to ", committed, " but never processed the acknowledged record ",
                          "at ", offset);
    }
  }
  return std::nullopt;
}

}  // namespace eddy::sim::broker
