// NodeStateStore on a SimDisk: every group's newest save survives reopen; saves of one loop event
// share one round (two parallel fsyncs); crashes mid-round, compaction, a bad sector in one copy
// and transient read corruption lose nothing acknowledged; damage that may hide an acknowledged
// record in both copies is reported as uncertain (never silently answered with an older term);
// a failed round breaks the store, which reopens. The property test drives random saves of
// several groups, crashes with torn tails, latent sector errors and bit rot against a model of
// the last acknowledged save per group, and checks after every reopen that a certain load is
// never older than it.
#include "raft/driver/node_state_store.h"

#include <map>
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

constexpr char kDirectory[] = "state";
constexpr char kFileA[] = "state/state.a";
constexpr char kFileB[] = "state/state.b";

PersistedState StateWithTerm(uint64_t term) {
  PersistedState state;
  state.mutable_hard_state()->set_term(term);
  state.mutable_hard_state()->set_vote(term % 3 + 1);
  state.mutable_hard_state()->set_commit_offset(static_cast<int64_t>(term) * 10);
  state.set_durable_last_offset(static_cast<int64_t>(term) * 10 + 5);
  return state;
}

uint64_t TermOf(const LoadedState& loaded) {
  return loaded.state.has_value() ? loaded.state->hard_state().term() : 0;
}

uint64_t LastSector(const sim::SimDisk& disk, const std::string& path) {
  const uint64_t size = disk.FileContents(path).size();
  EDDY_CHECK_GT(size, 0u);
  return (size - 1) / runtime::kSectorSizeBytes;
}

class NodeStateStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<NodeStateStore> Open(NodeStateStoreOptions options = {}) {
    auto store = std::make_unique<NodeStateStore>(loop_, disk_, kDirectory, options);
    store->Start();
    return store;
  }
  LoadedState Attach(NodeStateStore& store, GroupId group) {
    absl::StatusOr<LoadedState> loaded = runtime::AwaitValue<LoadedState>(
        loop_, [&](auto done) { store.Attach(group, std::move(done)); });
    EDDY_CHECK_OK(loaded);
    return *std::move(loaded);
  }
  absl::Status Save(NodeStateStore& store, GroupId group, uint64_t term) {
    return runtime::AwaitStatus(loop_, [&](auto done) {
      store.Save(group, StateWithTerm(term), /*urgent=*/true, std::move(done));
    });
  }
  // Saves terms 1..count of group 1 on a fresh store.
  void SaveTerms(uint64_t count, NodeStateStoreOptions options = {}) {
    std::unique_ptr<NodeStateStore> store = Open(options);
    for (uint64_t term = 1; term <= count; ++term) {
      ASSERT_THAT(Save(*store, 1, term), testing::IsOk());
    }
  }

  sim::SimLoop loop_;
  sim::SimDisk disk_{loop_};
};

TEST_F(NodeStateStoreTest, NewNodeLoadsNothingAndIsCertain) {
  std::unique_ptr<NodeStateStore> store = Open();
  LoadedState loaded = Attach(*store, 1);
  EXPECT_FALSE(loaded.state.has_value());
  EXPECT_TRUE(loaded.newest_certain);
  EXPECT_EQ(loaded.damaged_records, 0u);
}

TEST_F(NodeStateStoreTest, ReopenLoadsTheNewestSaveOfEveryGroup) {
  {
    std::unique_ptr<NodeStateStore> store = Open();
    for (uint64_t term = 1; term <= 5; ++term) {
      for (GroupId group : {1, 2, 3}) {
        ASSERT_THAT(Save(*store, group, term * group), testing::IsOk());
      }
    }
  }
  std::unique_ptr<NodeStateStore> store = Open();
  for (GroupId group : {1, 2, 3}) {
    LoadedState loaded = Attach(*store, group);
    EXPECT_TRUE(loaded.newest_certain);
    EXPECT_EQ(TermOf(loaded), 5 * group);
  }
  EXPECT_FALSE(Attach(*store, 4).state.has_value());
}

TEST_F(NodeStateStoreTest, SavesOfOneLoopEventShareOneRoundOfTwoParallelSyncs) {
  std::unique_ptr<NodeStateStore> store = Open();
  Attach(*store, 1);
  const uint64_t rounds_before = store->stats().rounds;
  const uint64_t syncs_before = disk_.stats().syncs;
  int acked = 0;
  for (GroupId group = 1; group <= 100; ++group) {
    store->Save(group, StateWithTerm(group), /*urgent=*/true, [&acked](absl::Status s) {
      EXPECT_TRUE(s.ok());
      ++acked;
    });
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(acked, 100);
  EXPECT_EQ(store->stats().rounds - rounds_before, 1u);
  EXPECT_EQ(disk_.stats().syncs - syncs_before, 2u);
}

TEST_F(NodeStateStoreTest, SavesNothingWaitsForShareARoundWithinTheRoundInterval) {
  std::unique_ptr<NodeStateStore> store = Open();
  Attach(*store, 1);
  const uint64_t rounds_before = store->stats().rounds;
  int acked = 0;
  for (GroupId group = 1; group <= 10; ++group) {
    store->Save(group, StateWithTerm(group), /*urgent=*/false, [&acked](absl::Status s) {
      EXPECT_TRUE(s.ok());
      ++acked;
    });
    loop_.RunFor(Duration::Microseconds(100));  // each save in a loop event of its own
  }
  loop_.RunUntilIdle();
  EXPECT_EQ(acked, 10);
  // 1 ms of requests, round_interval 2 ms: at most the first round and one more.
  EXPECT_LE(store->stats().rounds - rounds_before, 2u);
}

TEST_F(NodeStateStoreTest, SuccessiveRoundsCompleteInOrder) {
  std::unique_ptr<NodeStateStore> store = Open();
  Attach(*store, 1);
  std::vector<uint64_t> order;
  for (uint64_t term = 1; term <= 20; ++term) {
    store->Save(1, StateWithTerm(term), /*urgent=*/true, [&order, term](absl::Status s) {
      EXPECT_TRUE(s.ok());
      order.push_back(term);
    });
    loop_.RunOne();  // the next save lands in a later loop event: another round
  }
  loop_.RunUntilIdle();
  ASSERT_EQ(order.size(), 20u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i + 1);
  EXPECT_EQ(TermOf(Attach(*Open(), 1)), 20u);
}

TEST_F(NodeStateStoreTest, RemovedGroupIsForgottenAcrossReopen) {
  {
    std::unique_ptr<NodeStateStore> store = Open();
    ASSERT_THAT(Save(*store, 1, 3), testing::IsOk());
    ASSERT_THAT(Save(*store, 2, 4), testing::IsOk());
    ASSERT_THAT(runtime::AwaitStatus(loop_, [&](auto done) { store->Remove(1, std::move(done)); }),
                testing::IsOk());
  }
  std::unique_ptr<NodeStateStore> store = Open();
  EXPECT_FALSE(Attach(*store, 1).state.has_value());
  EXPECT_EQ(TermOf(Attach(*store, 2)), 4u);
}

TEST_F(NodeStateStoreTest, AttachWaitsForTheGroupsSavesInFlight) {
  std::unique_ptr<NodeStateStore> store = Open();
  Attach(*store, 1);
  store->Save(1, StateWithTerm(9), /*urgent=*/true, [](absl::Status) {});
  // Asked in the same loop event as the save: answered with it, once it is durable.
  EXPECT_EQ(TermOf(Attach(*store, 1)), 9u);
}

TEST_F(NodeStateStoreTest, ReopenAfterAFailedSyncMakesWhatItLoadsDurable) {
  // The fsyncgate case (regression seed 663 of the per-group store): a round whose fsync failed
  // left its record readable but not durable; the store reopened in the same process and
  // handed it out, and a later crash took it back.
  std::unique_ptr<NodeStateStore> store = Open();
  ASSERT_THAT(Save(*store, 1, 1), testing::IsOk());
  sim::DiskFaultOptions failing;
  failing.sync_failure_ppm = 1'000'000;
  disk_.SetFaults(failing);
  EXPECT_FALSE(Save(*store, 1, 2).ok());
  disk_.SetFaults({});
  // The store breaks and reopens by itself (after its backoff); attaching waits for that.
  LoadedState reopened = Attach(*store, 1);
  EXPECT_EQ(TermOf(reopened), 2u);  // the unsynced record read back
  EXPECT_EQ(store->stats().failures, 1u);
  EXPECT_GE(store->stats().opens, 2u);
  Random random(7);
  disk_.Crash(sim::CrashOptions{}, random);
  store.reset();
  EXPECT_EQ(TermOf(Attach(*Open(), 1)), 2u) << "the state handed out was lost";
}

TEST_F(NodeStateStoreTest, StoreRecoversAfterAFailedRound) {
  std::unique_ptr<NodeStateStore> store = Open();
  ASSERT_THAT(Save(*store, 1, 1), testing::IsOk());
  disk_.SetFaults({.sync_failure_ppm = 1'000'000});
  EXPECT_THAT(Save(*store, 1, 2), testing::StatusIs(absl::StatusCode::kUnavailable));
  disk_.SetFaults({});
  // While broken (until its reopen), saves fail at once: their groups stop and reopen.
  EXPECT_THAT(Save(*store, 2, 1), testing::StatusIs(absl::StatusCode::kUnavailable));
  Attach(*store, 1);
  ASSERT_TRUE(store->open());
  ASSERT_THAT(Save(*store, 1, 3), testing::IsOk());
  EXPECT_EQ(TermOf(Attach(*Open(), 1)), 3u);
}

TEST_F(NodeStateStoreTest, CompactionKeepsFilesSmallAndTheNewestState) {
  NodeStateStoreOptions small;
  small.compact_bytes = 4096;
  SaveTerms(2000, small);
  for (const char* path : {kFileA, kFileB}) {
    EXPECT_LE(disk_.FileContents(path).size(), 2 * small.compact_bytes);
  }
  std::unique_ptr<NodeStateStore> store = Open(small);
  EXPECT_EQ(TermOf(Attach(*store, 1)), 2000u);
  EXPECT_GT(store->stats().compactions, 0u);
}

// A disk that can report Truncate as failed (the truncation itself runs: a failed truncate may
// or may not have taken effect), and hold back the syncs of one file (they never complete).
class FaultyDisk final : public runtime::Disk {
 public:
  explicit FaultyDisk(runtime::Disk& inner) : inner_(inner) {}
  void Open(std::string path, runtime::OpenMode mode, DoneWith<runtime::FileHandle> done) override {
    inner_.Open(path, mode, [this, path, done = std::move(done)](
                                absl::StatusOr<runtime::FileHandle> h) mutable {
      if (h.ok()) handles_[path] = *h;
      std::move(done)(h);
    });
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
  void Sync(runtime::FileHandle file, Done done) override {
    if (!hold_syncs_of.empty() && handles_[hold_syncs_of] == file) return;
    inner_.Sync(file, std::move(done));
  }
  void Truncate(runtime::FileHandle file, uint64_t size_bytes, Done done) override {
    ++truncates;
    inner_.Truncate(file, size_bytes, [this, done = std::move(done)](absl::Status s) mutable {
      std::move(done)(failing ? absl::UnavailableError("injected truncate failure") : s);
    });
  }
  void Rename(std::string from, std::string to, Done done) override {
    if (auto it = handles_.find(from); it != handles_.end()) {
      handles_[to] = it->second;  // the handle follows its file
      handles_.erase(it);
    }
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
  bool failing = false;
  std::string hold_syncs_of;

 private:
  runtime::Disk& inner_;
  std::map<std::string, runtime::FileHandle> handles_;
};

TEST_F(NodeStateStoreTest, FailedCompactionTruncateFailsTheRound) {
  // The per-group store once ignored its compaction's truncate status, so a save "succeeded"
  // after it.
  FaultyDisk disk(disk_);
  NodeStateStore store(loop_, disk, kDirectory, {.compact_bytes = 1024});
  store.Start();
  Attach(store, 1);  // the open's repair truncates too: fail only later ones
  disk.failing = true;
  const int truncates_before = disk.truncates;
  absl::Status last = absl::OkStatus();
  for (uint64_t term = 1; term <= 200 && last.ok(); ++term) {
    last = runtime::AwaitStatus(loop_, [&](auto done) {
      store.Save(1, StateWithTerm(term), /*urgent=*/true, std::move(done));
    });
  }
  EXPECT_GT(disk.truncates, truncates_before);
  EXPECT_EQ(last.code(), absl::StatusCode::kUnavailable) << "the round that compacted succeeded";
}

TEST_F(NodeStateStoreTest, BadSectorUnderTheNewestRecordInOneCopyUsesTheOther) {
  SaveTerms(40);
  disk_.MarkSectorBad(kFileA, LastSector(disk_, kFileA));
  std::unique_ptr<NodeStateStore> store = Open();
  LoadedState loaded = Attach(*store, 1);
  EXPECT_EQ(TermOf(loaded), 40u);
  EXPECT_TRUE(loaded.newest_certain);
  EXPECT_EQ(loaded.unreadable_sectors, 1u);
  // Open rewrote both copies whole (repair on open), which cleared the bad sector.
  EXPECT_FALSE(disk_.SectorBad(kFileA, 0));
  ASSERT_THAT(Save(*store, 1, 41), testing::IsOk());
  EXPECT_EQ(TermOf(Attach(*Open(), 1)), 41u);
}

TEST_F(NodeStateStoreTest, NewestRoundInOneCopyOnlyIsKeptAfterOpen) {
  SaveTerms(10);
  {
    FaultyDisk disk(disk_);
    NodeStateStore store(loop_, disk, kDirectory);
    store.Start();
    Attach(store, 1);
    // The round reaches file a's platter, then the power fails before file b gets it.
    disk.hold_syncs_of = kFileB;
    store.Save(1, StateWithTerm(11), /*urgent=*/true, [](absl::Status) {});
    loop_.RunUntilIdle();
    ASSERT_GT(disk_.DurableContents(kFileA).size(), disk_.DurableContents(kFileB).size());
    Random random(3);
    disk_.Crash({}, random);
  }
  std::unique_ptr<NodeStateStore> store = Open();
  ASSERT_EQ(TermOf(Attach(*store, 1)), 11u);
  // Term 11 is what the replica acts on now, so losing file a must not take it back to 10.
  store.reset();
  disk_.MarkSectorBad(kFileA, LastSector(disk_, kFileA));
  EXPECT_EQ(TermOf(Attach(*Open(), 1)), 11u);
}

TEST_F(NodeStateStoreTest, BadSectorCostsItsSectorNotTheWholeChunk) {
  // Both copies have a bad sector before their newest record: the records after it are still
  // read, and each copy's lost record is in the other.
  SaveTerms(200);
  ASSERT_GE(LastSector(disk_, kFileA), 4u);
  disk_.MarkSectorBad(kFileA, LastSector(disk_, kFileA) - 1);
  disk_.MarkSectorBad(kFileB, LastSector(disk_, kFileB) - 3);
  LoadedState loaded = Attach(*Open(), 1);
  EXPECT_EQ(TermOf(loaded), 200u);
  EXPECT_TRUE(loaded.newest_certain);
  EXPECT_EQ(loaded.unreadable_sectors, 2u);
}

TEST_F(NodeStateStoreTest, BadSectorAfterTheNewestValidRecordInBothCopiesIsUncertain) {
  SaveTerms(40);
  for (const char* path : {kFileA, kFileB}) disk_.MarkSectorBad(path, LastSector(disk_, path));
  std::unique_ptr<NodeStateStore> store = Open();
  LoadedState loaded = Attach(*store, 1);
  EXPECT_FALSE(loaded.newest_certain);
  EXPECT_FALSE(loaded.uncertain_reason.empty());
  // Read only: nothing may be written over the evidence, and no group may run.
  EXPECT_THAT(Save(*store, 1, 41), testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(Attach(*store, 2).newest_certain);
}

TEST_F(NodeStateStoreTest, SaveRequestedWhileAnUncertainStoreOpensIsRefusedAndAttachesServed) {
  // Regression (CI sweep seed 52 of 2026-12-02): a removal requested while the store opened
  // waited for a round an uncertain store never starts, and every replica attaching after it
  // waited for that round: the node neither halted its replicas nor ran them.
  SaveTerms(40);
  for (const char* path : {kFileA, kFileB}) disk_.MarkSectorBad(path, LastSector(disk_, path));
  std::unique_ptr<NodeStateStore> store = Open();
  std::optional<absl::Status> removed;
  store->Remove(1, [&](absl::Status s) { removed = s; });
  LoadedState loaded = Attach(*store, 2);
  EXPECT_FALSE(loaded.newest_certain);
  loop_.RunUntilIdle();
  ASSERT_TRUE(removed.has_value());
  EXPECT_THAT(*removed, testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(NodeStateStoreTest, RecordLostInBothCopiesIsUncertain) {
  SaveTerms(60);
  // The same sector of both copies (the files are identical since the open's repair): the
  // records on it are gone from both, with newer ones after them.
  const uint64_t sector = LastSector(disk_, kFileA) - 2;
  for (const char* path : {kFileA, kFileB}) disk_.MarkSectorBad(path, sector);
  LoadedState loaded = Attach(*Open(), 1);
  EXPECT_FALSE(loaded.newest_certain);
}

TEST_F(NodeStateStoreTest, TornTailsInBothCopiesAreNotDamageThatHidesASave) {
  SaveTerms(10);
  {
    std::unique_ptr<NodeStateStore> store = Open();
    Attach(*store, 1);
    // A round in flight when the power fails: garbage after the newest record in both files.
    store->Save(1, StateWithTerm(11), /*urgent=*/true, [](absl::Status) {});
    loop_.RunOne();
    loop_.RunOne();
    Random random(7);
    disk_.Crash({.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
  }
  for (const char* path : {kFileA, kFileB}) {
    if (!disk_.FileContents(path).empty()) {
      disk_.CorruptByte(path, disk_.FileContents(path).size() - 1, 0x40);
    }
  }
  LoadedState loaded = Attach(*Open(), 1);
  EXPECT_TRUE(loaded.newest_certain);
  EXPECT_GE(TermOf(loaded), 10u);
}

TEST_F(NodeStateStoreTest, TransientReadCorruptionIsReadAgain) {
  SaveTerms(1);
  // Reads flip a bit on the way; the stored bytes are fine. A scan that meets damage reads the
  // file again, and the store retries a failed open, so no attach answers with an older term.
  disk_.SetFaults({.read_corruption_ppm = 200'000});
  uint64_t acked = 1;
  bool next_maybe_durable = false;  // a failed save may or may not have reached both files
  for (int i = 0; i < 200; ++i) {
    std::unique_ptr<NodeStateStore> store = Open();
    LoadedState loaded = Attach(*store, 1);
    ASSERT_TRUE(loaded.newest_certain) << loaded.uncertain_reason;
    const uint64_t term = TermOf(loaded);
    if (next_maybe_durable && term == acked + 1) acked = term;
    ASSERT_EQ(term, acked) << "reopen " << i;
    next_maybe_durable = !Save(*store, 1, acked + 1).ok();
    if (!next_maybe_durable) ++acked;
  }
  EXPECT_GE(acked, 100u);
}

NodeStateRecord Delta(uint64_t sequence, uint64_t term) {
  NodeStateRecord r;
  r.set_sequence(sequence);
  GroupStateUpdate* u = r.add_updates();
  u->set_group_id(1);
  *u->mutable_state() = StateWithTerm(term);
  return r;
}

NodeStateRecord CheckpointPart(uint64_t through, uint64_t term, uint32_t part, uint32_t parts) {
  NodeStateRecord r = term > 0 ? Delta(through, term) : NodeStateRecord{};
  r.set_sequence(through);
  r.set_checkpoint_part(part);
  r.set_checkpoint_records(parts);
  return r;
}

TEST(NodeStateLoadTest, IncompleteCheckpointIsIgnoredAndTheDeltasBeforeItKept) {
  // File a compacted in a round a crash cut short: [delta 5][checkpoint through 5, part 0 of 2].
  // File b: [checkpoint through 0][deltas 1..5].
  std::vector<uint8_t> a = EncodeNodeStateRecords({Delta(5, 5), CheckpointPart(5, 5, 0, 2)});
  std::vector<uint8_t> b = EncodeNodeStateRecords({CheckpointPart(0, 0, 0, 1), Delta(1, 1),
                                                   Delta(2, 2), Delta(3, 3), Delta(4, 4),
                                                   Delta(5, 5)});
  NodeStateLoad load = CombineNodeState({ScanNodeStateFile(a), ScanNodeStateFile(b)}, {});
  EXPECT_TRUE(load.certain) << load.uncertain_reason;
  EXPECT_EQ(load.groups.at(1).hard_state().term(), 5u);
  EXPECT_EQ(load.sequence, 5u);
}

TEST(NodeStateLoadTest, CheckpointLostInItsOnlyCopyCostsNothing) {
  // File a: [checkpoint through 3 (damaged away)][delta 4]; file b: [checkpoint through 0]
  // [deltas 1..4]. The deltas the lost checkpoint restated are all in b.
  std::vector<uint8_t> a = EncodeNodeStateRecords({Delta(4, 4)});
  std::vector<uint8_t> b = EncodeNodeStateRecords(
      {CheckpointPart(0, 0, 0, 1), Delta(1, 1), Delta(2, 2), Delta(3, 3), Delta(4, 4)});
  NodeStateLoad load = CombineNodeState({ScanNodeStateFile(a), ScanNodeStateFile(b)}, {});
  EXPECT_TRUE(load.certain) << load.uncertain_reason;
  EXPECT_EQ(load.groups.at(1).hard_state().term(), 4u);
}

TEST(NodeStateLoadTest, DeltaMissingFromBothCopiesIsUncertain) {
  std::vector<uint8_t> a = EncodeNodeStateRecords({CheckpointPart(0, 0, 0, 1), Delta(1, 1), Delta(3, 3)});
  NodeStateLoad load = CombineNodeState({ScanNodeStateFile(a), ScanNodeStateFile(a)}, {});
  EXPECT_FALSE(load.certain);
  EXPECT_TRUE(load.groups.empty());
}

TEST(NodeStateLoadTest, ScanResynchronisesAfterDamage) {
  std::vector<uint8_t> bytes;
  for (uint64_t sequence : {1, 2, 3}) {
    std::vector<uint8_t> frame = EncodeNodeStateRecords({Delta(sequence, sequence)});
    if (sequence == 2) frame[frame.size() - 1] ^= 1;  // a flipped bit in record 2's payload
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  bytes.push_back(0x45);  // a torn byte
  NodeStateFileScan scan = ScanNodeStateFile(bytes);
  EXPECT_EQ(scan.newest_end_bytes, bytes.size() - 1);
  EXPECT_EQ(scan.damaged_records, 2u);
  EXPECT_EQ(scan.deltas.size(), 2u);
  EXPECT_TRUE(scan.deltas.contains(3));
}

// --- Property: a certain load is never older than the last acknowledged save ---------------

RC_GTEST_PROP(NodeStateStoreProperty, CertainLoadIsNeverOlderThanTheLastAcknowledgedSave, ()) {
  sim::SimLoop loop;
  sim::SimDisk disk(loop);
  Random random(*rc::gen::arbitrary<uint64_t>());
  const NodeStateStoreOptions options{.compact_bytes = *rc::gen::element<uint64_t>(512, 4096, 1 << 20)};
  const auto open = [&]() {
    auto store = std::make_unique<NodeStateStore>(loop, disk, kDirectory, options);
    store->Start();
    return store;
  };
  const auto attach = [&](NodeStateStore& store, GroupId group) {
    absl::StatusOr<LoadedState> loaded = runtime::AwaitValue<LoadedState>(
        loop, [&](auto done) { store.Attach(group, std::move(done)); });
    RC_ASSERT(loaded.ok());
    return *std::move(loaded);
  };
  constexpr GroupId kGroups = 4;
  std::unique_ptr<NodeStateStore> store = open();
  std::map<GroupId, uint64_t> acked;      // the last save per group whose completion said OK
  std::map<GroupId, uint64_t> attempted;  // the last save submitted (maybe lost in a crash)
  uint64_t next_term = 0;
  // Damage since the last repair, per copy. Two copies survive any damage to one copy, and
  // unreadable sectors in both (reported as uncertain); they cannot survive bit rot in one copy
  // with anything in the other, so the generator never does that.
  bool rot[2] = {false, false};
  bool unreadable[2] = {false, false};
  const char* const paths[2] = {kFileA, kFileB};
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    if (op < 6) {  // one round of saves (one to four groups) that completes
      const int count = *rc::gen::inRange(1, 5);
      std::map<GroupId, uint64_t> round;
      for (int i = 0; i < count; ++i) round[random.Uniform(kGroups) + 1] = ++next_term;
      int left = static_cast<int>(round.size());
      bool all_ok = true;
      for (const auto& [group, term] : round) {
        attempted[group] = term;
        store->Save(group, StateWithTerm(term), /*urgent=*/random.OneIn(2),
                    [&left, &all_ok](absl::Status s) {
          all_ok = all_ok && s.ok();
          --left;
        });
      }
      while (left > 0 && loop.RunOne()) {
      }
      RC_ASSERT(left == 0 && all_ok);
      for (const auto& [group, term] : round) acked[group] = term;
      continue;
    }
    if (op == 6) {  // a latent sector error anywhere in one copy
      const int f = random.OneIn(2) ? 0 : 1;
      if (!disk.FileExists(paths[f]) || disk.FileContents(paths[f]).empty() || rot[1 - f]) {
        continue;
      }
      disk.MarkSectorBad(paths[f], random.Uniform(LastSector(disk, paths[f]) + 1));
      unreadable[f] = true;
      continue;
    }
    if (op == 7) {  // bit rot in one copy
      const int f = random.OneIn(2) ? 0 : 1;
      if (!disk.FileExists(paths[f])) continue;
      const uint64_t size = disk.FileContents(paths[f]).size();
      if (size == 0 || rot[1 - f] || unreadable[1 - f]) continue;
      disk.CorruptByte(paths[f], random.Uniform(size),
                       static_cast<uint8_t>(1u << random.Uniform(8)));
      rot[f] = true;
      continue;
    }
    // A crash, maybe in the middle of a round, then a reopen.
    if (op == 8) {
      const GroupId group = random.Uniform(kGroups) + 1;
      attempted[group] = ++next_term;
      store->Save(group, StateWithTerm(next_term), /*urgent=*/true, [](absl::Status) {});
      const int events = *rc::gen::inRange(0, 12);
      for (int e = 0; e < events && loop.RunOne(); ++e) {
      }
    }
    disk.Crash({.keep_unsynced_prefix = true, .tear_last_sector = true}, random);
    store.reset();
    loop.RunUntilIdle();
    store = open();
    for (GroupId group = 1; group <= kGroups; ++group) {
      const LoadedState loaded = attach(*store, group);
      if (!loaded.newest_certain) {
        // Only unreadable sectors may make a load uncertain, and the node would halt here.
        RC_ASSERT(loaded.unreadable_sectors > 0);
        return;
      }
      const uint64_t term = TermOf(loaded);
      RC_ASSERT(term >= acked[group]);
      RC_ASSERT(term <= attempted[group]);
      if (loaded.state.has_value()) {
        RC_ASSERT(loaded.state->SerializeAsString() == StateWithTerm(term).SerializeAsString());
      }
      acked[group] = term;  // what the group acts on now; the open made it durable
    }
    rot[0] = rot[1] = unreadable[0] = unreadable[1] = false;  // the open rewrote both copies
  }
}

}  // namespace
}  // namespace eddy::raft::driver
