// GroupCoordinator: a broker's coordinator of Kafka's classic consumer groups, for the
// partitions of __consumer_offsets this broker leads (README.md has the states, the records and
// the error codes).
//
// SHARDS. Each offsets partition this broker leads and serves (its leader applied its term's
// no-op) is a loaded shard: Load() builds its groups from the partition's committed GroupStore,
// and from then on the shard's in-memory groups are the authority, every change that must
// survive a failover written to the partition (GroupLog::Write) before it is answered:
//   - a generation's assignment (SyncGroup from the leader), an emptied group, a static member's
//     new member id: its GroupMetadataValue;
//   - a commit: one OffsetValue per partition;
//   - DeleteGroups, OffsetDelete and expiry: tombstones.
// Unload() (leadership lost, replica removed) drops the shard's groups and answers every
// waiting JoinGroup and SyncGroup with NOT_COORDINATOR. A write that finishes after its shard
// was unloaded or reloaded (another term) changes nothing.
//
// TIME. Session, rebalance and initial-delay deadlines are judged on the monotonic clock by a
// tick every kTickInterval while any shard is loaded; commit timestamps and offset expiry use
// the wall clock (nothing safety-related does). Member ids draw on the runtime's random.
//
// LOOP AFFINITY: the runtime's loop. OWNERSHIP: the clocks, random and log outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "core/base/random.h"
#include "core/group/classic_group.h"
#include "core/group/group_log_records.h"
#include "core/group/group_store.h"
#include "core/kafka/errors.h"
#include "core/runtime/clock.h"
#include "core/runtime/wall_clock.h"

namespace eddy::group {

// What the coordinator needs of its broker.
class GroupLog {
 public:
  using WriteDone = absl::AnyInvocable<void(kafka::ErrorCode) &&>;
  virtual ~GroupLog() = default;
  // Appends `batch` to offsets partition `partition` if this broker still leads it in `term`;
  // done(kNone) once it is committed and visible, else done(error): NOT_COORDINATOR when the
  // leadership is gone, REQUEST_TIMED_OUT or COORDINATOR_NOT_AVAILABLE when the quorum did not
  // answer. Never runs done inline.
  virtual void Write(int32_t partition, uint64_t term, std::vector<uint8_t> batch,
                     WriteDone done) = 0;
  // The partition's committed group state; nullptr if this broker does not host it.
  virtual const GroupStore* Store(int32_t partition) = 0;
  // Whether a commit may name this partition (it exists).
  virtual bool PartitionExists(const std::string& topic, int32_t partition) = 0;
};

// Classic coordinator bugs, planted behind this test-only switch so the simulator's group
// checkers can be shown to catch them (sim/broker). kNone is the only production value.
enum class GroupBug {
  kNone,
  // OffsetCommit accepts any generation from a member of the group (a zombie's commit lands).
  kAcceptStaleCommit,
  // SyncGroup answers every follower with the leader's own assignment.
  kDoubleAssign,
  // A new coordinator does not see the offsets committed before it took over.
  kLoseOffsetsOnFailover,
};

struct CoordinatorOptions {
  int32_t min_session_timeout_ms = 6000;         // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;      // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;     // group.initial.rebalance.delay.ms
  size_t group_max_size = 10000;                 // group.max.size (a named bound, always set)
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;     // offsets.retention.minutes
  int64_t offsets_retention_check_interval_ms = 600000;      // offsets.retention.check.interval.ms
  size_t offset_metadata_max_bytes = 4096;       // offset.metadata.max.bytes
  GroupBug planted_bug = GroupBug::kNone;        // TEST ONLY
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<std::pair<std::string, std::string>> protocols;
  std::string client_id;
  std::string client_host;
  bool require_known_member_id = false;  // JoinGroup v4+ (KIP-394)
};

struct SyncRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol;       // v5+
  std::map<std::string, std::string> assignments;
};

struct MemberRef {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct LeavingMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct CommitRequest {
  MemberRef member;  // generation -1 and no member id: a commit outside the group protocol
  struct Partition {
    TopicPartition tp;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
  };
  std::vector<Partition> partitions;
};
using CommitDone = absl::AnyInvocable<void(std::vector<kafka::ErrorCode>) &&>;

struct FetchedOffset {
  TopicPartition tp;
  std::optional<OffsetValue> value;  // nullopt: none committed
};

struct GroupDescription {
  std::string group_id;
  GroupState state = GroupState::kDead;
  std::string protocol_type;
  std::string protocol;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    std::string metadata;    // Stable only
    std::string assignment;  // Stable only
  };
  std::vector<Member> members;
};

struct CoordinatorStats {
  uint64_t joins = 0;
  uint64_t rebalances = 0;
  uint64_t generations = 0;
  uint64_t members_expired = 0;
  uint64_t commits_accepted = 0;
  uint64_t commits_refused = 0;  // stale generation, unknown member, fenced, rebalancing
  uint64_t writes_failed = 0;
  uint64_t offsets_expired = 0;
};

class GroupCoordinator {
 public:
  static constexpr Duration kTickInterval = Duration::Milliseconds(100);
  static constexpr size_t kProtocolsPerMemberMax = 64;

  GroupCoordinator(runtime::Clock& clock, runtime::WallClock& wall_clock, Random& random,
                   GroupLog& log, CoordinatorOptions options);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // See SHARDS. Load replaces a shard loaded at another term.
  void Load(int32_t partition, uint64_t term);
  void Unload(int32_t partition);
  // The term `partition` is loaded at; nullopt if it is not.
  std::optional<uint64_t> LoadedTerm(int32_t partition) const;

  // REQUIRES of every call below: `partition` is loaded and owns the request's group.
  void JoinGroup(int32_t partition, JoinRequest request, JoinDone done);
  void SyncGroup(int32_t partition, SyncRequest request, SyncDone done);
  kafka::ErrorCode Heartbeat(int32_t partition, const MemberRef& member);
  // The group-level error (UNKNOWN_MEMBER_ID if the group is unknown) and one per member.
  std::pair<kafka::ErrorCode, std::vector<kafka::ErrorCode>> LeaveGroup(
      int32_t partition, const std::string& group_id, const std::vector<LeavingMember>& members);
  void CommitOffsets(int32_t partition, CommitRequest request, CommitDone done);
  // `partitions` nullopt: every committed offset of the group.
  std::vector<FetchedOffset> FetchOffsets(
      int32_t partition, const std::string& group_id,
      const std::optional<std::vector<TopicPartition>>& partitions);
  GroupDescription Describe(int32_t partition, const std::string& group_id);
  // Every group of the shard: (id, protocol type, state).
  std::vector<std::tuple<std::string, std::string, GroupState>> List(int32_t partition) const;
  void DeleteGroup(int32_t partition, const std::string& group_id,
                   absl::AnyInvocable<void(kafka::ErrorCode) &&> done);
  // OffsetDelete: the group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP for a group
  // whose subscriptions are not known) and one per partition (GROUP_SUBSCRIBED_TO_TOPIC for
  // a topic the group consumes).
  using DeleteOffsetsDone =
      absl::AnyInvocable<void(kafka::ErrorCode, std::vector<kafka::ErrorCode>) &&>;
  void DeleteOffsets(int32_t partition, const std::string& group_id,
                     std::vector<TopicPartition> partitions, DeleteOffsetsDone done);

  const CoordinatorStats& stats() const { return stats_; }
  // Test and checker access: the in-memory group, nullptr if the shard does not hold it.
  const ClassicGroup* group(int32_t partition, const std::string& group_id) const;

 private:
  struct Shard {
    int32_t partition = 0;
    uint64_t term = 0;
    uint64_t load_id = 0;  // tells a reload apart from the load a write was made under
    std::map<std::string, ClassicGroup> groups;
    // Planted bug kLoseOffsetsOnFailover: the offsets the store held at the load, hidden.
    std::map<std::pair<std::string, TopicPartition>, int64_t> forgotten;
  };
  using ShardWriteDone = absl::AnyInvocable<void(Shard*, kafka::ErrorCode) &&>;

  Shard& ShardOf(int32_t partition);
  ClassicGroup& GroupOf(Shard& shard, const std::string& group_id);
  int64_t WallNowMs() { return wall_clock_.NowMs(); }

  // Membership (group_membership.cc).
  void JoinUnknownMember(Shard& shard, ClassicGroup& group, JoinRequest request, JoinDone done);
  void JoinKnownMember(Shard& shard, ClassicGroup& group, JoinRequest request, JoinDone done);
  void JoinStaticMember(Shard& shard, ClassicGroup& group, const std::string& old_id,
                        JoinRequest request, JoinDone done);
  void AddMemberAndRebalance(Shard& shard, ClassicGroup& group, const std::string& member_id,
                             JoinRequest request, JoinDone done);
  void UpdateMemberAndRebalance(Shard& shard, ClassicGroup& group, GroupMember& member,
                                JoinRequest request, JoinDone done);
  JoinOutcome CurrentJoinOutcome(const ClassicGroup& group, const std::string& member_id) const;
  void PrepareRebalance(Shard& shard, ClassicGroup& group);
  void MaybeCompleteJoin(Shard& shard, ClassicGroup& group);
  void CompleteJoin(Shard& shard, ClassicGroup& group);
  void OnSyncFromLeader(Shard& shard, ClassicGroup& group, const SyncRequest& request);
  void OnAssignmentWritten(int32_t partition, uint64_t load_id, const std::string& group_id,
                           int32_t generation, kafka::ErrorCode error);
  void ResetAssignments(ClassicGroup& group, kafka::ErrorCode error);
  void RemoveMember(Shard& shard, ClassicGroup& group, const std::string& member_id,
                    kafka::ErrorCode answer);
  kafka::ErrorCode ValidateMember(const ClassicGroup& group, const MemberRef& member) const;
  std::string NewMemberId(const std::string& client_id);
  // Persists the group's metadata (an emptied group, a static member's new id).
  void WriteMetadata(Shard& shard, const ClassicGroup& group, ShardWriteDone done);
  // Writes `records` under the shard's term. done(shard, error) runs later, always, with the
  // shard if it is still the same load, else nullptr (the coordinator that wrote is gone:
  // the caller answers NOT_COORDINATOR). Records too large for a batch fail with
  // INVALID_COMMIT_OFFSET_SIZE.
  void Write(Shard& shard, std::vector<GroupLogRecord> records, ShardWriteDone done);
  Shard* FindLoad(int32_t partition, uint64_t load_id);

  // Deadlines (group_membership.cc).
  void ScheduleTick();
  void Tick();
  void TickGroup(Shard& shard, ClassicGroup& group, Instant now);
  void OnJoinDeadline(Shard& shard, ClassicGroup& group);

  // Offsets (group_offsets.cc).
  kafka::ErrorCode ValidateCommit(ClassicGroup* group, const MemberRef& member) const;
  void ExpireOffsets(Shard& shard);

  runtime::Clock& clock_;
  runtime::WallClock& wall_clock_;
  Random& random_;
  GroupLog& log_;
  const CoordinatorOptions options_;
  std::map<int32_t, Shard> shards_;
  uint64_t next_load_id_ = 1;
  runtime::TimerId tick_timer_ = runtime::kNoTimer;
  Instant next_expiry_check_;
  CoordinatorStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::group
