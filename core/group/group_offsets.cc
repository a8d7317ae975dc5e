// Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and expiry (README.md).
#include <set>
#include <utility>

#include "core/base/check.h"
#include "core/group/group_coordinator.h"
#include "core/group/subscription_topics.h"

namespace eddy::group {

using kafka::ErrorCode;

// Kafka's order of checks (GroupCoordinator.doCommitOffsets).
ErrorCode GroupCoordinator::ValidateCommit(ClassicGroup* group, const MemberRef& member) const {
  if (group == nullptr) {
    return member.generation < 0 ? ErrorCode::kNone : ErrorCode::kUnknownMemberId;
  }
  if (group->state() == GroupState::kDead) return ErrorCode::kCoordinatorNotAvailable;
  if (member.generation < 0 && group->state() == GroupState::kEmpty) return ErrorCode::kNone;
  if (group->IsFencedStatic(member.group_instance_id, member.member_id)) {
    return ErrorCode::kFencedInstanceId;
  }
  if (!group->members().contains(member.member_id)) return ErrorCode::kUnknownMemberId;
  if (options_.planted_bug == GroupBug::kAcceptStaleCommit) return ErrorCode::kNone;  // PLANTED
  if (member.generation != group->generation()) return ErrorCode::kIllegalGeneration;
  if (group->state() == GroupState::kCompletingRebalance) return ErrorCode::kRebalanceInProgress;
  return ErrorCode::kNone;
}

void GroupCoordinator::CommitOffsets(int32_t partition, CommitRequest request, CommitDone done) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(request.member.group_id);
  ClassicGroup* group = it == shard.groups.end() ? nullptr : &it->second;
  const ErrorCode refused = ValidateCommit(group, request.member);
  if (refused != ErrorCode::kNone) {
    ++stats_.commits_refused;
    return std::move(done)(std::vector<ErrorCode>(request.partitions.size(), refused));
  }
  if (group == nullptr) group = &GroupOf(shard, request.member.group_id);  // a simple group
  if (GroupMember* member = group->Find(request.member.member_id); member != nullptr) {
    member->heartbeat_deadline = clock_.Now() + Duration::Milliseconds(member->session_timeout_ms);
  }
  std::vector<ErrorCode> errors(request.partitions.size(), ErrorCode::kNone);
  std::vector<size_t> written;
  std::vector<GroupLogRecord> records;
  const int64_t now_ms = WallNowMs();
  for (size_t i = 0; i < request.partitions.size(); ++i) {
    const CommitRequest::Partition& p = request.partitions[i];
    if (p.metadata.has_value() && p.metadata->size() > options_.offset_metadata_max_bytes) {
      errors[i] = ErrorCode::kOffsetMetadataTooLarge;
    } else if (!log_.PartitionExists(p.tp.topic, p.tp.partition)) {
      errors[i] = ErrorCode::kUnknownTopicOrPartition;
    } else {
      OffsetValue value;
      value.set_offset(p.offset);
      value.set_leader_epoch(p.leader_epoch);
      value.set_metadata(p.metadata.value_or(""));
      value.set_metadata_null(!p.metadata.has_value());
      value.set_commit_timestamp_ms(now_ms);
      records.push_back(OffsetRecord(request.member.group_id, p.tp, value));
      written.push_back(i);
    }
  }
  if (records.empty()) return std::move(done)(std::move(errors));
  ++stats_.commits_accepted;
  Write(shard, std::move(records),
        [errors = std::move(errors), written = std::move(written), done = std::move(done)](
            Shard* shard, ErrorCode error) mutable {
          if (shard == nullptr) error = ErrorCode::kNotCoordinator;
          for (size_t i : written) errors[i] = error;
          std::move(done)(std::move(errors));
        });
}

std::vector<FetchedOffset> GroupCoordinator::FetchOffsets(
    int32_t partition, const std::string& group_id,
    const std::optional<std::vector<TopicPartition>>& partitions) {
  std::vector<FetchedOffset> out;
  const GroupStore* store = log_.Store(partition);
  const StoredGroup* stored = store == nullptr ? nullptr : store->Find(group_id);
  const Shard& shard = ShardOf(partition);
  // Planted bug kLoseOffsetsOnFailover: an offset unchanged since the load is not seen.
  const auto hidden = [&](const TopicPartition& tp, const OffsetValue& value) {
    auto it = shard.forgotten.find({group_id, tp});
    return it != shard.forgotten.end() && it->second == value.offset();
  };
  if (!partitions.has_value()) {
    if (stored == nullptr) return out;
    for (const auto& [tp, value] : stored->offsets) {
      if (!hidden(tp, value)) out.push_back(FetchedOffset{tp, value});
    }
    return out;
  }
  for (const TopicPartition& tp : *partitions) {
    FetchedOffset f{tp, std::nullopt};
    if (stored != nullptr) {
      auto it = stored->offsets.find(tp);
      if (it != stored->offsets.end() && !hidden(tp, it->second)) f.value = it->second;
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Kafka's rule (KIP-211): the offsets of a group with members never expire; those of an
// emptied consumer group expire together, retention after it emptied; those of a group that
// only commits (no protocol type) each retention after its commit.
void GroupCoordinator::ExpireOffsets(Shard& shard) {
  const GroupStore* store = log_.Store(shard.partition);
  if (store == nullptr) return;
  const int64_t now_ms = WallNowMs();
  for (auto& [id, group] : shard.groups) {
    if (group.state() != GroupState::kEmpty) continue;
    const StoredGroup* stored = store->Find(id);
    if (stored == nullptr) continue;
    std::vector<GroupLogRecord> records;
    for (const auto& [tp, value] : stored->offsets) {
      const int64_t base_ms = group.protocol_type().empty() ? value.commit_timestamp_ms()
                                                            : group.state_timestamp_ms();
      if (base_ms + options_.offsets_retention_ms <= now_ms) {
        records.push_back(OffsetTombstone(id, tp));
      }
    }
    if (records.empty()) continue;
    stats_.offsets_expired += records.size();
    if (records.size() == stored->offsets.size()) {
      // Nothing left: the group goes too, as Kafka removes an empty group without offsets.
      records.push_back(MetadataTombstone(id));
      group.TransitionTo(GroupState::kDead, now_ms);
    }
    Write(shard, std::move(records), [id](Shard* shard, ErrorCode) {
      if (shard == nullptr) return;
      auto it = shard->groups.find(id);
      if (it != shard->groups.end() && it->second.state() == GroupState::kDead) {
        shard->groups.erase(it);
      }
    });
  }
}

void GroupCoordinator::DeleteOffsets(int32_t partition, const std::string& group_id,
                                     std::vector<TopicPartition> partitions,
                                     DeleteOffsetsDone done) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(group_id);
  if (it == shard.groups.end() || it->second.state() == GroupState::kDead) {
    return std::move(done)(ErrorCode::kGroupIdNotFound, {});
  }
  ClassicGroup& group = it->second;
  std::set<std::string> subscribed;
  if (group.state() != GroupState::kEmpty) {
    if (group.protocol_type() != "consumer") return std::move(done)(ErrorCode::kNonEmptyGroup, {});
    for (const auto& [id, m] : group.members()) {
      std::optional<std::vector<std::string>> topics =
          SubscriptionTopics(m.MetadataFor(group.protocol().value_or("")));
      if (!topics.has_value()) return std::move(done)(ErrorCode::kNonEmptyGroup, {});
      subscribed.insert(topics->begin(), topics->end());
    }
  }
  std::vector<ErrorCode> errors(partitions.size(), ErrorCode::kNone);
  std::vector<size_t> written;
  std::vector<GroupLogRecord> records;
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (subscribed.contains(partitions[i].topic)) {
      errors[i] = ErrorCode::kGroupSubscribedToTopic;
      continue;
    }
    records.push_back(OffsetTombstone(group_id, partitions[i]));
    written.push_back(i);
  }
  if (records.empty()) return std::move(done)(ErrorCode::kNone, std::move(errors));
  Write(shard, std::move(records),
        [errors = std::move(errors), written = std::move(written), done = std::move(done)](
            Shard* shard, ErrorCode error) mutable {
          if (shard == nullptr) return std::move(done)(ErrorCode::kNotCoordinator, {});
          if (error != ErrorCode::kNone) return std::move(done)(error, {});
          std::move(done)(ErrorCode::kNone, std::move(errors));
        });
}

}  // namespace eddy::group
