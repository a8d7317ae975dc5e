// GroupMembership's loop: the coordinator, JoinGroup, SyncGroup, Heartbeat and LeaveGroup
// (group_membership.h). Offsets live in group_membership_offsets.cc.
#include "clients/group_membership.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/group/consumer_protocol.h"
#include "clients/kafka_status.h"
#include "core/base/check.h"
#include "core/kafka/generated/leave_group.h"

namespace eddy::clients {

using kafka::ErrorCode;

namespace {

constexpr int16_t kFindCoordinatorVersion = 3;
constexpr int16_t kJoinGroupVersion = 7;
constexpr int16_t kSyncGroupVersion = 5;
constexpr int16_t kHeartbeatVersion = 4;
constexpr int16_t kLeaveGroupVersion = 4;

TopicPartition FromGroup(const group::TopicPartition& tp) { return {tp.topic, tp.partition}; }

bool IsFatal(ErrorCode e) {
  return e == ErrorCode::kFencedInstanceId || e == ErrorCode::kInconsistentGroupProtocol ||
         e == ErrorCode::kInvalidSessionTimeout || e == ErrorCode::kGroupMaxSizeReached ||
         e == ErrorCode::kInvalidGroupId || e == ErrorCode::kGroupAuthorizationFailed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GroupMembership>> GroupMembership::Create(
    runtime::ClientRuntime& runtime, GroupMembershipOptions options, Host host) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("group.id is empty");
  if (options.assignors.empty()) {
    return absl::InvalidArgumentError("partition.assignment.strategy is empty");
  }
  std::vector<std::unique_ptr<group::Assignor>> assignors;
  for (const std::string& name : options.assignors) {
    absl::StatusOr<std::unique_ptr<group::Assignor>> a = group::MakeAssignor(name);
    if (!a.ok()) return absl::InvalidArgumentError(absl::StrCat("unknown assignor ", name));
    assignors.push_back(*std::move(a));
  }
  if (options.heartbeat_interval >= options.session_timeout) {
    return absl::InvalidArgumentError("heartbeat.interval.ms must be below session.timeout.ms");
  }
  return std::unique_ptr<GroupMembership>(
      new GroupMembership(runtime, std::move(options), std::move(host), std::move(assignors)));
}

GroupMembership::GroupMembership(runtime::ClientRuntime& runtime, GroupMembershipOptions options,
                                 Host host,
                                 std::vector<std::unique_ptr<group::Assignor>> assignors)
    : runtime_(runtime),
      options_(std::move(options)),
      host_(std::move(host)),
      assignors_(std::move(assignors)) {}

GroupMembership::~GroupMembership() { alive_.reset(); }

std::string GroupMembership::DebugString() const {
  return absl::StrCat(phase_name(), " assigning=", assigning_.has_value(), " attempts=",
                      assign_attempts_, " coordinator=", coordinator_id_.value_or(-1),
                      " conn=", coordinator_ != nullptr, " open=",
                      coordinator_ != nullptr && coordinator_->open(), " outstanding=",
                      coordinator_ != nullptr ? coordinator_->outstanding() : 0, " rejoin=",
                      rejoin_needed_, " finding=", finding_, " leader_protocol=", protocol_);
}

const char* GroupMembership::phase_name() const {
  switch (phase_) {
    case Phase::kIdle:
      return "idle";
    case Phase::kRevoking:
      return "revoking";
    case Phase::kJoining:
      return "joining";
    case Phase::kSyncing:
      return "syncing";
    case Phase::kStable:
      return "stable";
    case Phase::kFailed:
      return "failed";
    case Phase::kClosed:
      return "closed";
  }
  return "?";
}

void GroupMembership::Wake(Duration delay) {
  if (phase_ != Phase::kClosed) wake_.After(delay);
}

void GroupMembership::Subscribe(std::set<std::string> topics) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kFailed || topics == subscription_) return;
  subscription_ = std::move(topics);
  RequestRejoin();
}

void GroupMembership::OnMetadataChanged() {
  if (phase_ != Phase::kStable) return;
  for (const auto& [topic, count] : assigned_counts_) {
    if (host_.partition_count(topic) != count) return RequestRejoin();
  }
}

void GroupMembership::RequestRejoin() {
  rejoin_needed_ = true;
  Wake(Duration::Zero());
}

void GroupMembership::Run() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) return;
  retired_.clear();  // no connection callback is on the stack here
  const Instant now = runtime_.clock().Now();
  ExpireRequests(now);
  const bool need_coordinator =
      !subscription_.empty() || !commits_.empty() || !fetches_.empty();
  if (!coordinator_ && need_coordinator) {
    if (!finding_ && now >= retry_at_) FindCoordinator(now);
    if (!finding_) Wake(retry_at_ - now);
    return;
  }
  if (!coordinator_) return;
  SendCommits(now);
  SendFetches(now);
  const bool idle_or_stable = phase_ == Phase::kIdle || phase_ == Phase::kStable;
  if (rejoin_needed_ && idle_or_stable && now >= retry_at_) {
    if (subscription_.empty()) {
      rejoin_needed_ = false;
      if (phase_ == Phase::kStable) Leave(options_.request_timeout, [] {});
      return;
    }
    return StartRevoke();
  }
  if (rejoin_needed_ && idle_or_stable) Wake(retry_at_ - now);
  if (assigning_.has_value()) {
    std::optional<std::map<std::string, std::string>> assignments = Assign(*assigning_);
    if (assignments.has_value()) {
      assigning_.reset();
      SendSync(*std::move(assignments));
    } else {
      Wake(options_.retry_backoff);
    }
  }
  if (phase_ == Phase::kStable && !heartbeat_in_flight_) {
    if (now >= next_heartbeat_) SendHeartbeat();
    Wake(next_heartbeat_ - now);
  }
}

void GroupMembership::FindCoordinator(Instant now) {
  std::vector<runtime::Address> brokers = host_.brokers();
  if (brokers.empty()) return;
  finding_ = true;
  ++stats_.coordinator_lookups;
  const runtime::Address& to = brokers[stats_.coordinator_lookups % brokers.size()];
  lookup_ = std::make_unique<BrokerConnection>(
      runtime_, to,
      ConnectionOptions{.client_id = options_.client_id,
                        .request_timeout = options_.request_timeout});
  kafka::FindCoordinatorRequest request;
  request.key = options_.group_id;
  request.key_type = 0;
  retry_at_ = now + options_.retry_backoff;
  lookup_->Call<kafka::FindCoordinatorRequest, kafka::FindCoordinatorResponse>(
      request, kFindCoordinatorVersion, [this, alive = std::weak_ptr<bool>(alive_)](auto reply) {
        if (alive.expired()) return;
        OnCoordinatorFound(std::move(reply));
      });
}

void GroupMembership::OnCoordinatorFound(
    absl::StatusOr<Reply<kafka::FindCoordinatorResponse>> reply) {
  finding_ = false;
  if (lookup_) retired_.push_back(std::move(lookup_));
  Wake(Duration::Zero());
  if (!reply.ok() || reply->response.error_code != 0) return;  // retried after the backoff
  const kafka::FindCoordinatorResponse& r = reply->response;
  const runtime::Address address{r.host, static_cast<uint16_t>(r.port)};
  coordinator_id_ = r.node_id;
  // Its own connection: JoinGroup may be held for the whole rebalance timeout.
  coordinator_ = std::make_unique<BrokerConnection>(
      runtime_, address,
      ConnectionOptions{.client_id = options_.client_id,
                        .request_timeout = std::max(options_.request_timeout,
                                                    options_.rebalance_timeout +
                                                        Duration::Seconds(5))});
}

void GroupMembership::CoordinatorLost() {
  ++attempt_;  // whatever was in flight on it is stale
  heartbeat_in_flight_ = false;
  if (coordinator_) retired_.push_back(std::move(coordinator_));
  coordinator_id_.reset();
  for (auto& [id, c] : commits_) c.in_flight = false;
  for (auto& [id, f] : fetches_) f.in_flight = false;
  retry_at_ = runtime_.clock().Now() + options_.retry_backoff;
  if (phase_ == Phase::kJoining || phase_ == Phase::kSyncing) {
    // The join is redone with the next coordinator.
    phase_ = assignment_.empty() ? Phase::kIdle : Phase::kStable;
    rejoin_needed_ = true;
    assigning_.reset();
  }
  Wake(options_.retry_backoff);
}

void GroupMembership::StartRevoke() {
  rejoin_needed_ = false;
  phase_ = Phase::kRevoking;
  std::vector<TopicPartition> revoked = std::move(assignment_);
  assignment_.clear();
  const uint64_t attempt = ++attempt_;
  host_.revoke(std::move(revoked), [this, alive = std::weak_ptr<bool>(alive_), attempt]() {
    if (alive.expired() || attempt != attempt_ || phase_ != Phase::kRevoking) return;
    SendJoin();
  });
}

kafka::JoinGroupRequest GroupMembership::JoinRequest() const {
  kafka::JoinGroupRequest r;
  r.group_id = options_.group_id;
  r.session_timeout_ms = static_cast<int32_t>(options_.session_timeout.milliseconds());
  r.rebalance_timeout_ms = static_cast<int32_t>(options_.rebalance_timeout.milliseconds());
  r.member_id = member_id_;
  r.group_instance_id = options_.group_instance_id;
  r.protocol_type = std::string(group::kConsumerProtocolType);
  for (const auto& assignor : assignors_) {
    group::Subscription s;
    s.topics.assign(subscription_.begin(), subscription_.end());
    s.user_data = assignor->SubscriptionUserData(generation_);
    s.generation_id = generation_;
    s.rack_id = options_.rack;
    absl::StatusOr<std::string> metadata = group::EncodeSubscription(s);
    EDDY_CHECK_OK(metadata.status());  // topic names are valid Kafka names
    r.protocols.push_back({std::string(assignor->name()), *std::move(metadata), {}});
  }
  return r;
}

void GroupMembership::SendJoin() {
  if (!coordinator_) {
    phase_ = Phase::kIdle;
    rejoin_needed_ = true;
    return Wake(Duration::Zero());
  }
  phase_ = Phase::kJoining;
  ++stats_.joins;
  const uint64_t attempt = ++attempt_;
  coordinator_->Call<kafka::JoinGroupRequest, kafka::JoinGroupResponse>(
      JoinRequest(), kJoinGroupVersion,
      [this, alive = std::weak_ptr<bool>(alive_), attempt](auto reply) {
        if (!alive.expired()) OnJoinReply(attempt, std::move(reply));
      });
}

bool GroupMembership::HandleCommonError(ErrorCode error) {
  switch (error) {
    case ErrorCode::kNotCoordinator:
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kRequestTimedOut:
      CoordinatorLost();
      return true;
    case ErrorCode::kCoordinatorLoadInProgress:
      retry_at_ = runtime_.clock().Now() + options_.retry_backoff;
      return false;
    default:
      if (IsFatal(error)) {
        Fail(KafkaStatus(kafka::ToWire(error), absl::StrCat("group ", options_.group_id)));
        return true;
      }
      return false;
  }
}

void GroupMembership::OnJoinReply(uint64_t attempt,
                                  absl::StatusOr<Reply<kafka::JoinGroupResponse>> reply) {
  if (attempt != attempt_ || phase_ != Phase::kJoining) return;
  Wake(Duration::Zero());
  if (!reply.ok()) return CoordinatorLost();
  const kafka::JoinGroupResponse& r = reply->response;
  const ErrorCode error = static_cast<ErrorCode>(r.error_code);
  if (error == ErrorCode::kNone) {
    member_id_ = r.member_id;
    generation_ = r.generation_id;
    protocol_ = r.protocol_name.value_or("");
    phase_ = Phase::kSyncing;
    if (r.leader == r.member_id) {
      assigning_ = r.members;
      assign_attempts_ = 0;
    } else {
      SendSync({});
    }
    return;
  }
  phase_ = Phase::kIdle;
  rejoin_needed_ = true;
  if (HandleCommonError(error)) return;
  if (error == ErrorCode::kMemberIdRequired) {
    member_id_ = r.member_id;  // and join again at once with it
  } else if (error == ErrorCode::kUnknownMemberId || error == ErrorCode::kIllegalGeneration) {
    member_id_.clear();
    generation_ = -1;
  } else if (error != ErrorCode::kRebalanceInProgress &&
             error != ErrorCode::kCoordinatorLoadInProgress) {
    retry_at_ = runtime_.clock().Now() + options_.retry_backoff;
  }
}

std::optional<std::map<std::string, std::string>> GroupMembership::Assign(
    const std::vector<kafka::JoinGroupResponse::JoinGroupResponseMember>& members) {
  const group::Assignor* assignor = nullptr;
  for (const auto& a : assignors_) {
    if (a->name() == protocol_) assignor = a.get();
  }
  EDDY_CHECK(assignor != nullptr);  // the coordinator picks among the protocols we sent
  std::vector<group::MemberSubscription> subscriptions;
  std::set<std::string> topics;
  for (const auto& m : members) {
    absl::StatusOr<group::Subscription> s = group::DecodeSubscription(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.metadata.data()),
                                 m.metadata.size()));
    group::MemberSubscription ms{m.member_id, m.group_instance_id,
                                 s.ok() ? *std::move(s) : group::Subscription{}};
    topics.insert(ms.subscription.topics.begin(), ms.subscription.topics.end());
    subscriptions.push_back(std::move(ms));
  }
  group::PartitionCounts counts;
  for (const std::string& topic : topics) {
    const std::optional<int32_t> count = host_.partition_count(topic);
    if (count.has_value()) counts[topic] = *count;
  }
  if (counts.size() < topics.size() && ++assign_attempts_ < kAssignAttemptsMax) {
    host_.want_topics(topics);
    return std::nullopt;
  }
  // Topics still unknown are left out: once they exist, the metadata change rejoins.
  assign_attempts_ = 0;
  absl::StatusOr<group::GroupAssignment> assignment = assignor->Assign(counts, subscriptions);
  if (!assignment.ok()) assignment = group::GroupAssignment{};
  std::map<std::string, std::string> out;
  for (const auto& m : subscriptions) {
    group::Assignment a;
    if (auto it = assignment->find(m.member_id); it != assignment->end()) a.partitions = it->second;
    absl::StatusOr<std::string> bytes = group::EncodeAssignment(a);
    EDDY_CHECK_OK(bytes.status());
    out[m.member_id] = *std::move(bytes);
  }
  return out;
}

void GroupMembership::SendSync(std::map<std::string, std::string> assignments) {
  if (!coordinator_) return CoordinatorLost();
  ++stats_.syncs;
  kafka::SyncGroupRequest r;
  r.group_id = options_.group_id;
  r.generation_id = generation_;
  r.member_id = member_id_;
  r.group_instance_id = options_.group_instance_id;
  r.protocol_type = std::string(group::kConsumerProtocolType);
  r.protocol_name = protocol_;
  for (auto& [member, bytes] : assignments) r.assignments.push_back({member, bytes, {}});
  const uint64_t attempt = ++attempt_;
  coordinator_->Call<kafka::SyncGroupRequest, kafka::SyncGroupResponse>(
      r, kSyncGroupVersion, [this, alive = std::weak_ptr<bool>(alive_), attempt](auto reply) {
        if (!alive.expired()) OnSyncReply(attempt, std::move(reply));
      });
}

void GroupMembership::OnSyncReply(uint64_t attempt,
                                  absl::StatusOr<Reply<kafka::SyncGroupResponse>> reply) {
  if (attempt != attempt_ || phase_ != Phase::kSyncing) return;
  Wake(Duration::Zero());
  if (!reply.ok()) return CoordinatorLost();
  const kafka::SyncGroupResponse& r = reply->response;
  const ErrorCode error = static_cast<ErrorCode>(r.error_code);
  if (error != ErrorCode::kNone) {
    phase_ = Phase::kIdle;
    rejoin_needed_ = true;
    if (HandleCommonError(error)) return;
    if (error == ErrorCode::kUnknownMemberId || error == ErrorCode::kIllegalGeneration) {
      member_id_.clear();
      generation_ = -1;
    }
    return;
  }
  absl::StatusOr<group::Assignment> a = group::DecodeAssignment(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(r.assignment.data()), r.assignment.size()));
  if (!a.ok()) {
    phase_ = Phase::kIdle;
    rejoin_needed_ = true;
    return;
  }
  assignment_.clear();
  for (const group::TopicPartition& tp : a->partitions) {
    if (subscription_.contains(tp.topic)) assignment_.push_back(FromGroup(tp));
  }
  std::sort(assignment_.begin(), assignment_.end());
  assigned_counts_.clear();
  for (const std::string& topic : subscription_) {
    if (std::optional<int32_t> n = host_.partition_count(topic)) assigned_counts_[topic] = *n;
  }
  phase_ = Phase::kStable;
  ++stats_.rebalances;
  next_heartbeat_ = runtime_.clock().Now() + options_.heartbeat_interval;
  host_.assigned(assignment_);
}

void GroupMembership::SendHeartbeat() {
  heartbeat_in_flight_ = true;
  ++stats_.heartbeats;
  kafka::HeartbeatRequest r;
  r.group_id = options_.group_id;
  r.generation_id = generation_;
  r.member_id = member_id_;
  r.group_instance_id = options_.group_instance_id;
  const uint64_t attempt = attempt_;
  coordinator_->Call<kafka::HeartbeatRequest, kafka::HeartbeatResponse>(
      r, kHeartbeatVersion, [this, alive = std::weak_ptr<bool>(alive_), attempt](auto reply) {
        if (!alive.expired()) OnHeartbeatReply(attempt, std::move(reply));
      });
}

void GroupMembership::OnHeartbeatReply(uint64_t attempt,
                                       absl::StatusOr<Reply<kafka::HeartbeatResponse>> reply) {
  if (attempt != attempt_) return;
  heartbeat_in_flight_ = false;
  next_heartbeat_ = runtime_.clock().Now() + options_.heartbeat_interval;
  Wake(Duration::Zero());
  if (phase_ != Phase::kStable) return;
  if (!reply.ok()) return CoordinatorLost();
  const ErrorCode error = static_cast<ErrorCode>(reply->response.error_code);
  if (error == ErrorCode::kNone || HandleCommonError(error)) return;
  if (error == ErrorCode::kUnknownMemberId || error == ErrorCode::kIllegalGeneration) {
    // No longer in the generation: the partitions may already be someone else's.
    LoseAssignment();
    if (error == ErrorCode::kUnknownMemberId) member_id_.clear();
    generation_ = -1;
  }
  RequestRejoin();
}

void GroupMembership::LoseAssignment() {
  std::vector<TopicPartition> lost = std::move(assignment_);
  assignment_.clear();
  stats_.partitions_lost += lost.size();
  if (!lost.empty()) host_.lost(std::move(lost));
}

void GroupMembership::Fail(absl::Status why) {
  ++attempt_;
  phase_ = Phase::kFailed;
  LoseAssignment();
  host_.fatal(std::move(why));
}

void GroupMembership::Leave(Duration timeout, absl::AnyInvocable<void() &&> done) {
  const bool member = !member_id_.empty() && !options_.group_instance_id.has_value();
  const bool can_send = coordinator_ != nullptr && phase_ != Phase::kClosed;
  subscription_.clear();
  assignment_.clear();
  ++attempt_;
  phase_ = Phase::kClosed;
  wake_.Cancel();
  if (!member || !can_send) {
    runtime_.clock().Post(std::move(done));
    return;
  }
  kafka::LeaveGroupRequest r;
  r.group_id = options_.group_id;
  r.members.push_back({member_id_, std::nullopt, std::nullopt, {}});
  auto once = std::make_shared<absl::AnyInvocable<void() &&>>(std::move(done));
  runtime_.clock().ScheduleAfter(timeout, [once] {
    if (*once) std::move (*once)();
    *once = nullptr;
  });
  coordinator_->Call<kafka::LeaveGroupRequest, kafka::LeaveGroupResponse>(
      r, kLeaveGroupVersion, [once](auto) {
        if (*once) std::move (*once)();
        *once = nullptr;
      });
}

void GroupMembership::Close() {
  ++attempt_;
  phase_ = Phase::kClosed;
  wake_.Cancel();
  if (coordinator_) coordinator_->Close();
  std::map<uint64_t, PendingCommit> commits = std::move(commits_);
  std::map<uint64_t, PendingFetch> fetches = std::move(fetches_);
  commits_.clear();
  fetches_.clear();
  for (auto& [id, c] : commits) std::move(c.done)(absl::CancelledError("consumer closed"));
  for (auto& [id, f] : fetches) std::move(f.done)(absl::CancelledError("consumer closed"));
}

}  // namespace eddy::clients
