// HardStateStore on a SimDisk: saves survive reopen, crashes mid-save, compaction, a bad sector
// in one copy, and transient read corruption; a bad sector after the newest record in BOTH
// copies is reported as uncertain (never silently answered with an older term). The property
// test drives random saves, crashes with torn tails, latent sector errors and bit rot against
// a model holding the last acknowledged save, and checks after every reopen that a certain load
// is never older than that save.
#include "raft/driver/hard_state_store.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "core/runtime/await.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/disk/sim_disk.h"
#include "sim/loop/sim_loop.h"

namespace eddy::raft::driver {
namespace {

constexpr char kDirectory[] = "g1/raft";
constexpr char kFileA[] = "g1/raft/state.a";
constexpr char kFileB[] = "g1/raft/state.b";

PersistedState StateWithTerm(uint64_t term) {
  PersistedState state;
  state.mutable_hard_state()->set_term(term);
  state.mutable_hard_state()->set_vote(term % 3 + 1);
  state.mutable_hard_state()->set_commit_offset(static_cast<int64_t>(term) * 10);
  state.set_durable_last_offset(static_cast<int64_t>(term) * 10 + 5);
  return state;
}

uint64_t LastSector(const sim::SimDisk& disk, const std::string& path) {
  const uint64_t size = disk.FileContents(path).size();
  EDDY_CHECK_GT(size, 0u);
  return (size - 1) / runtime::kSectorSizeBytes;
}

class HardStateStoreTest : public ::testing::Test {
 protected:
  using Opened = std::pair<std::unique_ptr<HardStateStore>, LoadedState>;

  absl::StatusOr<Opened> Open() {
    return runtime::AwaitValue<Opened>(loop_, [&](auto done) {
      HardStateStore::Open(disk_, kDirectory, std::move(done));
    });
  }
  Opened OpenOk() {
    absl::StatusOr<Opened> opened = Open();
    EDDY_CHECK_OK(opened);
    return *std::move(opened);
  }
  absl::Status Save(HardStateStore& store, uint64_t term) {
    return runtime::AwaitStatus(loop_, [&](auto done) {
      store.Save(StateWithTerm(term), std::move(done));
    });
  }
  // Saves terms 1..count on a fresh store and closes it.
  void SaveTerms(uint64_t count) {
    Opened opened = OpenOk();
    for (uint64_t term = 1; term <= count; ++term) {
      ASSERT_THAT(Save(*opened.first, term), testing::IsOk());
    }
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
};

TEST_F(HardStateStoreTest, NewReplicaLoadsNothingAndIsCertain) {
  Opened opened = OpenOk();
  EXPECT_FALSE(opened.second.state.has_value());
  EXPECT_TRUE(opened.second.newest_certain);
  EXPECT_EQ(opened.second.damaged_records, 0u);
}

TEST_F(HardStateStoreTest, ReopenLoadsTheNewestSave) {
  SaveTerms(5);
  Opened opened = OpenOk();
  ASSERT_TRUE(opened.second.state.has_value());
  EXPECT_EQ(opened.second.state->hard_state().term(), 5u);
  // Open saved it again (REPAIR ON OPEN) before handing it out.
  EXPECT_EQ(opened.second.state->sequence(), 6u);
  EXPECT_TRUE(opened.second.newest_certain);
  // Sequences continue where they were.
  ASSERT_THAT(Save(*opened.first, 6), testing::IsOk());
  EXPECT_EQ(OpenOk().second.state->sequence(), 8u);
}

TEST_F(HardStateStoreTest, ReopenAfterAFailedSyncMakesWhatItLoadsDurable) {
  // Regression (eddy-sim --seed=663 --nodes=5 --groups=3, "commit-monotonic"): a save whose
  // fsync failed left its record readable but not durable in both files; the replica reopened
  // in the same process, acted on that record, and a later crash took it back.
  {
    Opened opened = OpenOk();
    ASSERT_THAT(Save(*opened.first, 1), testing::IsOk());
    sim::DiskFaultOptions failing;
    failing.sync_failure_ppm = 1'000'000;
    disk_.SetFaults(failing);
    EXPECT_FALSE(Save(*opened.first, 2).ok());
    disk_.SetFaults({});
  }
  Opened reopened = OpenOk();  // same process: the unsynced record reads back
  ASSERT_TRUE(reopened.second.state.has_value());
  EXPECT_EQ(reopened.second.state->hard_state().term(), 2u);
  Random random(7);
  disk_.Crash(sim::CrashOptions{}, random);
  Opened after_crash = OpenOk();
  ASSERT_TRUE(after_crash.second.state.has_value());
  EXPECT_EQ(after_crash.second.state->hard_state().term(), 2u)
      << "the state the replica acted on was lost";
}

TEST_F(HardStateStoreTest, CompactionKeepsFilesSmallAndTheNewestState) {
  SaveTerms(3 * HardStateStore::kRecordsPerFileMax);
  PersistedState largest = StateWithTerm(3 * HardStateStore::kRecordsPerFileMax);
  largest.set_sequence(3 * HardStateStore::kRecordsPerFileMax);
  const uint64_t record_bytes = HardStateStore::EncodeRecord(largest).size();
  for (const char* path : {kFileA, kFileB}) {
    EXPECT_LE(disk_.FileContents(path).size(),
              (HardStateStore::kRecordsPerFileMax + 1) * record_bytes);
  }
  Opened opened = OpenOk();
  EXPECT_EQ(opened.second.state->hard_state().term(), 3 * HardStateStore::kRecordsPerFileMax);
}

// A disk whose Truncate reports failure (the truncation itself runs: a failed truncate may or
// may not have taken effect).
class TruncateFailingDisk final : public runtime::Disk {
 public:
  explicit TruncateFailingDisk(runtime::Disk& inner) : inner_(inner) {}
  void Open(std::string path, runtime::OpenMode mode, DoneWith<runtime::FileHandle> done) override {
    inner_.Open(std::move(path), mode, std::move(done));
  }
  void Close(runtime::FileHandle file, Done done) override { inner_.Close(file, std::move(done)); }
  void Size(runtime::FileHandle file, DoneWith<uint64_t> done) override {
    inner_.Size(file, std::move(done));
  }
  void Append(runtime::FileHandle file, std::vector<uint8_t> data,
              DoneWith<uint64_t> done) override {
    inner_.Append(file, std::move(data), std::move(done));
  }
  void WriteAt(runtime::FileHandle file, uint64_t position, std::vector<uint8_t> data,
               Done done) override {
    inner_.WriteAt(file, position, std::move(data), std::move(done));
  }
  void ReadAt(runtime::FileHandle file, uint64_t position, uint64_t length_bytes,
              DoneWith<std::vector<uint8_t>> done) override {
    inner_.ReadAt(file, position, length_bytes, std::move(done));
  }
  void Sync(runtime::FileHandle file, Done done) override { inner_.Sync(file, std::move(done)); }
  void Truncate(runtime::FileHandle file, uint64_t size_bytes, Done done) override {
    ++truncates;
    inner_.Truncate(file, size_bytes, [done = std::move(done)](absl::Status) mutable {
      std::move(done)(absl::UnavailableError("injected truncate failure"));
    });
  }
  void Rename(std::string from, std::string to, Done done) override {
    inner_.Rename(std::move(from), std::move(to), std::move(done));
  }
  void Remove(std::string path, Done done) override { inner_.Remove(std::move(path), std::move(done)); }
  void CreateDirectories(std::string path, Done done) override {
    inner_.CreateDirectories(std::move(path), std::move(done));
  }
  void List(std::string path, DoneWith<std::vector<std::string>> done) override {
    inner_.List(std::move(path), std::move(done));
  }
  void SyncDirectory(std::string path, Done done) override {
    inner_.SyncDirectory(std::move(path), std::move(done));
  }
  int truncates = 0;

 private:
  runtime::Disk& inner_;
};

TEST_F(HardStateStoreTest, FailedCompactionTruncateFailsTheSave) {
  // Regression: the compaction's truncate status was ignored, so a save "succeeded" after it.
  TruncateFailingDisk failing(disk_);
  auto opened = runtime::AwaitValue<Opened>(loop_, [&](auto done) {
    HardStateStore::Open(failing, kDirectory, std::move(done));
  });
  ASSERT_TRUE(opened.ok());
  absl::Status last = absl::OkStatus();
  uint64_t term = 1;
  for (; term <= HardStateStore::kRecordsPerFileMax + 2 && last.ok(); ++term) {
    last = runtime::AwaitStatus(loop_, [&](auto done) {
      opened->first->Save(StateWithTerm(term), std::move(done));
    });
  }
  EXPECT_GT(failing.truncates, 0);
  EXPECT_EQ(last.code(), absl::StatusCode::kUnavailable) << "the save that compacted succeeded";
}

TEST_F(HardStateStoreTest, BadSectorUnderTheNewestRecordInOneCopyUsesTheOther) {
  SaveTerms(40);
  disk_.MarkSectorBad(kFileA, LastSector(disk_, kFileA));
  Opened opened = OpenOk();
  EXPECT_EQ(opened.second.state->hard_state().term(), 40u);
  EXPECT_TRUE(opened.second.newest_certain);
  EXPECT_EQ(opened.second.unreadable_sectors, 1u);
  // Open already rewrote the damaged copy whole (repair on open), which cleared the bad sector.
  EXPECT_EQ(disk_.FileContents(kFileA).size(),
            HardStateStore::EncodeRecord(opened.second.state.value()).size());
  EXPECT_FALSE(disk_.SectorBad(kFileA, 0));
  ASSERT_THAT(Save(*opened.first, 41), testing::IsOk());
  EXPECT_EQ(OpenOk().second.state->hard_state().term(), 41u);
}

TEST_F(HardStateStoreTest, NewestRecordInOneCopyOnlyIsSavedToBothOnOpen) {
  SaveTerms(10);
  Opened opened = OpenOk();
  // Save 11 reaches file a's platter, then the power fails before file b gets it.
  opened.first->Save(StateWithTerm(11), [](absl::Status) {});
  while (disk_.DurableContents(kFileA).size() == disk_.DurableContents(kFileB).size()) {
    ASSERT_TRUE(loop_.RunOne());
  }
  Random random(3);
  disk_.Crash({}, random);
  opened.first.reset();
  Opened reopened = OpenOk();
  ASSERT_EQ(reopened.second.state->hard_state().term(), 11u);
  // Term 11 is what the replica acts on now, so losing file a must not take it back to 10.
  disk_.MarkSectorBad(kFileA, LastSector(disk_, kFileA));
  EXPECT_EQ(OpenOk().second.state->hard_state().term(), 11u);
}

TEST_F(HardStateStoreTest, BadSectorCostsItsSectorNotTheWholeChunk) {
  // Both copies have a bad sector before their newest record: the records after it are still
  // read (a whole 4 KiB chunk read as zeros would hide the newest record in both copies).
  SaveTerms(60);
  for (const char* path : {kFileA, kFileB}) {
    ASSERT_GE(LastSector(disk_, path), 2u);
    disk_.MarkSectorBad(path, LastSector(disk_, path) - 1);
  }
  Opened opened = OpenOk();
  EXPECT_EQ(opened.second.state->hard_state().term(), 60u);
  EXPECT_TRUE(opened.second.newest_certain);
  EXPECT_EQ(opened.second.unreadable_sectors, 2u);
}

TEST_F(HardStateStoreTest, BadSectorAfterTheNewestValidRecordInBothCopiesIsUncertain) {
  SaveTerms(40);
  for (const char* path : {kFileA, kFileB}) disk_.MarkSectorBad(path, LastSector(disk_, path));
  Opened opened = OpenOk();
  EXPECT_FALSE(opened.second.newest_certain);
  // What survived is older than the last save: exactly why it must not be trusted.
  ASSERT_TRUE(opened.second.state.has_value());
  EXPECT_LT(opened.second.state->hard_state().term(), 40u);
}

TEST_F(HardStateStoreTest, TornTailsInBothCopiesAreNotDamageThatHidesASave) {
  SaveTerms(10);
  Opened opened = OpenOk();
  // A save in flight when the power fails: garbage after the newest record in both files.
  opened.first->Save(StateWithTerm(11), [](absl::Status) {});
  loop_.RunOne();
  Random random(7);
  disk_.Crash({.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
  for (const char* path : {kFileA, kFileB}) disk_.CorruptByte(path, disk_.FileContents(path).size() - 1, 0x40);
  Opened reopened = OpenOk();
  EXPECT_TRUE(reopened.second.newest_certain);
  EXPECT_EQ(reopened.second.state->hard_state().term(), 10u);
}

TEST_F(HardStateStoreTest, TransientReadCorruptionIsReadAgain) {
  SaveTerms(1);  // small files: a flipped bit often lands in the newest record
  // Reads flip a bit on the way; the stored bytes are fine. A scan that meets damage reads the
  // file again, so no open answers with an older term than the last completed save. (An open
  // or save may fail when its read-backs keep failing; the driver retries those later.)
  sim::DiskFaultOptions faults;
  faults.read_corruption_ppm = 400'000;
  disk_.SetFaults(faults);
  uint64_t acked = 1;
  bool next_maybe_durable = false;  // a failed save may or may not have reached both files
  int loaded = 0;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<Opened> opened = Open();
    if (!opened.ok()) {
      EXPECT_THAT(opened.status(), testing::StatusIs(absl::StatusCode::kDataLoss));
      continue;
    }
    ++loaded;
    EXPECT_TRUE(opened->second.newest_certain);
    ASSERT_TRUE(opened->second.state.has_value());
    const uint64_t term = opened->second.state->hard_state().term();
    if (next_maybe_durable && term == acked + 1) acked = term;
    ASSERT_EQ(term, acked) << "reopen " << i;
    next_maybe_durable = !Save(*opened->first, acked + 1).ok();
    if (!next_maybe_durable) ++acked;
  }
  EXPECT_GE(loaded, 500);
  EXPECT_GE(acked, 500u);
}

TEST_F(HardStateStoreTest, ScanResynchronisesAfterDamage) {
  std::vector<uint8_t> bytes;
  for (uint64_t term : {1, 2, 3}) {
    std::vector<uint8_t> record = HardStateStore::EncodeRecord(StateWithTerm(term));
    PersistedState with_sequence = StateWithTerm(term);
    with_sequence.set_sequence(term);
    record = HardStateStore::EncodeRecord(with_sequence);
    if (term == 2) record[record.size() - 1] ^= 1;  // a flipped bit in record 2's payload
    bytes.insert(bytes.end(), record.begin(), record.end());
  }
  bytes.push_back(0x45);  // a torn byte
  FileScan scan = HardStateStore::ScanRecords(bytes);
  ASSERT_TRUE(scan.newest.has_value());
  EXPECT_EQ(scan.newest->sequence(), 3u);
  EXPECT_EQ(scan.newest_end_bytes, bytes.size() - 1);
  EXPECT_EQ(scan.damaged_records, 2u);
}

// --- Property: a certain load is never older than the last acknowledged save ---------------

RC_GTEST_PROP(HardStateStoreProperty, CertainLoadIsNeverOlderThanTheLastAcknowledgedSave, ()) {
  sim::SimLoop loop;
  sim::SimDisk disk(loop);
  Random random(*rc::gen::arbitrary<uint64_t>());
  using Opened = std::pair<std::unique_ptr<HardStateStore>, LoadedState>;
  const auto open = [&]() -> Opened {
    absl::StatusOr<Opened> opened = runtime::AwaitValue<Opened>(loop, [&](auto done) {
      HardStateStore::Open(disk, kDirectory, std::move(done));
    });
    RC_ASSERT(opened.ok());
    return *std::move(opened);
  };
  Opened store = open();
  uint64_t acked_term = 0;      // the last save whose completion said OK
  uint64_t attempted_term = 0;  // the last save submitted (maybe lost in a crash)
  // Damage since the last acknowledged save, per copy. Two copies survive any damage to one
  // copy, and unreadable sectors in both (reported as uncertain); they cannot survive bit rot
  // in one copy with anything in the other, so the generator never does that.
  bool rot[2] = {false, false};
  bool unreadable[2] = {false, false};
  const auto clear_damage = [&] { rot[0] = rot[1] = unreadable[0] = unreadable[1] = false; };
  const char* const paths[2] = {kFileA, kFileB};
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    if (op < 6) {  // a save that completes
      const uint64_t term = ++attempted_term;
      absl::Status saved = runtime::AwaitStatus(loop, [&](auto done) {
        store.first->Save(StateWithTerm(term), std::move(done));
      });
      RC_ASSERT(saved.ok());
      acked_term = term;
      clear_damage();
      continue;
    }
    if (op == 6) {  // a latent sector error anywhere in one copy
      const int f = random.OneIn(2) ? 0 : 1;
      if (disk.FileContents(paths[f]).empty() || rot[1 - f]) continue;
      disk.MarkSectorBad(paths[f], random.Uniform(LastSector(disk, paths[f]) + 1));
      unreadable[f] = true;
      continue;
    }
    if (op == 7) {  // bit rot in one copy
      const int f = random.OneIn(2) ? 0 : 1;
      const uint64_t size = disk.FileContents(paths[f]).size();
      if (size == 0 || rot[1 - f] || unreadable[1 - f]) continue;
      disk.CorruptByte(paths[f], random.Uniform(size),
                       static_cast<uint8_t>(1u << random.Uniform(8)));
      rot[f] = true;
      continue;
    }
    // A crash, maybe in the middle of a save, then a reopen.
    if (op == 8) {
      store.first->Save(StateWithTerm(++attempted_term), [](absl::Status) {});
      const int events = *rc::gen::inRange(0, 12);
      for (int e = 0; e < events && loop.RunOne(); ++e) {
      }
    }
    disk.Crash({.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
    store.first.reset();
    loop.RunUntilIdle();
    store = open();
    const LoadedState& loaded = store.second;
    if (!loaded.newest_certain) {
      // Only unreadable sectors may make a load uncertain, and the replica would halt here.
      RC_ASSERT(loaded.unreadable_sectors > 0);
      return;
    }
    const uint64_t term = loaded.state.has_value() ? loaded.state->hard_state().term() : 0;
    RC_ASSERT(term >= acked_term);
    RC_ASSERT(term <= attempted_term);
    if (loaded.state.has_value()) {
      RC_ASSERT(loaded.state->SerializeAsString() ==
                [&] {
                  PersistedState expected = StateWithTerm(term);
                  expected.set_sequence(loaded.state->sequence());
                  return expected.SerializeAsString();
                }());
    }
    // Later saves start from what was loaded.
    acked_term = term;
    attempted_term = std::max(attempted_term, term);
    clear_damage();
  }
}

}  // namespace
}  // namespace eddy::raft::driver
