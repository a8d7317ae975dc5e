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
// Crashes aimed at a removal land this long at most after RemoveGroup (a few disk operations:
// before, among or after the file removals, mostly before the directory syncs).
constexpr Duration kRemovalCrashDelayMax = Duration::Microseconds(300);
// Files a removed replica's in-flight open created after its removal are erased this much later.
constexpr Duration kLeftoverEraseDelay = Duration::Seconds(1);
// A created group deleted "soon" lives at most this long.
constexpr Duration kShortLivedGroupMax = Duration::Seconds(1);

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
      lifecycle_random_(options_.seed ^ kLifecycleSeedSalt),
      random_(options_.seed ^ kWorkloadSeedSalt) {
  EDDY_CHECK_GE(options_.node_count, 1);
  EDDY_CHECK_GE(options_.group_count, 1);
  EDDY_CHECK_GE(options_.live_groups_max, 0);
  if (options_.live_groups_max == 0) options_.live_groups_max = options_.group_count + 2;
  std::vector<runtime::NodeId> ids;
  for (int i = 1; i <= options_.node_count; ++i) ids.push_back(static_cast<runtime::NodeId>(i));
  for (int g = 1; g <= options_.group_count; ++g) groups_[static_cast<GroupId>(g)].hosts = ids;
  next_group_id_ = static_cast<GroupId>(options_.group_count) + 1;
  // Wall-clock faults from their own generator: they shift no other stream (and the replicated
  // partitions never read the wall clock).
  Random wall_clock_random(options_.seed ^ kWallClockSeedSalt);
  world_ = std::make_unique<SimWorld>(SimWorldOptions{
      .seed = options_.seed,
      .nodes = ids,
      .wall_clock = options_.faults == FaultMode::kNone ? WallClockOptions{}
                                                        : DrawWallClockFaults(wall_clock_random)});
  world_->SetLifecycleHandlers([this](runtime::NodeId id) { StopNode(id); },
                               [this](runtime::NodeId id) { StartNode(id); });
  profile_text_ = NoFaults().ToString();
  // Data-damaging faults, and wipes, reach only a minority (the highest ids): every committed
  // record is on a majority, so at least one undamaged copy survives, and the undamaged majority
  // can elect.
  const size_t damaged = static_cast<size_t>((options_.node_count - 1) / 2);
  const std::vector<runtime::NodeId> damageable(ids.end() - static_cast<int64_t>(damaged),
                                                ids.end());
  damageable_ = damageable;
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
  if (wipe_pending_.contains(id) || purge_pending_.contains(id)) return WipeThenBuild(id);
  BuildNode(id);
}

void Cluster::WipeThenBuild(runtime::NodeId id) {
  // What an operator does to scrub a replica, and what a broker does with a stray replica of a
  // partition it no longer hosts: erase its state and files, durably, through the broker
  // (NodeDriver::WipeGroup), before it runs that replica (a wiped one comes back under its new
  // id). A crash meanwhile abandons this attempt (its completions never arrive); the next start
  // begins it again.
  BuildNode(id);  // every live group it hosts but those awaiting a wipe
  const uint64_t epoch = node_epoch_[id];
  std::set<GroupId> all;
  if (auto it = wipe_pending_.find(id); it != wipe_pending_.end()) all = it->second;
  if (auto it = purge_pending_.find(id); it != purge_pending_.end()) {
    all.insert(it->second.begin(), it->second.end());
  }
  for (GroupId g : all) WipeOne(id, g, epoch);
}

void Cluster::WipeOne(runtime::NodeId id, GroupId group, uint64_t epoch) {
  nodes_[id]->WipeGroup(group, [this, alive = alive_, id, group, epoch](absl::Status s) {
    if (!*alive || node_epoch_[id] != epoch) return;
    if (!s.ok()) {
      Trace(absl::StrCat("node ", id, " g", group, " wipe failed (", s.ToString(),
                         "); retrying"));
      if (WaitsForOperator(id)) {
        Count("wipe waits for an operator: state store uncertain");
      }
      world_->loop().ScheduleAfter(kWipeRetryDelay, [this, alive, id, group, epoch] {
        if (*alive && node_epoch_[id] == epoch && world_->node(id).up()) WipeOne(id, group, epoch);
      });
      return;
    }
    if (auto it = wipe_pending_.find(id); it != wipe_pending_.end() && it->second.erase(group)) {
      if (it->second.empty()) wipe_pending_.erase(it);
      Trace(absl::StrCat("node ", id, " g", group, " directory wiped; starts as replica ",
                         ReplicaName(ReplicaIdOf(id, group))));
      Count("replica directory wiped");
      const auto spec = groups_.find(group);
      if (spec != groups_.end() && !spec->second.deleted && Hosts(id, group)) {
        EDDY_CHECK_OK(nodes_[id]->AddGroup(GroupOptionsFor(id, group)));
      }
    }
    if (auto it = purge_pending_.find(id); it != purge_pending_.end() && it->second.contains(group)) {
      Trace(absl::StrCat("node ", id, " g", group,
                         " deleted group's files erased before the broker ran it"));
      Count("deleted group's files erased before its node's broker started");
      PurgeDone(id, group, /*broker_running=*/false);
    }
  });
}

void Cluster::BuildNode(runtime::NodeId id) {
  EDDY_CHECK(nodes_[id] == nullptr);
  auto node = std::make_unique<NodeDriver>(
      world_->node(id),
      raft::driver::NodeOptions{.tick_interval = options_.tick_interval,
                                .quiesce = options_.quiesce},
      this);
  // The controller's desired set for this node: every live group it hosts, but those awaiting
  // a wipe (WipeThenBuild adds them once scrubbed).
  const auto wiping = wipe_pending_.find(id);
  for (const auto& [group, spec] : groups_) {
    if (spec.deleted || !Hosts(id, group)) continue;
    if (wiping != wipe_pending_.end() && wiping->second.contains(group)) continue;
    EDDY_CHECK_OK(node->AddGroup(GroupOptionsFor(id, group)));
  }
  node->Start();
  nodes_[id] = std::move(node);
}

raft::driver::GroupOptions Cluster::GroupOptionsFor(runtime::NodeId id, GroupId group) {
  raft::driver::GroupOptions options;
  options.group_id = group;
  options.replica_id = ReplicaIdOf(id, group);
  // Every replica, of every incarnation, starts from the bootstrap membership at offset -1
  // (the hosts' first replicas); the log replays every change since.
  const std::vector<runtime::NodeId>& hosts = HostsOf(group);
  options.voters.assign(hosts.begin(), hosts.end());
  options.bug = options_.bug;
  options.retention_offsets = options_.retention_offsets;
  if (options_.segment_size_bytes_max > 0) {
    options.log.segment_size_bytes_max = options_.segment_size_bytes_max;
  }
  options.read_size_bytes_max = options_.read_size_bytes_max;
  if (options_.snapshot_chunk_size_bytes_max > 0) {
    options.raft.snapshot_chunk_size_bytes_max = options_.snapshot_chunk_size_bytes_max;
  }
  if (options_.state_machines) {
    const raft::NodeId replica = options.replica_id;
    HashMachineSlot* slot = &machine_slots_[{replica, group}];  // map nodes never move
    options.state_machine = [this, slot, replica, group] {
      return std::make_unique<HashMachine>(
          slot, options_.machine_persist_every, [this, replica, group](int64_t offset, uint64_t d) {
            checker_.OnMachineState(replica, group, offset, d);
          });
    };
  }
  return options;
}

void Cluster::StopNode(runtime::NodeId id) {
  ++node_epoch_[id];
  auto it = nodes_.find(id);
  // No broker only while a wipe or purge was in progress (it starts again at the next restart).
  EDDY_CHECK(it != nodes_.end());
  EDDY_CHECK(it->second != nullptr || wipe_pending_.contains(id) || purge_pending_.contains(id));
  // Lifecycle windows this crash interrupted (however it was caused).
  for (GroupId g : removing_[id]) {
    Count("crash while a replica removal was in progress");
    Trace(absl::StrCat("node ", id, " crashed while removing g", g, "'s replica"));
  }
  removing_.erase(id);
  for (GroupId g : identity_saved_[id]) {
    Count("crash after a fresh replica saved its identity, before its next durable step");
    Trace(absl::StrCat("node ", id, " crashed after g", g, "'s fresh replica saved its identity"));
  }
  identity_saved_.erase(id);
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
  for (runtime::NodeId id : HostsOf(group)) bootstrap.add_voters(id);
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
  for (runtime::NodeId id : HostsOf(group)) expected.push_back(ReplicaIdOf(id, group));
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
                     r.uncertain_tail ? ", below its pending mark (fenced)" : "",
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
  // The fresh replica's next durable step closes the window after its identity save.
  identity_saved_[NodeOfReplica(node)].erase(group);
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
  identity_saved_[id].erase(group);
  if (log_flushed_hook_) log_flushed_hook_(id, group, last_offset, hard_state_save_next);
  if (hard_state_save_next && injector_ != nullptr && injector_->AimCrash(id)) {
    Count("crash aimed between a log flush and a hard-state save");
  }
}

void Cluster::OnPendingMarkSaved(raft::NodeId node, GroupId group, int64_t pending) {
  const runtime::NodeId id = static_cast<runtime::NodeId>(raft::driver::NodeOfReplica(node));
  if (pending_mark_hook_) pending_mark_hook_(id, group, pending);
  if (injector_ != nullptr && injector_->AimCrash(id)) {
    Count("crash aimed between a pending mark's save and its log flush");
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
  const runtime::NodeId id = static_cast<runtime::NodeId>(NodeOfReplica(node));
  if (event_hook_) event_hook_(id, group, name);
  if (std::string_view(name) == raft::driver::GroupDriver::kIdentitySavedEvent) {
    // AddGroup's first durable step: the identity is saved, the log is still empty.
    identity_saved_[id].insert(group);
    if (injector_ != nullptr &&
        injector_->AimCrash(id, kLifecycleAimedCrashPpm, Duration::Zero())) {
      Count("crash aimed right after a fresh replica saved its identity");
    }
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
  const std::vector<GroupId> live = LiveGroups();
  if (!live.empty() && !ProposeOne(live[next_group_++ % live.size()])) {
    Count("proposal found no leader");
  }
  // Exponential-ish gaps around the mean rate: uniform in [0, 2 / rate).
  const int64_t mean_ns = 1'000'000'000 / std::max(1, options_.batches_per_second);
  Duration gap = Duration::Nanoseconds(random_.UniformInRange(1, 2 * mean_ns));
  if (options_.idle_one_in > 0 && random_.Uniform(options_.idle_one_in) == 0) {
    // An idle period: every group's leader runs out of work and its group quiesces, while
    // faults, reads, transfers and membership cycles go on.
    gap = Duration::Nanoseconds(random_.UniformInRange(options_.idle_duration_min.nanoseconds(),
                                                       options_.idle_duration_max.nanoseconds()));
    Count("workload idle period");
  }
  workload_timer_ = world_->loop().ScheduleAfter(gap, [this] { WorkloadStep(); });
}

void Cluster::ReadStep() {
  read_timer_ = runtime::kNoTimer;
  if (!workload_running_) return;
  const std::vector<GroupId> live = LiveGroups();
  const GroupId group = live.empty() ? 0 : live[random_.Uniform(live.size())];
  const runtime::NodeId id =
      group == 0 ? runtime::kNoNode : HostsOf(group)[random_.Uniform(HostsOf(group).size())];
  NodeDriver* n = group == 0 ? nullptr : node(id);
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
  const std::vector<GroupId> live = LiveGroups();
  const GroupId group = live.empty() ? 0 : live[random_.Uniform(live.size())];
  const raft::NodeId leader = group == 0 ? raft::kNoNode : LeaderOf(group);
  if (leader != raft::kNoNode && HostsOf(group).size() > 1) {
    const std::vector<runtime::NodeId>& hosts = HostsOf(group);
    const size_t drawn = random_.Uniform(hosts.size());
    runtime::NodeId target = hosts[drawn];
    if (target == leader) target = hosts[(drawn + 1) % hosts.size()];
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
  if (options_.lifecycle_interval_mean.nanoseconds() > 0) ScheduleLifecycleStep();
}

void Cluster::StopWorkload() {
  workload_running_ = false;
  // No new membership cycle; one in progress runs to completion (liveness waits for it).
  if (membership_ != nullptr) membership_->Stop();
  for (runtime::TimerId* t :
       {&workload_timer_, &read_timer_, &transfer_timer_, &lifecycle_timer_}) {
    if (*t != runtime::kNoTimer) world_->loop().Cancel(*t);
    *t = runtime::kNoTimer;
  }
}

// --- Partition lifecycle ----------------------------------------------------------------------

std::vector<GroupId> Cluster::LiveGroups() const {
  std::vector<GroupId> live;
  for (const auto& [group, spec] : groups_) {
    if (!spec.deleted) live.push_back(group);
  }
  return live;
}

const std::vector<runtime::NodeId>& Cluster::HostsOf(GroupId group) const {
  auto it = groups_.find(group);
  EDDY_CHECK_MSG(it != groups_.end(), "group " << group << " was never created");
  return it->second.hosts;
}

bool Cluster::Hosts(runtime::NodeId node, GroupId group) const {
  auto it = groups_.find(group);
  if (it == groups_.end()) return false;
  return std::binary_search(it->second.hosts.begin(), it->second.hosts.end(), node);
}

bool Cluster::DeletionsComplete() const {
  // A node whose state store is uncertain is read-only: it removes nothing until an operator
  // rebuilds it (not modelled), so its share of a deletion waits for that.
  for (const auto& [id, groups] : purge_pending_) {
    const auto node = nodes_.find(id);
    if (node == nodes_.end() || node->second == nullptr ||
        !node->second->state_store().uncertain()) {
      return false;
    }
  }
  return true;
}

std::vector<runtime::NodeId> Cluster::DrawHosts() {
  const std::vector<runtime::NodeId>& ids = world_->node_ids();
  if (ids.size() <= kCreatedGroupReplicas) return ids;
  // At most a minority of the group's replicas on the storage-fault nodes (one of three): the
  // group's undamaged majority keeps every committed record and can elect.
  std::vector<runtime::NodeId> safe, damageable;
  for (runtime::NodeId id : ids) {
    (std::binary_search(damageable_.begin(), damageable_.end(), id) ? damageable : safe)
        .push_back(id);
  }
  const size_t damaged_max = (kCreatedGroupReplicas - 1) / 2;
  const size_t damaged_choices = std::min(damaged_max, damageable.size()) + 1;
  const size_t damaged = damageable.empty() ? 0 : lifecycle_random_.Uniform(damaged_choices);
  EDDY_CHECK_GE(safe.size(), kCreatedGroupReplicas - damaged);
  std::vector<runtime::NodeId> hosts;
  auto take = [&](std::vector<runtime::NodeId>& from, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const size_t at = lifecycle_random_.Uniform(from.size());
      hosts.push_back(from[at]);
      from.erase(from.begin() + static_cast<int64_t>(at));
    }
  };
  take(damageable, damaged);
  take(safe, kCreatedGroupReplicas - damaged);
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

GroupId Cluster::CreateGroup(std::vector<runtime::NodeId> hosts) {
  std::sort(hosts.begin(), hosts.end());
  EDDY_CHECK(!hosts.empty());
  EDDY_CHECK(std::adjacent_find(hosts.begin(), hosts.end()) == hosts.end());
  for (runtime::NodeId h : hosts) {
    EDDY_CHECK(h >= 1 && h <= static_cast<runtime::NodeId>(options_.node_count));
  }
  // A fresh id, never one used before: a deleted group's files may still sit on a down node.
  const GroupId group = next_group_id_++;
  EDDY_CHECK(!groups_.contains(group));
  for (runtime::NodeId h : hosts) {
    const SimDisk& disk = world_->node(h).sim_disk();
    EDDY_CHECK(disk.FilesWithPrefix(absl::StrCat("g", group, "/"), /*durable=*/true).empty());
  }
  groups_[group].hosts = hosts;
  std::string names;
  for (runtime::NodeId h : hosts) absl::StrAppend(&names, names.empty() ? "" : ",", h);
  Trace(absl::StrCat("lifecycle: create g", group, " on nodes ", names));
  Count("group created");
  for (runtime::NodeId h : hosts) {
    // A node down (or scrubbing) gets it when its broker is built (BuildNode).
    NodeDriver* n = node(h);
    if (n == nullptr) {
      Count("group created while a host was down");
      continue;
    }
    EDDY_CHECK_OK(n->AddGroup(GroupOptionsFor(h, group)));
  }
  return group;
}

void Cluster::DeleteGroup(GroupId group) {
  auto spec = groups_.find(group);
  EDDY_CHECK_MSG(spec != groups_.end() && !spec->second.deleted, "group " << group);
  spec->second.deleted = true;
  Trace(absl::StrCat("lifecycle: delete g", group));
  Count("group deleted");
  if (membership_->CancelIfOn(group)) Count("group deleted during its membership cycle");
  for (runtime::NodeId h : spec->second.hosts) {
    purge_pending_[h].insert(group);
    NodeDriver* n = node(h);
    if (n == nullptr) {
      // Down, or scrubbing before its broker starts: erased before the broker runs.
      Count("group deleted while a host was down");
      continue;
    }
    if (n->group(group) == nullptr) {
      // Its replica is being scrubbed before it runs again (WipeThenBuild): the scrub's end
      // completes the purge and does not add it back.
      EDDY_CHECK_MSG(wipe_pending_.contains(h) && wipe_pending_[h].contains(group),
                     "node " << h << " lacks g" << group);
      continue;
    }
    removing_[h].insert(group);
    const uint64_t epoch = node_epoch_[h];
    n->RemoveGroup(group, [this, alive = alive_, h, group, epoch](absl::Status s) {
      if (!*alive || node_epoch_[h] != epoch) return;
      removing_[h].erase(group);
      if (removing_[h].empty()) removing_.erase(h);
      if (s.ok()) return PurgeDone(h, group, /*broker_running=*/true);
      // The replica is gone from the broker; its files are not: erase them as an operator.
      Count("replica removal failed: files erased by the harness");
      Trace(absl::StrCat("node ", h, " g", group, " removal failed: ", s.ToString()));
      RetryPurge(h, group, kWipeRetryDelay);
    });
    // Between the replica's stop and the durable removal of its files.
    const Duration delay = Duration::Nanoseconds(
        static_cast<int64_t>(lifecycle_random_.Uniform(kRemovalCrashDelayMax.nanoseconds() + 1)));
    if (injector_ != nullptr && injector_->AimCrash(h, kLifecycleAimedCrashPpm, delay)) {
      Count("crash aimed while a replica removal is in progress");
    }
  }
  checker_.OnGroupDeleted(group);
}

void Cluster::RetryPurge(runtime::NodeId id, GroupId group, Duration delay) {
  const uint64_t epoch = node_epoch_[id];
  world_->loop().ScheduleAfter(delay, [this, alive = alive_, id, group, epoch] {
    if (!*alive || node_epoch_[id] != epoch || node(id) == nullptr) return;  // the restart does it
    // As an operator would: through the broker, which erases the replica's state and files.
    node(id)->WipeGroup(group, [this, alive, id, group, epoch](absl::Status s) {
      if (!*alive || node_epoch_[id] != epoch) return;
      if (s.ok()) return PurgeDone(id, group, /*broker_running=*/true);
      RetryPurge(id, group, kWipeRetryDelay);
    });
  });
}

void Cluster::PurgeDone(runtime::NodeId id, GroupId group, bool broker_running) {
  auto pending = purge_pending_.find(id);
  if (pending == purge_pending_.end() || !pending->second.contains(group)) return;
  // The removal was made durable: no file of the replica, now or after a crash.
  const SimDisk& disk = world_->node(id).sim_disk();
  const std::string prefix = absl::StrCat("g", group, "/");
  std::vector<std::string> left = disk.FilesWithPrefix(prefix, /*durable=*/false);
  const std::vector<std::string> durable = disk.FilesWithPrefix(prefix, /*durable=*/true);
  left.insert(left.end(), durable.begin(), durable.end());
  const auto node = nodes_.find(id);
  if (node != nodes_.end() && node->second != nullptr && node->second->state_store().holds(group)) {
    return checker_.Fail("deleted-replica-files-gone",
                         absl::StrCat("node ", id, " removed deleted group ", group,
                                      " but its state store still holds the group's state"));
  }
  if (!left.empty()) {
    const std::string detail = absl::StrCat("node ", id, " removed deleted group ", group,
                                            " but its disk (now or after a crash) holds ",
                                            left.front(), broker_running ? "" : " after a scrub");
    // KNOWN DRIVER BUG (sim/cluster/README.md): disk-operation chains a replica started before
    // RemoveGroup (the log creating its first segment; once the per-group hard-state store)
    // run on after the replica is destroyed, and create files after RemoveGroup listed the
    // directory. Unless strict, the harness erases them later, as a broker's stray-directory
    // collection would; the pinned scenario test runs strict.
    if (!broker_running || options_.strict_removal_files) {
      return checker_.Fail("deleted-replica-files-gone", detail);
    }
    Count("known driver bug: a removed replica's open created files after its removal");
    Trace(absl::StrCat(detail, "; erasing them again later"));
    return RetryPurge(id, group, kLeftoverEraseDelay);
  }
  pending->second.erase(group);
  if (pending->second.empty()) purge_pending_.erase(pending);
  for (const auto& [node_id, groups] : purge_pending_) {
    if (groups.contains(group)) return;
  }
  Count("group deletion completed");
  Trace(absl::StrCat("lifecycle: g", group, " deleted from every host"));
}

void Cluster::LifecycleStep() {
  lifecycle_timer_ = runtime::kNoTimer;
  if (!workload_running_) return;
  const std::vector<GroupId> live = LiveGroups();
  const bool can_create = live.size() < static_cast<size_t>(options_.live_groups_max);
  const bool can_delete = live.size() > 1;  // the workload keeps a group to write to
  if (can_create && (!can_delete || lifecycle_random_.OneIn(2))) {
    const GroupId group = CreateGroup(DrawHosts());
    if (lifecycle_random_.OneIn(4)) {
      // A short-lived partition: deleted while it opens, elects or takes its first writes.
      const Duration soon = Duration::Nanoseconds(static_cast<int64_t>(
          lifecycle_random_.Uniform(static_cast<uint64_t>(kShortLivedGroupMax.nanoseconds()))));
      world_->loop().ScheduleAfter(soon, [this, alive = alive_, group] {
        if (!*alive || !workload_running_ || groups_.at(group).deleted || LiveGroups().size() < 2) {
          return;
        }
        Count("group deleted soon after its creation");
        DeleteGroup(group);
      });
    }
  } else if (can_delete) {
    // Half the time, the group a membership cycle is changing (its cycle must cancel cleanly).
    GroupId victim = live[lifecycle_random_.Uniform(live.size())];
    if (!membership_->idle() && lifecycle_random_.OneIn(2)) victim = membership_->group();
    DeleteGroup(victim);
  }
  ScheduleLifecycleStep();
}

void Cluster::ScheduleLifecycleStep() {
  const int64_t mean_ns = options_.lifecycle_interval_mean.nanoseconds();
  EDDY_CHECK_GT(mean_ns, 0);
  lifecycle_timer_ = world_->loop().ScheduleAfter(
      Duration::Nanoseconds(lifecycle_random_.UniformInRange(1, 2 * mean_ns)),
      [this] { LifecycleStep(); });
}

// --- Run --------------------------------------------------------------------------------------

bool Cluster::WaitsForOperator(runtime::NodeId id) const {
  // A node whose state store is uncertain is read-only and its replicas halt: it erases
  // nothing and serves nothing until an operator rebuilds it (not modelled).
  const auto node = nodes_.find(id);
  return node != nodes_.end() && node->second != nullptr &&
         node->second->state_store().uncertain();
}

bool Cluster::WaitsForOperator(GroupId group) const {
  for (const runtime::NodeId id : HostsOf(group)) {
    if (WaitsForOperator(id)) return true;
  }
  return false;
}

bool Cluster::Converged() const {
  if (!DeletionsComplete()) return false;
  // A membership cycle whose group has a replica on a node waiting for an operator (its wipe,
  // or the promotion of its halted learner, cannot happen) cannot finish, nor can that group's
  // configuration become full again; the rest of the group must still converge.
  if (!membership_->idle() && !WaitsForOperator(membership_->group())) return false;
  for (const auto& [id, node] : nodes_) {
    if (node == nullptr) return false;
  }
  for (const GroupId group : LiveGroups()) {
    // The current configuration is every host's current replica, as a voter.
    if (LeaderOf(group) == raft::kNoNode) return false;
    if (!FullMembership(group) && !WaitsForOperator(group)) return false;
    const int64_t acked = checker_.max_acked_offset(group);
    for (const runtime::NodeId id : HostsOf(group)) {
      const std::unique_ptr<NodeDriver>& node = nodes_.at(id);
      if (node == nullptr) return false;
      if (WaitsForOperator(id)) continue;  // its replica is halted, or its wipe waits
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
      " --wipe=", options_.wipe_percent,
      " --lifecycle=", options_.lifecycle_interval_mean.nanoseconds() / 1'000'000'000);
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
  if (!options_.quiesce) absl::StrAppend(&command, " --no_quiesce");
  absl::StrAppend(&command, " --idle=", options_.idle_one_in);
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
      std::string detail = absl::StrCat(" ", membership_->Describe(), ";",
                                        DeletionsComplete() ? "" : " deletions pending;");
      for (const GroupId live : LiveGroups()) {
        const uint64_t g = live;
        absl::StrAppend(&detail, " g", g, ": leader ", LeaderOf(static_cast<GroupId>(g)),
                        " committed ",
                        CommittedMembership(static_cast<GroupId>(g)).DebugString(),
                        ", acked to ", checker_.max_acked_offset(static_cast<GroupId>(g)),
                        ", applied");
        for (const auto& [id, node] : nodes_) {
          const raft::driver::GroupDriver* gd =
              node == nullptr ? nullptr : node->group(static_cast<GroupId>(g));
          absl::StrAppend(&detail, " n", id, "=",
                          gd == nullptr  ? std::string("down")
                          : gd->running() ? absl::StrCat(gd->applied_offset())
                          : gd->halted()  ? std::string("halted")
                                          : std::string("stopped"));
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
  for (const auto& [id, node] : nodes_) {
    if (node == nullptr) continue;
    r.coverage["quiescence: peer node declared down"] += node->stats().peers_declared_down;
    r.coverage["quiescence: group woken by node liveness"] +=
        node->stats().groups_woken_by_liveness;
  }
  r.proposed = proposed_;
  r.acked = checker_.acked_count();
  r.reads = reads_;
  r.replay_command = ReplayCommand();
  return r;
}

}  // namespace eddy::sim::cluster
