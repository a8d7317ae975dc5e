// MetadataMachine: a batch of records applies in order (the observer hears each with its Raft
// offset and outcome), Raft's own entries and undecodable records are skipped without stopping
// the replica, and a snapshot restores to the same image on another machine (the bootstrap
// point's empty state included).
#include "core/controller/metadata_machine.h"

#include <string>
#include <vector>

#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::controller {
namespace {

struct Heard final : MetadataObserver {
  void OnRecord(const MetadataImage&, int64_t offset, const MetadataRecord& record,
                const absl::Status& outcome) override {
    offsets.push_back(offset);
    kinds.push_back(record.record_case());
    outcomes.push_back(outcome.code());
  }
  void OnRestored(const MetadataImage& image, int64_t offset) override {
    restored.push_back(offset);
    brokers_at_restore = image.brokers().size();
  }
  std::vector<int64_t> offsets;
  std::vector<int> kinds;
  std::vector<absl::StatusCode> outcomes;
  std::vector<int64_t> restored;
  size_t brokers_at_restore = 0;
};

MetadataRecord Register(BrokerId id) {
  MetadataRecord r;
  r.mutable_register_broker()->set_broker_id(id);
  r.mutable_register_broker()->set_incarnation(1);
  Endpoint* e = r.mutable_register_broker()->add_endpoints();
  e->set_host("h");
  e->set_port(9092);
  return r;
}

raft::EntryMeta Meta(int64_t base, int64_t last, raft::EntryType type = raft::ENTRY_NORMAL) {
  raft::EntryMeta meta;
  meta.term = 1;
  meta.base_offset = base;
  meta.last_offset = last;
  meta.type = type;
  return meta;
}

TEST(MetadataMachineTest, RecordsApplyInOrderAndTheObserverHearsEach) {
  Heard heard;
  MetadataMachine machine(&heard);
  const std::vector<MetadataRecord> records = {Register(1), Register(2), Register(1)};
  absl::StatusOr<std::vector<uint8_t>> batch = EncodeMetadataBatch(records, 1'000);
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(machine.Apply(Meta(0, 0, raft::ENTRY_NOOP), {}).ok());
  ASSERT_TRUE(machine.Apply(Meta(1, 3), *batch).ok());
  EXPECT_EQ(heard.offsets, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(heard.outcomes, (std::vector<absl::StatusCode>{absl::StatusCode::kOk,
                                                           absl::StatusCode::kOk,
                                                           absl::StatusCode::kAlreadyExists}));
  EXPECT_EQ(machine.image().brokers().size(), 2u);
  EXPECT_EQ(machine.applied_offset(), 3);
  EXPECT_EQ(machine.stats().entries, 2u);
}

TEST(MetadataMachineTest, UndecodableRecordsAreSkippedNotFatal) {
  Heard heard;
  MetadataMachine machine(&heard);
  record::BatchHeader fields;
  record::RecordBatchBuilder builder(fields);
  const std::vector<uint8_t> junk = {0xff, 0xff, 0xff};
  const std::string good = Register(5).SerializeAsString();
  ASSERT_TRUE(builder.Append(0, std::nullopt, junk).ok());
  ASSERT_TRUE(builder.Append(0, std::nullopt, std::nullopt).ok());
  ASSERT_TRUE(builder
                  .Append(0, std::nullopt,
                          std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(good.data()), good.size()))
                  .ok());
  const std::vector<uint8_t> batch = builder.Finish();
  ASSERT_TRUE(machine.Apply(Meta(0, 2), batch).ok());
  EXPECT_EQ(machine.stats().undecodable_records, 2u);
  EXPECT_EQ(heard.offsets, std::vector<int64_t>{2});
  EXPECT_NE(machine.image().broker(5), nullptr);
}

TEST(MetadataMachineTest, ASnapshotRestoresTheSameImageElsewhere) {
  MetadataMachine leader(nullptr);
  const std::vector<MetadataRecord> records = {Register(1), Register(2)};
  ASSERT_TRUE(leader.Apply(Meta(0, 1), *EncodeMetadataBatch(records, 5)).ok());
  absl::StatusOr<std::vector<uint8_t>> state = leader.Snapshot();
  ASSERT_TRUE(state.ok());
  Heard heard;
  MetadataMachine follower(&heard);
  raft::SnapshotMeta meta;
  meta.set_last_offset(1);
  ASSERT_TRUE(follower.Restore(meta, *state).ok());
  EXPECT_EQ(follower.image().ToState().SerializeAsString(),
            leader.image().ToState().SerializeAsString());
  EXPECT_EQ(heard.restored, std::vector<int64_t>{1});
  EXPECT_EQ(heard.brokers_at_restore, 2u);
  EXPECT_EQ(follower.applied_offset(), 1);
  // The bootstrap point: empty state, empty image.
  meta.set_last_offset(raft::kNoOffset);
  ASSERT_TRUE(follower.Restore(meta, {}).ok());
  EXPECT_TRUE(follower.image().brokers().empty());
  // Anything else that is empty or does not parse stops the replica (it reopens).
  meta.set_last_offset(4);
  EXPECT_EQ(follower.Restore(meta, {}).code(), absl::StatusCode::kDataLoss);
  const std::vector<uint8_t> junk = {0x0a, 0xff};
  EXPECT_EQ(follower.Restore(meta, junk).code(), absl::StatusCode::kDataLoss);
}

TEST(MetadataMachineTest, AnEmptyBatchIsRefusedByTheEncoder) {
  EXPECT_EQ(EncodeMetadataBatch({}, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

// Forged bytes from a peer's snapshot or a proposer's bug: never a crash, at worst a refusal.
RC_GTEST_PROP(MetadataMachineProperty, ForgedSnapshotsAndRecordsNeverCrash,
              (const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& flips)) {
  MetadataMachine machine(nullptr);
  raft::SnapshotMeta meta;
  meta.set_last_offset(7);
  static_cast<void>(machine.Restore(meta, bytes));
  // A real snapshot with bytes flipped.
  MetadataMachine source(nullptr);
  const std::vector<MetadataRecord> records = {Register(1), Register(2)};
  RC_ASSERT(source.Apply(Meta(0, 1), *EncodeMetadataBatch(records, 5)).ok());
  std::vector<uint8_t> state = *source.Snapshot();
  for (size_t i = 0; i + 1 < flips.size(); i += 2) state[flips[i] % state.size()] ^= flips[i + 1];
  static_cast<void>(machine.Restore(meta, state));
  // Records whose values are the forged bytes.
  record::BatchHeader fields;
  record::RecordBatchBuilder builder(fields);
  RC_ASSERT(builder.Append(0, std::nullopt, bytes).ok());
  RC_ASSERT(machine.Apply(Meta(8, 8), builder.Finish()).ok());
}

}  // namespace
}  // namespace eddy::controller
