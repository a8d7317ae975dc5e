// ClassicGroup: one consumer group of Kafka's classic protocol as its coordinator holds it in
// memory — state, generation, members with their protocols, the requests waiting on a
// rebalance — and the pure rules over it (protocol selection, who has joined). The coordinator
// (group_coordinator.h) drives it; README.md lists the states and their transitions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/units.h"
#include "core/group/group_records.pb.h"
#include "core/kafka/errors.h"

namespace eddy::group {

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
// Kafka's names, as DescribeGroups and ListGroups report them.
const char* GroupStateName(GroupState state);

// What a JoinGroup is answered with (the handler turns it into a JoinGroupResponse).
struct JoinOutcome {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  int32_t generation = -1;
  std::string protocol_type;
  std::optional<std::string> protocol;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string metadata;
  };
  std::vector<Member> members;  // the leader's answer only

  static JoinOutcome Error(kafka::ErrorCode error, std::string member_id) {
    JoinOutcome outcome;
    outcome.error = error;
    outcome.member_id = std::move(member_id);
    return outcome;
  }
};
using JoinDone = absl::AnyInvocable<void(JoinOutcome) &&>;

struct SyncOutcome {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  std::string protocol_type;
  std::optional<std::string> protocol;
  std::string assignment;

  static SyncOutcome Error(kafka::ErrorCode error) {
    SyncOutcome outcome;
    outcome.error = error;
    return outcome;
  }
};
using SyncDone = absl::AnyInvocable<void(SyncOutcome) &&>;

struct GroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  // (name, metadata) in the member's order of preference.
  std::vector<std::pair<std::string, std::string>> protocols;
  std::string assignment;
  JoinDone awaiting_join;  // set while its JoinGroup waits for the rebalance
  SyncDone awaiting_sync;  // set while its SyncGroup waits for the leader's assignment
  Instant heartbeat_deadline;

  // The metadata it gave for `protocol`; empty if it did not name it.
  std::string MetadataFor(const std::string& protocol) const;
};

class ClassicGroup {
 public:
  ClassicGroup(std::string id, int64_t now_ms) : id_(std::move(id)), state_timestamp_ms_(now_ms) {}

  const std::string& id() const { return id_; }
  GroupState state() const { return state_; }
  int32_t generation() const { return generation_; }
  const std::string& protocol_type() const { return protocol_type_; }
  const std::optional<std::string>& protocol() const { return protocol_; }
  const std::string& leader() const { return leader_; }
  int64_t state_timestamp_ms() const { return state_timestamp_ms_; }
  std::map<std::string, GroupMember>& members() { return members_; }
  const std::map<std::string, GroupMember>& members() const { return members_; }
  // Members told MEMBER_ID_REQUIRED, by id, with the instant they must rejoin by.
  std::map<std::string, Instant>& pending_members() { return pending_; }

  void TransitionTo(GroupState state, int64_t now_ms);
  void set_protocol_type(std::string type) { protocol_type_ = std::move(type); }

  GroupMember* Find(const std::string& member_id);
  // The member id a static member's instance id holds; nullptr if none.
  const std::string* StaticMember(const std::string& instance_id) const;
  // A static member whose instance id now belongs to another member id (KIP-345).
  bool IsFencedStatic(const std::optional<std::string>& instance_id,
                      const std::string& member_id) const;

  // Adds `member` (the first one leads). REQUIRES: its id is new.
  void Add(GroupMember member);
  // Removes a member (a new leader is chosen if it led). Its waiting requests are NOT answered:
  // the caller answers them first.
  void Remove(const std::string& member_id);
  // A static member rejoining under a new member id keeps its place.
  // (By value: callers hold references into the group's own maps.)
  void ReplaceStaticMember(std::string old_id, std::string new_id);

  // Every member has rejoined and no member id handed out is still unused.
  bool AllJoined() const;
  // A protocol type and protocols every member (and this joiner) supports.
  bool SupportsProtocols(const std::string& type,
                         const std::vector<std::pair<std::string, std::string>>& protocols) const;
  // The next generation: generation+1, the protocol the members vote for (none when empty),
  // CompletingRebalance or Empty.
  void InitNextGeneration(int64_t now_ms);
  // The largest rebalance timeout among members (the join phase's bound).
  int32_t RebalanceTimeoutMs() const;

  // The committed form of this group (its GroupMetadataValue).
  GroupMetadataValue ToValue() const;
  // A group as its coordinator left it committed: Stable with its members, or Empty.
  static ClassicGroup FromValue(const std::string& id, const GroupMetadataValue& value,
                                Instant now);

  // Rebalance bookkeeping for the coordinator.
  Instant join_deadline;              // PreparingRebalance: complete the join by then
  bool initial_delay = false;         // the first join of an empty group: wait the full delay
  int64_t initial_delay_remaining_ms = 0;
  bool new_member_in_delay = false;

 private:
  std::string SelectProtocol() const;

  std::string id_;
  GroupState state_ = GroupState::kEmpty;
  int32_t generation_ = 0;
  std::string protocol_type_;
  std::optional<std::string> protocol_;
  std::string leader_;
  int64_t state_timestamp_ms_ = 0;
  std::map<std::string, GroupMember> members_;
  std::map<std::string, std::string> static_members_;  // instance id -> member id
  std::map<std::string, Instant> pending_;
};

}  // namespace eddy::group
