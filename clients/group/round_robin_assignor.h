// "roundrobin": Kafka's RoundRobinAssignor (org.apache.kafka.clients.consumer.RoundRobinAssignor),
// eager.
//
// Every partition of every subscribed topic, sorted by (topic, partition), is dealt in turn
// around the circle of all members in Java's MemberInfo order (static members first by group
// instance id, then the rest by member id); a member not subscribed to the partition's topic is
// skipped, and the next partition starts after the member that took the last one. When all
// members subscribe to the same topics, their partition counts differ by at most one.
#pragma once

#include "clients/group/assignor.h"

namespace eddy::clients::group {

class RoundRobinAssignor final : public Assignor {
 public:
  static constexpr std::string_view kName = "roundrobin";

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
