// Memory and open files per idle replica (issue 8 §4; targets <= 200 KiB and <= 2 files): one
// simulated node opens G idle Raft replicas through the real open path (NodeDriver::AddGroup:
// the node-wide state store's load, each log's recovery, the Raft core, the election, the
// no-op's commit, quiescence), and the heap they hold is counted.
//
//   bazel run -c opt //bench/sim:replica_memory_bench
//
// Each replica is the only voter of its group (so one node holds a whole idle cluster's worth of
// replicas, and nothing else in the process is per-replica state); its log holds kBatchesPerLog
// client batches of ~1 KiB in segments of kSegmentSizeBytes (three sealed segments and the
// active one, as bench/log:log_memory_bench), written, acknowledged and synced by a first
// NodeDriver, which then crashes. One iteration restarts the node, builds a NodeDriver with the
// default NodeOptions (1,024 open segment files for the node), adds the G groups — all at once
// (wave:0, as a broker restarting does today) or kOpenWaveGroups at a time (wave:500, each wave
// once the previous replicas opened) — runs the simulation until every group has a leader and
// every replica went quiet, one simulated second more, and then measures:
//   heap_bytes_per_replica  live heap after minus before, over G: the driver, the state store,
//                           every log, Raft core, timers and queues of the loop; NOT the bytes
//                           SimDisk allocates to simulate the disk (its file contents and
//                           tables: allocations made inside a call into the disk are counted
//                           apart, in disk_heap_bytes_per_replica, and freed against the counter
//                           they were made under, by a tag in front of every block);
//   open_files_per_replica  file handles open on the disk, over G;
//   open_files_peak         the most handles open at once while the replicas opened (SimDisk
//                           refuses beyond SimDisk::kOpenFilesMax, as a process's fd limit);
//   replica_failures        replicas that stopped while opening (and reopened after a delay),
//                           the first failure's status as the label;
//   open_files, groups_led, awake_groups, replica_opens, open_sim_seconds (simulated time
//   until settled).
// The benchmark's wall time is that of one whole reopen (real CPU, simulator included).
// Where the heap goes: EDDY_EXIT_WHEN_IDLE=1 exits right after the first measurement, so a heap
// profiler reports what the idle node holds as leaked (heaptrack, then heaptrack_print -l).
// Medians of the repetitions.
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/base/units.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "raft/driver/node_driver.h"
#include "sim/runtime/sim_world.h"

namespace {

// Every block carries a header saying which counter it was counted in; 16 bytes keep the
// alignment malloc gives.
constexpr size_t kHeaderBytes = 16;
int64_t g_live_bytes[2] = {0, 0};  // [0]: everything else; [1]: made inside a SimDisk call
int g_inside_disk = 0;             // > 0 while a call into the simulated disk runs

}  // namespace

void* operator new(size_t size) {
  void* base = std::malloc(size + kHeaderBytes);
  if (base == nullptr) throw std::bad_alloc();
  const uint8_t tag = g_inside_disk > 0 ? 1 : 0;
  std::memcpy(base, &tag, 1);
  g_live_bytes[tag] += static_cast<int64_t>(malloc_usable_size(base) - kHeaderBytes);
  return static_cast<uint8_t*>(base) + kHeaderBytes;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  void* base = static_cast<uint8_t*>(p) - kHeaderBytes;
  uint8_t tag = 0;
  std::memcpy(&tag, base, 1);
  g_live_bytes[tag] -= static_cast<int64_t>(malloc_usable_size(base) - kHeaderBytes);
  std::free(base);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace eddy {
namespace {

using raft::driver::GroupId;
using raft::driver::NodeDriver;
using runtime::FileHandle;

constexpr runtime::NodeId kNode = 1;
constexpr int kBatchesPerLog = 20;
constexpr uint64_t kSegmentSizeBytes = 6 * kKiB;
constexpr size_t kPayloadSizeBytes = 1000;
// Groups written at once while the logs are built (see IdleNode).
constexpr int kWriteWaveGroups = 1000;
// Groups added at once in the benchmark's "wave" runs (see OpenAndSettle).
constexpr int kOpenWaveGroups = 500;
// Simulated time allowed for the elections (and quiescence) of every group to settle.
constexpr Duration kSettle = Duration::Seconds(120);

// Marks the allocations made while the simulated disk runs a call as the disk's own.
struct InsideDisk {
  InsideDisk() { ++g_inside_disk; }
  ~InsideDisk() { --g_inside_disk; }
};

// Forwards to the node's SimDisk, tagging the disk's allocations.
// Completions run outside the tag: what the caller does with a result is the caller's memory.
class MeasuredDisk final : public runtime::Disk {
 public:
  explicit MeasuredDisk(sim::SimDisk& disk) : disk_(disk) {}
  // File handles open now (a crash closes every one), and the most at once since ResetPeak().
  size_t open_files() const { return disk_.open_file_count(); }
  size_t open_files_peak() const { return open_files_peak_; }
  void ResetPeak() { open_files_peak_ = disk_.open_file_count(); }

  void Open(std::string path, runtime::OpenMode mode, DoneWith<FileHandle> done) override {
    InsideDisk inside;
    disk_.Open(std::move(path), mode, std::move(done));
    // The open took effect at submission (SimDisk applies effects then).
    open_files_peak_ = std::max(open_files_peak_, disk_.open_file_count());
  }
  void Close(FileHandle file, Done done) override {
    InsideDisk inside;
    disk_.Close(file, std::move(done));
  }
  void Size(FileHandle file, DoneWith<uint64_t> done) override {
    InsideDisk inside;
    disk_.Size(file, std::move(done));
  }
  void Append(FileHandle file, std::vector<uint8_t> data, DoneWith<uint64_t> done) override {
    InsideDisk inside;
    disk_.Append(file, std::move(data), std::move(done));
  }
  void WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data,
               Done done) override {
    InsideDisk inside;
    disk_.WriteAt(file, position, std::move(data), std::move(done));
  }
  void ReadAt(FileHandle file, uint64_t position, uint64_t length_bytes,
              DoneWith<std::vector<uint8_t>> done) override {
    InsideDisk inside;
    disk_.ReadAt(file, position, length_bytes, std::move(done));
  }
  void Sync(FileHandle file, Done done) override {
    InsideDisk inside;
    disk_.Sync(file, std::move(done));
  }
  void Truncate(FileHandle file, uint64_t size_bytes, Done done) override {
    InsideDisk inside;
    disk_.Truncate(file, size_bytes, std::move(done));
  }
  void Rename(std::string from, std::string to, Done done) override {
    InsideDisk inside;
    disk_.Rename(std::move(from), std::move(to), std::move(done));
  }
  void Remove(std::string path, Done done) override {
    InsideDisk inside;
    disk_.Remove(std::move(path), std::move(done));
  }
  void CreateDirectories(std::string path, Done done) override {
    InsideDisk inside;
    disk_.CreateDirectories(std::move(path), std::move(done));
  }
  void List(std::string path, DoneWith<std::vector<std::string>> done) override {
    InsideDisk inside;
    disk_.List(std::move(path), std::move(done));
  }
  void SyncDirectory(std::string path, Done done) override {
    InsideDisk inside;
    disk_.SyncDirectory(std::move(path), std::move(done));
  }

 private:
  sim::SimDisk& disk_;
  size_t open_files_peak_ = 0;
};

// The simulated node's runtime with the measured disk in place of its own.
class MeasuredRuntime final : public runtime::Runtime {
 public:
  explicit MeasuredRuntime(sim::SimRuntime& node) : node_(node), disk_(node.sim_disk()) {}
  runtime::NodeId self() const override { return node_.self(); }
  runtime::Clock& clock() override { return node_.clock(); }
  runtime::WallClock& wall_clock() override { return node_.wall_clock(); }
  runtime::Disk& disk() override { return disk_; }
  runtime::Transport& transport() override { return node_.transport(); }
  Random& random() override { return node_.random(); }
  MeasuredDisk& measured_disk() { return disk_; }

 private:
  sim::SimRuntime& node_;
  MeasuredDisk disk_;
};

// Counts what the replicas report: opens and failures (a failed replica reopens after a delay).
class CountingObserver final : public raft::driver::DriverObserver {
 public:
  void OnOpened(raft::NodeId, GroupId, const raft::driver::OpenReport&) override { ++opens; }
  void OnFailed(raft::NodeId, GroupId, const absl::Status& status) override {
    if (failures++ == 0) first_failure = status.ToString();
  }
  int64_t opens = 0;
  int64_t failures = 0;
  std::string first_failure;
};

raft::driver::GroupOptions ReplicaOptions(GroupId group) {
  raft::driver::GroupOptions options;
  options.group_id = group;
  options.replica_id = kNode;  // incarnation 0
  options.voters = {kNode};
  options.log.segment_size_bytes_max = kSegmentSizeBytes;
  return options;
}

std::vector<uint8_t> ClientBatch(GroupId group, int sequence) {
  record::BatchHeader fields;
  fields.producer_id = static_cast<int64_t>(group);
  fields.base_sequence = sequence;
  record::RecordBatchBuilder builder(fields);
  const std::vector<uint8_t> value(kPayloadSizeBytes, static_cast<uint8_t>(group + sequence));
  EDDY_CHECK_OK(builder.Append(1000 + sequence, std::nullopt, std::span<const uint8_t>(value)));
  return builder.Finish();
}

int LeaderCount(const NodeDriver& node) {
  int led = 0;
  for (const auto& [id, group] : node.groups()) {
    led += group->raft() != nullptr && group->raft()->role() == raft::Role::kLeader;
  }
  return led;
}

// Adds the node's groups, all at once (wave 0) or `wave` at a time (the next wave once the
// replicas added so far have opened), and lets every one elect itself and go quiet. Returns the
// simulated seconds that took (at most kSettle's).
double OpenAndSettle(sim::SimWorld& world, NodeDriver& node, int groups, int wave,
                     const CountingObserver& observer) {
  const Instant start = world.Now();
  const int64_t opens_before = observer.opens;
  const int step = wave == 0 ? groups : wave;
  for (int first = 1; first <= groups; first += step) {
    const int last = std::min(groups, first + step - 1);
    for (int g = first; g <= last; ++g) {
      EDDY_CHECK_OK(node.AddGroup(ReplicaOptions(static_cast<GroupId>(g))));
    }
    if (first == 1) node.Start();
    while (observer.opens - opens_before < last && world.Now() - start < kSettle) {
      world.RunFor(Duration::Milliseconds(10));
    }
  }
  while (world.Now() - start < kSettle) {
    if (LeaderCount(node) == groups && node.awake_group_count() == 0) break;
    world.RunFor(Duration::Milliseconds(100));
  }
  return static_cast<double>((world.Now() - start).nanoseconds()) / 1e9;
}

// A crash rebuilds the disk's files as they were synced: the disk's own allocations.
void CrashNode(sim::SimWorld& world) {
  InsideDisk inside;
  world.Crash(kNode);
}

// A node whose disk holds G replicas with their logs written and acknowledged, then crashed
// (everything acknowledged is synced, so the crash loses nothing).
struct IdleNode {
  explicit IdleNode(int groups)
      : world(sim::SimWorldOptions{.seed = 4, .nodes = {kNode}}), runtime(world.node(kNode)) {
    CountingObserver observer;
    auto node = std::make_unique<NodeDriver>(runtime, raft::driver::NodeOptions{}, &observer);
    OpenAndSettle(world, *node, groups, kWriteWaveGroups, observer);
    EDDY_CHECK_EQ(LeaderCount(*node), groups);
    int64_t acked = 0;
    // In waves: a log with unsynced appends keeps its segment file open (the file cache evicts
    // idle files only), and every group appending at once would exceed SimDisk's open files.
    for (int first = 1; first <= groups; first += kWriteWaveGroups) {
      const int last = std::min(groups, first + kWriteWaveGroups - 1);
      for (int b = 0; b < kBatchesPerLog; ++b) {
        for (int g = first; g <= last; ++g) {
          node->group(static_cast<GroupId>(g))
              ->Propose(ClientBatch(static_cast<GroupId>(g), b),
                        [&acked](absl::StatusOr<raft::EntryMeta> meta) {
                          EDDY_CHECK_OK(meta.status());
                          ++acked;
                        });
        }
        world.RunFor(Duration::Milliseconds(20));
      }
    }
    world.RunFor(Duration::Seconds(1));
    EDDY_CHECK_EQ(acked, int64_t{kBatchesPerLog} * groups);
    CrashNode(world);
    node.reset();
    world.RunFor(Duration::Seconds(1));
  }

  sim::SimWorld world;
  MeasuredRuntime runtime;
};

// One written node per replica count, kept across repetitions (writing 10,000 logs costs more
// than reopening them); only the latest is kept, to bound memory.
IdleNode& IdleNodeWith(int groups) {
  static int built_groups = 0;
  static std::unique_ptr<IdleNode> idle;
  if (idle == nullptr || built_groups != groups) {
    idle.reset();
    idle = std::make_unique<IdleNode>(groups);
    built_groups = groups;
  }
  return *idle;
}

void BM_IdleReplicas(benchmark::State& state) {
  const int groups = static_cast<int>(state.range(0));
  const int wave = static_cast<int>(state.range(1));
  IdleNode& idle = IdleNodeWith(groups);
  for (auto _ : state) {
    idle.world.Restart(kNode);
    CountingObserver observer;
    const int64_t before = g_live_bytes[0];
    const int64_t disk_before = g_live_bytes[1];
    idle.runtime.measured_disk().ResetPeak();
    auto node = std::make_unique<NodeDriver>(idle.runtime, raft::driver::NodeOptions{}, &observer);
    const double seconds = OpenAndSettle(idle.world, *node, groups, wave, observer);
    idle.world.RunFor(Duration::Seconds(1));
    const double g = static_cast<double>(groups);
    const size_t open_files = idle.runtime.measured_disk().open_files();
    state.counters["heap_bytes_per_replica"] = static_cast<double>(g_live_bytes[0] - before) / g;
    state.counters["disk_heap_bytes_per_replica"] =
        static_cast<double>(g_live_bytes[1] - disk_before) / g;
    state.counters["open_files"] = static_cast<double>(open_files);
    state.counters["open_files_per_replica"] = static_cast<double>(open_files) / g;
    state.counters["open_files_peak"] =
        static_cast<double>(idle.runtime.measured_disk().open_files_peak());
    state.counters["groups_led"] = LeaderCount(*node);
    state.counters["awake_groups"] = static_cast<double>(node->awake_group_count());
    state.counters["open_sim_seconds"] = seconds;
    state.counters["replica_opens"] = static_cast<double>(observer.opens);
    state.counters["replica_failures"] = static_cast<double>(observer.failures);
    if (observer.failures > 0) state.SetLabel(observer.first_failure);
    // For heap profilers: everything the idle node holds is still live, and reported as leaked.
    if (std::getenv("EDDY_EXIT_WHEN_IDLE") != nullptr) std::_Exit(0);
    // A crash, so the next repetition reopens from the same durable state.
    CrashNode(idle.world);
    node.reset();
    idle.world.RunFor(Duration::Seconds(1));
  }
}

BENCHMARK(BM_IdleReplicas)
    ->ArgNames({"replicas", "wave"})
    ->ArgsProduct({{1000, 10000}, {0, kOpenWaveGroups}})
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy

BENCHMARK_MAIN();
