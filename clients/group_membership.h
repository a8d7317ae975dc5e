// GroupMembership: a consumer's membership of a Kafka consumer group, on the classic protocol
// with EAGER rebalancing (Java's ConsumerCoordinator with the eager protocol): it finds the
// group's coordinator, joins (the MEMBER_ID_REQUIRED round included), computes the assignment
// when it leads (clients/group: range, roundrobin, cooperative-sticky), syncs, heartbeats,
// commits and fetches offsets, and leaves. The consumer (consumer.h) owns it and is its Host.
//
// REBALANCE (eager). Before every (re)join the Host is asked to revoke everything it was
// assigned (Host::revoke: the consumer commits its positions if auto-commit is on, tells the
// application, drops the partitions) and only then is JoinGroup sent, so the next owner starts
// from the committed offsets. A member that learns it is no longer in the generation it had
// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) loses its partitions without a commit (Host::lost).
// Rejoins are triggered by: a new subscription, REBALANCE_IN_PROGRESS from a heartbeat, sync or
// commit, a generation the coordinator no longer knows, and a change of the partition count of a
// subscribed topic (the leader assigned from the counts it knew).
//
// COORDINATOR. FindCoordinator (v3) goes to any known broker; the coordinator then gets a
// connection of its own (JoinGroup is held up to the rebalance timeout, so its request timeout
// is that plus 5 s, as Java's). NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection or
// a timeout: the coordinator is looked up again after retry.backoff, and what was in flight is
// retried (a join restarts; commits and offset fetches are sent again until their deadline).
//
// FATAL errors (FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT,
// GROUP_MAX_SIZE_REACHED, INVALID_GROUP_ID, GROUP_AUTHORIZATION_FAILED) stop the membership and
// are reported through Host::fatal.
//
// LOOP AFFINITY: the client runtime's loop; Host callbacks run from it, never inline from a
// call. OWNERSHIP: the runtime and the Host outlive it; destroying it runs no callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/broker_connection.h"
#include "clients/group/assignor.h"
#include "clients/producer_batch.h"
#include "clients/wake_timer.h"
#include "core/base/units.h"
#include "core/kafka/generated/find_coordinator.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/join_group.h"
#include "core/kafka/generated/offset_commit.h"
#include "core/kafka/generated/offset_fetch.h"
#include "core/kafka/generated/sync_group.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

struct GroupMembershipOptions {
  std::string group_id;
  std::optional<std::string> group_instance_id;  // static membership (KIP-345)
  std::optional<std::string> client_id;
  std::optional<std::string> rack;               // client.rack
  Duration session_timeout = Duration::Seconds(45);
  Duration heartbeat_interval = Duration::Seconds(3);
  Duration rebalance_timeout = Duration::Seconds(300);  // max.poll.interval.ms
  Duration request_timeout = Duration::Seconds(30);
  Duration retry_backoff = Duration::Milliseconds(100);
  Duration default_api_timeout = Duration::Seconds(60);
  std::vector<std::string> assignors = {"range", "cooperative-sticky"};
};

// A committed offset as OffsetFetch returns it (offset -1: none).
struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  friend bool operator==(const CommittedOffset&, const CommittedOffset&) = default;
};

struct GroupMembershipStats {
  uint64_t coordinator_lookups = 0;
  uint64_t joins = 0;
  uint64_t syncs = 0;
  uint64_t heartbeats = 0;
  uint64_t rebalances = 0;  // assignments received
  uint64_t commits = 0;
  uint64_t commits_failed = 0;
  uint64_t partitions_lost = 0;
};

class GroupMembership {
 public:
  static constexpr int kAssignAttemptsMax = 20;
  struct Host {
    // Partition count of a topic, if metadata has it.
    std::function<std::optional<int32_t>(const std::string&)> partition_count;
    // Topics the leader needs metadata for (every member's subscription).
    std::function<void(const std::set<std::string>&)> want_topics;
    // Where FindCoordinator may go, and a broker's address by id.
    std::function<std::vector<runtime::Address>()> brokers;
    std::function<std::optional<runtime::Address>(int32_t)> broker_address;
    // Before a (re)join: give up `partitions`; run `done` once that is finished.
    std::function<void(std::vector<TopicPartition> partitions, absl::AnyInvocable<void() &&> done)>
        revoke;
    std::function<void(std::vector<TopicPartition> partitions)> assigned;
    std::function<void(std::vector<TopicPartition> partitions)> lost;
    std::function<void(absl::Status)> fatal;
  };
  using CommitDone = absl::AnyInvocable<void(absl::Status) &&>;
  using FetchDone =
      absl::AnyInvocable<void(absl::StatusOr<std::map<TopicPartition, CommittedOffset>>) &&>;
  struct CommitOffset {
    int64_t offset = 0;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata = std::string();
  };

  // Errors: kInvalidArgument for an empty group id or an unknown assignor name.
  static absl::StatusOr<std::unique_ptr<GroupMembership>> Create(runtime::ClientRuntime& runtime,
                                                                 GroupMembershipOptions options,
                                                                 Host host);
  ~GroupMembership();
  GroupMembership(const GroupMembership&) = delete;
  GroupMembership& operator=(const GroupMembership&) = delete;

  // Joins (or rejoins) with this subscription; empty: leaves the group.
  void Subscribe(std::set<std::string> topics);
  const std::set<std::string>& subscription() const { return subscription_; }
  // Metadata changed: a subscribed topic whose partition count differs from the one this
  // member's generation was assigned with triggers a rejoin.
  void OnMetadataChanged();

  // OffsetCommit with this member's generation. A commit that must be sent again (its
  // coordinator was lost) after a later Commit of one of its partitions is not: it fails with
  // kAborted ("superseded"), so older offsets never overwrite newer ones (committed offsets
  // only move forward). done(OK), or kAborted when the group
  // rebalanced (Java's CommitFailedException: the commit was refused, and a rejoin follows),
  // kDeadlineExceeded when the coordinator could not be reached in default.api.timeout, or
  // the broker's error for a partition.
  void Commit(std::map<TopicPartition, CommitOffset> offsets, CommitDone done);
  // OffsetFetch: the group's committed offsets of `partitions` (offset -1 where none).
  void FetchCommitted(std::vector<TopicPartition> partitions, FetchDone done);

  // Sends LeaveGroup (not for a static member: it keeps its place, Java's rule) and stops; done
  // runs once it is answered or `timeout` passes. Afterwards the membership does nothing.
  void Leave(Duration timeout, absl::AnyInvocable<void() &&> done);
  // Stops at once (no LeaveGroup: the coordinator expires the member).
  void Close();

  bool stable() const { return phase_ == Phase::kStable; }
  // For diagnostics: "idle", "revoking", "joining", "syncing", "stable", "failed", "closed".
  const char* phase_name() const;
  std::string DebugString() const;
  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }
  const std::vector<TopicPartition>& assignment() const { return assignment_; }
  const GroupMembershipStats& stats() const { return stats_; }

 private:
  enum class Phase { kIdle, kRevoking, kJoining, kSyncing, kStable, kFailed, kClosed };
  struct PendingCommit {
    std::map<TopicPartition, CommitOffset> offsets;
    // The generation and member id when Commit was called: a resend after a rebalance must be
    // refused (ILLEGAL_GENERATION), not land with the new generation for partitions that may
    // now be another member's.
    int32_t generation = -1;
    std::string member_id;
    Instant deadline;
    bool in_flight = false;
    CommitDone done;
  };
  struct PendingFetch {
    std::vector<TopicPartition> partitions;
    Instant deadline;
    bool in_flight = false;
    FetchDone done;
  };

  GroupMembership(runtime::ClientRuntime& runtime, GroupMembershipOptions options, Host host,
                  std::vector<std::unique_ptr<group::Assignor>> assignors);

  // ---- group_membership.cc: the loop, the coordinator, join/sync/heartbeat/leave ----
  void Wake(Duration delay);
  void Run();
  void FindCoordinator(Instant now);
  void OnCoordinatorFound(absl::StatusOr<Reply<kafka::FindCoordinatorResponse>> reply);
  // The coordinator failed us: forget it, look it up again after the backoff.
  void CoordinatorLost();
  void RequestRejoin();
  void StartRevoke();
  void SendJoin();
  kafka::JoinGroupRequest JoinRequest() const;
  void OnJoinReply(uint64_t attempt, absl::StatusOr<Reply<kafka::JoinGroupResponse>> reply);
  // The leader's assignment of the joined members, encoded per member; nullopt while the
  // metadata of some subscribed topic is missing (asked for; retried).
  std::optional<std::map<std::string, std::string>> Assign(
      const std::vector<kafka::JoinGroupResponse::JoinGroupResponseMember>& members);
  void SendSync(std::map<std::string, std::string> assignments);
  void OnSyncReply(uint64_t attempt, absl::StatusOr<Reply<kafka::SyncGroupResponse>> reply);
  void SendHeartbeat();
  void OnHeartbeatReply(uint64_t attempt, absl::StatusOr<Reply<kafka::HeartbeatResponse>> reply);
  // Handles the errors every group call shares; returns true if it did.
  bool HandleCommonError(kafka::ErrorCode error);
  void LoseAssignment();
  void Fail(absl::Status why);

  // ---- group_membership_offsets.cc: OffsetCommit and OffsetFetch ----
  void SendCommits(Instant now);
  void OnCommitReply(uint64_t id, absl::StatusOr<Reply<kafka::OffsetCommitResponse>> reply);
  void SendFetches(Instant now);
  void OnFetchReply(uint64_t id, absl::StatusOr<Reply<kafka::OffsetFetchResponse>> reply);
  void ExpireRequests(Instant now);

  runtime::ClientRuntime& runtime_;
  const GroupMembershipOptions options_;
  Host host_;
  std::vector<std::unique_ptr<group::Assignor>> assignors_;
  std::set<std::string> subscription_;

  Phase phase_ = Phase::kIdle;
  bool rejoin_needed_ = false;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string protocol_;
  std::vector<TopicPartition> assignment_;
  std::map<std::string, int32_t> assigned_counts_;  // partition counts at assignment time

  std::optional<int32_t> coordinator_id_;
  std::unique_ptr<BrokerConnection> coordinator_;
  std::vector<std::unique_ptr<BrokerConnection>> retired_;
  std::unique_ptr<BrokerConnection> lookup_;
  bool finding_ = false;
  Instant retry_at_;
  // Every reply is matched to the attempt it answers: a join, sync or heartbeat made stale by a
  // rejoin or a lost coordinator is ignored.
  uint64_t attempt_ = 0;
  bool heartbeat_in_flight_ = false;
  Instant next_heartbeat_;
  // The leader's members, while it waits for metadata of their topics (at most
  // kAssignAttemptsMax retries of retry.backoff).
  std::optional<std::vector<kafka::JoinGroupResponse::JoinGroupResponseMember>> assigning_;
  int assign_attempts_ = 0;

  std::map<uint64_t, PendingCommit> commits_;
  // The newest Commit (its request id) of each partition.
  std::map<TopicPartition, uint64_t> newest_commit_;
  std::map<uint64_t, PendingFetch> fetches_;
  uint64_t next_request_id_ = 1;
  std::optional<absl::AnyInvocable<void() &&>> leave_done_;

  GroupMembershipStats stats_;
  WakeTimer wake_{runtime_.clock(), [this] { Run(); }};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::clients
