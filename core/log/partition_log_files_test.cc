// Open files and memory of partition logs under a shared FileCache: proves, counting the real
// handles on the disk (CountingDisk over SimDisk), that several logs sharing a budget of two
// files hold at most two open once idle — after writing, after reading every segment of every
// log (each read reopening a closed file and returning the right bytes), and after a reopen of
// every log — and none once they are destroyed; and that unsynced files stay open beyond the
// budget until a flush syncs them (then they are closed, and a crash keeps what was synced).

#include <memory>
#include <string>
#include <vector>

#include "core/base/check.h"
#include "core/base/status_matchers.h"
#include "core/log/counting_disk.h"
#include "core/log/partition_log.h"
#include "core/log/test_batches.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

using testing::CountingDisk;
using testing::MakeTestBatch;

constexpr int kLogCount = 5;
constexpr int kBatchesPerLog = 30;

class SharedBudgetTest : public ::testing::Test {
 protected:
  SharedBudgetTest() {
    options_.segment_size_bytes_max = 1000;  // about four batches per segment
    options_.file_cache = cache_;
  }

  std::unique_ptr<PartitionLog> Open(int i) {
    auto opened = sim::AwaitValue<PartitionLog::Opened>(loop_, [&](auto done) {
      PartitionLog::Open(loop_, disk_, "p" + std::to_string(i), options_, std::move(done));
    });
    EDDY_CHECK_OK(opened.status());
    return std::move(opened->log);
  }

  void OpenAll() {
    logs_.clear();
    for (int i = 0; i < kLogCount; ++i) logs_.push_back(Open(i));
    loop_.RunUntilIdle();
  }

  std::vector<uint8_t> Batch(int log, int b) {
    return MakeTestBatch({.base_offset = 0,
                          .record_count = 2,
                          .term = 1,
                          .payload_size_bytes = 200,
                          .max_timestamp_ms = b,
                          .fill_seed = static_cast<uint64_t>(log * 1000 + b)});
  }

  sim::SimLoop loop_;
  sim::SimDisk sim_disk_{loop_};
  int64_t open_files_ = 0;
  CountingDisk disk_{sim_disk_, open_files_};
  std::shared_ptr<FileCache> cache_ = std::make_shared<FileCache>(2);
  LogOptions options_;
  std::vector<std::unique_ptr<PartitionLog>> logs_;
};

TEST_F(SharedBudgetTest, IdleLogsHoldAtMostTheBudget) {
  OpenAll();
  EXPECT_LE(open_files_, 2);
  std::vector<std::vector<std::vector<uint8_t>>> written(kLogCount);
  // Interleaved appends: every log keeps rolling segments while the others are written.
  for (int b = 0; b < kBatchesPerLog; ++b) {
    for (int i = 0; i < kLogCount; ++i) {
      absl::StatusOr<AppendResult> appended = logs_[i]->AppendAsLeader(Batch(i, b), 1);
      EDDY_ASSERT_OK(appended.status());
      std::vector<uint8_t> stored = Batch(i, b);
      record::SetBaseOffset(stored, appended->base_offset);
      written[i].push_back(std::move(stored));
    }
    if (b % 7 == 6) {
      for (auto& log : logs_) {
        EDDY_ASSERT_OK(sim::AwaitStatus(
            loop_, [&](auto done) { log->Flush(log->last_offset(), std::move(done)); }));
      }
    }
  }
  for (auto& log : logs_) {
    EDDY_ASSERT_OK(sim::AwaitStatus(
        loop_, [&](auto done) { log->Flush(log->last_offset(), std::move(done)); }));
    EXPECT_GE(log->segment_count(), 5u);
  }
  loop_.RunUntilIdle();
  EXPECT_LE(open_files_, 2);
  EXPECT_EQ(static_cast<int64_t>(cache_->open_file_count()), open_files_);
  EXPECT_GT(cache_->stats().evictions, 0u);

  // Every batch of every log, one read per batch, alternating logs: reopens throughout.
  const uint64_t registrations_before = cache_->stats().registrations;
  for (int b = 0; b < kBatchesPerLog; ++b) {
    for (int i = 0; i < kLogCount; ++i) {
      const int64_t offset = 2 * b;
      auto read = sim::AwaitValue<ReadResult>(
          loop_, [&](auto done) { logs_[i]->Read(offset, 1, std::move(done)); });
      EDDY_ASSERT_OK(read.status());
      EXPECT_EQ(read->bytes, written[i][b]);
      EXPECT_LE(open_files_, 2);
    }
  }
  EXPECT_GT(cache_->stats().registrations, registrations_before + kBatchesPerLog);
  loop_.RunUntilIdle();
  EXPECT_LE(open_files_, 2);

  // Reopened (recovery loads sealed indexes, closing their files), still within the budget.
  OpenAll();
  EXPECT_LE(open_files_, 2);
  for (int i = 0; i < kLogCount; ++i) {
    EXPECT_EQ(logs_[i]->next_offset(), 2 * kBatchesPerLog);
    auto read = sim::AwaitValue<ReadResult>(
        loop_, [&](auto done) { logs_[i]->Read(0, 1, std::move(done)); });
    EDDY_ASSERT_OK(read.status());
    EXPECT_EQ(read->bytes, written[i][0]);
  }
  logs_.clear();
  loop_.RunUntilIdle();
  EXPECT_EQ(open_files_, 0);
  EXPECT_EQ(cache_->open_file_count(), 0u);
}

TEST_F(SharedBudgetTest, BusyFilesMayExceedTheBudgetUntilSynced) {
  OpenAll();
  // Unsynced appends to every log's active segment: none of them may be closed.
  for (int i = 0; i < kLogCount; ++i) {
    EDDY_ASSERT_OK(logs_[i]->AppendAsLeader(Batch(i, 0), 1).status());
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(open_files_, kLogCount);
  EXPECT_GE(cache_->stats().over_limit_count_max, static_cast<uint64_t>(kLogCount - 2));
  for (auto& log : logs_) {
    EDDY_ASSERT_OK(sim::AwaitStatus(
        loop_, [&](auto done) { log->Flush(log->last_offset(), std::move(done)); }));
  }
  loop_.RunUntilIdle();
  EXPECT_LE(open_files_, 2);
  // And the synced bytes survive a crash (closing lost nothing).
  logs_.clear();
  Random random(7);
  sim_disk_.Crash({.keep_unsynced_prefix = false, .tear_last_sector = false}, random);
  loop_.RunUntilIdle();
  open_files_ = 0;  // the crash dropped every handle
  OpenAll();
  for (auto& log : logs_) EXPECT_EQ(log->next_offset(), 2);
}

}  // namespace
}  // namespace eddy::log
