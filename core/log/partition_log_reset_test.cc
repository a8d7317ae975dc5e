// PartitionLog::ResetTo (snapshot install) on a SimDisk: the log restarts empty at any offset
// (beyond, inside, or at a segment base of the old log), appends continue there, the reset
// survives a clean reopen, a Flush submitted after it waits for it, and — the crash contract —
// a crash after every possible number of loop events leaves either the old durable log or the
// new empty log, never a mix (both outcomes are shown to occur). A "<offset>.reset" marker left
// by a crash is completed by recovery. Every check goes through the public API and the disk.

#include <vector>

#include "core/base/status_matchers.h"
#include "core/log/log_test_fixture.h"
#include "core/log/partition_log.h"
#include "gtest/gtest.h"
#include "sim/loop/await.h"

namespace eddy::log {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using testing::LogFixture;

LogOptions SmallSegments() {
  LogOptions options;
  options.segment_size_bytes_max = 400;
  return options;
}

absl::Status Reset(LogFixture& f, int64_t next_offset) {
  return sim::AwaitStatus(f.loop(),
                          [&](auto done) { f.log().ResetTo(next_offset, std::move(done)); });
}

// Appends `count` one-record batches in `term` and flushes them.
void AppendFlushed(LogFixture& f, int count, int64_t term = 1) {
  for (int i = 0; i < count; ++i) ASSERT_THAT(f.Append(term).status(), IsOk());
  ASSERT_THAT(f.Flush(f.log().last_offset()), IsOk());
}

TEST(PartitionLogResetTest, RestartsEmptyBeyondTheLogAndAppendsContinueThere) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  AppendFlushed(f, 12);
  ASSERT_GT(f.log().segment_count(), 1u);
  EDDY_ASSERT_OK(Reset(f, 1000));
  EXPECT_EQ(f.log().first_offset(), 1000);
  EXPECT_EQ(f.log().next_offset(), 1000);
  EXPECT_EQ(f.log().last_term(), 0);
  EXPECT_EQ(f.log().TermAt(5), std::nullopt);
  EXPECT_EQ(f.log().TermAt(999), std::nullopt);
  EXPECT_EQ(f.log().LastOffsetBefore(1000), 999);
  EXPECT_THAT(f.Read(5), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(f.log().segment_count(), 1u);
  EXPECT_EQ(f.log().stats().resets, 1u);
  // Only the new segment is left on disk, and no marker.
  EXPECT_TRUE(f.disk().FileExists(f.SegmentPath(1000, ".log")));
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(0, ".log")));
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(1000, ".reset")));
  // A new term may be any term (the log has no last term any more).
  EDDY_ASSERT_OK_AND_ASSIGN(AppendResult appended, f.Append(/*term=*/7, /*record_count=*/3));
  EXPECT_EQ(appended.base_offset, 1000);
  EXPECT_EQ(appended.last_offset, 1002);
  EDDY_ASSERT_OK(f.Flush(1002));
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> before, f.ReadAll());
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().first_offset(), 1000);
  EXPECT_EQ(f.log().next_offset(), 1003);
  EXPECT_EQ(f.log().TermAt(1001), 7);
  EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> after, f.ReadAll());
  EXPECT_EQ(before, after);
}

TEST(PartitionLogResetTest, ResetInsideTheLogAndAtASegmentBase) {
  for (const bool at_segment_base : {false, true}) {
    LogFixture f;
    EDDY_ASSERT_OK(f.Open(SmallSegments()));
    AppendFlushed(f, 12);
    ASSERT_GT(f.log().segment_count(), 2u);
    // The base of the second segment (a file name the reset must replace), or an offset
    // in the middle of the log.
    const int64_t target = at_segment_base ? *f.log().LastOffsetBefore(6) + 1 : 5;
    int64_t second_base = -1;
    for (int64_t o = 1; o < f.log().next_offset(); ++o) {
      if (f.disk().FileExists(f.SegmentPath(o, ".log"))) {
        second_base = o;
        break;
      }
    }
    const int64_t next = at_segment_base ? second_base : target;
    ASSERT_GT(next, 0);
    EDDY_ASSERT_OK(Reset(f, next));
    EXPECT_EQ(f.log().first_offset(), next);
    EXPECT_EQ(f.log().next_offset(), next);
    EXPECT_EQ(f.log().TermAt(next), std::nullopt);
    EDDY_ASSERT_OK(f.Append(2).status());
    EDDY_ASSERT_OK(f.Flush(next));
    EDDY_ASSERT_OK(f.Open(SmallSegments()));
    EXPECT_EQ(f.log().first_offset(), next);
    EXPECT_EQ(f.log().next_offset(), next + 1);
    EXPECT_EQ(f.log().TermAt(next), 2);
    EXPECT_EQ(f.report().bytes_truncated, 0u);
  }
}

TEST(PartitionLogResetTest, FlushAfterResetWaitsForTheResetToBeDurable) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  AppendFlushed(f, 6);
  bool reset_done = false;
  f.log().ResetTo(500, [&](absl::Status s) {
    EXPECT_THAT(s, IsOk());
    reset_done = true;
  });
  EDDY_ASSERT_OK(f.Append(3).status());
  // A flush of an offset at or below the (old) flushed offset must still wait for the reset.
  bool flushed_before_reset = false;
  f.log().Flush(2, [&](absl::Status s) {
    EXPECT_THAT(s, IsOk());
    flushed_before_reset = !reset_done;
  });
  EDDY_ASSERT_OK(f.Flush(500));
  EXPECT_TRUE(reset_done);
  EXPECT_FALSE(flushed_before_reset);
  f.Crash(/*keep_unsynced_prefix=*/false, /*tear_last_sector=*/false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().first_offset(), 500);
  EXPECT_EQ(f.log().next_offset(), 501);
  EXPECT_EQ(f.log().TermAt(500), 3);
}

// The crash contract: for every prefix of the reset's disk work, a crash leaves the old log or
// the new one.
TEST(PartitionLogResetTest, CrashAtAnyPointLeavesTheOldLogOrTheNewOne) {
  int old_outcomes = 0;
  int new_outcomes = 0;
  for (int events = 0; events < 80; ++events) {
    for (const bool keep_unsynced : {false, true}) {
      LogFixture f;
      EDDY_ASSERT_OK(f.Open(SmallSegments()));
      AppendFlushed(f, 10);
      EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> old_bytes, f.ReadAll());
      const int64_t old_next = f.log().next_offset();
      const int64_t next = events % 2 == 0 ? 300 : 4;  // beyond or inside the old log
      f.log().ResetTo(next, [](absl::Status) {});
      for (int i = 0; i < events && f.loop().RunOne(); ++i) {
      }
      f.Crash(keep_unsynced, /*tear_last_sector=*/false, /*seed=*/static_cast<uint64_t>(events));
      EDDY_ASSERT_OK(f.Open(SmallSegments()));
      if (f.log().first_offset() == next && f.log().next_offset() == next) {
        ++new_outcomes;
      } else {
        ++old_outcomes;
        EXPECT_EQ(f.log().first_offset(), 0) << "after " << events << " events";
        EXPECT_EQ(f.log().next_offset(), old_next) << "after " << events << " events";
        EDDY_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> bytes, f.ReadAll());
        EXPECT_EQ(bytes, old_bytes) << "after " << events << " events";
      }
      // No marker survives an open.
      EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(next, ".reset")));
    }
  }
  EXPECT_GT(old_outcomes, 0);
  EXPECT_GT(new_outcomes, 0);
}

TEST(PartitionLogResetTest, RecoveryCompletesAResetWhoseMarkerItFinds) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  AppendFlushed(f, 10);
  f.Crash(false, false);
  // A crash right after the commit point: the marker is durable, the old segments still there.
  runtime::Disk& disk = f.disk();
  auto file = sim::AwaitValue<runtime::FileHandle>(f.loop(), [&](auto done) {
    disk.Open(f.SegmentPath(77, ".reset"), runtime::OpenMode::kCreateNew, std::move(done));
  });
  EDDY_ASSERT_OK(file.status());
  EDDY_ASSERT_OK(sim::AwaitStatus(f.loop(), [&](auto done) { disk.Close(*file, std::move(done)); }));
  EDDY_ASSERT_OK(
      sim::AwaitStatus(f.loop(), [&](auto done) { disk.SyncDirectory("p0", std::move(done)); }));
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.report().reset_completed_to, 77);
  EXPECT_GT(f.report().segments_removed, 0u);
  EXPECT_EQ(f.log().first_offset(), 77);
  EXPECT_EQ(f.log().next_offset(), 77);
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(77, ".reset")));
  EXPECT_FALSE(f.disk().FileExists(f.SegmentPath(0, ".log")));
  // And it is durable: a crash right after the open changes nothing.
  f.Crash(false, false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().first_offset(), 77);
  EXPECT_EQ(f.report().reset_completed_to, -1);
}

TEST(PartitionLogResetTest, PrefixTruncationStartIsRecovered) {
  // The log start after a prefix truncation (even of everything) is the first segment's base,
  // and survives a crash.
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  AppendFlushed(f, 12);
  const int64_t end = f.log().next_offset();
  EDDY_ASSERT_OK(f.TruncatePrefix(end));
  EXPECT_EQ(f.log().first_offset(), end);
  f.Crash(false, false);
  EDDY_ASSERT_OK(f.Open(SmallSegments()));
  EXPECT_EQ(f.log().first_offset(), end);
  EXPECT_EQ(f.log().next_offset(), end);
}

TEST(PartitionLogResetTest, RefusedWhenNegativeOrFailed) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open());
  EXPECT_THAT(Reset(f, -1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(f.log().next_offset(), 0);
}

}  // namespace
}  // namespace eddy::log
