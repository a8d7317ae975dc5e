#include "sim/cluster/cluster.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/check.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "raft/driver/entry_batch.h"
#include "sim/faults/fault_schedule.h"

namespace eddy::sim::cluster {

using raft::driver::GroupId;
using raft::driver::NodeDriver;
using raft::driver::NodeOfReplica;

namespace {

constexpr struct {
  FaultMode mode;
  const char* name;
} kFaultModes[] = {
    {FaultMode::kNone, "none"}, {FaultMode::kSwarm, "swarm"}, {FaultMode::kAll, "all"}};

// Every kind on: the swarm draw, then each kind left off switched on at a moderate intensity
// (drawn too, so runs differ).
FaultProfile AllFaults(Random& random) {
  FaultProfile p = DrawFaultProfile(random);
  auto ppm = [&](uint32_t& field, uint32_t low, uint32_t high) {
    if (field == 0) field = static_cast<uint32_t>(random.UniformInRange(low, high));
  };
  ppm(p.loss_ppm, 10'000, 100'000);
  ppm(p.duplicate_ppm, 10'000, 100'000);
  ppm(p.corruption_ppm, 1'000, 20'000);
  ppm(p.latency_spike_ppm, 1'000, 20'000);
  p.reorder = p.partitions = p.clogging = p.flapping = p.connection_resets = true;
  p.crashes = p.pauses = p.clock_jumps = p.slow_nodes = true;
  ppm(p.torn_write_ppm, 800'000, 1'000'000);
  ppm(p.aimed_crash_ppm, 1'000, 20'000);
  if (p.clock_drift_ppm_max == 0) p.clock_drift_ppm_max = random.UniformInRange(1'000, 100'000);
  ppm(p.disk_latency_spike_ppm, 1'000, 20'000);
  ppm(p.read_corruption_ppm, 500, 5'000);
  ppm(p.write_corruption_ppm, 500, 5'000);
  ppm(p.misdirection_ppm, 500, 5'000);
  ppm(p.latent_sector_error_ppm, 200, 2'000);
  ppm(p.no_space_ppm, 500, 5'000);
  ppm(p.sync_failure_ppm, 500, 10'000);
  p.buggify = true;
  return p;
}

// A replica's files live in these subdirectories of its group directory (raft/driver:
// GroupDriver's log and hard state); a wipe erases all of them.
constexpr Duration kWipeRetryDelay = Duration::Milliseconds(100);

std::string FormatTime(Instant t) {
  return absl::StrFormat("%10.3fs", static_cast<double>(t.nanoseconds()) / 1e9);
}

}  // namespace

const char* FaultModeName(FaultMode mode) {
  for (const auto& m : kFaultModes) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

bool ParseFaultMode(const std::string& name, FaultMode* mode) {
  for (const auto& m : kFaultModes) {
    if (name == m.name) {
      *mode = m.mode;
      return true;
    }
  }
  return false;
}

Cluster::Cluster(ClusterOptions options)
    : options_(std::move(options)),
      checker_([this](raft::NodeId replica) { return DiskDamaged(replica); }),
      random_(options_.seed ^ kWorkloadSeedSalt) {
  EDDY_CHECK_GE(options_.node_count, 1);
  EDDY_CHECK_GE(options_.group_count, 1);
  std::vector<runtime::NodeId> ids;
  for (int i = 1; i <= options_.node_count; ++i) ids.push_back(static_cast<runtime::NodeId>(i));
  world_ = std::make_unique<SimWorld>(SimWorldOptions{.seed = options_.seed, .nodes = ids});
  world_->SetLifecycleHandlers([this](runtime::NodeId id) { StopNode(id); },
                               [this](runtime::NodeId id) { StartNode(id); });
  profile_text_ = NoFaults().ToString();
  // Data-damaging faults, and wipes, reach only a minority (the highest ids): every committed
  // record is on a majority, so at least one undamaged copy survives, and the undamaged majority
  // can elect.
  const size_t damaged = static_cast<size_t>((options_.node_count - 1) / 2);
  const std::vector<runtime::NodeId> damageable(ids.end() - static_cast<int64_t>(damaged),
                                                ids.end());
  membership_ = std::make_unique<MembershipCycle>(
      *this, damageable, options_.seed ^ kMembershipSeedSalt, options_.membership_interval_mean,
      options_.wipe_percent);
  if (options_.faults != FaultMode::kNone) {
    Random fault_random(options_.seed ^ kFaultSeedSalt);
    Random profile_random = fault_random.Fork();
    Random schedule_random = fault_random.Fork();
    const FaultProfile profile = options_.faults == FaultMode::kAll
                                     ? AllFaults(profile_random)
                                     : DrawFaultProfile(profile_random);
    std::vector<FaultPhase> schedule =
        DrawFaultSchedule(profile, schedule_random, world_->Now(), options_.duration);
    profile_text_ = profile.ToString();
    world_->SetBuggifyEnabled(profile.buggify);
    FaultInjectorOptions injector_options;
    injector_options.storage_fault_nodes =
        std::set<runtime::NodeId>(damageable.begin(), damageable.end());
    injector_options.unavailable_nodes_max = static_cast<size_t>((options_.node_count - 1) / 2);
    injector_ = std::make_unique<FaultInjector>(*world_, profile, std::move(schedule),
                                                std::move(injector_options), fault_random.Next());
  }
  for (runtime::NodeId id : world_->node_ids()) StartNode(id);
}

Cluster::~Cluster() {
  *alive_ = false;
  StopWorkload();
  membership_.reset();
  nodes_.clear();  // brokers before the world
  injector_.reset();
}

void Cluster::StartNode(runtime::NodeId id) {
  EDDY_CHECK(nodes_[id] == nullptr);
  auto pending = wipe_pending_.find(id);
  if (pending != wipe_pending_.end() && !pending->second.empty()) return WipeThenBuild(id);
  BuildNode(id);
}

void Cluster::WipeThenBuild(runtime::NodeId id) {
  // What an operator does to scrub a replica: erase its state and files, durably, through the
  // broker (NodeDriver::WipeGroup) BEFORE it runs the new incarnation. A crash meanwhile
  // abandons this attempt (its completions never arrive); the next start begins it again.
  BuildNode(id);  // every group but those being wiped
  for (GroupId g : wipe_pending_[id]) WipeOne(id, g, node_epoch_[id]);
}

void Cluster::WipeOne(runtime::NodeId id, GroupId group, uint64_t epoch) {
  nodes_[id]->WipeGroup(group, [this, alive = alive_, id, group, epoch](absl::Status s) {
    if (!*alive || node_epoch_[id] != epoch) return;
    if (!s.ok()) {
      Trace(absl::StrCat("node ", id, " g", group, " wipe failed; retrying"));
      world_->loop().ScheduleAfter(kWipeRetryDelay, [this, alive, id, group, epoch] {
        if (*alive && node_epoch_[id] == epoch && world_->node(id).up()) WipeOne(id, group, epoch);
      });
      return;
    }
    Trace(absl::StrCat("node ", id, " g", group, " directory wiped; starts as replica ",
                       ReplicaName(ReplicaIdOf(id, group))));
    Count("replica directory wiped");
    wipe_pending_[id].erase(group);
    if (wipe_pending_[id].empty()) wipe_pending_.erase(id);
    EDDY_CHECK_OK(nodes_[id]->AddGroup(GroupOptionsFor(id, group)));
  });
}

raft::driver::GroupOptions Cluster::GroupOptionsFor(runtime::NodeId id, GroupId g) {
  // Every replica, of every incarnation, starts from the bootstrap membership at offset -1;
  // the log replays every change since.
  raft::driver::GroupOptions group;
  group.group_id = g;
  group.replica_id = ReplicaIdOf(id, g);
  group.voters.assign(world_->node_ids().begin(), world_->node_ids().end());
  group.bug = options_.bug;
  group.retention_offsets = options_.retention_offsets;
  if (options_.segment_size_bytes_max > 0) {
    group.log.segment_size_bytes_max = options_.segment_size_bytes_max;
  }
  group.read_size_bytes_max = options_.read_size_bytes_max;
  if (options_.snapshot_chunk_size_bytes_max > 0) {
    group.raft.snapshot_chunk_size_bytes_max = options_.snapshot_chunk_size_bytes_max;
  }
  if (options_.state_machines) {
    const raft::NodeId replica = group.replica_id;
    HashMachineSlot* slot = &machine_slots_[{replica, g}];  // map nodes never move
    group.state_machine = [this, slot, replica, g] {
      return std::make_unique<HashMachine>(
          slot, options_.machine_persist_every, [this, replica, g](int64_t offset, uint64_t d) {
            checker_.OnMachineState(replica, g, offset, d);
          });
    };
  }
  return group;
}

void Cluster::BuildNode(runtime::NodeId id) {
  EDDY_CHECK(nodes_[id] == nullptr);
  auto node = std::make_unique<NodeDriver>(
      world_->node(id), raft::driver::NodeOptions{.tick_interval = options_.tick_interval}, this);
  const auto pending = wipe_pending_.find(id);
  for (int g = 1; g <= options_.group_count; ++g) {
    const GroupId group = static_cast<GroupId>(g);
    if (pending != wipe_pending_.end() && pending->second.contains(group)) continue;
    EDDY_CHECK_OK(node->AddGroup(GroupOptionsFor(id, group)));
  }
  node->Start();
  nodes_[id] = std::move(node);
}

void Cluster::StopNode(runtime::NodeId id) {
  ++node_epoch_[id];
  auto it = nodes_.find(id);
  // No broker only while a wipe was in progress (it starts again at the next restart).
  EDDY_CHECK(it != nodes_.end());
  EDDY_CHECK(it->second != nullptr || wipe_pending_.contains(id));
  it->second.reset();
  for (auto& [key, soft] : soft_) {
    if (NodeOfReplica(key.first) == id) soft = raft::SoftState{};
  }
  Trace(absl::StrCat("node ", id, " crashed"));
}

NodeDriver* Cluster::node(raft::NodeId id) {
  auto it = nodes_.find(static_cast<runtime::NodeId>(id));
  return it == nodes_.end() ? nullptr : it->second.get();
}

raft::NodeId Cluster::ReplicaIdOf(runtime::NodeId node, GroupId group) const {
  auto it = incarnation_.find({node, group});
  return raft::driver::ReplicaId(node, it == incarnation_.end() ? 0 : it->second);
}

std::string Cluster::ReplicaName(raft::NodeId replica) {
  const uint32_t incarnation = raft::driver::IncarnationOfReplica(replica);
  return incarnation == 0 ? absl::StrCat(NodeOfReplica(replica))
                          : absl::StrCat(NodeOfReplica(replica), "#", incarnation);
}

raft::driver::GroupDriver* Cluster::LeaderGroup(GroupId group) {
  const raft::NodeId leader = LeaderOf(group);
  return leader == raft::kNoNode ? nullptr : node(leader)->group(group);
}

raft::Membership Cluster::CommittedMembership(GroupId group) const {
  raft::ConfState bootstrap;
  for (runtime::NodeId id : world_->node_ids()) bootstrap.add_voters(id);
  raft::Membership membership = raft::Membership::FromProto(bootstrap);
  auto it = committed_conf_.find(group);
  if (it == committed_conf_.end()) return membership;
  // Illegal changes are ignored, exactly as every replica's core ignores them.
  for (const auto& [offset, change] : it->second) {
    membership.Apply(change.conf_change_type, change.conf_change_node);
  }
  return membership;
}

bool Cluster::FullMembership(GroupId group) const {
  const raft::Membership membership = CommittedMembership(group);
  std::vector<raft::NodeId> expected;
  for (runtime::NodeId id : world_->node_ids()) expected.push_back(ReplicaIdOf(id, group));
  std::sort(expected.begin(), expected.end());
  return membership.learners().empty() && membership.voters() == expected;
}

raft::NodeId Cluster::WipeReplica(runtime::NodeId node, GroupId group) {
  SimRuntime& runtime = world_->node(node);
  EDDY_CHECK(!runtime.paused());
  const raft::NodeId retired = ReplicaIdOf(node, group);
  // Retired for good: its term, vote and log are about to vanish, so the id must never speak
  // again (driver_options.h, REPLICA IDENTITY). The checker holds the harness to it.
  if (!options_.reuse_wiped_replica_id) {
    checker_.OnReplicaRetired(retired, group);
    ++incarnation_[{node, group}];
  }
  wipe_pending_[node].insert(group);
  const raft::NodeId fresh = ReplicaIdOf(node, group);
  EDDY_CHECK(fresh != retired || options_.reuse_wiped_replica_id);
  EDDY_CHECK_EQ(NodeOfReplica(fresh), node);
  Trace(absl::StrCat("membership: g", group, " wipe replica ", ReplicaName(retired), " on node ",
                     node, "; it rejoins as ", ReplicaName(fresh)));
  if (runtime.up()) {
    // The operator stops the broker, erases the directory, starts it again (StartNode wipes).
    world_->Crash(node);
    world_->Restart(node);
  }
  return fresh;
}

bool Cluster::DiskDamaged(raft::NodeId replica) const {
  const runtime::NodeId id = NodeOfReplica(replica);
  if (manually_damaged_.contains(id)) return true;
  const SimDiskStats& s = world_->node(id).sim_disk().stats();
  return s.read_corruptions + s.write_corruptions + s.misdirected_writes + s.latent_sector_errors +
             s.latent_sector_read_failures >
         0;
}

void Cluster::Trace(std::string line) {
  trace_.push_back(absl::StrCat(FormatTime(world_->Now()), " ", line));
  while (trace_.size() > options_.trace_lines_max) trace_.pop_front();
}

// --- Observer ---------------------------------------------------------------------------------

void Cluster::OnOpened(raft::NodeId node, GroupId group, const raft::driver::OpenReport& r) {
  Trace(absl::StrCat("n", ReplicaName(node), " g", group, " opened: log ends at ",
                     r.log_last_offset, " (declared durable to ", r.durable_mark, ")",
                     ", term ", r.hard_state.term(), ", commit ", r.hard_state.commit_offset(),
                     r.apply_resume_offset > r.snapshot_last_offset
                         ? absl::StrCat(", apply resumes after ", r.apply_resume_offset,
                                        " (snapshot point ", r.snapshot_last_offset, ")")
                         : "",
                     r.data_loss ? ", DATA LOSS (fenced)" : "",
                     r.bytes_truncated > 0 ? absl::StrCat(", recovery cut ", r.bytes_truncated,
                                                          " bytes (", r.first_defect, ")")
                                           : ""));
  checker_.OnOpened(node, group, r);
}

void Cluster::OnSoftState(raft::NodeId node, GroupId group, const raft::SoftState& soft) {
  raft::SoftState& before = soft_[{node, group}];
  if (before.role == raft::Role::kLeader && soft.role != raft::Role::kLeader &&
      soft.term == before.term) {
    Count("leader stepped down (check-quorum or transfer)");
  }
  if (soft.role == raft::Role::kLeader && before.role != raft::Role::kLeader) {
    Count("leader elected");
    Trace(absl::StrCat("n", ReplicaName(node), " g", group, " became leader in term ",
                       soft.term));
  } else if (before.role == raft::Role::kLeader && soft.role != raft::Role::kLeader) {
    Trace(absl::StrCat("n", ReplicaName(node), " g", group, " stepped down (term ", before.term,
                       " -> ", soft.term, ")"));
  }
  before = soft;
  checker_.OnSoftState(node, group, soft);
}

void Cluster::OnPersisted(raft::NodeId node, GroupId group, const raft::HardState& hs,
                          int64_t mark) {
  checker_.OnPersisted(node, group, hs, mark);
}

void Cluster::OnTruncated(raft::NodeId node, GroupId group, int64_t offset) {
  Trace(absl::StrCat("n", ReplicaName(node), " g", group, " truncated its log from offset ",
                     offset));
  checker_.OnTruncated(node, group, offset);
}

void Cluster::OnApplied(raft::NodeId node, GroupId group, const raft::EntryMeta& meta,
                        std::span<const uint8_t> batch) {
  if (meta.type == raft::ENTRY_CONF_CHANGE) {
    Count("membership change applied");
    if (committed_conf_[group].emplace(meta.base_offset, meta).second) {
      Count("membership change committed");
      if (membership_ != nullptr) membership_->OnChangeApplied(group);
      Trace(absl::StrCat("g", group, " committed ",
                         raft::ConfChangeType_Name(meta.conf_change_type), " ",
                         ReplicaName(meta.conf_change_node), " at offset ", meta.base_offset));
    }
  }
  checker_.OnApplied(node, group, meta, batch);
}

void Cluster::OnLogFlushed(raft::NodeId node, GroupId group, int64_t last_offset,
                           bool hard_state_save_next) {
  const runtime::NodeId id = static_cast<runtime::NodeId>(raft::driver::NodeOfReplica(node));
  if (log_flushed_hook_) log_flushed_hook_(id, group, last_offset, hard_state_save_next);
  if (hard_state_save_next && injector_ != nullptr && injector_->AimCrash(id)) {
    Count("crash aimed between a log flush and a hard-state save");
  }
}

void Cluster::OnSnapshotInstalled(raft::NodeId node, GroupId group,
                                  const raft::SnapshotMeta& meta) {
  Trace(absl::StrCat("n", node, " g", group, " installed a snapshot at offset ",
                     meta.last_offset(), " (term ", meta.term(), ")"));
  checker_.OnSnapshotInstalled(node, group, meta.last_offset());
}

void Cluster::OnFailed(raft::NodeId node, GroupId group, const absl::Status& status) {
  Trace(absl::StrCat("n", ReplicaName(node), " g", group, " replica stopped: ",
                     status.ToString()));
}

void Cluster::OnEvent(raft::NodeId node, GroupId group, const char* name) {
  Count(name);
  if (event_hook_) {
    event_hook_(static_cast<runtime::NodeId>(raft::driver::NodeOfReplica(node)), group, name);
  }
  if (std::string_view(name) == raft::driver::GroupDriver::kHaltedEvent) {
    Trace(absl::StrCat("n", node, " g", group, " HALTED: hard state may have gone back"));
    // Only media damage can make a hard state uncertain; anything else is a bug.
    if (!DiskDamaged(node)) {
      checker_.Fail("halt-only-after-media-damage",
                    absl::StrCat("node ", node, " group ", group,
                                 " halted although its disk took no data-damaging fault"));
    }
  }
}

// --- Workload ---------------------------------------------------------------------------------

raft::NodeId Cluster::LeaderOf(GroupId group) const {
  raft::NodeId best = raft::kNoNode;
  raft::Term best_term = 0;
  for (const auto& [id, node] : nodes_) {
    if (node == nullptr || world_->node(id).paused()) continue;
    auto it = node->groups().find(group);
    if (it == node->groups().end()) continue;
    const raft::RawNode* raft = it->second->raft();
    if (raft == nullptr || raft->role() != raft::Role::kLeader) continue;
    if (best == raft::kNoNode || raft->term() > best_term) {
      best = id;
      best_term = raft->term();
    }
  }
  return best;
}

std::vector<uint8_t> Cluster::MakeBatch(GroupId group) {
  record::BatchHeader fields;
  fields.producer_id = static_cast<int64_t>(group);
  fields.producer_epoch = 0;
  fields.base_sequence = static_cast<int32_t>(sequence_ & 0x7fffffff);
  ++sequence_;
  record::RecordBatchBuilder builder(fields);
  const int records = 1 + static_cast<int>(random_.Uniform(4));
  for (int i = 0; i < records; ++i) {
    std::vector<uint8_t> value(8 + random_.Uniform(56));
    for (uint8_t& b : value) b = static_cast<uint8_t>(random_.Next());
    EDDY_CHECK_OK(builder.Append(static_cast<int64_t>(world_->Now().nanoseconds() / 1'000'000),
                                 std::nullopt, std::span<const uint8_t>(value)));
  }
  return builder.Finish();
}

bool Cluster::ProposeOne(GroupId group) {
  const raft::NodeId leader = LeaderOf(group);
  if (leader == raft::kNoNode) return false;
  if (in_flight_[group] >= kInFlightPerGroupMax) return false;
  raft::driver::GroupDriver* driver = node(leader)->group(group);
  std::vector<uint8_t> batch = MakeBatch(group);
  ++proposed_;
  ++in_flight_[group];
  driver->Propose(batch, [this, alive = alive_, group, batch](
                             absl::StatusOr<raft::EntryMeta> acked) mutable {
    if (!*alive) return;
    --in_flight_[group];
    if (absl::IsAborted(acked.status())) {
      // "Definitely not committed": the checker fails the run if it ever is.
      Count("proposal failed: definitely not committed");
      return checker_.OnAborted(group, Checker::ContentDigest(batch));
    }
    if (!acked.ok()) return;
    record::SetBaseOffset(batch, acked->base_offset);
    record::SetPartitionLeaderEpoch(batch, static_cast<int32_t>(acked->term));
    checker_.OnAcked(group, *acked, raft::driver::BatchDigest(batch));
  });
  return true;
}

void Cluster::WorkloadStep() {
  workload_timer_ = runtime::kNoTimer;
  if (!workload_running_) return;
  const GroupId group = 1 + next_group_++ % static_cast<uint64_t>(options_.group_count);
  if (!ProposeOne(group)) Count("proposal found no leader");
  // Exponential-ish gaps around the mean rate: uniform in [0, 2 / rate).
  const int64_t mean_ns = 1'000'000'000 / std::max(1, options_.batches_per_second);
  const Duration gap = Duration::Nanoseconds(random_.UniformInRange(1, 2 * mean_ns));
  workload_timer_ = world_->loop().ScheduleAfter(gap, [this] { WorkloadStep(); });
}

void Cluster::ReadStep() {
  read_timer_ = runtime::kNoTimer;
  if (!workload_running_) return;
  const runtime::NodeId id =
      static_cast<runtime::NodeId>(1 + random_.Uniform(static_cast<uint64_t>(options_.node_count)));
  const GroupId group = 1 + random_.Uniform(static_cast<uint64_t>(options_.group_count));
  NodeDriver* n = node(id);
  raft::driver::GroupDriver* g = n == nullptr ? nullptr : n->group(group);  // removed: none
  if (g != nullptr && !world_->node(id).paused()) {
    const int64_t top = g->applied_offset();
    // Mostly from the log start on; sometimes below it, where the answer must be kOutOfRange.
    const int64_t start = g->log_start_offset();
    const bool below = start > 0 && random_.Uniform(8) == 0;
    if (top >= 0 && (below || top >= start)) {
      const int64_t offset =
          below ? random_.UniformInRange(0, start - 1) : random_.UniformInRange(start, top);
      ++reads_;
      g->ReadCommitted(offset, 4 * kKiB, [this, alive = alive_, id, group](
                                   absl::StatusOr<raft::driver::GroupDriver::Batches> batches) {
        if (!*alive) return;
        if (!batches.ok()) {
          if (batches.status().code() == absl::StatusCode::kDataLoss) {
            Count("read refused: corruption detected");
          } else if (batches.status().code() == absl::StatusCode::kOutOfRange) {
            Count("read below the log start refused");
          }
          return;
        }
        for (const std::vector<uint8_t>& b : *batches) checker_.OnRead(id, group, b);
      });
    }
  }
  const int64_t mean_ns = 1'000'000'000 / std::max(1, options_.reads_per_second);
  read_timer_ = world_->loop().ScheduleAfter(
      Duration::Nanoseconds(random_.UniformInRange(1, 2 * mean_ns)), [this] { ReadStep(); });
}

void Cluster::TransferStep() {
  transfer_timer_ = runtime::kNoTimer;
  if (!workload_running_) return;
  const GroupId group = 1 + random_.Uniform(static_cast<uint64_t>(options_.group_count));
  const raft::NodeId leader = LeaderOf(group);
  if (leader != raft::kNoNode && options_.node_count > 1) {
    const uint64_t nodes = static_cast<uint64_t>(options_.node_count);
    runtime::NodeId target = static_cast<runtime::NodeId>(1 + random_.Uniform(nodes));
    if (target == leader) target = 1 + target % static_cast<runtime::NodeId>(options_.node_count);
    const raft::NodeId replica = ReplicaIdOf(target, group);
    if (node(leader)->group(group)->TransferLeadership(replica).ok()) {
      Count("leadership transfer started");
      Trace(absl::StrCat("g", group, " transfer leadership ", leader, " -> ",
                         ReplicaName(replica)));
    }
  }
  const int64_t mean_ns = options_.transfer_interval_mean.nanoseconds();
  transfer_timer_ = world_->loop().ScheduleAfter(
      Duration::Nanoseconds(random_.UniformInRange(1, 2 * mean_ns)), [this] { TransferStep(); });
}

void Cluster::StartWorkload() {
  workload_running_ = true;
  workload_timer_ = world_->loop().ScheduleAfter(Duration::Zero(), [this] { WorkloadStep(); });
  read_timer_ = world_->loop().ScheduleAfter(Duration::Zero(), [this] { ReadStep(); });
  if (options_.transfer_interval_mean.nanoseconds() > 0) {
    transfer_timer_ = world_->loop().ScheduleAfter(options_.transfer_interval_mean,
                                                   [this] { TransferStep(); });
  }
  membership_->Start();
}

void Cluster::StopWorkload() {
  workload_running_ = false;
  // No new membership cycle; one in progress runs to completion (liveness waits for it).
  if (membership_ != nullptr) membership_->Stop();
  for (runtime::TimerId* t : {&workload_timer_, &read_timer_, &transfer_timer_}) {
    if (*t != runtime::kNoTimer) world_->loop().Cancel(*t);
    *t = runtime::kNoTimer;
  }
}

// --- Run --------------------------------------------------------------------------------------

bool Cluster::Converged() const {
  if (!membership_->idle()) return false;
  for (int g = 1; g <= options_.group_count; ++g) {
    const GroupId group = static_cast<GroupId>(g);
    // The current configuration is every node's current replica, as a voter.
    if (LeaderOf(group) == raft::kNoNode || !FullMembership(group)) return false;
    const int64_t acked = checker_.max_acked_offset(group);
    for (const auto& [id, node] : nodes_) {
      if (node == nullptr) return false;
      auto it = node->groups().find(group);
      if (it == node->groups().end()) return false;
      // A halted replica waits for an operator; the group must live on without it.
      if (it->second->halted()) continue;
      if (!it->second->running()) return false;
      if (it->second->applied_offset() < acked) return false;
    }
  }
  return true;
}

std::string Cluster::ReplayCommand() const {
  std::string command = absl::StrCat(
      "bazel run -c opt //sim/cluster:eddy-sim -- --seed=", options_.seed,
      " --nodes=", options_.node_count, " --groups=", options_.group_count,
      " --duration=", options_.duration.nanoseconds() / 1'000'000'000,
      " --faults=", FaultModeName(options_.faults), " --rate=", options_.batches_per_second,
      " --reads=", options_.reads_per_second,
      " --membership=", options_.membership_interval_mean.nanoseconds() / 1'000'000'000,
      " --wipe=", options_.wipe_percent);
  if (options_.retention_offsets > 0) {
    absl::StrAppend(&command, " --retention=", options_.retention_offsets);
  }
  if (options_.segment_size_bytes_max > 0) {
    absl::StrAppend(&command, " --segment_bytes=", options_.segment_size_bytes_max);
  }
  if (options_.state_machines) {
    absl::StrAppend(&command, " --machines=", options_.machine_persist_every);
  }
  if (options_.snapshot_chunk_size_bytes_max > 0) {
    absl::StrAppend(&command, " --chunk_bytes=", options_.snapshot_chunk_size_bytes_max);
  }
  if (options_.bug != raft::driver::DriverBug::kNone) {
    absl::StrAppend(&command, " --bug=", raft::driver::DriverBugName(options_.bug));
  }
  return command;
}

RunResult Cluster::Run() {
  const Instant end = world_->Now() + options_.duration;
  if (injector_ != nullptr) injector_->Start();
  StartWorkload();
  // Run in slices so a violation stops the run close to where it happened.
  const Duration slice = Duration::Milliseconds(options_.progress ? 1 : 100);
  while (world_->Now() < end && !checker_.failed()) {
    world_->RunUntil(std::min(end, world_->Now() + slice));
    if (options_.progress) options_.progress(Progress());
  }
  StopWorkload();
  if (!checker_.failed()) {
    // Liveness: the schedule ended healed; give the cluster the bound to converge.
    const Instant deadline = world_->Now() + options_.liveness_bound;
    while (!Converged() && world_->Now() < deadline && !checker_.failed()) {
      world_->RunUntil(std::min(deadline, world_->Now() + slice));
      if (options_.progress) options_.progress(Progress());
    }
    if (!checker_.failed() && !Converged()) {
      std::string detail = absl::StrCat(" ", membership_->Describe(), ";");
      for (int g = 1; g <= options_.group_count; ++g) {
        absl::StrAppend(&detail, " g", g, ": leader ", LeaderOf(static_cast<GroupId>(g)),
                        " committed ",
                        CommittedMembership(static_cast<GroupId>(g)).DebugString(),
                        ", acked to ", checker_.max_acked_offset(static_cast<GroupId>(g)),
                        ", applied");
        for (const auto& [id, node] : nodes_) {
          const raft::driver::GroupDriver* gd =
              node == nullptr ? nullptr : node->group(static_cast<GroupId>(g));
          absl::StrAppend(&detail, " n", id, "=",
                          gd == nullptr ? std::string("down")
                                        : (gd->running() ? absl::StrCat(gd->applied_offset())
                                                         : std::string("stopped")));
        }
        absl::StrAppend(&detail, ";");
      }
      checker_.Fail("liveness", absl::StrCat("not converged ",
                                             options_.liveness_bound.nanoseconds() / 1'000'000'000,
                                             "s after the faults healed:", detail));
    }
    checker_.CheckFinal();
  }
  return Summarize();
}

std::string Cluster::Progress() const {
  std::string line = absl::StrCat(FormatTime(world_->Now()), " events=",
                                  world_->loop().events_processed(),
                                  " pending=", world_->loop().pending_count(),
                                  " acked=", checker_.acked_count(), " proposed=", proposed_);
  for (const auto& [id, node] : nodes_) {
    if (node == nullptr) {
      absl::StrAppend(&line, " n", id, "=down");
      continue;
    }
    absl::StrAppend(&line, " n", id, "[env=", node->stats().envelopes_sent,
                    " msgs=", node->stats().messages_sent, "]");
  }
  return line;
}

RunResult Cluster::Summarize() {
  RunResult r;
  r.seed = options_.seed;
  r.profile = profile_text_;
  r.events = world_->loop().events_processed();
  r.simulated_seconds = static_cast<double>(world_->Now().nanoseconds()) / 1e9;
  r.trace_hash = world_->trace().value();
  r.violation = checker_.violation();
  if (injector_ != nullptr) {
    for (const std::string& line : injector_->log()) r.trace.push_back("fault: " + line);
    if (r.trace.size() > options_.trace_lines_max) {
      r.trace.erase(r.trace.begin(), r.trace.end() - static_cast<int64_t>(options_.trace_lines_max));
    }
  }
  r.trace.insert(r.trace.end(), trace_.begin(), trace_.end());
  r.coverage = world_->Coverage();
  for (const auto& [name, count] : recovery_) r.coverage["recovery: " + name] += count;
  r.proposed = proposed_;
  r.acked = checker_.acked_count();
  r.reads = reads_;
  r.replay_command = ReplayCommand();
  return r;
}

}  // namespace eddy::sim::cluster
