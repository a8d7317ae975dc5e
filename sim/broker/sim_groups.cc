#include "sim/broker/sim_groups.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::sim::broker {

namespace {

// Each group runs another assignor (all with eager rebalances).
const char* const kAssignors[] = {"range", "roundrobin", "cooperative-sticky"};

clients::TopicPartition ToClient(const PartitionKey& p) { return {p.first, p.second}; }
PartitionKey FromClient(const clients::TopicPartition& tp) { return {tp.topic, tp.partition}; }

}  // namespace

SimGroups::SimGroups(SimWorld& world, int groups, std::vector<std::string> topics,
                     const Topology& topology, const DataChecker& data, GroupChecker& checker,
                     GroupStats& stats, std::optional<std::string>* violation)
    : world_(world),
      client_(world.AddClient()),
      groups_(groups),
      topics_(std::move(topics)),
      topology_(topology),
      data_(data),
      checker_(checker),
      stats_(stats),
      violation_(violation) {}

SimGroups::~SimGroups() { *alive_ = false; }

void SimGroups::Violation(std::optional<std::string> v) {
  if (v.has_value() && !violation_->has_value()) *violation_ = std::move(v);
}

void SimGroups::Start() {
  churning_ = true;
  for (int g = 0; g < groups_; ++g) {
    for (int s = 0; s < kMembersPerGroup; ++s) StartMember(g, s);
  }
  ScheduleChurn();
}

void SimGroups::Stop() {
  churning_ = false;
  for (int g = 0; g < groups_; ++g) {
    for (int s = 0; s < kMembersPerGroup; ++s) {
      if (!members_.contains({g, s})) StartMember(g, s);
    }
  }
}

void SimGroups::ScheduleChurn() {
  const Duration delay = Duration::Milliseconds(static_cast<int64_t>(
      client_.random().Uniform(2 * kChurnIntervalMean.milliseconds()) + 1));
  client_.clock().ScheduleAfter(delay, [this, alive = alive_] {
    if (!*alive || !churning_) return;
    Churn();
    ScheduleChurn();
  });
}

// One member of one group changes: an empty slot starts one; a running member leaves (commit
// of nothing pending: commits follow processing), crashes (gone at once: the coordinator
// expires it; a static member's next incarnation takes its place), or stays.
void SimGroups::Churn() {
  Random& random = client_.random();
  const int g = static_cast<int>(random.Uniform(groups_));
  const int s = static_cast<int>(random.Uniform(kMembersPerGroup));
  auto it = members_.find({g, s});
  if (it == members_.end()) return StartMember(g, s);
  const uint64_t roll = random.Uniform(10);
  if (roll < 4) {
    ++stats_.members_left;
    std::unique_ptr<clients::Consumer> consumer = std::move(it->second->consumer);
    members_.erase(it);
    clients::Consumer* raw = consumer.get();
    leaving_.push_back(std::move(consumer));
    raw->Shutdown(Duration::Seconds(5), [this, alive = alive_, raw] {
      if (!*alive) return;
      // Destroyed later, outside its own callback.
      client_.clock().Post([this, alive, raw] {
        if (!*alive) return;
        std::erase_if(leaving_, [raw](const auto& c) { return c.get() == raw; });
      });
    });
  } else if (roll < 8) {
    ++stats_.members_crashed;
    members_.erase(it);
  }
}

void SimGroups::StartMember(int group, int slot) {
  clients::ConsumerOptions o;
  for (runtime::NodeId id : world_.node_ids()) o.bootstrap.push_back(world_.address(id));
  o.group_id = GroupId(group);
  // Slot 0 is a static member: it comes back under the same instance id.
  if (slot == 0) o.group_instance_id = absl::StrCat(GroupId(group), "-static");
  o.client_id = absl::StrCat(GroupId(group), "-", slot);
  o.auto_offset_reset = clients::OffsetResetPolicy::kEarliest;
  o.enable_auto_commit = false;  // commits follow processing (OnRecords)
  o.session_timeout = Duration::Seconds(6);
  o.heartbeat_interval = Duration::Seconds(1);
  o.max_poll_interval = Duration::Seconds(10);
  o.request_timeout = Duration::Seconds(10);
  o.fetch_max_wait = Duration::Milliseconds(200);
  o.metadata_max_age = Duration::Seconds(5);
  o.default_api_timeout = Duration::Seconds(30);
  o.partition_assignment_strategy = {kAssignors[group % 3]};
  absl::StatusOr<std::unique_ptr<clients::Consumer>> consumer =
      clients::Consumer::Create(client_, std::move(o));
  EDDY_CHECK_OK(consumer.status());
  auto member = std::make_unique<Member>();
  member->group = group;
  member->slot = slot;
  member->incarnation = next_incarnation_++;
  member->consumer = *std::move(consumer);
  Member* raw = member.get();
  clients::RebalanceListener listener;
  listener.on_assigned = [this, raw](const std::vector<clients::TopicPartition>& partitions) {
    OnAssigned(raw, partitions);
  };
  listener.on_revoked = [this, raw](const std::vector<clients::TopicPartition>& partitions) {
    std::map<clients::TopicPartition, int64_t> held;
    for (const auto& tp : partitions) {
      if (std::optional<int64_t> p = raw->consumer->Position(tp)) held[tp] = *p;
    }
    if (!held.empty() && client_.random().OneIn(3)) LateCommit(raw, std::move(held));
  };
  std::set<std::string> topics(topics_.begin(), topics_.end());
  EDDY_CHECK_OK(member->consumer->Subscribe(std::move(topics), std::move(listener)));
  members_[{group, slot}] = std::move(member);
  ++stats_.members_started;
  Poll(raw);
}

void SimGroups::Restart(int group, int slot) {
  ++stats_.members_failed;
  client_.clock().Post([this, alive = alive_, group, slot] {
    if (!*alive) return;
    members_.erase({group, slot});
    client_.clock().ScheduleAfter(Duration::Seconds(1), [this, alive, group, slot] {
      if (*alive && !members_.contains({group, slot})) StartMember(group, slot);
    });
  });
}

void SimGroups::LateCommit(Member* member, std::map<clients::TopicPartition, int64_t> offsets) {
  const clients::GroupMembership* m = member->consumer->membership();
  const Duration delay =
      Duration::Milliseconds(static_cast<int64_t>(500 + client_.random().Uniform(3000)));
  std::optional<std::string> instance;
  if (member->slot == 0) instance = absl::StrCat(GroupId(member->group), "-static");
  client_.clock().ScheduleAfter(
      delay, [this, alive = alive_, group = GroupId(member->group), generation = m->generation(),
              member_id = m->member_id(), instance, offsets = std::move(offsets),
              member_alive = member->alive, member]() mutable {
        if (!*alive) return;
        SendLateCommit(group, generation, std::move(member_id), std::move(instance),
                       std::move(offsets), std::move(member_alive), member);
      });
}

void SimGroups::SendLateCommit(const std::string& group, int32_t generation,
                               std::string member_id, std::optional<std::string> instance_id,
                               std::map<clients::TopicPartition, int64_t> offsets,
                               std::shared_ptr<bool> member_alive, Member* member) {
  const uint64_t id = next_late_++;
  const runtime::NodeId via =
      world_.node_ids()[client_.random().Uniform(world_.node_ids().size())];
  auto& lookup = late_connections_[id];
  lookup = std::make_unique<clients::BrokerConnection>(client_, world_.address(via));
  kafka::FindCoordinatorRequest find;
  find.key = group;
  lookup->Call<kafka::FindCoordinatorRequest, kafka::FindCoordinatorResponse>(
      find, 3,
      [this, alive = alive_, id, group, generation, member_id, instance_id, offsets, member_alive,
       member](auto found) mutable {
        if (!*alive) return;
        if (!found.ok() || found->response.error_code != 0) {
          client_.clock().Post([this, alive, id] {
            if (*alive) late_connections_.erase(id);
          });
          return;
        }
        kafka::OffsetCommitRequest r;
        r.group_id = group;
        r.generation_id = generation;
        r.member_id = member_id;
        r.group_instance_id = instance_id;
        for (const auto& [tp, offset] : offsets) {
          if (r.topics.empty() || r.topics.back().name != tp.topic) r.topics.emplace_back().name = tp.topic;
          auto& p = r.topics.back().partitions.emplace_back();
          p.partition_index = tp.partition;
          p.committed_offset = offset;
        }
        ++stats_.late_commits_sent;
        // Must be refused if the member already holds the assignment of a later generation:
        // that generation was written before it was handed out, so every coordinator since
        // knows it.
        const clients::GroupMembership* now =
            *member_alive ? member->consumer->membership() : nullptr;
        const int32_t moved_to =
            now != nullptr && now->stable() && now->generation() > generation ? now->generation()
                                                                              : -1;
        const runtime::Address to{found->response.host,
                                  static_cast<uint16_t>(found->response.port)};
        const uint64_t cid = next_late_++;
        auto& c = late_connections_[cid];
        c = std::make_unique<clients::BrokerConnection>(client_, to);
        c->Call<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>(
            r, 8, [this, alive, id, cid, group, generation, moved_to](auto reply) {
              if (!*alive) return;
              client_.clock().Post([this, alive, id, cid] {
                if (!*alive) return;
                late_connections_.erase(id);
                late_connections_.erase(cid);
              });
              if (!reply.ok() || reply->response.topics.empty()) return;
              const int16_t error = reply->response.topics[0].partitions[0].error_code;
              if (error != 0) {
                ++stats_.late_commits_refused;
                return;
              }
              if (moved_to >= 0) {
                Violation(absl::StrCat(group, ": a commit of generation ", generation,
                                       " was accepted after the member was assigned in ",
                                       "generation ", moved_to));
              }
            });
      });
}

void SimGroups::Poll(Member* member) {
  member->consumer->Poll(
      200, Duration::Milliseconds(500),
      [this, alive = alive_, member_alive = member->alive,
       member](absl::StatusOr<std::vector<clients::ConsumerRecord>> r) {
        if (!*alive || !*member_alive) return;
        if (r.ok()) OnRecords(member, *std::move(r));
        const clients::GroupMembership* m = member->consumer->membership();
        if (m != nullptr && std::string(m->phase_name()) == "failed") {
          // A fatal group error (FENCED_INSTANCE_ID: a static member's new id did not survive
          // a coordinator failover) ends the process, as in a Java application; its supervisor
          // starts it again.
          return Restart(member->group, member->slot);
        }
        CommitProcessed(member);
        Poll(member);
      });
}

void SimGroups::OnRecords(Member* member, std::vector<clients::ConsumerRecord> records) {
  const std::string group = GroupId(member->group);
  for (const clients::ConsumerRecord& r : records) {
    checker_.Processed(group, {r.topic, r.partition}, r.offset);
    ++stats_.records_processed;
  }
}

void SimGroups::CommitProcessed(Member* member) {
  if (member->committing) return;
  std::map<clients::TopicPartition, int64_t> next;
  for (const clients::TopicPartition& tp : member->consumer->Assignment()) {
    const std::optional<int64_t> position = member->consumer->Position(tp);
    auto acked = member->acked.find(tp);
    if (position.has_value() && (acked == member->acked.end() || acked->second < *position)) {
      next[tp] = *position;
    }
  }
  if (next.empty()) return;
  member->committing = true;
  const std::string group = GroupId(member->group);
  // The acknowledgement raises the group's floor.
  member->consumer->Commit(next, [this, alive = alive_, member_alive = member->alive, member,
                                  group, next](absl::Status s) {
    if (!*alive) return;
    if (*member_alive) member->committing = false;
    if (!s.ok()) {
      ++stats_.commits_refused;
      return;
    }
    ++stats_.commits_acked;
    for (const auto& [tp, offset] : next) {
      checker_.CommitAcked(group, FromClient(tp), offset);
      if (*member_alive) member->acked[tp] = std::max(member->acked[tp], offset);
    }
  });
}

void SimGroups::OnAssigned(Member* member,
                           const std::vector<clients::TopicPartition>& partitions) {
  ++stats_.assignments;
  const std::string group = GroupId(member->group);
  const clients::GroupMembership* m = member->consumer->membership();
  EDDY_CHECK(m != nullptr);
  const std::string who = member->slot == 0 ? absl::StrCat(group, "-static") : m->member_id();
  std::vector<PartitionKey> keys;
  for (const auto& tp : partitions) keys.push_back(FromClient(tp));
  Violation(checker_.Assigned(group, m->generation(), who, keys));
  if (partitions.empty()) return;
  // What the group committed, as a fetch sent now must see it (NO STEP BACK).
  std::map<PartitionKey, int64_t> floors;
  for (const PartitionKey& k : keys) floors[k] = checker_.Floor(group, k);
  member->consumer->Committed(
      partitions, [this, alive = alive_, group, floors](auto got) {
        // (Answered also after the member is gone: the observation stands.)
        if (!*alive || !got.ok()) return;
        for (const auto& [tp, committed] : *got) {
          auto f = floors.find(FromClient(tp));
          if (f == floors.end()) continue;
          ++stats_.fetches_checked;
          Violation(checker_.Fetched(group, f->first, f->second, committed.offset));
        }
      });
}

std::vector<PartitionKey> SimGroups::Partitions() const {
  std::vector<PartitionKey> out;
  for (const PartitionKey& p : topology_.live()) {
    if (std::find(topics_.begin(), topics_.end(), p.first) != topics_.end()) out.push_back(p);
  }
  return out;
}

bool SimGroups::Drained(std::string* why) const {
  const auto& acked = data_.acked_by_partition();
  for (int g = 0; g < groups_; ++g) {
    for (const PartitionKey& p : Partitions()) {
      auto a = acked.find(p);
      if (a == acked.end() || a->second.empty()) continue;
      const int64_t end = a->second.rbegin()->first + 1;
      const int64_t floor = checker_.Floor(GroupId(g), p);
      if (floor < end) {
        *why = absl::StrCat(GroupId(g), " committed ", p.first, "-", p.second, " up to ", floor,
                            " of ", end, ";", DescribeGroup(g, p));
        return false;
      }
    }
  }
  return true;
}

std::string SimGroups::DescribeGroup(int group, const PartitionKey& p) const {
  std::string out;
  for (int s = 0; s < kMembersPerGroup; ++s) {
    auto it = members_.find({group, s});
    if (it == members_.end()) {
      absl::StrAppend(&out, " [slot ", s, " empty]");
      continue;
    }
    const clients::Consumer& c = *it->second->consumer;
    const clients::GroupMembership* m = c.membership();
    const clients::TopicPartition tp = ToClient(p);
    const std::optional<int64_t> position = c.Position(tp);
    absl::StrAppend(&out, " [slot ", s, " ", m->member_id(), " gen ", m->generation(),
                    " ", m->DebugString(), " owns ", m->assignment().size(),
                    " joins ", m->stats().joins, " syncs ", m->stats().syncs, " lookups ",
                    m->stats().coordinator_lookups, " position ",
                    position.has_value() ? *position : -1, " hwm ", c.HighWatermark(tp), "]");
  }
  return out;
}

std::optional<std::string> SimGroups::Check(Duration bound) {
  const auto& acked = data_.acked_by_partition();
  for (int g = 0; g < groups_; ++g) {
    auto it = members_.find({g, 0});
    if (it == members_.end()) continue;
    std::vector<clients::TopicPartition> all;
    std::map<PartitionKey, int64_t> floors;
    for (const PartitionKey& p : Partitions()) {
      all.push_back(ToClient(p));
      floors[p] = checker_.Floor(GroupId(g), p);
    }
    std::optional<absl::StatusOr<std::map<clients::TopicPartition, clients::CommittedOffset>>> got;
    it->second->consumer->Committed(all, [&got](auto r) { got = std::move(r); });
    const Instant deadline = world_.Now() + bound;
    while (!got.has_value() && world_.Now() < deadline) world_.RunFor(Duration::Milliseconds(50));
    if (!got.has_value() || !got->ok()) {
      return absl::StrCat(GroupId(g), "'s committed offsets could not be fetched after healing: ",
                          got.has_value() ? got->status().ToString() : "no answer", ";",
                          DescribeGroup(g, Partitions().front()));
    }
    for (const auto& [tp, committed] : **got) {
      const PartitionKey p = FromClient(tp);
      if (auto v = checker_.Fetched(GroupId(g), p, floors[p], committed.offset)) return v;
      static const std::map<int64_t, std::string> kNone;
      auto a = acked.find(p);
      if (auto v = checker_.CheckProcessed(GroupId(g), p, committed.offset,
                                           a == acked.end() ? kNone : a->second)) {
        return v;
      }
    }
  }
  return std::nullopt;
}

}  // namespace eddy::sim::broker
