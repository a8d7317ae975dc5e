// Proves each injected storage fault does what DiskFaultOptions promises, and only that:
// latency spikes delay completions without reordering them; read corruption changes returned
// bytes but never stored ones; write corruption changes stored bytes by exactly one bit;
// misdirected writes leave the intended range untouched and put the bytes elsewhere; latent
// sector errors fail reads with kDataLoss until the sector is rewritten; injected ENOSPC and
// fsync failures return kResourceExhausted / kUnavailable and (for fsync) make nothing durable.
// Rates of 100 % make the expectations exact; one statistical test checks a partial rate.
#include <map>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "sim/base/rate.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/await.h"
#include "sim/loop/sim_loop.h"

namespace eddy::sim {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;
using runtime::FileHandle;
using runtime::OpenMode;

std::vector<uint8_t> Pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 13);
  return bytes;
}

int DifferingBits(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int bits = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) bits += __builtin_popcount(a[i] ^ b[i]);
  return bits;
}

class SimDiskFaultsTest : public ::testing::Test {
 protected:
  FileHandle Open(const std::string& path) {
    return AwaitValue<FileHandle>(
               loop_,
               [&](auto done) { disk_.Open(path, OpenMode::kCreateIfMissing, std::move(done)); })
        .value();
  }
  absl::StatusOr<uint64_t> Append(FileHandle file, std::vector<uint8_t> data) {
    return AwaitValue<uint64_t>(
        loop_, [&](auto done) { disk_.Append(file, std::move(data), std::move(done)); });
  }
  absl::Status WriteAt(FileHandle file, uint64_t position, std::vector<uint8_t> data) {
    return AwaitStatus(
        loop_, [&](auto done) { disk_.WriteAt(file, position, std::move(data), std::move(done)); });
  }
  absl::StatusOr<std::vector<uint8_t>> Read(FileHandle file, uint64_t position, uint64_t length) {
    return AwaitValue<std::vector<uint8_t>>(
        loop_, [&](auto done) { disk_.ReadAt(file, position, length, std::move(done)); });
  }
  absl::Status Sync(FileHandle file) {
    return AwaitStatus(loop_, [&](auto done) { disk_.Sync(file, std::move(done)); });
  }

  SimLoop loop_;
  SimDisk disk_{loop_, SimDiskOptions{.fault_seed = 7}};
};

TEST_F(SimDiskFaultsTest, LatencySpikesDelayButNeverReorderCompletions) {
  disk_.SetFaults({.latency_spike_ppm = kPpm / 2, .latency_spike_max = Duration::Milliseconds(50)});
  const FileHandle file = Open("a");
  const Instant start = loop_.Now();
  std::vector<int> completed;
  std::vector<Instant> times;
  for (int i = 0; i < 200; ++i) {
    disk_.Append(file, Pattern(10, 1), [&, i](absl::StatusOr<uint64_t> position) {
      EXPECT_THAT(position, IsOk());
      completed.push_back(i);
      times.push_back(loop_.Now());
    });
  }
  loop_.RunUntilIdle();
  ASSERT_EQ(completed.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(completed[i], i);
  EXPECT_GT(disk_.stats().latency_spikes, 50u);
  EXPECT_LT(disk_.stats().latency_spikes, 150u);
  // All 200 were submitted at once: the last completes after the largest of ~100 spikes, which
  // is almost surely past 40 ms of the 50 ms maximum, and never past the maximum.
  EXPECT_GT(times.back() - start, Duration::Milliseconds(40));
  EXPECT_LE(times.back() - start, Duration::Milliseconds(50) + SimDiskOptions{}.operation_latency);
}

TEST_F(SimDiskFaultsTest, JitterReordersAcrossFilesButNeverWithinOne) {
  const FileHandle a = Open("a");
  const FileHandle b = Open("b");
  disk_.SetFaults({.latency_jitter_max = Duration::Milliseconds(5)});
  std::vector<std::pair<FileHandle, int>> completed;
  for (int i = 0; i < 100; ++i) {
    for (FileHandle file : {a, b}) {
      disk_.Append(file, Pattern(8, 1), [&completed, file, i](absl::StatusOr<uint64_t> at) {
        EXPECT_THAT(at, IsOk());
        completed.push_back({file, i});
      });
    }
  }
  loop_.RunUntilIdle();
  ASSERT_EQ(completed.size(), 200u);
  std::map<FileHandle, int> last_seen = {{a, -1}, {b, -1}};
  int cross_file_inversions = 0;
  for (size_t k = 0; k < completed.size(); ++k) {
    const auto [file, i] = completed[k];
    EXPECT_EQ(i, last_seen[file] + 1) << "file " << file << " completed out of order";
    last_seen[file] = i;
    // Submission order interleaves a0 b0 a1 b1 ...: a completion of index i after one of a
    // larger index (of the other file) is a cross-file inversion.
    if (k > 0 && completed[k - 1].second > i) ++cross_file_inversions;
  }
  EXPECT_GT(cross_file_inversions, 0);
}

TEST_F(SimDiskFaultsTest, ExtraLatencySlowsEveryOperation) {
  disk_.SetFaults({.extra_latency = Duration::Milliseconds(30)});
  const Instant start = loop_.Now();
  Open("a");
  EXPECT_EQ(loop_.Now() - start, SimDiskOptions{}.operation_latency + Duration::Milliseconds(30));
}

TEST_F(SimDiskFaultsTest, ReadCorruptionFlipsOneReturnedBitAndNeverTheStoredBytes) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, Pattern(1000, 3)), IsOk());
  disk_.SetFaults({.read_corruption_ppm = kPpm});
  auto read = Read(file, 0, 1000);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(DifferingBits(*read, Pattern(1000, 3)), 1);
  EXPECT_EQ(disk_.FileContents("a"), Pattern(1000, 3));
  EXPECT_EQ(disk_.stats().read_corruptions, 1u);
  disk_.SetFaults({});
  EXPECT_EQ(Read(file, 0, 1000).value(), Pattern(1000, 3));
}

TEST_F(SimDiskFaultsTest, WriteCorruptionStoresExactlyOneFlippedBitThatSurvivesSync) {
  const FileHandle file = Open("a");
  disk_.SetFaults({.write_corruption_ppm = kPpm});
  ASSERT_THAT(Append(file, Pattern(1000, 5)), IsOk());
  ASSERT_THAT(Sync(file), IsOk());
  EXPECT_EQ(DifferingBits(disk_.FileContents("a"), Pattern(1000, 5)), 1);
  EXPECT_EQ(disk_.DurableContents("a"), disk_.FileContents("a"));
  EXPECT_EQ(disk_.stats().write_corruptions, 1u);
}

TEST_F(SimDiskFaultsTest, MisdirectedAppendLeavesZerosWhereIntendedAndOverwritesElsewhere) {
  const FileHandle file = Open("a");
  const std::vector<uint8_t> first(2048, 0xAA);
  ASSERT_THAT(Append(file, first), IsOk());
  disk_.SetFaults({.misdirected_write_ppm = kPpm});
  const std::vector<uint8_t> second(512, 0xBB);
  auto position = Append(file, second);
  ASSERT_THAT(position, IsOk());
  EXPECT_EQ(*position, 2048u);  // The caller believes the append went where it asked.
  const std::vector<uint8_t>& contents = disk_.FileContents("a");
  ASSERT_EQ(contents.size(), 2560u);
  // The intended range holds zeros: the bytes never arrived there.
  EXPECT_EQ(std::vector<uint8_t>(contents.begin() + 2048, contents.end()),
            std::vector<uint8_t>(512, 0));
  // They landed on one earlier, sector-aligned range instead.
  int landed = 0;
  for (uint64_t sector = 0; sector < 4; ++sector) {
    const auto begin = contents.begin() + sector * 512;
    if (std::vector<uint8_t>(begin, begin + 512) == second) ++landed;
  }
  EXPECT_EQ(landed, 1);
  EXPECT_EQ(disk_.stats().misdirected_writes, 1u);
}

TEST_F(SimDiskFaultsTest, MisdirectedWriteAtKeepsTheIntendedRangesOldBytes) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, std::vector<uint8_t>(4096, 0x11)), IsOk());
  disk_.SetFaults({.misdirected_write_ppm = kPpm});
  ASSERT_THAT(WriteAt(file, 1024, std::vector<uint8_t>(512, 0x22)), IsOk());
  const std::vector<uint8_t>& contents = disk_.FileContents("a");
  EXPECT_EQ(std::vector<uint8_t>(contents.begin() + 1024, contents.begin() + 1536),
            std::vector<uint8_t>(512, 0x11));
  EXPECT_EQ(std::count(contents.begin(), contents.end(), 0x22), 512);
}

TEST_F(SimDiskFaultsTest, LatentSectorErrorFailsReadsUntilRewritten) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, Pattern(4 * 512, 9)), IsOk());
  disk_.MarkSectorBad("a", 2);
  EXPECT_THAT(Read(file, 0, 512), IsOk());                                    // Sector 0: fine.
  EXPECT_THAT(Read(file, 1000, 100), StatusIs(absl::StatusCode::kDataLoss));  // Sector 1..2.
  EXPECT_THAT(Read(file, 1024, 1), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Read(file, 1536, 512), IsOk());  // Sector 3: fine.
  EXPECT_EQ(disk_.stats().latent_sector_read_failures, 2u);
  ASSERT_THAT(WriteAt(file, 1100, std::vector<uint8_t>(4, 1)), IsOk());  // Remaps sector 2.
  EXPECT_FALSE(disk_.SectorBad("a", 2));
  EXPECT_THAT(Read(file, 1024, 512), IsOk());
}

TEST_F(SimDiskFaultsTest, RandomLatentSectorErrorsHitTheReadRangeAndPersist) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, Pattern(8 * 512, 9)), IsOk());
  disk_.SetFaults({.latent_sector_error_ppm = kPpm});
  EXPECT_THAT(Read(file, 2 * 512, 512), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_TRUE(disk_.SectorBad("a", 2));
  disk_.SetFaults({});
  EXPECT_THAT(Read(file, 2 * 512 + 7, 1), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Read(file, 3 * 512, 512), IsOk());
}

TEST_F(SimDiskFaultsTest, LatentSectorErrorsSurviveACrash) {
  const FileHandle file = Open("a");
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.SyncDirectory("", std::move(d)); }), IsOk());
  ASSERT_THAT(Append(file, Pattern(4 * 512, 9)), IsOk());
  ASSERT_THAT(Sync(file), IsOk());
  disk_.MarkSectorBad("a", 1);
  Random random(1);
  disk_.Crash(CrashOptions{}, random);
  EXPECT_TRUE(disk_.SectorBad("a", 1));
}

TEST_F(SimDiskFaultsTest, InjectedNoSpaceRefusesGrowingWritesOnly) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, Pattern(100, 1)), IsOk());
  disk_.SetFaults({.no_space_ppm = kPpm});
  EXPECT_THAT(Append(file, Pattern(10, 1)), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(WriteAt(file, 10, Pattern(10, 2)), IsOk());  // In place: needs no new space.
  EXPECT_EQ(disk_.FileContents("a").size(), 100u);
  EXPECT_EQ(disk_.stats().injected_no_space, 1u);
}

TEST_F(SimDiskFaultsTest, FailedSyncMakesNothingDurable) {
  const FileHandle file = Open("a");
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.SyncDirectory("", std::move(d)); }), IsOk());
  ASSERT_THAT(Append(file, Pattern(600, 1)), IsOk());
  disk_.SetFaults({.sync_failure_ppm = kPpm});
  EXPECT_THAT(Sync(file), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(disk_.DurableContents("a").empty());
  Random random(3);
  disk_.Crash(CrashOptions{}, random);
  EXPECT_TRUE(disk_.FileContents("a").empty());
  EXPECT_EQ(disk_.stats().sync_failures, 1u);
}

TEST_F(SimDiskFaultsTest, PartialRateFiresAboutAsOftenAsAsked) {
  const FileHandle file = Open("a");
  ASSERT_THAT(Append(file, Pattern(512, 1)), IsOk());
  disk_.SetFaults({.read_corruption_ppm = kPpm / 10});
  int corrupted = 0;
  for (int i = 0; i < 2000; ++i) {
    if (Read(file, 0, 512).value() != Pattern(512, 1)) ++corrupted;
  }
  EXPECT_EQ(static_cast<uint64_t>(corrupted), disk_.stats().read_corruptions);
  EXPECT_GT(corrupted, 140);  // 10 % of 2000 = 200, with generous room for the fixed seed.
  EXPECT_LT(corrupted, 260);
}

TEST_F(SimDiskFaultsTest, PoweredOffDiskIgnoresOperationsEntirely) {
  const FileHandle file = Open("a");
  disk_.SetPoweredOn(false);
  bool completed = false;
  disk_.Append(file, Pattern(10, 1), [&](absl::StatusOr<uint64_t>) { completed = true; });
  disk_.Open("b", OpenMode::kCreateNew, [&](absl::StatusOr<FileHandle>) { completed = true; });
  loop_.RunUntilIdle();
  EXPECT_FALSE(completed);
  EXPECT_TRUE(disk_.FileContents("a").empty());
  EXPECT_FALSE(disk_.FileExists("b"));
  EXPECT_EQ(disk_.stats().ignored_while_powered_off, 2u);
  disk_.SetPoweredOn(true);
  EXPECT_THAT(Append(file, Pattern(10, 1)), IsOk());
}

TEST_F(SimDiskFaultsTest, SpaceIsFreedByRenameOverAFileAndByClosingARemovedFile) {
  const FileHandle a = Open("a");
  ASSERT_THAT(Append(a, Pattern(100, 1)), IsOk());
  const FileHandle b = Open("b");
  ASSERT_THAT(Append(b, Pattern(30, 1)), IsOk());
  EXPECT_EQ(disk_.used_bytes(), 130u);
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.Close(a, std::move(d)); }), IsOk());
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.Rename("b", "a", std::move(d)); }), IsOk());
  EXPECT_EQ(disk_.used_bytes(), 30u);  // The old "a" is gone.
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.Remove("a", std::move(d)); }), IsOk());
  EXPECT_EQ(disk_.used_bytes(), 30u);  // Still open through `b`.
  ASSERT_THAT(AwaitStatus(loop_, [&](auto d) { disk_.Close(b, std::move(d)); }), IsOk());
  EXPECT_EQ(disk_.used_bytes(), 0u);
}

TEST(SimDiskFaultSeedTest, SameSeedSameFaultsDifferentSeedDifferentFaults) {
  auto run = [](uint64_t seed) {
    SimLoop loop;
    SimDisk disk(loop, SimDiskOptions{.fault_seed = seed});
    disk.SetFaults({.write_corruption_ppm = kPpm / 2});
    FileHandle file = AwaitValue<FileHandle>(loop, [&](auto d) {
                        disk.Open("a", OpenMode::kCreateNew, std::move(d));
                      }).value();
    for (int i = 0; i < 20; ++i) {
      EXPECT_THAT(
          AwaitValue<uint64_t>(
              loop, [&](auto d) { disk.Append(file, std::vector<uint8_t>(64, 0), std::move(d)); }),
          IsOk());
    }
    return disk.FileContents("a");
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

}  // namespace
}  // namespace eddy::sim
