// "range": Kafka's RangeAssignor (org.apache.kafka.clients.consumer.RangeAssignor), eager.
//
// Topic by topic, independently: the members subscribed to the topic are put in Java's
// MemberInfo order (static members first by group instance id, then the rest by member id),
// and the topic's partitions, in order, are cut into contiguous ranges: with n partitions and m
// members, every member gets n / m and the first n % m members one more. Co-partitioned topics
// therefore land together (partition i of every topic with the same subscribers and partition
// count goes to the same member).
//
// Java's rack-aware variant (KIP-881) only applies when the leader knows the replicas' racks;
// this interface carries partition counts only, so the classic algorithm always runs, as Java's
// does whenever no partition's replicas are on a subset of the members' racks.
#pragma once

#include "clients/group/assignor.h"

namespace eddy::clients::group {

class RangeAssignor final : public Assignor {
 public:
  static constexpr std::string_view kName = "range";

  std::string_view name() const override { return kName; }
  std::vector<RebalanceProtocol> supported_protocols() const override {
    return {RebalanceProtocol::kEager};
  }
  std::optional<std::string> SubscriptionUserData(int32_t) const override { return std::nullopt; }
  absl::StatusOr<GroupAssignment> Assign(
      const PartitionCounts& partitions_per_topic,
      const std::vector<MemberSubscription>& members) const override;
};

}  // namespace eddy::clients::group
