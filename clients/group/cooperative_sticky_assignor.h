// "cooperative-sticky": Kafka's CooperativeStickyAssignor
// (org.apache.kafka.clients.consumer.CooperativeStickyAssignor, on
// internals.AbstractStickyAssignor), for the cooperative rebalance protocol (KIP-429).
//
// STICKY AND BALANCED. Members keep the partitions they report owning (Subscription
// owned_partitions) as far as balance allows. When every member subscribes to the same topics
// (Java's "constrained" path) counts end within one of each other: everyone gets
// floor(P / M) or ceil(P / M), and a member keeps min(owned, its quota) of what it owned.
// Otherwise (Java's "general" path) no member could take a partition it subscribes to from a
// member holding two more.
//
// OWNERSHIP. Claims of members of different generations go to the highest generation; a
// partition claimed by two members of one generation belongs to neither. A member's
// generation is Subscription.generation_id (v2+), else the int32 in its user data (what
// SubscriptionUserData writes, for leaders that read v0/v1 subscriptions), else none.
//
// COOPERATIVE RULE. A partition that would move from one member to another is REVOKED FIRST: it
// is left out of this assignment altogether (the old owner, not finding it in its assignment,
// gives it up and rejoins; the next rebalance hands it to its new owner). So no partition is
// ever assigned to a member while another member reports owning it. The assignment of one
// rebalance may therefore be unbalanced; the follow-up rebalance balances it.
//
// Deviations from Java, all in corner cases: see README.md.
#pragma once

#include "clients/group/assignor.h"

namespace eddy::clients::group {

class CooperativeStickyAssignor final : public Assignor {
 public:
  static constexpr std::string_view kName = "cooperative-sticky";

  std::string_view name() const override { return kName; }
  std::vector<RebalanceProtocol> supported_protocols() const override {
    return {RebalanceProtocol::kCooperative, RebalanceProtocol::kEager};
  }
  // Java's subscriptionUserData: the generation as a big-endian int32.
  std::optional<std::string> SubscriptionUserData(int32_t generation_id) const override;
  absl::StatusOr<GroupAssignment> Assign(
      const PartitionCounts& partitions_per_topic,
      const std::vector<MemberSubscription>& members) const override;

  // The sticky assignment before the cooperative rule removes partitions that change owner
  // (what Java's eager StickyAssignor would hand out). For tests and diagnostics.
  absl::StatusOr<GroupAssignment> AssignIgnoringRevocation(
      const PartitionCounts& partitions_per_topic,
      const std::vector<MemberSubscription>& members) const;
};

}  // namespace eddy::clients::group
