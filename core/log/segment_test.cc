// Segment: proves that operations submitted before the file is attached, or while the segment is
// blocked, are held and then issued in submission order (so a read still sees earlier appends),
// and that a failed open fails every queued operation instead of losing it. With a FileCache of
// one file it proves that the cache closes only idle, synced files (never one with a write not
// yet synced or an operation in flight), that the next operation reopens the file and sees every
// earlier write, and that Close() of an evicted file needs no reopen.

#include "core/log/segment.h"

#include <optional>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;

class SegmentTest : public ::testing::Test {
 protected:
  std::shared_ptr<Segment> NewSegment(int64_t base) {
    return std::make_shared<Segment>(loop_, disk_, cache_, "dir", OffsetIndex(base),
                                     TimeIndex(base), loop_.Now());
  }
  runtime::FileHandle OpenFile(const std::string& path) {
    EDDY_CHECK_OK(sim::AwaitStatus(
        loop_, [&](auto done) { disk_.CreateDirectories("dir", std::move(done)); }));
    auto file = sim::AwaitValue<runtime::FileHandle>(loop_, [&](auto done) {
      disk_.Open(path, runtime::OpenMode::kCreateIfMissing, std::move(done));
    });
    EDDY_CHECK_OK(file.status());
    return *file;
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
  std::shared_ptr<FileCache> cache_ = std::make_shared<FileCache>(1);
};

TEST_F(SegmentTest, NamesFollowBaseOffset) {
  auto segment = NewSegment(17);
  EXPECT_EQ(segment->log_path(), "dir/00000000000000000017.log");
  EXPECT_EQ(segment->index_path(), "dir/00000000000000000017.index");
  EXPECT_EQ(segment->time_index_path(), "dir/00000000000000000017.timeindex");
}

TEST_F(SegmentTest, QueuesUntilAttachedThenKeepsOrder) {
  EDDY_ASSERT_OK(
      sim::AwaitStatus(loop_, [&](auto done) { disk_.CreateDirectories("dir", std::move(done)); }));
  auto segment = NewSegment(0);
  std::vector<std::string> events;
  segment->Append({1, 2, 3}, [&](absl::Status s) { events.push_back("append " + s.ToString()); });
  segment->Append({4, 5}, [&](absl::Status s) { events.push_back("append " + s.ToString()); });
  std::optional<std::vector<uint8_t>> read;
  segment->Read(1, 10, [&](absl::StatusOr<std::vector<uint8_t>> bytes) {
    events.push_back("read");
    read = *bytes;
  });
  segment->Truncate(2, [&](absl::Status s) { events.push_back("truncate " + s.ToString()); });
  loop_.RunUntilIdle();
  EXPECT_TRUE(events.empty());  // nothing may reach the disk before the file exists
  segment->Attach(OpenFile(segment->log_path()));
  loop_.RunUntilIdle();
  EXPECT_EQ(events, (std::vector<std::string>{"append OK", "append OK", "read", "truncate OK"}));
  EXPECT_EQ(read, (std::vector<uint8_t>{2, 3, 4, 5}));
  EXPECT_EQ(disk_.FileContents("dir/00000000000000000000.log"), (std::vector<uint8_t>{1, 2}));
}

TEST_F(SegmentTest, BlockHoldsOperations) {
  auto segment = NewSegment(0);
  segment->Attach(OpenFile(segment->log_path()));
  segment->Block();
  segment->Block();
  bool appended = false;
  segment->Append({7}, [&](absl::Status) { appended = true; });
  loop_.RunUntilIdle();
  EXPECT_FALSE(appended);
  segment->Unblock();
  loop_.RunUntilIdle();
  EXPECT_FALSE(appended);
  segment->Unblock();
  loop_.RunUntilIdle();
  EXPECT_TRUE(appended);
}

TEST_F(SegmentTest, FailedOpenFailsQueuedOperations) {
  auto segment = NewSegment(0);
  absl::Status append_status, sync_status;
  segment->Append({1}, [&](absl::Status s) { append_status = s; });
  segment->Sync([&](absl::Status s) { sync_status = s; });
  segment->FailOpen(absl::ResourceExhaustedError("disk full"));
  EXPECT_THAT(append_status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(sync_status, StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(SegmentTest, CacheEvictsOnlySyncedIdleFilesAndReopensOnDemand) {
  auto a = NewSegment(0);
  auto b = NewSegment(100);
  a->Attach(OpenFile(a->log_path()));
  a->Append({1, 2, 3}, [](absl::Status s) { EDDY_CHECK_OK(s); });
  loop_.RunUntilIdle();
  EXPECT_FALSE(a->Evictable());  // written, not synced
  b->Attach(OpenFile(b->log_path()));
  loop_.RunUntilIdle();
  // Over the limit of one: `a` is unsynced and stays open; `b` is idle and clean, so it went.
  EXPECT_TRUE(a->file_open());
  EXPECT_FALSE(b->file_open());
  EXPECT_EQ(cache_->open_file_count(), 1u);
  EXPECT_FALSE(a->Evictable());
  a->Sync([](absl::Status s) { EDDY_CHECK_OK(s); });
  loop_.RunUntilIdle();
  EXPECT_TRUE(a->Evictable());
  EXPECT_TRUE(a->file_open());  // at the limit: nothing to evict yet
  // A read of `b` reopens it, which evicts `a` (idle and synced now).
  std::optional<std::vector<uint8_t>> read;
  b->Append({9}, [](absl::Status s) { EDDY_CHECK_OK(s); });
  b->Read(0, 10, [&](absl::StatusOr<std::vector<uint8_t>> bytes) { read = *bytes; });
  loop_.RunUntilIdle();
  EXPECT_EQ(read, (std::vector<uint8_t>{9}));
  EXPECT_TRUE(b->file_open());
  EXPECT_FALSE(a->file_open());
  EXPECT_EQ(b->reopen_count(), 1u);
  // `a` reopens and sees its synced bytes; `b` (unsynced) is not evicted meanwhile.
  a->Read(0, 10, [&](absl::StatusOr<std::vector<uint8_t>> bytes) { read = *bytes; });
  loop_.RunUntilIdle();
  EXPECT_EQ(read, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_TRUE(b->file_open());
  EXPECT_EQ(cache_->stats().over_limit_count_max, 1u);
  EXPECT_EQ(disk_.DurableContents(a->log_path()), (std::vector<uint8_t>{1, 2, 3}));
  b->Sync([](absl::Status s) { EDDY_CHECK_OK(s); });
  loop_.RunUntilIdle();
  EXPECT_EQ(cache_->open_file_count(), 1u);
  EXPECT_EQ(disk_.DurableContents(b->log_path()), (std::vector<uint8_t>{9}));
}

TEST_F(SegmentTest, InFlightOperationKeepsTheFileOpen) {
  auto a = NewSegment(0);
  auto b = NewSegment(100);
  a->Attach(OpenFile(a->log_path()));
  const runtime::FileHandle b_file = OpenFile(b->log_path());
  bool read_done = false;
  a->Read(0, 10, [&](absl::StatusOr<std::vector<uint8_t>>) {
    // The file was not closed under the read.
    EXPECT_TRUE(a->file_open());
    read_done = true;
  });
  b->Attach(b_file);  // over the limit while `a`'s read is in flight
  EXPECT_TRUE(a->file_open());
  loop_.RunUntilIdle();
  EXPECT_TRUE(read_done);
  EXPECT_EQ(cache_->open_file_count(), 1u);
}

TEST_F(SegmentTest, CloseOfAnEvictedFileNeedsNoReopen) {
  auto a = NewSegment(0);
  auto b = NewSegment(100);
  a->Attach(OpenFile(a->log_path()));
  b->Attach(OpenFile(b->log_path()));
  loop_.RunUntilIdle();
  ASSERT_FALSE(a->file_open() && b->file_open());
  std::shared_ptr<Segment> evicted = a->file_open() ? b : a;
  bool closed = false;
  evicted->Close([&](absl::Status s) {
    EDDY_CHECK_OK(s);
    closed = true;
  });
  bool waited = false;
  evicted->WhenClosed([&] { waited = true; });
  loop_.RunUntilIdle();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(waited);
  EXPECT_EQ(evicted->reopen_count(), 0u);
}

}  // namespace
}  // namespace eddy::log
