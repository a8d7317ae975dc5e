// Snapshot files (snapshot_file.h, FORMAT.md §4): the codec round-trips and refuses every file
// that does not describe exactly the expected snapshot (another point, term, size or CRC; a torn
// or flipped byte anywhere); on SimDisk a written file reads back, survives a crash once written,
// a crash before the rename leaves no file under the final name, and cleanup keeps what it must.
#include "raft/driver/snapshot_file.h"

#include <memory>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "core/record/crc32c.h"
#include "core/runtime/await.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/sim_loop.h"

namespace eddy::raft::driver {
namespace {

SnapshotMeta MetaFor(int64_t point, uint64_t term, const std::vector<uint8_t>& state) {
  SnapshotMeta meta;
  meta.set_last_offset(point);
  meta.set_term(term);
  meta.set_size_bytes(state.size());
  meta.set_state_crc32c(record::Crc32c(state));
  return meta;
}

std::vector<uint8_t> State(size_t n) {
  std::vector<uint8_t> state(n);
  for (size_t i = 0; i < n; ++i) state[i] = static_cast<uint8_t>(i * 7 + 3);
  return state;
}

TEST(SnapshotFileTest, NameSortsByPoint) {
  EXPECT_EQ(SnapshotFileName(42), "00000000000000000042.snap");
  EXPECT_LT(SnapshotFileName(9), SnapshotFileName(10));
}

TEST(SnapshotFileTest, RoundTripsAndRefusesAnyOtherSnapshot) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}}) {
    const std::vector<uint8_t> state = State(n);
    const SnapshotMeta meta = MetaFor(17, 3, state);
    const std::vector<uint8_t> file = EncodeSnapshotFile(meta, state);
    ASSERT_EQ(file.size(), kSnapshotFileHeaderSizeBytes + n);
    absl::StatusOr<std::vector<uint8_t>> back = DecodeSnapshotFile(file, meta);
    ASSERT_THAT(back.status(), testing::IsOk());
    EXPECT_EQ(*back, state);
    SnapshotMeta other = meta;
    other.set_last_offset(18);
    EXPECT_THAT(DecodeSnapshotFile(file, other).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
    other = meta;
    other.set_term(4);
    EXPECT_THAT(DecodeSnapshotFile(file, other).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
    other = meta;
    other.set_state_crc32c(meta.state_crc32c() ^ 1);
    EXPECT_THAT(DecodeSnapshotFile(file, other).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
    // Every flipped byte and every torn length is refused.
    for (size_t i = 0; i < file.size(); ++i) {
      std::vector<uint8_t> bad = file;
      bad[i] ^= 0x40;
      EXPECT_THAT(DecodeSnapshotFile(bad, meta).status(),
                  testing::StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
      EXPECT_THAT(DecodeSnapshotFile(std::span<const uint8_t>(file.data(), i), meta).status(),
                  testing::StatusIs(absl::StatusCode::kDataLoss)) << "torn at " << i;
    }
  }
}

class SnapshotFileDiskTest : public ::testing::Test {
 protected:
  absl::Status Write(const SnapshotMeta& meta, const std::vector<uint8_t>& state) {
    return runtime::AwaitStatus(loop_, [&](auto done) {
      WriteSnapshotFile(disk_, "g1/snapshot", meta, state, alive_, std::move(done));
    });
  }
  absl::StatusOr<std::vector<uint8_t>> Read(const SnapshotMeta& meta) {
    return runtime::AwaitValue<std::vector<uint8_t>>(loop_, [&](auto done) {
      ReadSnapshotFile(disk_, "g1/snapshot", meta, alive_, std::move(done));
    });
  }
  absl::Status RemoveExcept(std::string keep, bool older_only) {
    return runtime::AwaitStatus(loop_, [&](auto done) {
      RemoveSnapshotFilesExcept(disk_, "g1/snapshot", keep, older_only, alive_, std::move(done));
    });
  }
  void Crash() {
    disk_.Crash(sim::CrashOptions{}, random_);
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
  Random random_{7};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

TEST_F(SnapshotFileDiskTest, AWrittenFileSurvivesACrashAndReadsBack) {
  const std::vector<uint8_t> state = State(5000);
  const SnapshotMeta meta = MetaFor(99, 2, state);
  ASSERT_THAT(Write(meta, state), testing::IsOk());
  Crash();
  absl::StatusOr<std::vector<uint8_t>> back = Read(meta);
  ASSERT_THAT(back.status(), testing::IsOk());
  EXPECT_EQ(*back, state);
  // Another snapshot's meta never reads this file as its own.
  EXPECT_THAT(Read(MetaFor(98, 2, state)).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SnapshotFileDiskTest, AMissingFileIsDataLoss) {
  EXPECT_THAT(Read(MetaFor(5, 1, State(3))).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SnapshotFileDiskTest, CleanupKeepsTheNamedFileAndNewerOnesWhenAskedTo) {
  const std::vector<uint8_t> state = State(10);
  for (int64_t point : {10, 20, 30}) ASSERT_THAT(Write(MetaFor(point, 1, state), state), testing::IsOk());
  ASSERT_THAT(RemoveExcept(SnapshotFileName(20), /*older_only=*/true), testing::IsOk());
  EXPECT_THAT(Read(MetaFor(10, 1, state)).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Read(MetaFor(20, 1, state)).status(), testing::IsOk());
  EXPECT_THAT(Read(MetaFor(30, 1, state)).status(), testing::IsOk());
  ASSERT_THAT(RemoveExcept(SnapshotFileName(20), /*older_only=*/false), testing::IsOk());
  Crash();  // the removals were made durable
  EXPECT_THAT(Read(MetaFor(20, 1, state)).status(), testing::IsOk());
  EXPECT_THAT(Read(MetaFor(30, 1, state)).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_THAT(RemoveExcept("", /*older_only=*/false), testing::IsOk());
  EXPECT_THAT(Read(MetaFor(20, 1, state)).status(), testing::StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace eddy::raft::driver
