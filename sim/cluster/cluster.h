// Cluster: one replicated-partition simulation run — a SimWorld of N brokers, each running a
// raft::driver::NodeDriver with G Raft groups over its simulated disk and network; a workload
// that proposes client batches at a rate to each group's leader and records every
// acknowledgement; readers that read committed data from random replicas; leadership transfers;
// membership cycles (remove a voter, maybe wipe its replica, add it back as a learner, promote
// it: membership_cycle.h); a swarm FaultInjector; and the Checker, fed by every replica. After
// the run's last (healed) phase the harness checks liveness: within `liveness_bound` simulated
// time any membership cycle in progress completes, every deleted group's files are gone from
// every host, every live group has a leader whose committed configuration is every host's
// current replica as a voter, and every acknowledged batch is applied (read from its log) on
// every host.
//
// REPLICA IDS: each (node, group) replica has a Raft id, ReplicaId(node, incarnation) (see
// raft/driver/driver_options.h). The incarnation starts at 0 (the id is the node id) and goes up
// by one each time the harness wipes that replica; the harness remembers it like a controller
// would, and wipes a replica's directory BEFORE its node runs the new incarnation.
//
// PARTITION LIFECYCLE: the harness plays the controller. It keeps the desired set of groups
// (GroupSpec: hosts, deleted) and applies it to the brokers: groups 1..group_count start on
// every node; at random times (lifecycle_interval_mean) it creates a group under a NEW id (ids
// are never reused) on 3 of the nodes (all of them if fewer; at most one of them on the
// storage-fault minority, so every group's majority of replicas stays undamaged), bootstrap
// voters = those replicas, or deletes a live group (RemoveGroup on every host whose broker
// runs; the checker checks the group one last time and then forgets it: checker.h, DELETED
// GROUPS). A node down at that moment gets the desired set when its broker is rebuilt: a
// created group is added like any other, and a deleted group's leftover files (also those of
// a removal a crash interrupted) are erased on its disk BEFORE the broker starts, as a broker
// scrubs stray partition directories it finds at startup. A deletion is complete once every
// host's files are known gone (then checked on its disk: "deleted-replica-files-gone").
// Deleting a group cancels a membership cycle running on it. Crashes are aimed (FaultInjector::
// AimCrash) right after a host's RemoveGroup (before its removals are durable) and right after
// a fresh replica saved its identity (GroupDriver::kIdentitySavedEvent: log still empty).
//
// A run is a pure function of ClusterOptions: same options, same trace hash.
//
// Seeds: the world gets `seed`; the fault profile, schedule and injector draw from
// Random(seed ^ kFaultSeedSalt) (as sim/workload's TrafficCluster does), the workload from
// Random(seed ^ kWorkloadSeedSalt), the partition lifecycle from Random(seed ^
// kLifecycleSeedSalt).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/checker.h"
#include "sim/cluster/hash_machine.h"
#include "sim/cluster/membership_cycle.h"
#include "sim/faults/fault_injector.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::cluster {

enum class FaultMode {
  kNone,   // no faults at all
  kSwarm,  // a random subset of kinds at random intensities, per seed
  kAll,    // every kind, at intensities drawn per seed
};
const char* FaultModeName(FaultMode mode);
bool ParseFaultMode(const std::string& name, FaultMode* mode);

struct ClusterOptions {
  uint64_t seed = 1;
  int node_count = 3;
  int group_count = 1;
  Duration duration = Duration::Seconds(30);
  FaultMode faults = FaultMode::kSwarm;
  // Client batches proposed per simulated second, over all groups.
  int batches_per_second = 100;
  int reads_per_second = 20;
  // Bytes per log read in the driver (GroupOptions::read_size_bytes_max); small values make
  // every scan, apply and catch-up read take many steps.
  uint64_t read_size_bytes_max = 1 * kMiB;
  // Mean gap between leadership transfers (zero: none).
  Duration transfer_interval_mean = Duration::Seconds(4);
  // Mean gap between attempts to start a membership cycle (zero: none); the share of cycles
  // that wipe the replica they remove.
  Duration membership_interval_mean = Duration::Seconds(6);
  uint32_t wipe_percent = 50;
  // Mean gap between partition lifecycle operations, each a group create or delete (zero:
  // none); at most `live_groups_max` groups exist at once (0: group_count + 2), at least one.
  Duration lifecycle_interval_mean = Duration::Seconds(5);
  int live_groups_max = 0;
  // A removed replica's files found on its disk after RemoveGroup reported them durably gone
  // fail the run ("deleted-replica-files-gone") if strict; otherwise (the default, until the
  // driver bug described in sim/cluster/README.md is fixed) they are counted and erased later.
  bool strict_removal_files = false;
  // TEST ONLY, a planted harness bug: a wiped replica rejoins under its OLD id (empty term, vote
  // and log) instead of a new incarnation. Scenario tests show the checker catches it.
  bool reuse_wiped_replica_id = false;
  Duration liveness_bound = Duration::Seconds(300);
  Duration tick_interval = Duration::Milliseconds(50);
  // Quiescence of idle groups (raft/driver NodeOptions::quiesce).
  bool quiesce = true;
  // The workload goes idle now and then (no proposals for a while, so groups quiesce): each
  // proposal step starts an idle period with probability 1 / idle_one_in (0: never), lasting
  // uniformly in [idle_duration_min, idle_duration_max]. eddy-sim and the sweeps use
  // kIdleOneInSweep; scripted scenarios leave it off.
  uint64_t idle_one_in = 0;
  Duration idle_duration_min = Duration::Milliseconds(500);
  Duration idle_duration_max = Duration::Milliseconds(2500);
  raft::driver::DriverBug bug = raft::driver::DriverBug::kNone;
  // Log prefix retention per replica (GroupOptions::retention_offsets; 0: keep everything) and
  // segment size (0: the log's default); small values make lagging or restarted followers need
  // snapshots, and make retention really delete segment files.
  int64_t retention_offsets = 0;
  uint64_t segment_size_bytes_max = 0;
  // Every replica hosts a HashMachine (hash_machine.h) that persists its state every
  // `machine_persist_every` applied entries (0: never); the checker compares every replica's
  // machine state at every applied offset ("machine-states-agree"). Snapshot chunks carry at
  // most `snapshot_chunk_size_bytes_max` bytes (0: the core's default).
  bool state_machines = false;
  int64_t machine_persist_every = 16;
  uint64_t snapshot_chunk_size_bytes_max = 0;
  // Keep this many of the most recent trace lines for a failure report.
  size_t trace_lines_max = 60;
  // Called after every 100 ms slice of simulated time (eddy-sim --progress); may be empty.
  std::function<void(const std::string&)> progress;
};

// Idle periods of the random sweeps (eddy-sim's default --idle): about one every 1.5 s at
// 100 batches/s, so groups quiesce and wake under every fault.
inline constexpr uint64_t kIdleOneInSweep = 150;

struct RunResult {
  uint64_t seed = 0;
  std::string profile;  // FaultProfile::ToString()
  uint64_t events = 0;  // world-loop events processed
  double simulated_seconds = 0;
  uint64_t trace_hash = 0;
  std::optional<Violation> violation;
  std::vector<std::string> trace;  // the last events before the end (or the violation)
  std::map<std::string, uint64_t> coverage;  // faults injected and recovery paths taken
  uint64_t proposed = 0;
  uint64_t acked = 0;
  uint64_t reads = 0;
  std::string replay_command;
};

class Cluster final : public raft::driver::DriverObserver {
 public:
  static constexpr uint64_t kFaultSeedSalt = 0xfa017'5eedULL;
  static constexpr uint64_t kWorkloadSeedSalt = 0x3017'10adULL;
  static constexpr uint64_t kMembershipSeedSalt = 0x3e3b'e75eULL;
  static constexpr uint64_t kLifecycleSeedSalt = 0x11fe'c7c1eULL;
  static constexpr uint64_t kWallClockSeedSalt = 0x3a11'c10cULL;
  static constexpr size_t kInFlightPerGroupMax = 256;
  // Replicas per created group (fewer if the cluster has fewer nodes).
  static constexpr size_t kCreatedGroupReplicas = 3;
  // The rate of crashes aimed at a lifecycle window (in fault phases of profiles with aimed
  // crashes): a run meets these windows a few times only.
  static constexpr uint32_t kLifecycleAimedCrashPpm = 250'000;

  explicit Cluster(ClusterOptions options);
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Runs the whole scenario: faults and workload for `duration`, then the liveness phase.
  RunResult Run();

  // --- for scenario tests: drive the world by hand ---
  SimWorld& world() { return *world_; }
  raft::driver::NodeDriver* node(raft::NodeId id);
  // The leader with the highest term of `group` among running replicas, or kNoNode.
  raft::NodeId LeaderOf(raft::driver::GroupId group) const;
  // Proposes one generated batch to `group`'s leader (if any); returns false if none.
  bool ProposeOne(raft::driver::GroupId group);
  // Starts the workload, readers and transfers (Run() does it); scenario tests may instead call
  // ProposeOne by hand.
  void StartWorkload();
  void StopWorkload();
  // True once no membership cycle is in progress, every broker runs, every deletion is complete,
  // every live group has a leader whose committed configuration is FullMembership, and every
  // acked batch is applied on every host. What waits for an operator is left out: a halted
  // replica, and a node whose state store is uncertain with the membership cycle and the full
  // configuration of its groups (WaitsForOperator).
  bool Converged() const;
  Checker& checker() { return checker_; }
  MembershipCycle& membership() { return *membership_; }

  // --- partition lifecycle (the harness as controller; see PARTITION LIFECYCLE) ---
  // Creates a group under a fresh id with replicas on `hosts` (distinct node ids; its bootstrap
  // voters are their replicas) and returns the id: added now where a broker runs, at the next
  // start elsewhere.
  GroupId CreateGroup(std::vector<runtime::NodeId> hosts);
  // Deletes live `group`: RemoveGroup on every host whose broker runs, leftover files erased
  // at the next start elsewhere; cancels a membership cycle on it; tells the checker.
  void DeleteGroup(GroupId group);
  // Groups not deleted, ascending.
  std::vector<GroupId> LiveGroups() const;
  // REQUIRES: `group` was created (initial or CreateGroup); ascending.
  const std::vector<runtime::NodeId>& HostsOf(GroupId group) const;
  bool Hosts(runtime::NodeId node, GroupId group) const;
  // Every deleted group's files are gone from every host.
  bool DeletionsComplete() const;
  // Whether node `id` (any host of `group`) waits for an operator: its state store is
  // uncertain, so it is read-only (a wipe there cannot happen) and its replicas halt.
  bool WaitsForOperator(runtime::NodeId id) const;
  bool WaitsForOperator(raft::driver::GroupId group) const;

  // --- replica identity and membership (MembershipCycle uses these) ---
  // The Raft id of `node`'s current replica of `group`.
  raft::NodeId ReplicaIdOf(runtime::NodeId node, raft::driver::GroupId group) const;
  // "3", or "3#2" for node 3's second incarnation after wipes.
  static std::string ReplicaName(raft::NodeId replica);
  // The driver of `group`'s leader (LeaderOf), or nullptr.
  raft::driver::GroupDriver* LeaderGroup(raft::driver::GroupId group);
  // `group`'s membership as of the highest committed offset any replica has applied: the
  // bootstrap voters, then every committed change in log order. (Not a leader's view: a newly
  // elected leader's commit offset, hence its membership, may lag until its no-op commits.)
  raft::Membership CommittedMembership(raft::driver::GroupId group) const;
  // Is CommittedMembership every host's current replica as a voter, and no learner?
  bool FullMembership(raft::driver::GroupId group) const;
  // Wipes `node`'s replica of `group` and returns its new Raft id: the old id is retired (the
  // checker is told), the node stopped if it is up (a crash, as an operator's kill), the group's
  // directory erased on its disk, then the node restarted (or, if it was down, the wipe happens
  // when it restarts) running the new incarnation. REQUIRES: the old replica's removal from the
  // group is committed; the node is not paused.
  raft::NodeId WipeReplica(runtime::NodeId node, raft::driver::GroupId group);
  void CountRecovery(const std::string& name) { Count(name); }
  // A test damaged `node`'s disk by hand (SimDisk::CorruptByte): data loss there is expected.
  void NoteManualDamage(raft::NodeId node) { manually_damaged_.insert(node); }
  const std::map<std::string, uint64_t>& recovery_counts() const { return recovery_; }
  // The durable slot of `replica`'s HashMachine of `group` (ClusterOptions::state_machines).
  HashMachineSlot& machine_slot(raft::NodeId replica, raft::driver::GroupId group) {
    return machine_slots_[{replica, group}];
  }
  // Scenario tests: called on every replica log flush (node, group, flushed last offset, whether
  // a hard-state save follows), inside the driver's callback: it may post work (a crash at this
  // instant) but must not stop the node itself.
  using LogFlushedHook = std::function<void(runtime::NodeId, raft::driver::GroupId, int64_t, bool)>;
  void SetLogFlushedHook(LogFlushedHook hook) { log_flushed_hook_ = std::move(hook); }
  // Scenario tests: called on every replica's OnEvent (node, group, event name), inside the
  // driver's callback, with the same rules as the LogFlushedHook.
  using EventHook = std::function<void(runtime::NodeId, raft::driver::GroupId, const char*)>;
  void SetEventHook(EventHook hook) { event_hook_ = std::move(hook); }
  // Scenario tests: called when a replica's pending mark is durable before the log flush it
  // names (node, group, pending last offset), with the same rules as the LogFlushedHook.
  using PendingMarkHook = std::function<void(runtime::NodeId, raft::driver::GroupId, int64_t)>;
  void SetPendingMarkHook(PendingMarkHook hook) { pending_mark_hook_ = std::move(hook); }
  std::string ReplayCommand() const;
  RunResult Summarize();
  // One line of counters for --progress.
  std::string Progress() const;
  void Trace(std::string line);

  // DriverObserver.
  void OnOpened(raft::NodeId, raft::driver::GroupId, const raft::driver::OpenReport&) override;
  void OnSoftState(raft::NodeId, raft::driver::GroupId, const raft::SoftState&) override;
  void OnPersisted(raft::NodeId, raft::driver::GroupId, const raft::HardState&,
                   int64_t durable_mark) override;
  void OnTruncated(raft::NodeId, raft::driver::GroupId, int64_t offset) override;
  void OnApplied(raft::NodeId, raft::driver::GroupId, const raft::EntryMeta&,
                 std::span<const uint8_t> batch) override;
  void OnSnapshotInstalled(raft::NodeId, raft::driver::GroupId,
                           const raft::SnapshotMeta&) override;
  void OnKafkaApplied(raft::NodeId node, raft::driver::GroupId group, int64_t raft_base_offset,
                      int64_t kafka_base_offset, int64_t kafka_next_offset,
                      int64_t kafka_high_watermark) override {
    checker_.OnKafkaApplied(node, group, raft_base_offset, kafka_base_offset, kafka_next_offset,
                            kafka_high_watermark);
  }
  void OnLogFlushed(raft::NodeId, raft::driver::GroupId, int64_t last_offset,
                    bool hard_state_save_next) override;
  void OnPendingMarkSaved(raft::NodeId, raft::driver::GroupId, int64_t pending) override;
  void OnFailed(raft::NodeId, raft::driver::GroupId, const absl::Status&) override;
  void OnEvent(raft::NodeId, raft::driver::GroupId, const char* name) override;

 private:
  void StartNode(runtime::NodeId id);
  // BuildNode, then erases (NodeDriver::WipeGroup) the replicas awaiting a wipe, adding them
  // under their new ids, and the deleted groups' replicas awaiting a purge.
  void WipeThenBuild(runtime::NodeId id);
  void WipeOne(runtime::NodeId id, raft::driver::GroupId group, uint64_t epoch);
  // Creates the node's broker with every live group it hosts but those awaiting a wipe.
  void BuildNode(runtime::NodeId id);
  raft::driver::GroupOptions GroupOptionsFor(runtime::NodeId id, raft::driver::GroupId group);
  // `id` no longer holds files of deleted `group`: checks its disk, maybe completes the delete.
  // `broker_running`: the removal was the driver's (or the harness's, next to a running
  // broker), not a scrub before the broker starts.
  void PurgeDone(runtime::NodeId id, raft::driver::GroupId group, bool broker_running);
  // Erases `group`'s replica on `id` (NodeDriver::WipeGroup) after `delay`, until it
  // succeeds, then PurgeDone.
  void RetryPurge(runtime::NodeId id, raft::driver::GroupId group, Duration delay);
  void LifecycleStep();
  void ScheduleLifecycleStep();
  std::vector<runtime::NodeId> DrawHosts();
  void StopNode(runtime::NodeId id);
  bool DiskDamaged(raft::NodeId id) const;
  void WorkloadStep();
  void ReadStep();
  void TransferStep();
  void Count(const std::string& name) { ++recovery_[name]; }
  std::vector<uint8_t> MakeBatch(raft::driver::GroupId group);

  struct GroupSpec {
    std::vector<runtime::NodeId> hosts;  // ascending
    bool deleted = false;
  };

  ClusterOptions options_;
  std::unique_ptr<SimWorld> world_;
  std::unique_ptr<FaultInjector> injector_;
  std::string profile_text_;
  Checker checker_;
  std::map<runtime::NodeId, std::unique_ptr<raft::driver::NodeDriver>> nodes_;
  std::map<std::pair<runtime::NodeId, raft::driver::GroupId>, uint32_t> incarnation_;
  // Groups whose directory must be erased before the node's next broker starts.
  std::map<runtime::NodeId, std::set<raft::driver::GroupId>> wipe_pending_;
  // Every group ever created (never reused), and the controller's view of it.
  std::map<raft::driver::GroupId, GroupSpec> groups_;
  raft::driver::GroupId next_group_id_ = 1;
  std::vector<runtime::NodeId> damageable_;  // the storage-fault minority
  // Hosts of deleted groups whose files are not known gone yet (erased before the next start).
  std::map<runtime::NodeId, std::set<raft::driver::GroupId>> purge_pending_;
  // RemoveGroup calls not completed yet: a crash now interrupts a removal.
  std::map<runtime::NodeId, std::set<raft::driver::GroupId>> removing_;
  // Fresh replicas that saved their identity and made nothing else durable yet.
  std::map<runtime::NodeId, std::set<raft::driver::GroupId>> identity_saved_;
  Random lifecycle_random_;
  runtime::TimerId lifecycle_timer_ = runtime::kNoTimer;
  // Bumped when a node stops: a wipe in flight for an older epoch is abandoned.
  std::map<runtime::NodeId, uint64_t> node_epoch_;
  std::unique_ptr<MembershipCycle> membership_;
  // Committed membership changes seen applied, per group, by offset (a prefix-closed set:
  // every replica applies in log order).
  std::map<raft::driver::GroupId, std::map<int64_t, raft::EntryMeta>> committed_conf_;
  std::map<std::pair<raft::NodeId, raft::driver::GroupId>, raft::SoftState> soft_;
  Random random_;
  bool workload_running_ = false;
  runtime::TimerId workload_timer_ = runtime::kNoTimer;
  runtime::TimerId read_timer_ = runtime::kNoTimer;
  runtime::TimerId transfer_timer_ = runtime::kNoTimer;
  uint64_t next_group_ = 0;
  uint64_t sequence_ = 0;
  std::map<raft::driver::GroupId, size_t> in_flight_;
  uint64_t proposed_ = 0;
  uint64_t reads_ = 0;
  std::map<std::string, uint64_t> recovery_;
  // Machines' own durable storage, by (replica id, group); survives crashes (hash_machine.h).
  std::map<std::pair<raft::NodeId, raft::driver::GroupId>, HashMachineSlot> machine_slots_;
  std::set<raft::NodeId> manually_damaged_;
  LogFlushedHook log_flushed_hook_;
  PendingMarkHook pending_mark_hook_;
  EventHook event_hook_;
  std::deque<std::string> trace_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::cluster
