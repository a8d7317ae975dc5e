#include "core/group/group_coordinator.h"

#include <utility>

#include "core/base/check.h"

namespace eddy::group {

using kafka::ErrorCode;

GroupCoordinator::GroupCoordinator(runtime::Clock& clock, runtime::WallClock& wall_clock,
                                   Random& random, GroupLog& log, CoordinatorOptions options)
    : clock_(clock), wall_clock_(wall_clock), random_(random), log_(log), options_(options) {
  EDDY_CHECK_GT(options_.group_max_size, 0u);
  EDDY_CHECK_LE(options_.min_session_timeout_ms, options_.max_session_timeout_ms);
}

GroupCoordinator::~GroupCoordinator() {
  *alive_ = false;
  if (tick_timer_ != runtime::kNoTimer) clock_.Cancel(tick_timer_);
}

void GroupCoordinator::Load(int32_t partition, uint64_t term) {
  Unload(partition);
  Shard& shard = shards_[partition];
  shard.partition = partition;
  shard.term = term;
  shard.load_id = next_load_id_++;
  const Instant now = clock_.Now();
  if (const GroupStore* store = log_.Store(partition); store != nullptr) {
    for (const auto& [id, stored] : store->groups()) {
      if (options_.planted_bug == GroupBug::kLoseOffsetsOnFailover && term > 1) {
        // PLANTED BUG: what earlier coordinators committed is not served.
        for (const auto& [tp, value] : stored.offsets) shard.forgotten[{id, tp}] = value.offset();
      }
      if (stored.metadata.has_value()) {
        shard.groups.emplace(id, ClassicGroup::FromValue(id, *stored.metadata, now));
      } else {
        shard.groups.emplace(id, ClassicGroup(id, WallNowMs()));
      }
    }
  }
  if (next_expiry_check_ == Instant()) {
    next_expiry_check_ = now + Duration::Milliseconds(options_.offsets_retention_check_interval_ms);
  }
  ScheduleTick();
}

void GroupCoordinator::Unload(int32_t partition) {
  auto it = shards_.find(partition);
  if (it == shards_.end()) return;
  Shard shard = std::move(it->second);
  shards_.erase(it);
  // Answered after the shard is gone, so nothing they trigger can find it.
  for (auto& [id, group] : shard.groups) {
    for (auto& [member_id, member] : group.members()) {
      if (member.awaiting_join) {
        std::move(member.awaiting_join)(JoinOutcome::Error(ErrorCode::kNotCoordinator, member_id));
      }
      if (member.awaiting_sync) {
        std::move(member.awaiting_sync)(SyncOutcome::Error(ErrorCode::kNotCoordinator));
      }
    }
  }
}

std::optional<uint64_t> GroupCoordinator::LoadedTerm(int32_t partition) const {
  auto it = shards_.find(partition);
  if (it == shards_.end()) return std::nullopt;
  return it->second.term;
}

GroupCoordinator::Shard& GroupCoordinator::ShardOf(int32_t partition) {
  auto it = shards_.find(partition);
  EDDY_CHECK(it != shards_.end());
  return it->second;
}

GroupCoordinator::Shard* GroupCoordinator::FindLoad(int32_t partition, uint64_t load_id) {
  auto it = shards_.find(partition);
  if (it == shards_.end() || it->second.load_id != load_id) return nullptr;
  return &it->second;
}

ClassicGroup& GroupCoordinator::GroupOf(Shard& shard, const std::string& group_id) {
  auto it = shard.groups.find(group_id);
  if (it == shard.groups.end()) {
    it = shard.groups.emplace(group_id, ClassicGroup(group_id, WallNowMs())).first;
  }
  return it->second;
}

const ClassicGroup* GroupCoordinator::group(int32_t partition,
                                            const std::string& group_id) const {
  auto s = shards_.find(partition);
  if (s == shards_.end()) return nullptr;
  auto g = s->second.groups.find(group_id);
  return g == s->second.groups.end() ? nullptr : &g->second;
}

void GroupCoordinator::Write(Shard& shard, std::vector<GroupLogRecord> records,
                             ShardWriteDone done) {
  const int32_t partition = shard.partition;
  const uint64_t load_id = shard.load_id;
  auto finish = [this, alive = alive_, partition, load_id, done = std::move(done)](
                    ErrorCode error) mutable {
    if (!*alive) return;
    if (error != ErrorCode::kNone) ++stats_.writes_failed;
    std::move(done)(FindLoad(partition, load_id), error);
  };
  absl::StatusOr<std::vector<uint8_t>> batch = EncodeGroupBatch(records, WallNowMs());
  if (!batch.ok()) {
    clock_.Post([finish = std::move(finish)]() mutable {
      std::move(finish)(ErrorCode::kInvalidCommitOffsetSize);
    });
    return;
  }
  log_.Write(partition, shard.term, *std::move(batch), std::move(finish));
}

void GroupCoordinator::WriteMetadata(Shard& shard, const ClassicGroup& group,
                                     ShardWriteDone done) {
  std::vector<GroupLogRecord> records;
  records.push_back(MetadataRecord(group.id(), group.ToValue()));
  Write(shard, std::move(records), std::move(done));
}

void GroupCoordinator::ScheduleTick() {
  if (tick_timer_ != runtime::kNoTimer || shards_.empty()) return;
  tick_timer_ = clock_.ScheduleAfter(kTickInterval, [this, alive = alive_] {
    if (!*alive) return;
    tick_timer_ = runtime::kNoTimer;
    Tick();
    ScheduleTick();
  });
}

void GroupCoordinator::Tick() {
  const Instant now = clock_.Now();
  const bool expire = now >= next_expiry_check_;
  if (expire) {
    next_expiry_check_ = now + Duration::Milliseconds(options_.offsets_retention_check_interval_ms);
  }
  for (auto& [partition, shard] : shards_) {
    for (auto& [id, group] : shard.groups) TickGroup(shard, group, now);
    if (expire) ExpireOffsets(shard);
  }
}

GroupDescription GroupCoordinator::Describe(int32_t partition, const std::string& group_id) {
  GroupDescription d;
  d.group_id = group_id;
  const ClassicGroup* g = group(partition, group_id);
  if (g == nullptr) return d;  // Dead, as Kafka describes a group it does not know
  d.state = g->state();
  d.protocol_type = g->protocol_type();
  d.protocol = g->protocol().value_or("");
  const bool stable = g->state() == GroupState::kStable;
  for (const auto& [id, m] : g->members()) {
    GroupDescription::Member member{id, m.group_instance_id, m.client_id, m.client_host, {}, {}};
    if (stable) {
      member.metadata = m.MetadataFor(d.protocol);
      member.assignment = m.assignment;
    }
    d.members.push_back(std::move(member));
  }
  return d;
}

std::vector<std::tuple<std::string, std::string, GroupState>> GroupCoordinator::List(
    int32_t partition) const {
  std::vector<std::tuple<std::string, std::string, GroupState>> out;
  auto s = shards_.find(partition);
  if (s == shards_.end()) return out;
  for (const auto& [id, g] : s->second.groups) {
    if (g.state() != GroupState::kDead) out.emplace_back(id, g.protocol_type(), g.state());
  }
  return out;
}

void GroupCoordinator::DeleteGroup(int32_t partition, const std::string& group_id,
                                   absl::AnyInvocable<void(ErrorCode) &&> done) {
  Shard& shard = ShardOf(partition);
  auto it = shard.groups.find(group_id);
  if (it == shard.groups.end() || it->second.state() == GroupState::kDead) {
    return std::move(done)(ErrorCode::kGroupIdNotFound);
  }
  if (it->second.state() != GroupState::kEmpty) return std::move(done)(ErrorCode::kNonEmptyGroup);
  std::vector<GroupLogRecord> records;
  records.push_back(MetadataTombstone(group_id));
  if (const GroupStore* store = log_.Store(partition); store != nullptr) {
    if (const StoredGroup* stored = store->Find(group_id); stored != nullptr) {
      for (const auto& [tp, value] : stored->offsets) {
        records.push_back(OffsetTombstone(group_id, tp));
      }
    }
  }
  it->second.TransitionTo(GroupState::kDead, WallNowMs());
  Write(shard, std::move(records),
        [group_id, done = std::move(done)](Shard* shard, ErrorCode error) mutable {
          if (shard == nullptr) return std::move(done)(ErrorCode::kNotCoordinator);
          // Gone from memory either way: a failed write leaves the store as it was, and the
          // group comes back from it on the next load.
          shard->groups.erase(group_id);
          std::move(done)(error);
        });
}

}  // namespace eddy::group
