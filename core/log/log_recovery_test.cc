// LogRecovery on hand-made directories: proves that an empty directory yields one empty segment
// at offset 0; a torn tail is truncated and counted; a gap between segments ends the log there
// and later segments are removed; orphaned index files are removed; the scanned tail is synced
// (it survives a crash right after recovery); and corruption inside a sealed segment is reported
// as kDataLoss with nothing removed.

#include "core/log/log_recovery.h"

#include <vector>

#include "core/base/status_matchers.h"
#include "core/log/segment_file_names.h"
#include "core/log/test_batches.h"
#include "core/record/batch_header.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;
using testing::MakeTestBatch;

class LogRecoveryTest : public ::testing::Test {
 protected:
  std::string Path(int64_t base, SegmentFileKind kind) {
    return runtime::JoinPath("d", SegmentFileNameFor(base, kind));
  }

  // Writes `bytes` to `path`, synced, directory synced.
  void WriteFile(const std::string& path, std::vector<uint8_t> bytes) {
    EDDY_ASSERT_OK(
        sim::AwaitStatus(loop_, [&](auto done) { disk_.CreateDirectories("d", std::move(done)); }));
    auto file = sim::AwaitValue<runtime::FileHandle>(loop_, [&](auto done) {
      disk_.Open(path, runtime::OpenMode::kCreateIfMissing, std::move(done));
    });
    ASSERT_TRUE(file.ok());
    EDDY_ASSERT_OK(
        sim::AwaitStatus(loop_, [&](auto done) { disk_.Truncate(*file, 0, std::move(done)); }));
    EDDY_ASSERT_OK(sim::AwaitValue<uint64_t>(
        loop_, [&](auto done) { disk_.Append(*file, std::move(bytes), std::move(done)); }));
    EDDY_ASSERT_OK(sim::AwaitStatus(loop_, [&](auto done) { disk_.Sync(*file, std::move(done)); }));
    EDDY_ASSERT_OK(
        sim::AwaitStatus(loop_, [&](auto done) { disk_.Close(*file, std::move(done)); }));
    EDDY_ASSERT_OK(
        sim::AwaitStatus(loop_, [&](auto done) { disk_.SyncDirectory("d", std::move(done)); }));
  }

  // Batches of one record each, offsets [base, base + count).
  std::vector<uint8_t> Batches(int64_t base, int count, int64_t term = 1) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < count; ++i) {
      auto batch = MakeTestBatch({.base_offset = base + i, .term = term, .payload_size_bytes = 50});
      bytes.insert(bytes.end(), batch.begin(), batch.end());
    }
    return bytes;
  }

  absl::StatusOr<RecoveredLog> Recover() {
    return sim::AwaitValue<RecoveredLog>(
        loop_, [&](auto done) { LogRecovery::Run(loop_, disk_, "d", nullptr, std::move(done)); });
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
};

constexpr uint64_t kBatchBytes = 111;  // 61 header + 50 payload

TEST_F(LogRecoveryTest, EmptyDirectoryGetsFirstSegment) {
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
  ASSERT_EQ(recovered.segments.size(), 1u);
  EXPECT_EQ(recovered.segments[0]->base_offset(), 0);
  EXPECT_TRUE(recovered.segments[0]->empty());
  EXPECT_TRUE(disk_.FileExists(Path(0, SegmentFileKind::kLog)));
  EXPECT_TRUE(recovered.report.first_defect.empty());
}

TEST_F(LogRecoveryTest, TornTailTruncatedAndReported) {
  std::vector<uint8_t> bytes = Batches(0, 3);
  bytes.erase(bytes.end() - 20, bytes.end());  // the third batch is torn
  WriteFile(Path(0, SegmentFileKind::kLog), bytes);
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
  ASSERT_EQ(recovered.segments.size(), 1u);
  EXPECT_EQ(recovered.segments[0]->next_offset(), 2);
  EXPECT_EQ(recovered.report.bytes_truncated, kBatchBytes - 20);
  EXPECT_EQ(recovered.report.segments_scanned, 1u);
  EXPECT_FALSE(recovered.report.first_defect.empty());
  EXPECT_EQ(disk_.FileContents(Path(0, SegmentFileKind::kLog)).size(), 2 * kBatchBytes);
}

TEST_F(LogRecoveryTest, GapEndsTheLog) {
  WriteFile(Path(0, SegmentFileKind::kLog), Batches(0, 2));
  WriteFile(Path(5, SegmentFileKind::kLog), Batches(5, 2));  // offsets 2..4 missing
  WriteFile(Path(7, SegmentFileKind::kLog), Batches(7, 1));
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
  ASSERT_EQ(recovered.segments.size(), 1u);
  EXPECT_EQ(recovered.segments[0]->next_offset(), 2);
  EXPECT_EQ(recovered.report.segments_removed, 2u);
  EXPECT_EQ(recovered.report.bytes_truncated, 3 * kBatchBytes);
  EXPECT_FALSE(disk_.FileExists(Path(5, SegmentFileKind::kLog)));
  EXPECT_FALSE(disk_.FileExists(Path(7, SegmentFileKind::kLog)));
}

TEST_F(LogRecoveryTest, DefectInMiddleSegmentDropsLaterOnes) {
  std::vector<uint8_t> middle = Batches(2, 2);
  middle[middle.size() - 1] ^= 1;  // last batch of the unsealed middle segment is bad
  WriteFile(Path(0, SegmentFileKind::kLog), Batches(0, 2));
  WriteFile(Path(2, SegmentFileKind::kLog), middle);
  WriteFile(Path(4, SegmentFileKind::kLog), Batches(4, 2));
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
  ASSERT_EQ(recovered.segments.size(), 2u);
  EXPECT_EQ(recovered.segments[1]->next_offset(), 3);
  EXPECT_EQ(recovered.report.segments_removed, 1u);
  EXPECT_EQ(recovered.segments[0]->seal_state(), SealState::kActive);  // the log reseals it
}

TEST_F(LogRecoveryTest, OrphanIndexFilesRemoved) {
  WriteFile(Path(0, SegmentFileKind::kLog), Batches(0, 1));
  WriteFile(Path(9, SegmentFileKind::kIndex), {1, 2, 3});
  WriteFile(Path(9, SegmentFileKind::kTimeIndex), {1, 2, 3});
  WriteFile("d/unrelated.txt", {1});
  EDDY_ASSERT_OK(Recover());
  EXPECT_FALSE(disk_.FileExists(Path(9, SegmentFileKind::kIndex)));
  EXPECT_FALSE(disk_.FileExists(Path(9, SegmentFileKind::kTimeIndex)));
  EXPECT_TRUE(disk_.FileExists("d/unrelated.txt"));  // not ours: left alone
}

TEST_F(LogRecoveryTest, ScannedDataIsSyncedByRecovery) {
  // Bytes written but never synced (they survived a process crash in the page cache).
  EDDY_ASSERT_OK(
      sim::AwaitStatus(loop_, [&](auto done) { disk_.CreateDirectories("d", std::move(done)); }));
  auto file = sim::AwaitValue<runtime::FileHandle>(loop_, [&](auto done) {
    disk_.Open(Path(0, SegmentFileKind::kLog), runtime::OpenMode::kCreateNew, std::move(done));
  });
  ASSERT_TRUE(file.ok());
  EDDY_ASSERT_OK(sim::AwaitValue<uint64_t>(
      loop_, [&](auto done) { disk_.Append(*file, Batches(0, 3), std::move(done)); }));
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
  EXPECT_EQ(recovered.segments.back()->next_offset(), 3);
  recovered.segments.clear();
  Random random(3);
  disk_.Crash({}, random);  // recovery promised these as flushed: they must survive
  EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog again, Recover());
  EXPECT_EQ(again.segments.back()->next_offset(), 3);
}

TEST_F(LogRecoveryTest, IntactIndexTrustedAndCorruptSealedSegmentIsDataLoss) {
  const std::vector<uint8_t> bytes = Batches(0, 3, /*term=*/4);
  OffsetIndex index(0);
  TimeIndex time_index(0);
  uint32_t last_crc = 0;
  for (int i = 0; i < 3; ++i) {
    auto header = record::ParseBatchHeader(std::span(bytes).subspan(i * kBatchBytes));
    ASSERT_TRUE(header.ok());
    index.Append(i, i, kBatchBytes, 4, false);
    time_index.Observe(i, header->max_timestamp);
    last_crc = header->crc;
  }
  WriteFile(Path(0, SegmentFileKind::kLog), bytes);
  WriteFile(Path(0, SegmentFileKind::kIndex), index.Encode(last_crc));
  WriteFile(Path(0, SegmentFileKind::kTimeIndex), time_index.Encode());
  {
    EDDY_ASSERT_OK_AND_ASSIGN(RecoveredLog recovered, Recover());
    EXPECT_EQ(recovered.report.segments_loaded, 1u);
    ASSERT_EQ(recovered.segments.size(), 2u);  // the sealed one plus a new active segment at 3
    EXPECT_EQ(recovered.segments[0]->seal_state(), SealState::kSealed);
    EXPECT_EQ(recovered.segments[1]->base_offset(), 3);
  }
  // Bit rot in the middle batch's CRC field cannot be seen from the index alone; a damaged last
  // batch header can: the scan then finds the bad batch inside sealed data.
  disk_.CorruptByte(Path(0, SegmentFileKind::kLog), 2 * kBatchBytes + 30, 0x01);
  disk_.CorruptByte(Path(0, SegmentFileKind::kLog), 2 * kBatchBytes + record::kCrcPosition, 0x01);
  EXPECT_THAT(Recover(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(disk_.FileContents(Path(0, SegmentFileKind::kLog)).size(), 3 * kBatchBytes);
}

}  // namespace
}  // namespace eddy::log
