// Proves SimDisk keeps the promises of disk.h that the partition log's recovery depends on:
// reads see unsynced writes; a crash keeps exactly the synced bytes of files whose directory
// entries were synced; a torn tail is cut at a sector boundary; completions never run inline
// and are dropped by a crash; a full disk answers kResourceExhausted. List and SyncDirectory
// see exactly the direct entries of one directory among many nested ones (checked against
// runtime::ParentDirectory over every file), and space is held while a file has a name or a handle.
#include "sim/disk/sim_disk.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using runtime::FileHandle;
using runtime::OpenMode;

std::vector<uint8_t> Bytes(size_t size, uint8_t fill) { return std::vector<uint8_t>(size, fill); }

class SimDiskTest : public ::testing::Test {
 protected:
  FileHandle Open(const std::string& path, OpenMode mode = OpenMode::kCreateIfMissing) {
    auto file =
        AwaitValue<FileHandle>(loop_, [&](auto done) { disk_.Open(path, mode, std::move(done)); });
    EXPECT_THAT(file, IsOk());
    return file.value_or(runtime::kNoFile);
  }
  void Append(FileHandle file, std::vector<uint8_t> data) {
    EXPECT_THAT(
        AwaitValue<uint64_t>(
            loop_, [&](auto done) { disk_.Append(file, std::move(data), std::move(done)); }),
        IsOk());
  }
  absl::Status Sync(FileHandle file) {
    return AwaitStatus(loop_, [&](auto done) { disk_.Sync(file, std::move(done)); });
  }
  absl::Status SyncDirectory(const std::string& path) {
    return AwaitStatus(loop_, [&](auto done) { disk_.SyncDirectory(path, std::move(done)); });
  }
  absl::StatusOr<std::vector<uint8_t>> Read(FileHandle file, uint64_t position, uint64_t length) {
    return AwaitValue<std::vector<uint8_t>>(
        loop_, [&](auto done) { disk_.ReadAt(file, position, length, std::move(done)); });
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& path) {
    return AwaitValue<std::vector<std::string>>(
        loop_, [&](auto done) { disk_.List(path, std::move(done)); });
  }

  SimLoop loop_;
  SimDisk disk_{loop_};
  Random random_{99};
};

TEST_F(SimDiskTest, CompletionsNeverRunInline) {
  bool done = false;
  disk_.Open("a", OpenMode::kCreateNew, [&](absl::StatusOr<FileHandle>) { done = true; });
  EXPECT_FALSE(done);
  loop_.RunUntilIdle();
  EXPECT_TRUE(done);
}

TEST_F(SimDiskTest, ReadsSeeUnsyncedWritesAndStopAtEnd) {
  const FileHandle file = Open("a");
  Append(file, Bytes(10, 1));
  auto read = Read(file, 5, 100);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(*read, Bytes(5, 1));
  EXPECT_THAT(Read(file, 10, 1), IsOk());
  EXPECT_TRUE(Read(file, 10, 1)->empty());
}

TEST_F(SimDiskTest, CrashKeepsExactlySyncedBytesOfSyncedEntries) {
  ASSERT_THAT(
      AwaitStatus(loop_, [&](auto done) { disk_.CreateDirectories("log", std::move(done)); }),
      IsOk());
  const FileHandle kept = Open("log/kept");
  Append(kept, Bytes(700, 7));
  ASSERT_THAT(Sync(kept), IsOk());
  ASSERT_THAT(SyncDirectory("log"), IsOk());
  const FileHandle lost = Open("log/lost");
  Append(kept, Bytes(300, 8));  // Unsynced: must vanish.
  Append(lost, Bytes(100, 9));
  ASSERT_THAT(Sync(lost), IsOk());  // Synced data, but its directory entry never was.

  disk_.Crash(CrashOptions{}, random_);

  EXPECT_TRUE(disk_.FileExists("log/kept"));
  EXPECT_FALSE(disk_.FileExists("log/lost"));
  EXPECT_EQ(disk_.FileContents("log/kept"), Bytes(700, 7));
  auto names = List("log");
  ASSERT_THAT(names, IsOk());
  EXPECT_EQ(*names, std::vector<std::string>{"kept"});
}

TEST_F(SimDiskTest, CrashInvalidatesHandlesAndDropsPendingCompletions) {
  const FileHandle file = Open("a");
  bool completed = false;
  disk_.Sync(file, [&](absl::Status) { completed = true; });
  disk_.Crash(CrashOptions{}, random_);
  loop_.RunUntilIdle();
  EXPECT_FALSE(completed);
  EXPECT_THAT(Sync(file), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SimDiskCrashTest, TornTailIsCutAtSectorBoundary) {
  int trials_with_extra_bytes = 0;
  for (int trial = 0; trial < 20; ++trial) {
    SimLoop loop;
    SimDisk disk(loop);
    Random random(trial);
    // Rebuild the same state on a fresh disk each trial so each draw is independent.
    FileHandle f = AwaitValue<FileHandle>(loop, [&](auto done) {
                     disk.Open("a", OpenMode::kCreateNew, std::move(done));
                   }).value();
    ASSERT_THAT(AwaitStatus(loop, [&](auto done) { disk.SyncDirectory("", std::move(done)); }),
                IsOk());
    ASSERT_THAT(
        AwaitValue<uint64_t>(loop, [&](auto d) { disk.Append(f, Bytes(1000, 1), std::move(d)); }),
        IsOk());
    ASSERT_THAT(AwaitStatus(loop, [&](auto d) { disk.Sync(f, std::move(d)); }), IsOk());
    ASSERT_THAT(
        AwaitValue<uint64_t>(loop, [&](auto d) { disk.Append(f, Bytes(5000, 2), std::move(d)); }),
        IsOk());
    disk.Crash(CrashOptions{.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
    const std::vector<uint8_t>& survivor = disk.FileContents("a");
    ASSERT_GE(survivor.size(), 1000u);
    // The synced prefix is intact.
    EXPECT_EQ(std::vector<uint8_t>(survivor.begin(), survivor.begin() + 1000), Bytes(1000, 1));
    // Whatever survived beyond it ends on a sector boundary.
    if (survivor.size() > 1000) {
      EXPECT_EQ(survivor.size() % runtime::kSectorSizeBytes, 0u);
    }
    EXPECT_LE(survivor.size(), 6000u / 512 * 512 + 512);
    if (survivor.size() > 1000) ++trials_with_extra_bytes;
  }
  EXPECT_GT(trials_with_extra_bytes, 0);  // The knob must actually keep unsynced sectors.
}

TEST_F(SimDiskTest, RenameIsDurableOnlyAfterDirectorySync) {
  const FileHandle file = Open("old");
  Append(file, Bytes(4, 4));
  ASSERT_THAT(Sync(file), IsOk());
  ASSERT_THAT(SyncDirectory(""), IsOk());
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Rename("old", "new", std::move(done)); }),
              IsOk());
  disk_.Crash(CrashOptions{}, random_);
  EXPECT_TRUE(disk_.FileExists("old"));
  EXPECT_FALSE(disk_.FileExists("new"));
}

TEST_F(SimDiskTest, FullDiskRefusesWrites) {
  SimLoop loop;
  SimDisk disk(loop, SimDiskOptions{.capacity_bytes = 100});
  FileHandle file = AwaitValue<FileHandle>(loop, [&](auto done) {
                      disk.Open("a", OpenMode::kCreateNew, std::move(done));
                    }).value();
  EXPECT_THAT(
      AwaitValue<uint64_t>(loop, [&](auto d) { disk.Append(file, Bytes(80, 1), std::move(d)); }),
      IsOk());
  EXPECT_THAT(
      AwaitValue<uint64_t>(loop, [&](auto d) { disk.Append(file, Bytes(30, 1), std::move(d)); }),
      StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(disk.used_bytes(), 80u);
}

TEST_F(SimDiskTest, OpenModes) {
  EXPECT_THAT(
      AwaitValue<FileHandle>(
          loop_, [&](auto done) { disk_.Open("missing", OpenMode::kExisting, std::move(done)); }),
      StatusIs(absl::StatusCode::kNotFound));
  Open("a", OpenMode::kCreateNew);
  EXPECT_THAT(
      AwaitValue<FileHandle>(
          loop_, [&](auto done) { disk_.Open("a", OpenMode::kCreateNew, std::move(done)); }),
      StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(
      AwaitValue<FileHandle>(
          loop_, [&](auto done) { disk_.Open("nodir/a", OpenMode::kCreateNew, std::move(done)); }),
      StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SimDiskTest, TruncateThenCrashKeepsSyncedTruncation) {
  const FileHandle file = Open("a");
  ASSERT_THAT(SyncDirectory(""), IsOk());
  Append(file, Bytes(100, 1));
  ASSERT_THAT(Sync(file), IsOk());
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Truncate(file, 40, std::move(done)); }),
              IsOk());
  ASSERT_THAT(Sync(file), IsOk());
  Append(file, Bytes(10, 2));
  disk_.Crash(CrashOptions{.keep_unsynced_prefix = true}, random_);
  EXPECT_EQ(disk_.FileContents("a"), Bytes(40, 1));
}

// Directories whose names sort around the '/' separator ("a.b" < "a/..." < "a0"), nested ones,
// and files at every level: List and SyncDirectory must see a directory's own files only.
TEST_F(SimDiskTest, ListAndSyncDirectorySeeOnlyTheDirectoryAmongMany) {
  const std::vector<std::string> directories = {"a", "a.b", "a0", "a/b", "a/b/c", "a/b0", "ab", "z"};
  for (const std::string& directory : directories) {
    ASSERT_THAT(AwaitStatus(loop_,
                            [&](auto done) { disk_.CreateDirectories(directory, std::move(done)); }),
                IsOk());
  }
  std::vector<std::string> all = {""};
  all.insert(all.end(), directories.begin(), directories.end());
  for (int i = 0; i < 3; ++i) {
    for (const std::string& directory : all) {
      for (const char* name : {"x", "a", "b.log", "b0"}) {
        const std::string path = directory.empty() ? absl::StrCat(name, i)
                                                   : absl::StrCat(directory, "/", name, i);
        Append(Open(path), Bytes(1, 1));
      }
    }
  }
  // The reference: every file whose parent directory is the one listed, in path order.
  auto reference = [&](const std::string& directory, bool durable) {
    std::vector<std::string> names;
    for (const std::string& path : disk_.FilesWithPrefix("", durable)) {
      if (runtime::ParentDirectory(path) != directory) continue;
      names.push_back(directory.empty() ? path : path.substr(directory.size() + 1));
    }
    return names;
  };
  for (const std::string& directory : all) {
    auto names = List(directory);
    ASSERT_THAT(names, IsOk());
    EXPECT_EQ(*names, reference(directory, false)) << directory;
    EXPECT_EQ(names->size(), 12u) << directory;
  }
  EXPECT_THAT(List("a/"), StatusIs(absl::StatusCode::kNotFound));
  // Syncing some directories makes exactly their entries durable.
  const std::set<std::string> synced = {"", "a", "a/b0", "ab"};
  for (const std::string& directory : synced) ASSERT_THAT(SyncDirectory(directory), IsOk());
  for (const std::string& directory : all) {
    const std::vector<std::string> expected =
        synced.contains(directory) ? reference(directory, false) : std::vector<std::string>{};
    EXPECT_EQ(reference(directory, true), expected) << directory;
  }
  // A removal in one directory, synced, leaves its neighbours' durable entries alone.
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Remove("a/x0", std::move(done)); }),
              IsOk());
  ASSERT_THAT(SyncDirectory("a"), IsOk());
  disk_.Crash(CrashOptions{}, random_);
  EXPECT_EQ(reference("a", false).size(), 11u);
  EXPECT_EQ(reference("a/b0", false).size(), 12u);
  EXPECT_EQ(reference("", false).size(), 12u);
  EXPECT_TRUE(reference("a.b", false).empty());
}

TEST_F(SimDiskTest, SpaceIsHeldWhileAFileHasANameOrAHandle) {
  const FileHandle removed = Open("removed");
  Append(removed, Bytes(10, 1));
  const FileHandle replaced = Open("replaced");
  Append(replaced, Bytes(20, 2));
  const FileHandle kept = Open("kept");
  Append(kept, Bytes(40, 3));
  EXPECT_EQ(disk_.used_bytes(), 70u);
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Remove("removed", std::move(done)); }),
              IsOk());
  EXPECT_EQ(disk_.used_bytes(), 70u);  // Still open.
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Close(removed, std::move(done)); }),
              IsOk());
  EXPECT_EQ(disk_.used_bytes(), 60u);
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Close(replaced, std::move(done)); }),
              IsOk());
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Rename("kept", "kept", std::move(done)); }),
              IsOk());
  EXPECT_EQ(disk_.used_bytes(), 60u);  // A rename onto itself frees nothing.
  ASSERT_THAT(
      AwaitStatus(loop_, [&](auto done) { disk_.Rename("kept", "replaced", std::move(done)); }),
      IsOk());
  EXPECT_EQ(disk_.used_bytes(), 40u);  // The replaced file had no handle left.
  ASSERT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Close(kept, std::move(done)); }), IsOk());
  EXPECT_EQ(disk_.used_bytes(), 40u);  // Closed, but named "replaced".
  EXPECT_THAT(AwaitStatus(loop_, [&](auto done) { disk_.Close(kept, std::move(done)); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eddy::sim
