// Core throughput: a 3-node Raft group stepped entirely in memory (no disk, no network; the
// "driver" moves each Ready's entries into a MemoryLog and hands messages straight to the
// peer), proposals of 16 KiB batches. Reports committed entries per second and heap
// allocations per committed entry (counted by overriding operator new in this binary).
//
// Followers' AppendEntries carry metadata only here (a real driver attaches payload bytes from
// its log, zero-copy); the 16 KiB payload is allocated once per proposal by the benchmark
// itself and moves through the leader's Ready into its log.
//
//   bazel run -c opt //bench/raft:raft_bench
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
#include "raft/memory_log.h"
#include "raft/raw_node.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace eddy::raft {
namespace {

constexpr uint64_t kBatchSizeBytes = 16 * kKiB;

class Group {
 public:
  Group() {
    SnapshotMeta snap;
    snap.set_last_offset(kNoOffset);
    for (NodeId id : {1, 2, 3}) snap.mutable_conf_state()->add_voters(id);
    for (NodeId id : {1, 2, 3}) {
      logs_[id - 1] = std::make_unique<MemoryLog>(snap);
      Config config;
      config.id = id;
      config.inflight_messages_max = 16;
      config.append_entries_count_max = 256;
      config.append_size_bytes_max = 8 * kMiB;
      HardState hs = RawNode::InitialHardState();
      *hs.mutable_conf_state() = snap.conf_state();
      nodes_[id - 1] = std::make_unique<RawNode>(config, logs_[id - 1].get(), hs, Random(id));
    }
    EDDY_CHECK_OK(nodes_[0]->Campaign());
    Run();
    EDDY_CHECK(nodes_[0]->role() == Role::kLeader);
  }

  RawNode& leader() { return *nodes_[0]; }

  // Processes Readies and delivers messages until the group is quiet.
  void Run() {
    bool moved = true;
    while (moved) {
      moved = false;
      for (int i = 0; i < 3; ++i) {
        while (nodes_[i]->HasReady()) {
          moved = true;
          Ready rd = nodes_[i]->TakeReady();
          logs_[i]->Append(std::move(rd.entries));
          for (Message& m : rd.messages) inbox_.push_back(std::move(m));
          nodes_[i]->Advance(rd);
        }
      }
      for (size_t i = 0; i < inbox_.size(); ++i) {
        moved = true;
        EDDY_CHECK_OK(nodes_[inbox_[i].to() - 1]->Step(std::move(inbox_[i])));
      }
      inbox_.clear();
    }
  }

  void Compact() {
    // Retention keeps memory flat over millions of entries.
    for (int i = 0; i < 3; ++i) {
      const int64_t applied = nodes_[i]->applied_offset();
      if (applied - logs_[i]->FirstOffset() > 4096) logs_[i]->CompactTo(applied, 0);
    }
  }

 private:
  std::unique_ptr<MemoryLog> logs_[3];
  std::unique_ptr<RawNode> nodes_[3];
  std::vector<Message> inbox_;
};

void BM_ThreeNodeCommit16KiB(benchmark::State& state) {
  const int proposals_per_round = static_cast<int>(state.range(0));
  Group group;
  const std::string payload(kBatchSizeBytes, 'x');
  int64_t committed_entries = 0;
  uint64_t allocations = 0;
  for (auto _ : state) {
    const int64_t commit_before = group.leader().commit_offset();
    std::vector<std::string> batches(proposals_per_round, payload);  // the producer's batches
    const uint64_t allocations_before = g_allocations.load();
    int64_t last = 0;
    for (std::string& batch : batches) {
      auto entry = group.leader().Propose(16, std::move(batch));
      EDDY_CHECK_OK(entry.status());
      last = entry->last_offset;
    }
    group.Run();
    EDDY_CHECK_GE(group.leader().commit_offset(), last);
    allocations += g_allocations.load() - allocations_before;
    committed_entries += proposals_per_round;
    benchmark::DoNotOptimize(commit_before);
    state.PauseTiming();
    group.Compact();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(committed_entries);
  state.SetBytesProcessed(committed_entries * static_cast<int64_t>(kBatchSizeBytes));
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(committed_entries), benchmark::Counter::kIsRate);
  state.counters["allocs/entry"] =
      static_cast<double>(allocations) / static_cast<double>(committed_entries);
}
BENCHMARK(BM_ThreeNodeCommit16KiB)->Arg(1)->Arg(16)->Arg(128);

}  // namespace
}  // namespace eddy::raft

BENCHMARK_MAIN();
