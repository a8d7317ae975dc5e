// Segment: proves that operations submitted before the file is attached, or while the segment is
// blocked, are held and then issued in submission order (so a read still sees earlier appends),
// and that a failed open fails every queued operation instead of losing it.

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
    return std::make_shared<Segment>(disk_, "dir", OffsetIndex(base), TimeIndex(base), loop_.Now());
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

}  // namespace
}  // namespace eddy::log
