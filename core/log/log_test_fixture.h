// Test-only: a PartitionLog on a SimDisk driven by a SimLoop, with synchronous wrappers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/base/check.h"
#include "core/base/random.h"
#include "core/log/partition_log.h"
#include "core/log/test_batches.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log::testing {

class LogFixture {
 public:
  explicit LogFixture(sim::SimDiskOptions disk_options = {}) : disk_(loop_, disk_options) {}

  absl::Status Open(LogOptions options = {}) {
    log_.reset();
    auto opened = sim::AwaitValue<PartitionLog::Opened>(loop_, [&](auto done) {
      PartitionLog::Open(loop_, disk_, "p0", options, std::move(done));
    });
    if (!opened.ok()) return opened.status();
    log_ = std::move(opened->log);
    report_ = opened->report;
    return absl::OkStatus();
  }

  // Leader-appends a batch of `record_count` records with `payload` bytes after the header.
  absl::StatusOr<AppendResult> Append(int64_t term, int32_t record_count = 1, uint32_t payload = 32,
                                      int64_t timestamp_ms = 0) {
    return log_->AppendAsLeader(MakeTestBatch({.base_offset = 0,
                                               .record_count = record_count,
                                               .term = term,
                                               .payload_size_bytes = payload,
                                               .max_timestamp_ms = timestamp_ms,
                                               .fill_seed = ++fill_seed_}),
                                term);
  }

  // Leader-appends a hidden batch (a no-op for IsRaftInternalTestBatch).
  absl::StatusOr<AppendResult> AppendHidden(int64_t term) {
    return log_->AppendAsLeader(MakeHiddenTestBatch(0, term, ++fill_seed_), term);
  }

  absl::StatusOr<KafkaReadResult> ReadKafka(int64_t kafka_offset, int64_t kafka_end_offset,
                                            int64_t hidden_base,
                                            uint64_t size_bytes_max = 1 << 30) {
    return sim::AwaitValue<KafkaReadResult>(loop_, [&](auto done) {
      log_->ReadKafka(kafka_offset, kafka_end_offset, size_bytes_max, hidden_base,
                      std::move(done));
    });
  }

  absl::StatusOr<ReadResult> Read(int64_t offset, uint64_t size_bytes_max = 1 << 30) {
    return sim::AwaitValue<ReadResult>(
        loop_, [&](auto done) { log_->Read(offset, size_bytes_max, std::move(done)); });
  }

  absl::Status Flush(int64_t offset) {
    return sim::AwaitStatus(loop_, [&](auto done) { log_->Flush(offset, std::move(done)); });
  }

  absl::Status TruncatePrefix(int64_t offset) {
    return sim::AwaitStatus(loop_,
                            [&](auto done) { log_->TruncatePrefix(offset, std::move(done)); });
  }

  // Power loss: drops the log object (its pending completions die with the crash) and the disk's
  // unsynced state.
  void Crash(bool keep_unsynced_prefix, bool tear_last_sector, uint64_t seed = 1) {
    log_.reset();
    Random random(seed);
    disk_.Crash(
        {.keep_unsynced_prefix = keep_unsynced_prefix, .tear_last_sector = tear_last_sector},
        random);
    loop_.RunUntilIdle();
  }

  // Reads every batch from first_offset() to next_offset(), one read per segment stretch.
  absl::StatusOr<std::vector<uint8_t>> ReadAll() {
    std::vector<uint8_t> all;
    int64_t offset = log_->first_offset();
    while (offset < log_->next_offset()) {
      absl::StatusOr<ReadResult> read = Read(offset);
      if (!read.ok()) return read.status();
      EDDY_CHECK_GT(read->next_offset, offset);
      all.insert(all.end(), read->bytes.begin(), read->bytes.end());
      offset = read->next_offset;
    }
    return all;
  }

  std::string SegmentPath(int64_t base, const char* suffix) const {
    char digits[64];
    std::snprintf(digits, sizeof(digits), "p0/%020lld%s", static_cast<long long>(base), suffix);
    return digits;
  }

  sim::SimLoop& loop() { return loop_; }
  sim::SimDisk& disk() { return disk_; }
  PartitionLog& log() { return *log_; }
  const RecoveryReport& report() const { return report_; }

 private:
  sim::SimLoop loop_;
  sim::SimDisk disk_;
  std::unique_ptr<PartitionLog> log_;
  RecoveryReport report_;
  uint64_t fill_seed_ = 0;
};

}  // namespace eddy::log::testing
