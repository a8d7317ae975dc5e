// Cluster: one replicated-partition simulation run — a SimWorld of N brokers, each running a
// raft::driver::NodeDriver with G Raft groups over its simulated disk and network; a workload
// that proposes client batches at a rate to each group's leader and records every
// acknowledgement; readers that read committed data from random replicas; leadership transfers;
// a swarm FaultInjector; and the Checker, fed by every replica. After the run's last (healed)
// phase the harness checks liveness: within `liveness_bound` simulated time every group has a
// leader and every acknowledged batch is applied (read from its log) on every replica.
//
// A run is a pure function of ClusterOptions: same options, same trace hash.
//
// Seeds: the world gets `seed`; the fault profile, schedule and injector draw from
// Random(seed ^ kFaultSeedSalt) (as sim/workload's TrafficCluster does), the workload from
// Random(seed ^ kWorkloadSeedSalt).
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
  Duration liveness_bound = Duration::Seconds(300);
  Duration tick_interval = Duration::Milliseconds(50);
  raft::driver::DriverBug bug = raft::driver::DriverBug::kNone;
  // Log prefix retention per replica (GroupOptions::retention_offsets; 0: keep everything) and
  // segment size (0: the log's default); small values make lagging or restarted followers need
  // snapshots, and make retention really delete segment files.
  int64_t retention_offsets = 0;
  uint64_t segment_size_bytes_max = 0;
  // Keep this many of the most recent trace lines for a failure report.
  size_t trace_lines_max = 60;
  // Called after every 100 ms slice of simulated time (eddy-sim --progress); may be empty.
  std::function<void(const std::string&)> progress;
};

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
  static constexpr size_t kInFlightPerGroupMax = 256;

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
  // True once every group has a leader and every acked batch is applied on every replica.
  bool Converged() const;
  Checker& checker() { return checker_; }
  // A test damaged `node`'s disk by hand (SimDisk::CorruptByte): data loss there is expected.
  void NoteManualDamage(raft::NodeId node) { manually_damaged_.insert(node); }
  const std::map<std::string, uint64_t>& recovery_counts() const { return recovery_; }
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
  void OnFailed(raft::NodeId, raft::driver::GroupId, const absl::Status&) override;
  void OnEvent(raft::NodeId, raft::driver::GroupId, const char* name) override;

 private:
  void StartNode(runtime::NodeId id);
  void StopNode(runtime::NodeId id);
  bool DiskDamaged(raft::NodeId id) const;
  void WorkloadStep();
  void ReadStep();
  void TransferStep();
  void Count(const std::string& name) { ++recovery_[name]; }
  std::vector<uint8_t> MakeBatch(raft::driver::GroupId group);

  ClusterOptions options_;
  std::unique_ptr<SimWorld> world_;
  std::unique_ptr<FaultInjector> injector_;
  std::string profile_text_;
  Checker checker_;
  std::map<runtime::NodeId, std::unique_ptr<raft::driver::NodeDriver>> nodes_;
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
  std::set<raft::NodeId> manually_damaged_;
  std::deque<std::string> trace_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::cluster
