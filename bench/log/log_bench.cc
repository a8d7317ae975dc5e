// Partition log throughput on real files, beside the raw ceiling of the same disk.
//
//   bazel run -c opt //bench/log:log_bench
//
// BM_LogAppend/<batch bytes>/<flush each batch>: PartitionLog::AppendAsLeader of batches of 1 KiB
//   records (built once with RecordBatchBuilder; each append hands the log its own copy, as a
//   broker would hand it a request buffer, made outside the timed region), on PosixDisk driven
//   by an AsioLoop. With flush=1
//   every append is followed by an awaited Flush(); with flush=0 an iteration is 32 MiB of
//   appends followed by one Flush().
// BM_RawAppend/<batch bytes>/<flush each batch>: the ceiling — write() of the same bytes to one
//   file, fdatasync() after each (flush=1) or after each 32 MiB (flush=0).
// BM_LogRead / BM_RawRead: sequential reads of a 256 MiB log (1 MiB per read) vs pread() of the
//   same file. Everything runs in a fresh directory under $TEST_TMPDIR or /tmp.
//
// Log and raw runs alternate over 5 rounds; a final table prints per-benchmark medians and the
// log/raw ratios.
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/log/partition_log.h"
#include "core/record/record_batch_builder.h"
#include "net/disk/posix_disk.h"
#include "net/loop/asio_loop.h"

namespace eddy::log {
namespace {

constexpr size_t kRecordValueSizeBytes = 1024;
constexpr uint64_t kReadLogSizeBytes = 256 * kMiB;
constexpr uint64_t kReadSizeBytes = 1 * kMiB;

std::string MakeTempDirectory() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/log_bench_XXXXXX";
  EDDY_CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

// A batch of 1 KiB records, as close to `size_bytes` as whole records allow.
std::vector<uint8_t> MakeBatch(size_t size_bytes) {
  record::BatchHeader fields;
  record::RecordBatchBuilder builder(fields, size_bytes);
  std::vector<uint8_t> value(kRecordValueSizeBytes, 0x61);
  for (int64_t i = 0;; ++i) {
    value[0] = static_cast<uint8_t>(i);
    if (!builder.Append(1700000000000 + i, std::nullopt, value).ok()) break;
  }
  return builder.Finish();
}

// A fresh directory, an AsioLoop, a PosixDisk and an open PartitionLog.
class LogWorld {
 public:
  LogWorld() : directory_(MakeTempDirectory()), disk_(loop_, directory_) {
    std::optional<absl::StatusOr<PartitionLog::Opened>> opened;
    PartitionLog::Open(
        loop_, disk_, "p0", LogOptions{},
        [&](absl::StatusOr<PartitionLog::Opened> result) { opened = std::move(result); });
    loop_.RunUntil([&] { return opened.has_value(); });
    EDDY_CHECK_OK(opened->status());
    log_ = std::move((*opened)->log);
  }
  ~LogWorld() {
    log_.reset();
    loop_.Run();
    std::filesystem::remove_all(directory_);
  }

  void FlushAll() {
    std::optional<absl::Status> flushed;
    log_->Flush(log_->last_offset(), [&](absl::Status status) { flushed = status; });
    loop_.RunUntil([&] { return flushed.has_value(); });
    EDDY_CHECK_OK(*flushed);
  }

  void Append(std::vector<uint8_t> batch) {
    EDDY_CHECK_OK(log_->AppendAsLeader(std::move(batch), 1).status());
    loop_.io_context().poll();  // deliver completions as they come, as the broker's loop would
  }

  PartitionLog& log() { return *log_; }
  net::AsioLoop& loop() { return loop_; }
  const std::string& directory() const { return directory_; }

 private:
  net::AsioLoop loop_;
  std::string directory_;
  net::PosixDisk disk_;
  std::unique_ptr<PartitionLog> log_;
};

// Without a flush per batch, one iteration writes kUnflushedIterationSizeBytes of batches and
// then flushes once, so the page cache's writeback is paid inside the measurement, not left as
// a debt for the next benchmark.
constexpr uint64_t kUnflushedIterationSizeBytes = 32 * kMiB;

size_t BatchesPerIteration(bool flush_each, size_t batch_size_bytes) {
  return flush_each ? 1 : (kUnflushedIterationSizeBytes + batch_size_bytes - 1) / batch_size_bytes;
}

void BM_LogAppend(benchmark::State& state) {
  const std::vector<uint8_t> batch = MakeBatch(static_cast<size_t>(state.range(0)));
  const bool flush_each = state.range(1) != 0;
  const size_t batches = BatchesPerIteration(flush_each, batch.size());
  LogWorld world;
  for (auto _ : state) {
    // The buffers a broker would have received from the network; making them is not the log's
    // work (and the raw ceiling does not pay for it either).
    state.PauseTiming();
    std::vector<std::vector<uint8_t>> buffers(batches, batch);
    state.ResumeTiming();
    for (std::vector<uint8_t>& buffer : buffers) world.Append(std::move(buffer));
    world.FlushAll();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batches * batch.size()));
  const LogStats& stats = world.log().stats();
  state.counters["syncs"] = static_cast<double>(stats.syncs);
  state.counters["flush_rounds"] = static_cast<double>(stats.flush_rounds);
  state.counters["rolls"] = static_cast<double>(stats.segments_rolled);
}

void BM_RawAppend(benchmark::State& state) {
  const std::vector<uint8_t> batch = MakeBatch(static_cast<size_t>(state.range(0)));
  const bool flush_each = state.range(1) != 0;
  const size_t batches = BatchesPerIteration(flush_each, batch.size());
  const std::string directory = MakeTempDirectory();
  const int fd = open((directory + "/raw.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  EDDY_CHECK_GE(fd, 0);
  for (auto _ : state) {
    for (size_t i = 0; i < batches; ++i) {
      EDDY_CHECK_EQ(write(fd, batch.data(), batch.size()), static_cast<ssize_t>(batch.size()));
    }
    EDDY_CHECK_EQ(fdatasync(fd), 0);
  }
  close(fd);
  std::filesystem::remove_all(directory);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batches * batch.size()));
}

void BM_LogRead(benchmark::State& state) {
  const std::vector<uint8_t> batch = MakeBatch(16 * kKiB);
  LogWorld world;
  while (world.log().size_bytes() < kReadLogSizeBytes) world.Append(batch);
  world.FlushAll();
  int64_t offset = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (offset == world.log().next_offset()) offset = 0;
    std::optional<absl::StatusOr<ReadResult>> read;
    world.log().Read(offset, kReadSizeBytes,
                     [&](absl::StatusOr<ReadResult> result) { read = std::move(result); });
    world.loop().RunUntil([&] { return read.has_value(); });
    EDDY_CHECK_OK(read->status());
    offset = (*read)->next_offset;
    bytes += (*read)->bytes.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_RawRead(benchmark::State& state) {
  const std::vector<uint8_t> batch = MakeBatch(16 * kKiB);
  const std::string directory = MakeTempDirectory();
  const std::string path = directory + "/raw.log";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND, 0644);
  EDDY_CHECK_GE(fd, 0);
  uint64_t size = 0;
  while (size < kReadLogSizeBytes) {
    EDDY_CHECK_EQ(write(fd, batch.data(), batch.size()), static_cast<ssize_t>(batch.size()));
    size += batch.size();
  }
  EDDY_CHECK_EQ(fdatasync(fd), 0);
  std::vector<uint8_t> buffer(kReadSizeBytes);
  uint64_t position = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (position >= size) position = 0;
    const ssize_t n = pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(position));
    EDDY_CHECK_GT(n, 0);
    position += static_cast<uint64_t>(n);
    bytes += static_cast<uint64_t>(n);
  }
  close(fd);
  std::filesystem::remove_all(directory);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Log and raw runs alternate (log, raw, log, raw, ...) for kRounds rounds, so that load from
// other processes on the shared machine hits both sides alike; the table uses per-name medians.
constexpr int kRounds = 5;

void RegisterAll() {
  for (int round = 0; round < kRounds; ++round) {
    for (int64_t size : {int64_t{16 * 1024}, int64_t{1024 * 1024}}) {
      for (int64_t flush : {0, 1}) {
        for (auto [name, function] :
             {std::pair{"BM_LogAppend", &BM_LogAppend}, std::pair{"BM_RawAppend", &BM_RawAppend}}) {
          benchmark::RegisterBenchmark(name, function)
              ->Args({size, flush})
              ->ArgNames({"batch_bytes", "flush"})
              ->MinTime(0.5)
              ->UseRealTime();
        }
      }
    }
    benchmark::RegisterBenchmark("BM_LogRead", BM_LogRead)->MinTime(0.5)->UseRealTime();
    benchmark::RegisterBenchmark("BM_RawRead", BM_RawRead)->MinTime(0.5)->UseRealTime();
  }
}

// Prints as usual and remembers every run's bytes/s for the median table.
class MedianCollector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) rates_[run.run_name.str()].push_back(it->second.value);
    }
  }

  void PrintRatios() const {
    std::printf(
        "\nmedian MB/s over %d alternating rounds (log vs raw write()+fdatasync() / "
        "pread() on the same disk)\n",
        kRounds);
    for (const auto& [name, log_rates] : rates_) {
      if (name.rfind("BM_Log", 0) != 0) continue;
      auto raw = rates_.find("BM_Raw" + name.substr(6));
      if (raw == rates_.end()) continue;
      const double log_rate = Median(log_rates);
      const double raw_rate = Median(raw->second);
      std::printf("%-40s log %8.1f  raw %8.1f  ratio %5.1f %%\n", name.substr(3).c_str(),
                  log_rate / 1e6, raw_rate / 1e6, 100.0 * log_rate / raw_rate);
    }
  }

 private:
  static double Median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  }

  std::map<std::string, std::vector<double>> rates_;
};

}  // namespace
}  // namespace eddy::log

int main(int argc, char** argv) {
  // Batches travel as heap buffers (a broker gets them from the network). glibc would serve
  // every 1 MiB buffer with a fresh mmap and page faults and munmap it after the write; keep
  // them on the heap instead, as a production allocator's pools would.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  benchmark::Initialize(&argc, argv);
  eddy::log::RegisterAll();
  eddy::log::MedianCollector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
