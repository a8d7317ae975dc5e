// Memory and open files per partition log (issue 8 §4): what an idle replica costs, and what the
// in-memory index of a big log costs.
//
//   bazel run -c opt //bench/log:log_memory_bench
//
// BM_IdleLogs/<logs>: <logs> partition logs on one SimDisk, each holding kBatchesPerLog batches
//   of ~1 KiB in segments of kSegmentSizeBytes (three sealed segments and the active one),
//   written and flushed beforehand; one iteration opens all of them (recovery included) under
//   one node-wide FileCache of kNodeOpenFileCountMax files, lets
//   the loop go idle, measures, and closes them. Counters: heap_bytes_per_log (live heap bytes
//   after opening minus before, counted by the operator new/delete of this binary: every byte
//   the logs, their recovery leftovers and the disk's handle tables hold), open_files_per_log
//   (successful Opens minus Closes on the disks), open_files (the node total).
// BM_IndexMemory/<batches>: the in-memory offset and time indexes of a log of <batches> batches
//   of 960-1088 bytes (1-8 records, timestamps growing 0-3 ms per batch, a term change with its
//   hidden no-op every 100,000 batches), cut into 256 MiB segments as the log would, sealed
//   segments compacted as the log does when sealing. Counters: index_bytes_per_batch and
//   index_bytes_100GiB (the same per-batch cost for 100 GiB of such batches).
//
// Each benchmark reports the median of its repetitions.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/base/random.h"
#include "core/base/units.h"
#include "core/log/offset_index.h"
#include "core/log/counting_disk.h"
#include "core/log/partition_log.h"
#include "core/log/test_batches.h"
#include "core/log/time_index.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace {
std::atomic<int64_t> g_live_bytes{0};
}  // namespace

void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace eddy::log {
namespace {

using testing::CountingDisk;
using testing::IsRaftInternalTestBatch;
using testing::MakeHiddenTestBatch;
using testing::MakeTestBatch;

constexpr int kBatchesPerLog = 20;
constexpr uint64_t kSegmentSizeBytes = 6 * kKiB;
constexpr uint32_t kPayloadSizeBytes = 1000;
// The node-wide budget of open segment files the idle logs share (LogOptions::file_cache).
constexpr size_t kNodeOpenFileCountMax = 1024;

LogOptions IdleLogOptions() {
  LogOptions options;
  options.segment_size_bytes_max = kSegmentSizeBytes;
  options.is_hidden = IsRaftInternalTestBatch;
  return options;
}

std::string LogDirectory(int i) { return "r" + std::to_string(i); }

// One disk with every log written, flushed and closed; built once per log count. (SimDisk lists
// and syncs a directory in time linear in that directory's entries, so one disk holds them all.)
struct IdleWorld {
  runtime::Disk& disk_for(int) { return disk; }

  sim::SimLoop loop;
  int64_t open_files = 0;
  sim::SimDisk sim_disk{loop};
  CountingDisk disk{sim_disk, open_files};
};

std::unique_ptr<PartitionLog> OpenLog(IdleWorld& world, int i, const LogOptions& options) {
  absl::StatusOr<PartitionLog::Opened> opened =
      sim::AwaitValue<PartitionLog::Opened>(world.loop, [&](auto done) {
        PartitionLog::Open(world.loop, world.disk_for(i), LogDirectory(i), options,
                           std::move(done));
      });
  EDDY_CHECK_OK(opened.status());
  return std::move(opened->log);
}

std::unique_ptr<IdleWorld> BuildIdleWorld(int log_count) {
  auto world = std::make_unique<IdleWorld>();
  uint64_t seed = 0;
  for (int i = 0; i < log_count; ++i) {
    std::unique_ptr<PartitionLog> log = OpenLog(*world, i, IdleLogOptions());
    EDDY_CHECK_OK(log->AppendAsLeader(MakeHiddenTestBatch(0, 1, ++seed), 1).status());
    for (int b = 1; b < kBatchesPerLog; ++b) {
      EDDY_CHECK_OK(log->AppendAsLeader(MakeTestBatch({.base_offset = 0,
                                                       .record_count = 4,
                                                       .term = 1,
                                                       .payload_size_bytes = kPayloadSizeBytes,
                                                       .max_timestamp_ms = 1000 + b,
                                                       .fill_seed = ++seed}),
                                        1)
                        .status());
    }
    EDDY_CHECK_OK(sim::AwaitStatus(
        world->loop, [&](auto done) { log->Flush(log->last_offset(), std::move(done)); }));
    EDDY_CHECK_EQ(log->segment_count(), 4u);
    log.reset();
    world->loop.RunUntilIdle();
  }
  return world;
}

void BM_IdleLogs(benchmark::State& state) {
  const int log_count = static_cast<int>(state.range(0));
  std::unique_ptr<IdleWorld> world = BuildIdleWorld(log_count);
  EDDY_CHECK_EQ(world->open_files, 0);
  LogOptions options = IdleLogOptions();
  options.file_cache = std::make_shared<FileCache>(kNodeOpenFileCountMax);
  for (auto _ : state) {
    std::vector<std::unique_ptr<PartitionLog>> logs;
    logs.reserve(static_cast<size_t>(log_count));
    world->loop.RunUntilIdle();
    const int64_t before = g_live_bytes.load();
    for (int i = 0; i < log_count; ++i) logs.push_back(OpenLog(*world, i, options));
    world->loop.RunUntilIdle();
    const int64_t after = g_live_bytes.load();
    state.counters["heap_bytes_per_log"] =
        static_cast<double>(after - before) / static_cast<double>(log_count);
    state.counters["open_files"] = static_cast<double>(world->open_files);
    state.counters["open_files_per_log"] =
        static_cast<double>(world->open_files) / static_cast<double>(log_count);
    logs.clear();
    world->loop.RunUntilIdle();
  }
}

// The indexes of one segment as the log builds them (appended batch by batch).
struct SegmentIndexes {
  explicit SegmentIndexes(int64_t base) : offsets(base), times(base) {}
  OffsetIndex offsets;
  TimeIndex times;
};

// Seals a segment's indexes the way the log does when it rolls (where that exists).
template <typename Index>
void CompactIfSupported(Index& index) {
  if constexpr (requires { index.Compact(); }) index.Compact();
}

void BM_IndexMemory(benchmark::State& state) {
  const int64_t batch_count = state.range(0);
  constexpr uint64_t kIndexSegmentSizeBytes = 256 * kMiB;
  for (auto _ : state) {
    Random random(42);
    const int64_t before = g_live_bytes.load();
    {
      std::vector<std::unique_ptr<SegmentIndexes>> segments;
      segments.push_back(std::make_unique<SegmentIndexes>(0));
      int64_t next = 0;
      int64_t timestamp = 1700000000000;
      int64_t term = 1;
      for (int64_t i = 0; i < batch_count; ++i) {
        const bool new_term = i % 100000 == 0;
        if (new_term && i > 0) ++term;
        const bool hidden = new_term;
        const uint32_t size = hidden ? 80 : static_cast<uint32_t>(random.UniformInRange(960, 1088));
        const int64_t records = hidden ? 1 : random.UniformInRange(1, 8);
        OffsetIndex* index = &segments.back()->offsets;
        if (index->end_position() + size > kIndexSegmentSizeBytes) {
          CompactIfSupported(segments.back()->offsets);
          CompactIfSupported(segments.back()->times);
          segments.push_back(std::make_unique<SegmentIndexes>(next));
          index = &segments.back()->offsets;
        }
        index->Append(next, next + records - 1, size, term, hidden);
        timestamp += random.UniformInRange(0, 3);
        segments.back()->times.Observe(next, timestamp);
        next += records;
      }
      const int64_t bytes = g_live_bytes.load() - before;
      const double per_batch = static_cast<double>(bytes) / static_cast<double>(batch_count);
      state.counters["index_bytes_per_batch"] = per_batch;
      // 100 GiB of batches averaging 1 KiB.
      state.counters["index_bytes_100GiB"] = per_batch * static_cast<double>(100 * kGiB / kKiB);
      state.counters["segments"] = static_cast<double>(segments.size());
    }
  }
}

BENCHMARK(BM_IdleLogs)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IndexMemory)
    ->Arg(1000000)
    ->Arg(10000000)
    ->Iterations(1)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace eddy::log

BENCHMARK_MAIN();
