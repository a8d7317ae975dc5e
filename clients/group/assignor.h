// Client-side partition assignors of Kafka's classic consumer-group protocol: the group leader
// runs one over every member's Subscription and sends each member its share in SyncGroup. The
// algorithms are those of Kafka's Java client, so that a group mixing Java, librdkafka,
// kafka-python and Eddy members behaves the same whichever member leads:
//
//   "range"               RangeAssignor (range_assignor.h)
//   "roundrobin"          RoundRobinAssignor (round_robin_assignor.h)
//   "cooperative-sticky"  CooperativeStickyAssignor (cooperative_sticky_assignor.h)
//
// INPUT. `partitions_per_topic` is the leader's metadata: topic -> partition count. As in Java's
// AbstractPartitionAssignor, only topics some member subscribes to AND that have at least one
// partition take part; other entries are ignored, and a subscribed topic missing from the map
// (or with 0 partitions) is assigned nothing. `members` may come in any order: member ids must
// be unique; the answer does not depend on the order.
//
// OUTPUT. A GroupAssignment has one entry per member (possibly empty), each a sorted vector of
// distinct partitions of topics that member subscribes to; no partition is given to two members.
// Which partitions are given is each assignor's contract.
//
// ERRORS (kInvalidArgument): a duplicate or missing member id, a negative partition count, more
// than kGroupMemberCountMax members, more than kAssignedPartitionCountMax partitions over the
// subscribed topics. Malformed owned partitions (unknown topics, out-of-range partitions,
// duplicates) are not errors: they are ignored as Java ignores what it cannot assign.
//
// DETERMINISM. Java iterates HashMaps in places where the order changes the answer (only in
// corner cases, listed in README.md); there this code uses ascending member id (and, for ties
// between claims, ascending partition), so the same group always gets the same assignment.
//
// Pure and stateless: no I/O, clock, thread or randomness; Assign is const and may be called
// from any loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/group/consumer_protocol.h"

namespace eddy::clients::group {

// Named limits on the leader's input (both far above what Kafka groups reach).
inline constexpr size_t kGroupMemberCountMax = 1 << 16;
inline constexpr int64_t kAssignedPartitionCountMax = int64_t{1} << 22;

// One JoinGroup member as the leader sees it.
struct MemberSubscription {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static membership (KIP-345)
  Subscription subscription;
};

using PartitionCounts = std::map<std::string, int32_t>;  // topic -> partition count
// member id -> its partitions, sorted ascending.
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>>;

// ConsumerPartitionAssignor.RebalanceProtocol.
enum class RebalanceProtocol : int8_t {
  kEager = 0,        // members give up everything before joining
  kCooperative = 1,  // members keep what they own; the assignor revokes before it moves
};

class Assignor {
 public:
  virtual ~Assignor() = default;

  // The protocol name in JoinGroup ("range", ...).
  virtual std::string_view name() const = 0;
  // Java's supportedProtocols(), most preferred first.
  virtual std::vector<RebalanceProtocol> supported_protocols() const = 0;
  // What a member running this assignor puts in Subscription.user_data (Java's
  // subscriptionUserData), given the generation of its last assignment (kNoGeneration if none).
  virtual std::optional<std::string> SubscriptionUserData(int32_t generation_id) const = 0;

  virtual absl::StatusOr<GroupAssignment> Assign(
      const PartitionCounts& partitions_per_topic,
      const std::vector<MemberSubscription>& members) const = 0;
};

// The assignor called `name`, or kNotFound.
absl::StatusOr<std::unique_ptr<Assignor>> MakeAssignor(std::string_view name);
// Every name MakeAssignor knows, sorted.
std::vector<std::string_view> AssignorNames();

}  // namespace eddy::clients::group
