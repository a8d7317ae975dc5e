// Proves PosixDisk keeps the disk.h contract on a real file system (in the test's temp dir):
// completions are asynchronous and ordered, appends report their positions, reads stop at end
// of file, and errno becomes the documented status codes. Durability across power loss cannot be
// observed from a test; the simulator's disk covers those rules.
#include "net/disk/posix_disk.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "core/runtime/await.h"
#include "gtest/gtest.h"
#include "net/loop/asio_loop.h"

namespace eddy::net {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using runtime::FileHandle;
using runtime::OpenMode;

std::string MakeTempRoot() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/posix_disk_XXXXXX";
  EDDY_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

class PosixDiskTest : public ::testing::Test {
 protected:
  absl::StatusOr<FileHandle> Open(const std::string& path, OpenMode mode) {
    return runtime::AwaitValue<FileHandle>(
        loop_, [&](auto done) { disk_.Open(path, mode, std::move(done)); });
  }
  absl::StatusOr<uint64_t> Append(FileHandle file, std::vector<uint8_t> data) {
    return runtime::AwaitValue<uint64_t>(
        loop_, [&](auto done) { disk_.Append(file, std::move(data), std::move(done)); });
  }
  absl::StatusOr<std::vector<uint8_t>> Read(FileHandle file, uint64_t position, uint64_t length) {
    return runtime::AwaitValue<std::vector<uint8_t>>(
        loop_, [&](auto done) { disk_.ReadAt(file, position, length, std::move(done)); });
  }
  absl::Status Status(auto submit) { return runtime::AwaitStatus(loop_, submit); }

  AsioLoop loop_;
  PosixDisk disk_{loop_, MakeTempRoot()};
};

TEST_F(PosixDiskTest, AppendReadSyncRoundTrip) {
  ASSERT_THAT(Status([&](auto d) { disk_.CreateDirectories("topic/0", std::move(d)); }), IsOk());
  EDDY_ASSERT_OK_AND_ASSIGN(const FileHandle file, Open("topic/0/a.log", OpenMode::kCreateNew));
  EDDY_ASSERT_OK_AND_ASSIGN(const uint64_t first, Append(file, {1, 2, 3}));
  EDDY_ASSERT_OK_AND_ASSIGN(const uint64_t second, Append(file, {4, 5}));
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(second, 3u);
  EXPECT_THAT(Status([&](auto d) { disk_.Sync(file, std::move(d)); }), IsOk());
  EXPECT_THAT(Status([&](auto d) { disk_.SyncDirectory("topic/0", std::move(d)); }), IsOk());
  EDDY_ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> bytes, Read(file, 1, 100));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{2, 3, 4, 5}));
  EDDY_ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> past_end, Read(file, 5, 10));
  EXPECT_TRUE(past_end.empty());
}

TEST_F(PosixDiskTest, CompletionsAreDeferredAndOrdered) {
  EDDY_ASSERT_OK_AND_ASSIGN(const FileHandle file, Open("f", OpenMode::kCreateNew));
  std::vector<int> order;
  disk_.Append(file, {1}, [&](absl::StatusOr<uint64_t>) { order.push_back(1); });
  disk_.WriteAt(file, 10, {2}, [&](absl::Status) { order.push_back(2); });
  disk_.Size(file, [&](absl::StatusOr<uint64_t> size) {
    EXPECT_EQ(size.value_or(0), 11u);  // WriteAt past the end zero-fills.
    order.push_back(3);
  });
  EXPECT_TRUE(order.empty());
  loop_.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(PosixDiskTest, TruncateRenameRemoveList) {
  EDDY_ASSERT_OK_AND_ASSIGN(const FileHandle file, Open("b", OpenMode::kCreateNew));
  ASSERT_THAT(Append(file, std::vector<uint8_t>(100, 7)), IsOk());
  ASSERT_THAT(Status([&](auto d) { disk_.Truncate(file, 10, std::move(d)); }), IsOk());
  EDDY_ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> bytes, Read(file, 0, 100));
  EXPECT_EQ(bytes.size(), 10u);
  ASSERT_THAT(Open("a", OpenMode::kCreateNew), IsOk());
  ASSERT_THAT(Status([&](auto d) { disk_.Rename("b", "c", std::move(d)); }), IsOk());
  auto names = runtime::AwaitValue<std::vector<std::string>>(
      loop_, [&](auto d) { disk_.List("", std::move(d)); });
  ASSERT_THAT(names, IsOk());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "c"}));
  ASSERT_THAT(Status([&](auto d) { disk_.Remove("a", std::move(d)); }), IsOk());
  EXPECT_THAT(Status([&](auto d) { disk_.Remove("a", std::move(d)); }),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PosixDiskTest, ErrorsHaveDocumentedCodes) {
  EXPECT_THAT(Open("missing", OpenMode::kExisting), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(Open("x", OpenMode::kCreateNew), IsOk());
  EXPECT_THAT(Open("x", OpenMode::kCreateNew), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Open("../escape", OpenMode::kCreateIfMissing),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Open("/abs", OpenMode::kCreateIfMissing),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Status([&](auto d) { disk_.Sync(999, std::move(d)); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ErrnoToStatusTest, MapsErrnoToSeamCodes) {
  EXPECT_THAT(ErrnoToStatus(ENOSPC, "pwrite", "f"), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(ErrnoToStatus(EIO, "pread", "f"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ErrnoToStatus(ENOENT, "open", "f"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ErrnoToStatus(EAGAIN, "open", "f"), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace eddy::net
