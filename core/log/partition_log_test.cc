// PartitionLog, scenario by scenario on a SimDisk: offsets and terms assigned on leader appends,
// follower appends checked, Raft's synchronous view (TermAt / LastOffsetBefore) across segment
// boundaries, reads of whole batches within a byte budget, suffix and prefix truncation with
// reopen, group-commit flushing, durability across a crash, rolling and sealing (index files
// appear), corruption detected on read and at open, retention, timestamps, and failure
// poisoning. Each test states the property in its name and checks it through the public API.

#include "core/log/partition_log.h"

#include <vector>

#include "core/base/status_matchers.h"
#include "core/log/log_test_fixture.h"
#include "core/record/batch_header.h"
#include "gtest/gtest.h"

namespace eddy::log {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using testing::LogFixture;
using testing::MakeTestBatch;

// Small segments so that a handful of batches spans several.
LogOptions SmallSegments() {
  LogOptions options;
  options.segment_size_bytes_max = 400;
  return options;
}

TEST(PartitionLogTest, EmptyLogConventions) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  PartitionLog& log = f.log();
  EXPECT_EQ(log.first_offset(), 0);
  EXPECT_EQ(log.next_offset(), 0);
  EXPECT_EQ(log.last_offset(), -1);
  EXPECT_EQ(log.last_term(), 0);
  EXPECT_EQ(log.TermAt(-1), 0);
  EXPECT_EQ(log.TermAt(0), std::nullopt);
  EXPECT_EQ(log.LastOffsetBefore(0), -1);
  EXPECT_EQ(log.LastOffsetBefore(1), std::nullopt);
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult read, f.Read(0));
  EXPECT_TRUE(read.bytes.empty());
  EXPECT_EQ(read.next_offset, 0);
  EXPECT_THAT(f.Read(1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_TRUE(f.disk().FileExists("p0/00000000000000000000.log"));
}

TEST(PartitionLogTest, LeaderAppendAssignsOffsetsAndTerm) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  EDDY_ASSERT_OK_AND_ASSIGN(AppendResult first, f.Append(/*term=*/3, /*record_count=*/5));
  EXPECT_EQ(first.base_offset, 0);
  EXPECT_EQ(first.last_offset, 4);
  EDDY_ASSERT_OK_AND_ASSIGN(AppendResult second, f.Append(3, 1));
  EXPECT_EQ(second.base_offset, 5);
  EXPECT_EQ(second.last_offset, 5);
  EXPECT_EQ(f.log().next_offset(), 6);
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult read, f.Read(2));
  EXPECT_EQ(read.batch_count, 2u);
  EXPECT_EQ(read.next_offset, 6);
  EDDY_ASSERT_OK_AND_ASSIGN(record::BatchHeader header, record::ParseBatchHeader(read.bytes));
  EXPECT_EQ(header.base_offset, 0);
  EXPECT_EQ(header.partition_leader_epoch, 3);
  EDDY_EXPECT_OK(record::VerifyBatchCrc(std::span(read.bytes).first(header.size_bytes())));
  // A stale leader cannot append below the log's last term.
  EXPECT_THAT(f.Append(2), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(f.Append(PartitionLog::kTermMax + 1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PartitionLogTest, FollowerAppendChecksOffsetsAndBatches) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  PartitionLog& log = f.log();
  EXPECT_THAT(log.AppendAsFollower(MakeTestBatch({.base_offset = 1, .term = 1})),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EDDY_ASSERT_OK(
      log.AppendAsFollower(MakeTestBatch({.base_offset = 0, .record_count = 3, .term = 4})));
  EXPECT_THAT(log.AppendAsFollower(MakeTestBatch({.base_offset = 3, .term = 2})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> corrupt = MakeTestBatch({.base_offset = 3, .term = 4});
  corrupt.back() ^= 1;
  EXPECT_THAT(log.AppendAsFollower(corrupt), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<uint8_t> short_batch = MakeTestBatch({.base_offset = 3, .term = 4});
  short_batch.pop_back();
  EXPECT_THAT(log.AppendAsFollower(short_batch), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log.AppendAsFollower({1, 2, 3}), StatusIs(absl::StatusCode::kInvalidArgument));
  EDDY_EXPECT_OK(log.AppendAsFollower(MakeTestBatch({.base_offset = 3, .term = 4})));
  EXPECT_EQ(log.next_offset(), 4);
}

TEST(PartitionLogTest, RaftViewAcrossSegments) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  // Batches [0,2] t1, [3,3] t1, [4,8] t2, [9,9] t5, each ~160 bytes: several segments.
  EDDY_ASSERT_OK(f.Append(1, 3, 100));
  EDDY_ASSERT_OK(f.Append(1, 1, 100));
  EDDY_ASSERT_OK(f.Append(2, 5, 100));
  EDDY_ASSERT_OK(f.Append(5, 1, 100));
  PartitionLog& log = f.log();
  EXPECT_GE(log.segment_count(), 2u);
  const std::vector<std::pair<int64_t, int64_t>> term_at = {{0, 1}, {2, 1}, {3, 1},
                                                            {4, 2}, {8, 2}, {9, 5}};
  for (auto [offset, term] : term_at) EXPECT_EQ(log.TermAt(offset), term) << offset;
  EXPECT_EQ(log.TermAt(10), std::nullopt);
  const std::vector<std::pair<int64_t, int64_t>> before = {{0, -1}, {1, -1}, {3, 2}, {4, 3},
                                                           {7, 3},  {9, 8},  {10, 9}};
  for (auto [offset, last] : before) EXPECT_EQ(log.LastOffsetBefore(offset), last) << offset;
  EXPECT_EQ(log.last_term(), 5);
}

TEST(PartitionLogTest, ReadReturnsWholeBatchesWithinBudget) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  for (int i = 0; i < 5; ++i) EDDY_ASSERT_OK(f.Append(1, 2, 39));  // 100-byte batches
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult one, f.Read(3, 1));         // budget below one batch
  EXPECT_EQ(one.batch_count, 1u);
  EXPECT_EQ(one.bytes.size(), 100u);
  EXPECT_EQ(one.next_offset, 4);
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult two, f.Read(3, 299));
  EXPECT_EQ(two.batch_count, 2u);
  EXPECT_EQ(two.next_offset, 6);
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult rest, f.Read(6));
  EXPECT_EQ(rest.batch_count, 2u);
  EXPECT_EQ(rest.next_offset, 10);
  EXPECT_THAT(f.Read(11), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(f.Read(-1), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(PartitionLogTest, TruncateSuffixThenReopen) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 8; ++i) EDDY_ASSERT_OK(f.Append(1, 2, 100));  // offsets 0..15
  EDDY_ASSERT_OK(f.Flush(15));
  const size_t segments_before = f.log().segment_count();
  EXPECT_GE(segments_before, 3u);
  // Offset 5 is inside batch [4,5]: that batch and everything after it go.
  EDDY_ASSERT_OK_AND_ASSIGN(int64_t next, f.log().TruncateSuffix(5));
  EXPECT_EQ(next, 4);
  EXPECT_EQ(f.log().next_offset(), 4);
  EXPECT_EQ(f.log().flushed_offset(), 3);
  EXPECT_LT(f.log().segment_count(), segments_before);
  EXPECT_THAT(f.Read(4), IsOk());
  EXPECT_THAT(f.Read(5), StatusIs(absl::StatusCode::kOutOfRange));
  EDDY_ASSERT_OK(f.Append(2, 3, 100));  // [4,6] in term 2
  EDDY_ASSERT_OK(f.Flush(6));
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> before, f.ReadAll());
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.report().bytes_truncated, 0u) << f.report().first_defect;
  EXPECT_EQ(f.log().next_offset(), 7);
  EXPECT_EQ(f.log().TermAt(6), 2);
  EXPECT_EQ(f.log().TermAt(3), 1);
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> after, f.ReadAll());
  EXPECT_EQ(before, after);
  EXPECT_THAT(f.log().TruncateSuffix(8), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(PartitionLogTest, TruncateSuffixIntoSealedSegmentRemovesItsIndex) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 6; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));
  EDDY_ASSERT_OK(f.Flush(5));
  f.loop().RunUntilIdle();  // let the seals finish
  ASSERT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EDDY_ASSERT_OK(f.log().TruncateSuffix(1));
  EDDY_ASSERT_OK(f.Append(7, 1, 100));
  EDDY_ASSERT_OK(f.Flush(1));
  f.loop().RunUntilIdle();
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().next_offset(), 2);
  EXPECT_EQ(f.log().TermAt(1), 7);
}

// The story Raft relies on: a conflicting suffix is cut, the leader's entries are appended, and
// only the flush makes the cut durable. Before the flush a crash may bring the old entries back
// (they were never acknowledged as replaced); after it, never.
TEST(PartitionLogTest, TruncateSuffixBecomesDurableWithTheNextFlush) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 6; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));  // two batches per segment
  EDDY_ASSERT_OK(f.Flush(5));
  f.loop().RunUntilIdle();
  EDDY_ASSERT_OK(f.log().TruncateSuffix(1));
  EDDY_ASSERT_OK(f.Append(2, 1, 100));
  f.loop().RunUntilIdle();  // every disk operation submitted, but no flush
  f.Crash(/*keep_unsynced_prefix=*/false, /*tear_last_sector=*/false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().TermAt(1), 1);  // the unflushed replacement is gone, the old entry is back
  EXPECT_EQ(f.report().bytes_truncated, 0u);

  EDDY_ASSERT_OK(f.log().TruncateSuffix(1));
  EDDY_ASSERT_OK(f.Append(2, 1, 100));
  EDDY_ASSERT_OK(f.Flush(1));
  f.Crash(/*keep_unsynced_prefix=*/true, /*tear_last_sector=*/true);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().next_offset(), 2);
  EXPECT_EQ(f.log().TermAt(1), 2);
  EXPECT_EQ(f.log().TermAt(0), 1);
}

// Regression (found by the model test): a cut inside a segment that is then sealed must be
// synced before the segment's index is written, even though every offset the segment still
// holds was already flushed; otherwise a crash brings the cut-off batches back and the log
// ends before the newer segment that followed the cut, losing flushed data.
TEST(PartitionLogTest, SealAfterTruncationSyncsTheCut) {
  LogFixture f;
  LogOptions options;
  options.segment_size_bytes_max = 1000;
  EDDY_ASSERT_OK(f.Open(options));
  for (int i = 0; i < 5; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));  // [0..4] in one segment
  EDDY_ASSERT_OK(f.Flush(4));
  EDDY_ASSERT_OK(f.log().TruncateSuffix(2));  // flushed offset 1: the cut is not durable yet
  EDDY_ASSERT_OK(f.Append(2, 1, 900));        // does not fit: roll, seal the cut segment
  f.loop().RunUntilIdle();
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EDDY_ASSERT_OK(f.Open(options));  // clean reopen: the new segment is synced by recovery
  EXPECT_EQ(f.log().flushed_offset(), 2);
  f.Crash(/*keep_unsynced_prefix=*/false, /*tear_last_sector=*/false);
  EDDY_ASSERT_OK(f.Open(options));
  EXPECT_EQ(f.log().next_offset(), 3);
  EXPECT_EQ(f.log().TermAt(2), 2);
  EXPECT_EQ(f.report().segments_loaded, 1u);
}

// A flush asked for below the flushed offset still waits for an earlier truncation to be synced.
TEST(PartitionLogTest, FlushBelowFlushedOffsetWaitsForTruncation) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  for (int i = 0; i < 5; ++i) EDDY_ASSERT_OK(f.Append(1));
  EDDY_ASSERT_OK(f.Flush(4));
  const uint64_t rounds = f.log().stats().flush_rounds;
  EDDY_ASSERT_OK(f.log().TruncateSuffix(3));
  EDDY_ASSERT_OK(f.Flush(1));
  EXPECT_EQ(f.log().stats().flush_rounds, rounds + 1);
  f.Crash(false, false);
  EDDY_ASSERT_OK(f.Open());
  EXPECT_EQ(f.log().next_offset(), 3);
}

TEST(PartitionLogTest, TruncatePrefixDeletesWholeSegments) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 10; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));
  const size_t segments = f.log().segment_count();
  EDDY_ASSERT_OK(f.TruncatePrefix(5));
  EXPECT_LE(f.log().first_offset(), 5);
  EXPECT_GT(f.log().first_offset(), 0);
  EXPECT_LT(f.log().segment_count(), segments);
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(0, ".log")));
  EXPECT_THAT(f.Read(0), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(f.log().TermAt(f.log().first_offset()), 1);
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult read, f.Read(f.log().first_offset()));
  EXPECT_GE(read.batch_count, 1u);
  // Everything: the log is empty at offset 10 and stays there after a reopen.
  EDDY_ASSERT_OK(f.TruncatePrefix(10));
  EXPECT_EQ(f.log().first_offset(), 10);
  EXPECT_EQ(f.log().next_offset(), 10);
  EXPECT_EQ(f.log().segment_count(), 1u);
  EXPECT_THAT(f.TruncatePrefix(11), StatusIs(absl::StatusCode::kOutOfRange));
  EDDY_ASSERT_OK(f.Flush(10));
  f.Crash(false, false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().first_offset(), 10);
  EXPECT_EQ(f.log().next_offset(), 10);
  EDDY_ASSERT_OK_AND_ASSIGN(AppendResult appended, f.Append(2));
  EXPECT_EQ(appended.base_offset, 10);
}

TEST(PartitionLogTest, FlushesShareSyncRounds) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  for (int i = 0; i < 20; ++i) EDDY_ASSERT_OK(f.Append(1));
  int completed = 0;
  for (int i = 0; i < 20; ++i) {
    f.log().Flush(i, [&completed](absl::Status status) {
      EDDY_CHECK_OK(status);
      ++completed;
    });
  }
  EXPECT_EQ(completed, 0);  // never inline
  f.loop().RunUntilIdle();
  EXPECT_EQ(completed, 20);
  EXPECT_EQ(f.log().stats().flush_rounds, 1u);
  EXPECT_EQ(f.log().flushed_offset(), 19);
  // Already durable: completes (later) without another round.
  EDDY_ASSERT_OK(f.Flush(5));
  EXPECT_EQ(f.log().stats().flush_rounds, 1u);
}

TEST(PartitionLogTest, FlushedBatchesSurviveCrashUnflushedDoNot) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 6; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));
  EDDY_ASSERT_OK(f.Flush(5));
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> flushed, f.ReadAll());
  for (int i = 0; i < 3; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 100));
  f.Crash(/*keep_unsynced_prefix=*/false, false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().next_offset(), 6);
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> recovered, f.ReadAll());
  EXPECT_EQ(recovered, flushed);
}

TEST(PartitionLogTest, TornTailIsTruncatedAndReported) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    LogFixture f;
    EDDY_ASSERT_OK(f.Open());
    EDDY_ASSERT_OK(f.Append(1, 1, 600));
    EDDY_ASSERT_OK(f.Flush(0));
    for (int i = 0; i < 4; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 600));
    f.Crash(/*keep_unsynced_prefix=*/true, /*tear_last_sector=*/true, seed);
    EDDY_ASSERT_OK(f.Open());
    EXPECT_GE(f.log().next_offset(), 1);
    EDDY_ASSERT_OK(f.ReadAll());  // whatever survived is whole and valid
    const uint64_t file_size = f.disk().FileContents(f.SegmentPath(0, ".log")).size();
    EXPECT_EQ(file_size, f.log().size_bytes());
  }
}

TEST(PartitionLogTest, RollsBySizeAndAgeAndSeals) {
  LogFixture f;
  LogOptions options = SmallSegments();
  options.segment_age_max = Duration::Seconds(10);
  EDDY_ASSERT_OK(f.Open(options));
  EDDY_ASSERT_OK(f.Append(1, 1, 300));
  EDDY_ASSERT_OK(f.Append(1, 1, 300));  // does not fit: roll by size
  EXPECT_EQ(f.log().segment_count(), 2u);
  f.loop().RunFor(Duration::Seconds(11));
  EDDY_ASSERT_OK(f.Append(1, 1, 10));  // segment too old: roll by age
  EXPECT_EQ(f.log().segment_count(), 3u);
  f.loop().RunUntilIdle();
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".timeindex")));
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(1, ".index")));
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(2, ".index")));  // active
  EXPECT_EQ(f.log().stats().segments_rolled, 2u);
  // Reopen: sealed segments load from their index files, only the active one is scanned.
  EDDY_ASSERT_OK(f.Open(options));
  EXPECT_EQ(f.report().segments_loaded, 2u);
  EXPECT_EQ(f.report().segments_scanned, 1u);
  EXPECT_EQ(f.log().next_offset(), 3);
}

TEST(PartitionLogTest, MissingOrDamagedIndexIsRebuilt) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 4; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 300));
  EDDY_ASSERT_OK(f.Flush(3));
  f.loop().RunUntilIdle();
  EDDY_ASSERT_OK(sim::AwaitStatus(
      f.loop(), [&](auto done) { f.disk().Remove(f.SegmentPath(0, ".index"), std::move(done)); }));
  f.disk().CorruptByte(f.SegmentPath(1, ".timeindex"), 3, 0x40);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.report().segments_scanned, 3u);  // two rebuilt plus the active one
  EXPECT_EQ(f.report().bytes_truncated, 0u);
  f.loop().RunUntilIdle();
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.report().segments_loaded, 3u);
}

TEST(PartitionLogTest, CorruptBatchIsNeverServed) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 4; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 300));
  EDDY_ASSERT_OK(f.Flush(3));
  f.loop().RunUntilIdle();
  f.disk().CorruptByte(f.SegmentPath(0, ".log"), 200, 0x01);  // a payload byte of batch 0
  EXPECT_THAT(f.Read(0), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(f.log().stats().corrupt_reads, 1u);
  EXPECT_THAT(f.Read(1), IsOk());
  // The term field is outside the CRC; the read still catches a changed term.
  f.disk().CorruptByte(f.SegmentPath(1, ".log"), record::kPartitionLeaderEpochPosition + 3, 0x02);
  EXPECT_THAT(f.Read(1), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(f.log().stats().corrupt_reads, 2u);
}

TEST(PartitionLogTest, OldBatchLeftAtTheSamePositionIsNeverServed) {
  // A conflicting batch [0, 3] is replaced by [0, 1] of the same size at the same position; a
  // lost (or misdirected) write then leaves the old bytes there: valid CRC, right base offset,
  // wrong last offset. The read compares the last offset with the index.
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  const std::vector<uint8_t> old_batch =
      MakeTestBatch({.base_offset = 0, .record_count = 4, .term = 1, .payload_size_bytes = 40});
  EDDY_ASSERT_OK(f.log().AppendAsFollower(old_batch).status());
  EDDY_ASSERT_OK(f.Flush(3));
  EDDY_ASSERT_OK(f.log().TruncateSuffix(0).status());
  EDDY_ASSERT_OK(f.log().AppendAsFollower(MakeTestBatch(
      {.base_offset = 0, .record_count = 2, .term = 2, .payload_size_bytes = 40, .fill_seed = 9}))
                     .status());
  EDDY_ASSERT_OK(f.Flush(1));
  EXPECT_THAT(f.Read(0), IsOk());
  auto file = sim::AwaitValue<runtime::FileHandle>(f.loop(), [&](auto done) {
    f.disk().Open(f.SegmentPath(0, ".log"), runtime::OpenMode::kExisting, std::move(done));
  });
  EDDY_ASSERT_OK(file.status());
  std::vector<uint8_t> stale = old_batch;
  record::SetPartitionLeaderEpoch(stale, 2);  // outside the CRC: only the last offset differs
  EDDY_ASSERT_OK(sim::AwaitStatus(
      f.loop(), [&](auto done) { f.disk().WriteAt(*file, 0, stale, std::move(done)); }));
  EXPECT_THAT(f.Read(0), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(f.log().stats().corrupt_reads, 1u);
}

TEST(PartitionLogTest, CorruptionInSealedSegmentFailsOpen) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  for (int i = 0; i < 4; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 300));
  EDDY_ASSERT_OK(f.Flush(3));
  f.loop().RunUntilIdle();
  // The CRC field of the sealed segment's last batch: the index no longer matches, the scan
  // finds a bad batch inside data that was durable: kDataLoss, nothing truncated.
  f.disk().CorruptByte(f.SegmentPath(0, ".log"), record::kCrcPosition, 0x80);
  EXPECT_THAT(f.Open(SmallSegments()), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(f.disk().FileContents(f.SegmentPath(0, ".log")).size(), 361u);
}

TEST(PartitionLogTest, OffsetForTimestamp) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EDDY_ASSERT_OK(f.Append(1, 2, 300, 1000));  // [0,1]
  EDDY_ASSERT_OK(f.Append(1, 2, 300, 900));   // [2,3] (older timestamps happen)
  EDDY_ASSERT_OK(f.Append(1, 2, 300, 3000));  // [4,5]
  EXPECT_EQ(f.log().OffsetForTimestamp(0), 0);
  EXPECT_EQ(f.log().OffsetForTimestamp(1000), 0);
  EXPECT_EQ(f.log().OffsetForTimestamp(1001), 4);
  EXPECT_EQ(f.log().OffsetForTimestamp(3001), std::nullopt);
}

TEST(PartitionLogTest, RetentionBySizeAndAge) {
  LogFixture f;
  LogOptions options = SmallSegments();
  options.retention_size_bytes = 700;
  EDDY_ASSERT_OK(f.Open(options));
  for (int i = 0; i < 6; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 300, 1000 * i));  // 361 bytes each
  EXPECT_EQ(f.log().segment_count(), 6u);
  EDDY_ASSERT_OK(
      sim::AwaitStatus(f.loop(), [&](auto done) { f.log().EnforceRetention(0, std::move(done)); }));
  EXPECT_EQ(f.log().first_offset(), 4);  // 2 segments = 722 bytes >= 700 remain
  EXPECT_EQ(f.log().size_bytes(), 722u);

  LogFixture g;
  LogOptions by_age = SmallSegments();
  by_age.retention_age_ms = 2500;
  EDDY_ASSERT_OK(g.Open(by_age));
  for (int i = 0; i < 6; ++i) EDDY_ASSERT_OK(g.Append(1, 1, 300, 1000 * i));
  EDDY_ASSERT_OK(sim::AwaitStatus(g.loop(), [&](auto done) {
    g.log().EnforceRetention(5000, std::move(done));  // older than 2500 goes: 0, 1000, 2000
  }));
  EXPECT_EQ(g.log().first_offset(), 3);
}

TEST(PartitionLogTest, DiskFullPoisonsTheLog) {
  LogFixture f({.capacity_bytes = 1000});
  EDDY_ASSERT_OK(f.Open());
  EDDY_ASSERT_OK(f.Append(1, 1, 500));
  EDDY_ASSERT_OK(f.Append(1, 1, 500));  // accepted in memory; the disk write fails
  EXPECT_THAT(f.Flush(1), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(f.log().status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(f.Append(1), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(f.Read(0), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(PartitionLogTest, DestroyWithOperationsPending) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  bool called = false;
  for (int i = 0; i < 5; ++i) EDDY_ASSERT_OK(f.Append(1, 1, 300));
  f.log().Flush(4, [&called](absl::Status) { called = true; });
  f.log().Read(0, 100, [&called](absl::StatusOr<ReadResult>) { called = true; });
  EDDY_ASSERT_OK(f.Open(SmallSegments()));  // destroys the old log first
  f.loop().RunUntilIdle();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace eddy::log
