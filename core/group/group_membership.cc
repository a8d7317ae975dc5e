// The classic protocol's membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, rebalances
// and their deadlines, as Kafka's GroupCoordinator runs them (README.md).
#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/base/check.h"
#include "core/group/group_coordinator.h"

namespace eddy::group {

using kafka::ErrorCode;

namespace {

JoinOutcome JoinError(ErrorCode error, const std::string& member_id) {
  return JoinOutcome::Error(error, member_id);
}

SyncOutcome SyncError(ErrorCode error) { return SyncOutcome::Error(error); }

}  // namespace

std::string GroupCoordinator::NewMemberId(const std::string& prefix) {
  // Kafka's form: the client id (or instance id) and a random UUID.
  const uint64_t hi = random_.Next();
  const uint64_t lo = random_.Next();
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return prefix + "-" + uuid;
}

void GroupCoordinator::JoinGroup(int32_t partition, JoinRequest request, JoinDone done) {
  ++stats_.joins;
  Shard& shard = ShardOf(partition);
  if (request.group_id.empty()) {
    return std::move(done)(JoinError(ErrorCode::kInvalidGroupId, request.member_id));
  }
  if (request.session_timeout_ms < options_.min_session_timeout_ms ||
      request.session_timeout_ms > options_.max_session_timeout_ms) {
    return std::move(done)(JoinError(ErrorCode::kInvalidSessionTimeout, request.member_id));
  }
  if (request.protocols.size() > kProtocolsPerMemberMax) {
    return std::move(done)(JoinError(ErrorCode::kInconsistentGroupProtocol, request.member_id));
  }
  if (request.rebalance_timeout_ms <= 0) request.rebalance_timeout_ms = request.session_timeout_ms;
  const bool known = shard.groups.contains(request.group_id);
  if (!known && !request.member_id.empty()) {
    return std::move(done)(JoinError(ErrorCode::kUnknownMemberId, request.member_id));
  }
  ClassicGroup& group = GroupOf(shard, request.group_id);
  const std::string group_id = request.group_id;
  if (group.state() == GroupState::kDead) {
    std::move(done)(JoinError(ErrorCode::kCoordinatorNotAvailable, request.member_id));
  } else if (request.member_id.empty()) {
    JoinUnknownMember(shard, group, std::move(request), std::move(done));
  } else {
    JoinKnownMember(shard, group, std::move(request), std::move(done));
  }
  // A group made for a join that was refused is not kept.
  auto it = shard.groups.find(group_id);
  if (!known && it != shard.groups.end() && it->second.members().empty() &&
      it->second.pending_members().empty()) {
    shard.groups.erase(it);
  }
}

void GroupCoordinator::JoinUnknownMember(Shard& shard, ClassicGroup& group, JoinRequest request,
                                         JoinDone done) {
  if (!group.SupportsProtocols(request.protocol_type, request.protocols)) {
    return std::move(done)(JoinError(ErrorCode::kInconsistentGroupProtocol, ""));
  }
  if (group.members().size() + group.pending_members().size() >= options_.group_max_size) {
    return std::move(done)(JoinError(ErrorCode::kGroupMaxSizeReached, ""));
  }
  if (request.group_instance_id.has_value()) {
    const std::string new_id = NewMemberId(*request.group_instance_id);
    if (const std::string* old = group.StaticMember(*request.group_instance_id)) {
      request.member_id = new_id;
      // A copy: the replacement overwrites the map entry `old` points to.
      const std::string old_id = *old;
      return JoinStaticMember(shard, group, old_id, std::move(request), std::move(done));
    }
    return AddMemberAndRebalance(shard, group, new_id, std::move(request), std::move(done));
  }
  const std::string new_id = NewMemberId(request.client_id);
  if (request.require_known_member_id) {
    // KIP-394: the member id is handed out first, and counts from the member's next join.
    group.pending_members()[new_id] =
        clock_.Now() + Duration::Milliseconds(request.session_timeout_ms);
    return std::move(done)(JoinError(ErrorCode::kMemberIdRequired, new_id));
  }
  AddMemberAndRebalance(shard, group, new_id, std::move(request), std::move(done));
}

void GroupCoordinator::JoinKnownMember(Shard& shard, ClassicGroup& group, JoinRequest request,
                                       JoinDone done) {
  const std::string member_id = request.member_id;
  if (group.pending_members().contains(member_id)) {
    if (!group.SupportsProtocols(request.protocol_type, request.protocols)) {
      return std::move(done)(JoinError(ErrorCode::kInconsistentGroupProtocol, member_id));
    }
    return AddMemberAndRebalance(shard, group, member_id, std::move(request), std::move(done));
  }
  if (group.IsFencedStatic(request.group_instance_id, member_id)) {
    return std::move(done)(JoinError(ErrorCode::kFencedInstanceId, member_id));
  }
  GroupMember* member = group.Find(member_id);
  if (member == nullptr) {
    return std::move(done)(JoinError(ErrorCode::kUnknownMemberId, member_id));
  }
  if (!group.SupportsProtocols(request.protocol_type, request.protocols)) {
    return std::move(done)(JoinError(ErrorCode::kInconsistentGroupProtocol, member_id));
  }
  const bool same_protocols = member->protocols == request.protocols;
  switch (group.state()) {
    case GroupState::kPreparingRebalance:
      return UpdateMemberAndRebalance(shard, group, *member, std::move(request), std::move(done));
    case GroupState::kCompletingRebalance:
      if (same_protocols) return std::move(done)(CurrentJoinOutcome(group, member_id));
      return UpdateMemberAndRebalance(shard, group, *member, std::move(request), std::move(done));
    case GroupState::kStable:
      if (same_protocols && group.leader() != member_id) {
        member->heartbeat_deadline =
            clock_.Now() + Duration::Milliseconds(member->session_timeout_ms);
        return std::move(done)(CurrentJoinOutcome(group, member_id));
      }
      return UpdateMemberAndRebalance(shard, group, *member, std::move(request), std::move(done));
    case GroupState::kEmpty:
    case GroupState::kDead:
      return std::move(done)(JoinError(ErrorCode::kUnknownMemberId, member_id));
  }
}

// KIP-345: a static member that restarts takes its old place under a new member id; the old
// id is fenced. A Stable group does not rebalance for a follower whose protocols are unchanged
// (the new id is written first, so a failover keeps the fence).
void GroupCoordinator::JoinStaticMember(Shard& shard, ClassicGroup& group,
                                        const std::string& old_id, JoinRequest request,
                                        JoinDone done) {
  GroupMember* old = group.Find(old_id);
  EDDY_CHECK(old != nullptr);
  if (old->awaiting_join) {
    std::move(old->awaiting_join)(JoinError(ErrorCode::kFencedInstanceId, old_id));
  }
  if (old->awaiting_sync) std::move(old->awaiting_sync)(SyncError(ErrorCode::kFencedInstanceId));
  const bool same_protocols = old->protocols == request.protocols;
  const bool was_leader = group.leader() == old_id;
  const std::string new_id = request.member_id;
  group.ReplaceStaticMember(old_id, new_id);
  GroupMember& member = *group.Find(new_id);
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  if (group.state() != GroupState::kStable || !same_protocols || was_leader) {
    return UpdateMemberAndRebalance(shard, group, member, std::move(request), std::move(done));
  }
  member.heartbeat_deadline = clock_.Now() + Duration::Milliseconds(member.session_timeout_ms);
  const int32_t generation = group.generation();
  WriteMetadata(shard, group,
                [this, group_id = group.id(), new_id, generation, done = std::move(done)](
                    Shard* shard, ErrorCode error) mutable {
                  if (shard == nullptr) {
                    return std::move(done)(JoinError(ErrorCode::kNotCoordinator, new_id));
                  }
                  auto it = shard->groups.find(group_id);
                  if (it == shard->groups.end() || it->second.Find(new_id) == nullptr) {
                    return std::move(done)(JoinError(ErrorCode::kUnknownMemberId, new_id));
                  }
                  if (error != ErrorCode::kNone) return std::move(done)(JoinError(error, new_id));
                  JoinOutcome outcome = CurrentJoinOutcome(it->second, new_id);
                  outcome.generation = generation == it->second.generation()
                                           ? generation
                                           : it->second.generation();
                  std::move(done)(std::move(outcome));
                });
}

void GroupCoordinator::AddMemberAndRebalance(Shard& shard, ClassicGroup& group,
                                             const std::string& member_id, JoinRequest request,
                                             JoinDone done) {
  GroupMember member;
  member.member_id = member_id;
  member.group_instance_id = request.group_instance_id;
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  member.protocols = std::move(request.protocols);
  member.awaiting_join = std::move(done);
  member.heartbeat_deadline = clock_.Now() + Duration::Milliseconds(request.session_timeout_ms);
  if (group.members().empty()) group.set_protocol_type(request.protocol_type);
  group.Add(std::move(member));
  if (group.state() == GroupState::kPreparingRebalance && group.initial_delay) {
    group.new_member_in_delay = true;
  }
  if (group.state() == GroupState::kPreparingRebalance) return MaybeCompleteJoin(shard, group);
  PrepareRebalance(shard, group);
}

void GroupCoordinator::UpdateMemberAndRebalance(Shard& shard, ClassicGroup& group,
                                                GroupMember& member, JoinRequest request,
                                                JoinDone done) {
  if (member.awaiting_join) {
    // A repeated JoinGroup replaces the one waiting; that one is answered (in order).
    std::move(member.awaiting_join)(JoinError(ErrorCode::kRebalanceInProgress, member.member_id));
  }
  member.protocols = std::move(request.protocols);
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  member.awaiting_join = std::move(done);
  if (group.state() == GroupState::kPreparingRebalance) return MaybeCompleteJoin(shard, group);
  PrepareRebalance(shard, group);
}

JoinOutcome GroupCoordinator::CurrentJoinOutcome(const ClassicGroup& group,
                                                 const std::string& member_id) const {
  JoinOutcome outcome;
  outcome.generation = group.generation();
  outcome.protocol_type = group.protocol_type();
  outcome.protocol = group.protocol();
  outcome.leader = group.leader();
  outcome.member_id = member_id;
  if (group.leader() == member_id && group.state() != GroupState::kStable) {
    for (const auto& [id, m] : group.members()) {
      outcome.members.push_back(
          {id, m.group_instance_id, m.MetadataFor(group.protocol().value_or(""))});
    }
  }
  return outcome;
}

void GroupCoordinator::PrepareRebalance(Shard& shard, ClassicGroup& group) {
  EDDY_CHECK(group.state() != GroupState::kDead);
  EDDY_CHECK(group.state() != GroupState::kPreparingRebalance);
  if (group.state() == GroupState::kCompletingRebalance) {
    ResetAssignments(group, ErrorCode::kRebalanceInProgress);
  }
  const bool initial = group.state() == GroupState::kEmpty;
  group.TransitionTo(GroupState::kPreparingRebalance, WallNowMs());
  ++stats_.rebalances;
  const int32_t timeout_ms = group.RebalanceTimeoutMs();
  group.new_member_in_delay = false;
  group.initial_delay = initial;
  if (initial) {
    const int32_t delay_ms = std::min(options_.initial_rebalance_delay_ms, timeout_ms);
    group.initial_delay_remaining_ms = std::max(timeout_ms - delay_ms, 0);
    group.join_deadline = clock_.Now() + Duration::Milliseconds(delay_ms);
    return;
  }
  group.join_deadline = clock_.Now() + Duration::Milliseconds(timeout_ms);
  MaybeCompleteJoin(shard, group);
}

void GroupCoordinator::MaybeCompleteJoin(Shard& shard, ClassicGroup& group) {
  if (group.state() == GroupState::kPreparingRebalance && !group.initial_delay &&
      group.AllJoined()) {
    CompleteJoin(shard, group);
  }
}

void GroupCoordinator::CompleteJoin(Shard& shard, ClassicGroup& group) {
  EDDY_CHECK(group.state() == GroupState::kPreparingRebalance);
  std::vector<std::string> missing;
  for (const auto& [id, m] : group.members()) {
    if (!m.awaiting_join) missing.push_back(id);
  }
  for (const std::string& id : missing) group.Remove(id);  // did not rejoin in time
  group.initial_delay = false;
  group.InitNextGeneration(WallNowMs());
  ++stats_.generations;
  if (group.state() == GroupState::kEmpty) {
    // The emptied group is written, so a failover does not bring its old members back.
    WriteMetadata(shard, group, [](Shard*, ErrorCode) {});
    return;
  }
  const Instant now = clock_.Now();
  // Members must send SyncGroup within the rebalance timeout.
  group.join_deadline = now + Duration::Milliseconds(group.RebalanceTimeoutMs());
  std::vector<std::pair<JoinDone, JoinOutcome>> answers;
  for (auto& [id, m] : group.members()) {
    m.heartbeat_deadline = now + Duration::Milliseconds(m.session_timeout_ms);
    answers.emplace_back(std::move(m.awaiting_join), CurrentJoinOutcome(group, id));
    m.awaiting_join = nullptr;
  }
  for (auto& [done, outcome] : answers) std::move(done)(std::move(outcome));
}

void GroupCoordinator::SyncGroup(int32_t partition, SyncRequest request, SyncDone done) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(request.group_id);
  if (it == shard.groups.end()) return std::move(done)(SyncError(ErrorCode::kUnknownMemberId));
  ClassicGroup& group = it->second;
  if (group.state() == GroupState::kDead) {
    return std::move(done)(SyncError(ErrorCode::kCoordinatorNotAvailable));
  }
  const MemberRef ref{request.group_id, request.generation, request.member_id,
                      request.group_instance_id};
  if (ErrorCode e = ValidateMember(group, ref); e != ErrorCode::kNone) {
    return std::move(done)(SyncError(e));
  }
  if ((request.protocol_type.has_value() && *request.protocol_type != group.protocol_type()) ||
      (request.protocol.has_value() && request.protocol != group.protocol())) {
    return std::move(done)(SyncError(ErrorCode::kInconsistentGroupProtocol));
  }
  GroupMember& member = *group.Find(request.member_id);
  switch (group.state()) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return std::move(done)(SyncError(ErrorCode::kUnknownMemberId));
    case GroupState::kPreparingRebalance:
      return std::move(done)(SyncError(ErrorCode::kRebalanceInProgress));
    case GroupState::kStable:
      return std::move(done)(
          SyncOutcome{ErrorCode::kNone, group.protocol_type(), group.protocol(),
                      member.assignment});
    case GroupState::kCompletingRebalance:
      break;
  }
  if (member.awaiting_sync) {
    std::move(member.awaiting_sync)(SyncError(ErrorCode::kRebalanceInProgress));
  }
  member.awaiting_sync = std::move(done);
  if (group.leader() == request.member_id) OnSyncFromLeader(shard, group, request);
}

void GroupCoordinator::OnSyncFromLeader(Shard& shard, ClassicGroup& group,
                                        const SyncRequest& request) {
  GroupMetadataValue value = group.ToValue();
  std::map<std::string, std::string> assignments;
  for (MemberValue& m : *value.mutable_members()) {
    auto a = request.assignments.find(m.member_id());
    m.set_assignment(a == request.assignments.end() ? std::string() : a->second);
    assignments[m.member_id()] = m.assignment();
  }
  std::vector<GroupLogRecord> records;
  records.push_back(MetadataRecord(group.id(), value));
  Write(shard, std::move(records),
        [this, group_id = group.id(), generation = group.generation(),
         assignments = std::move(assignments)](Shard* shard, ErrorCode error) mutable {
          if (shard == nullptr) return;  // unloaded: every waiting sync was answered
          auto it = shard->groups.find(group_id);
          if (it == shard->groups.end()) return;
          ClassicGroup& group = it->second;
          if (group.state() != GroupState::kCompletingRebalance ||
              group.generation() != generation) {
            return;  // a newer rebalance answered the waiting syncs
          }
          if (error != ErrorCode::kNone) {
            ResetAssignments(group, error);
            return PrepareRebalance(*shard, group);
          }
          std::vector<std::pair<SyncDone, SyncOutcome>> answers;
          for (auto& [id, m] : group.members()) {
            m.assignment = assignments[id];
            if (options_.planted_bug == GroupBug::kDoubleAssign) {
              m.assignment = assignments[group.leader()];  // PLANTED BUG: everyone the leader's
            }
            if (m.awaiting_sync) {
              answers.emplace_back(std::move(m.awaiting_sync),
                                   SyncOutcome{ErrorCode::kNone, group.protocol_type(),
                                               group.protocol(), m.assignment});
              m.awaiting_sync = nullptr;
            }
          }
          group.TransitionTo(GroupState::kStable, WallNowMs());
          for (auto& [done, outcome] : answers) std::move(done)(std::move(outcome));
        });
}

void GroupCoordinator::ResetAssignments(ClassicGroup& group, ErrorCode error) {
  std::vector<SyncDone> answers;
  for (auto& [id, m] : group.members()) {
    m.assignment.clear();
    if (m.awaiting_sync) {
      answers.push_back(std::move(m.awaiting_sync));
      m.awaiting_sync = nullptr;
    }
  }
  for (SyncDone& done : answers) std::move(done)(SyncError(error));
}

ErrorCode GroupCoordinator::ValidateMember(const ClassicGroup& group,
                                           const MemberRef& member) const {
  if (group.IsFencedStatic(member.group_instance_id, member.member_id)) {
    return ErrorCode::kFencedInstanceId;
  }
  if (!group.members().contains(member.member_id)) return ErrorCode::kUnknownMemberId;
  if (member.generation != group.generation()) return ErrorCode::kIllegalGeneration;
  return ErrorCode::kNone;
}

ErrorCode GroupCoordinator::Heartbeat(int32_t partition, const MemberRef& ref) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(ref.group_id);
  if (it == shard.groups.end()) return ErrorCode::kUnknownMemberId;
  ClassicGroup& group = it->second;
  if (group.state() == GroupState::kDead) return ErrorCode::kCoordinatorNotAvailable;
  if (ErrorCode e = ValidateMember(group, ref); e != ErrorCode::kNone) return e;
  GroupMember& member = *group.Find(ref.member_id);
  member.heartbeat_deadline = clock_.Now() + Duration::Milliseconds(member.session_timeout_ms);
  switch (group.state()) {
    case GroupState::kPreparingRebalance:
      return ErrorCode::kRebalanceInProgress;
    case GroupState::kEmpty:
    case GroupState::kDead:
      return ErrorCode::kUnknownMemberId;
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      return ErrorCode::kNone;
  }
  return ErrorCode::kNone;
}

std::pair<ErrorCode, std::vector<ErrorCode>> GroupCoordinator::LeaveGroup(
    int32_t partition, const std::string& group_id, const std::vector<LeavingMember>& members) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(group_id);
  if (it == shard.groups.end()) {
    return {ErrorCode::kUnknownMemberId,
            std::vector<ErrorCode>(members.size(), ErrorCode::kUnknownMemberId)};
  }
  ClassicGroup& group = it->second;
  if (group.state() == GroupState::kDead) {
    return {ErrorCode::kCoordinatorNotAvailable,
            std::vector<ErrorCode>(members.size(), ErrorCode::kCoordinatorNotAvailable)};
  }
  std::vector<ErrorCode> errors;
  for (const LeavingMember& m : members) {
    std::string id = m.member_id;
    if (id.empty() && m.group_instance_id.has_value()) {
      const std::string* holder = group.StaticMember(*m.group_instance_id);
      if (holder != nullptr) id = *holder;
    }
    if (group.pending_members().erase(id) > 0) {
      errors.push_back(ErrorCode::kNone);
      MaybeCompleteJoin(shard, group);
    } else if (!m.member_id.empty() && group.IsFencedStatic(m.group_instance_id, m.member_id)) {
      errors.push_back(ErrorCode::kFencedInstanceId);
    } else if (id.empty() || group.Find(id) == nullptr) {
      errors.push_back(ErrorCode::kUnknownMemberId);
    } else {
      errors.push_back(ErrorCode::kNone);
      RemoveMember(shard, group, id, ErrorCode::kUnknownMemberId);
    }
  }
  return {ErrorCode::kNone, std::move(errors)};
}

void GroupCoordinator::RemoveMember(Shard& shard, ClassicGroup& group,
                                    const std::string& member_id, ErrorCode answer) {
  GroupMember* member = group.Find(member_id);
  EDDY_CHECK(member != nullptr);
  JoinDone join = std::move(member->awaiting_join);
  SyncDone sync = std::move(member->awaiting_sync);
  group.Remove(member_id);
  if (join) std::move(join)(JoinError(answer, member_id));
  if (sync) std::move(sync)(SyncError(answer));
  switch (group.state()) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      return PrepareRebalance(shard, group);
    case GroupState::kPreparingRebalance:
      return MaybeCompleteJoin(shard, group);
    case GroupState::kEmpty:
    case GroupState::kDead:
      return;
  }
}

void GroupCoordinator::TickGroup(Shard& shard, ClassicGroup& group, Instant now) {
  if (group.state() == GroupState::kDead) return;
  std::vector<std::string> expired_pending;
  for (const auto& [id, deadline] : group.pending_members()) {
    if (deadline <= now) expired_pending.push_back(id);
  }
  for (const std::string& id : expired_pending) group.pending_members().erase(id);
  if (!expired_pending.empty()) MaybeCompleteJoin(shard, group);
  if (group.state() == GroupState::kPreparingRebalance && group.join_deadline <= now) {
    OnJoinDeadline(shard, group);
  }
  std::vector<std::string> expired;
  for (const auto& [id, m] : group.members()) {
    const bool waiting = static_cast<bool>(m.awaiting_join) || static_cast<bool>(m.awaiting_sync);
    const bool unsynced = group.state() == GroupState::kCompletingRebalance &&
                          !m.awaiting_sync && group.join_deadline <= now;
    if ((!waiting && m.heartbeat_deadline <= now) || unsynced) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    if (group.Find(id) == nullptr) continue;
    ++stats_.members_expired;
    RemoveMember(shard, group, id, ErrorCode::kUnknownMemberId);
  }
}

void GroupCoordinator::OnJoinDeadline(Shard& shard, ClassicGroup& group) {
  if (group.initial_delay && group.new_member_in_delay && group.initial_delay_remaining_ms > 0) {
    // KIP-134: members still arriving extend the first join, up to the rebalance timeout.
    group.new_member_in_delay = false;
    const int32_t delay_ms =
        std::min(options_.initial_rebalance_delay_ms, static_cast<int32_t>(
                                                          group.initial_delay_remaining_ms));
    group.initial_delay_remaining_ms = std::max<int64_t>(
        group.initial_delay_remaining_ms - options_.initial_rebalance_delay_ms, 0);
    group.join_deadline = clock_.Now() + Duration::Milliseconds(delay_ms);
    return;
  }
  CompleteJoin(shard, group);
}

}  // namespace eddy::group
