#include "core/producer/producer_state_machine.h"

#include <string>
#include <vector>

#include "core/producer/producer_state.pb.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::producer {
namespace {

// A stored data batch of `records` records at Raft offset `base`.
std::vector<uint8_t> DataBatch(int64_t base, int64_t producer_id, int16_t epoch,
                               int32_t first_sequence, int records, int64_t timestamp_ms) {
  record::BatchHeader fields;
  fields.base_offset = base;
  fields.producer_id = producer_id;
  fields.producer_epoch = epoch;
  fields.base_sequence = first_sequence;
  record::RecordBatchBuilder builder(fields);
  const std::string value = "v";
  for (int i = 0; i < records; ++i) {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(value.data()),
                                         value.size());
    EXPECT_TRUE(builder.Append(timestamp_ms, std::nullopt, bytes).ok());
  }
  return builder.Finish();
}

raft::EntryMeta Meta(int64_t base, int64_t records, raft::EntryType type = raft::ENTRY_NORMAL) {
  raft::EntryMeta meta;
  meta.term = 1;
  meta.base_offset = base;
  meta.last_offset = base + records - 1;
  meta.type = type;
  return meta;
}

raft::SnapshotMeta Bootstrap() {
  raft::SnapshotMeta meta;
  meta.set_last_offset(raft::kNoOffset);
  return meta;
}

// Applies a data batch at `*next` (Raft offsets) and moves `*next` past it.
void ApplyData(ProducerStateMachine& m, int64_t* next, int64_t producer_id, int16_t epoch,
               int32_t first_sequence, int records, int64_t timestamp_ms = 1000) {
  const std::vector<uint8_t> batch =
      DataBatch(*next, producer_id, epoch, first_sequence, records, timestamp_ms);
  ASSERT_TRUE(m.Apply(Meta(*next, records), batch).ok());
  *next += records;
}

void ApplyNoop(ProducerStateMachine& m, int64_t* next) {
  ASSERT_TRUE(m.Apply(Meta(*next, 1, raft::ENTRY_NOOP), {}).ok());
  *next += 1;
}

TEST(ProducerStateMachineTest, RecordsKafkaOffsetsSkippingRaftsOwnEntries) {
  ProducerStateStats stats;
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, &stats);
  ASSERT_TRUE(m.Restore(Bootstrap(), {}).ok());
  int64_t next = 0;
  ApplyNoop(m, &next);                  // Raft 0: hidden
  ApplyData(m, &next, 7, 0, 0, 3);      // Raft 1-3: Kafka 0-2
  ApplyNoop(m, &next);                  // Raft 4: hidden
  ApplyData(m, &next, -1, -1, -1, 2);   // Raft 5-6: a plain batch, Kafka 3-4
  ApplyData(m, &next, 7, 0, 3, 2);      // Raft 7-8: Kafka 5-6
  const ProducerEntry* entry = m.table().Find(7);
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(entry->batches.size(), 2u);
  EXPECT_EQ(entry->batches[0], (BatchRecord{0, 2, 0, 2}));
  EXPECT_EQ(entry->batches[1], (BatchRecord{3, 4, 5, 6}));
  EXPECT_EQ(stats.idempotent_batches, 2u);
  EXPECT_EQ(stats.anomalies(), 0u);
  EXPECT_EQ(m.applied_offset(), 8);
}

TEST(ProducerStateMachineTest, AnomaliesAreCountedAndHandledAlikeEverywhere) {
  ProducerStateStats stats;
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, &stats);
  ASSERT_TRUE(m.Restore(Bootstrap(), {}).ok());
  int64_t next = 0;
  ApplyData(m, &next, 7, 1, 0, 1);
  ApplyData(m, &next, 7, 1, 0, 1);  // a duplicate: not recorded
  ApplyData(m, &next, 7, 0, 1, 1);  // a stale epoch: not recorded
  ApplyData(m, &next, 7, 1, 5, 1);  // a gap: recorded, the producer goes on from it
  EXPECT_EQ(stats.duplicates_applied, 1u);
  EXPECT_EQ(stats.stale_epochs_applied, 1u);
  EXPECT_EQ(stats.out_of_order_applied, 1u);
  ASSERT_EQ(m.table().Find(7)->batches.size(), 2u);
  EXPECT_EQ(m.table().Find(7)->batches.back().first_sequence, 5);
}

TEST(ProducerStateMachineTest, ApplyBeforeRestoreIsRefused) {
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, nullptr);
  EXPECT_FALSE(m.Apply(Meta(0, 1, raft::ENTRY_NOOP), {}).ok());
}

TEST(ProducerStateMachineTest, AnUndecodableBatchIsCountedAndSkipped) {
  ProducerStateStats stats;
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, &stats);
  ASSERT_TRUE(m.Restore(Bootstrap(), {}).ok());
  const std::vector<uint8_t> junk(20, 0xAB);
  EXPECT_TRUE(m.Apply(Meta(0, 1), junk).ok());
  EXPECT_EQ(stats.undecodable_batches, 1u);
  EXPECT_EQ(m.applied_offset(), 0);
}

TEST(ProducerStateMachineTest, ASnapshotRestoresTheTableAndTheKafkaOffsets) {
  ProducerStateMachine leader(ProducerTable::kDefaultExpirationMs, nullptr);
  ASSERT_TRUE(leader.Restore(Bootstrap(), {}).ok());
  int64_t next = 0;
  ApplyNoop(leader, &next);
  ApplyData(leader, &next, 7, 0, 0, 2);
  ApplyData(leader, &next, 9, 3, 10, 1);
  absl::StatusOr<std::vector<uint8_t>> state = leader.Snapshot();
  ASSERT_TRUE(state.ok());

  raft::SnapshotMeta point;
  point.set_last_offset(next - 1);
  point.set_hidden_count(1);
  ProducerStateMachine follower(ProducerTable::kDefaultExpirationMs, nullptr);
  ASSERT_TRUE(follower.Restore(point, *state).ok());
  EXPECT_EQ(follower.table(), leader.table());
  EXPECT_EQ(follower.applied_offset(), next - 1);
  // Both go on alike: same offsets, same bytes.
  int64_t leader_next = next;
  int64_t follower_next = next;
  ApplyData(leader, &leader_next, 7, 0, 2, 1);
  ApplyData(follower, &follower_next, 7, 0, 2, 1);
  EXPECT_EQ(follower.table().Find(7)->batches.back().kafka_base_offset, 3);
  EXPECT_EQ(*follower.Snapshot(), *leader.Snapshot());
}

TEST(ProducerStateMachineTest, MalformedStatesAreRefused) {
  auto restore = [](const ProducerTableState& state) {
    ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, nullptr);
    const std::string bytes = state.SerializeAsString();
    return m.Restore(Bootstrap(), std::span<const uint8_t>(
                                      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  };
  ProducerTableState unsorted;
  unsorted.add_producers()->set_producer_id(5);
  unsorted.add_producers()->set_producer_id(3);
  EXPECT_EQ(restore(unsorted).code(), absl::StatusCode::kDataLoss);
  ProducerTableState too_many_batches;
  ProducerEntryState* p = too_many_batches.add_producers();
  p->set_producer_id(1);
  for (int i = 0; i < 6; ++i) p->add_batches();
  EXPECT_EQ(restore(too_many_batches).code(), absl::StatusCode::kDataLoss);
  ProducerTableState negative_offset;
  ProducerEntryState* n = negative_offset.add_producers();
  n->set_producer_id(1);
  BatchRecordState* b = n->add_batches();
  b->set_kafka_base_offset(-5);
  b->set_kafka_last_offset(-5);
  EXPECT_EQ(restore(negative_offset).code(), absl::StatusCode::kDataLoss)
      << "a forged offset would be handed to a retrying client";
  ProducerTableState bad_epoch;
  bad_epoch.add_producers()->set_epoch(70000);
  EXPECT_EQ(restore(bad_epoch).code(), absl::StatusCode::kDataLoss);
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, nullptr);
  const std::vector<uint8_t> junk = {0xFF, 0xFF, 0xFF};
  EXPECT_EQ(m.Restore(Bootstrap(), junk).code(), absl::StatusCode::kDataLoss);
}

// A replica that installs a snapshot at any point and then applies the same entries ends with
// the same state bytes as one that applied everything.
RC_GTEST_PROP(ProducerStateMachineProperty, SnapshotAnywhereThenReplayMatchesFullReplay, ()) {
  struct Step {
    bool noop;
    int64_t producer;
    int16_t epoch;
    int32_t first;
    int records;
    int64_t timestamp;
  };
  const int steps = *rc::gen::inRange(1, 60);
  std::vector<Step> plan;
  std::map<int64_t, int32_t> next_sequence;
  int64_t clock = 1000;
  for (int i = 0; i < steps; ++i) {
    Step s{};
    s.noop = *rc::gen::inRange(0, 6) == 0;
    s.producer = *rc::gen::inRange<int64_t>(-1, 4);
    s.epoch = static_cast<int16_t>(*rc::gen::inRange(0, 2));
    s.records = *rc::gen::inRange(1, 4);
    s.first = next_sequence[s.producer];
    if (*rc::gen::inRange(0, 8) == 0) s.first = *rc::gen::inRange(0, 20);
    next_sequence[s.producer] = LastSequence(s.first, s.records) + 1;
    clock += *rc::gen::inRange(0, 100'000);
    s.timestamp = clock;
    plan.push_back(s);
  }
  const size_t cut = *rc::gen::inRange<size_t>(0, plan.size() + 1);
  const int64_t expiration = *rc::gen::element<int64_t>(1'000, 200'000, 86'400'000);
  auto run = [&](ProducerStateMachine& m, size_t from, size_t to, int64_t* next,
                 int64_t* hidden) {
    for (size_t i = from; i < to; ++i) {
      const Step& s = plan[i];
      if (s.noop) {
        ApplyNoop(m, next);
        ++*hidden;
      } else if (s.producer < 0) {
        ApplyData(m, next, -1, -1, -1, s.records, s.timestamp);
      } else {
        ApplyData(m, next, s.producer, s.epoch, s.first, s.records, s.timestamp);
      }
    }
  };
  ProducerStateMachine whole(expiration, nullptr);
  RC_ASSERT(whole.Restore(Bootstrap(), {}).ok());
  int64_t next = 0;
  int64_t hidden = 0;
  run(whole, 0, cut, &next, &hidden);
  raft::SnapshotMeta point;
  point.set_last_offset(next - 1);
  point.set_hidden_count(hidden);
  const std::vector<uint8_t> state = *whole.Snapshot();
  ProducerStateMachine installed(expiration, nullptr);
  RC_ASSERT(installed.Restore(point, state).ok());
  int64_t next_installed = next;
  int64_t hidden_installed = hidden;
  run(whole, cut, plan.size(), &next, &hidden);
  run(installed, cut, plan.size(), &next_installed, &hidden_installed);
  RC_ASSERT(*installed.Snapshot() == *whole.Snapshot());
  RC_ASSERT(installed.table() == whole.table());
}

// The snapshot bytes come from disk and from peers: any bytes either restore (a table within
// its bounds) or are refused as kDataLoss, and never crash.
RC_GTEST_PROP(ProducerStateMachineProperty, ArbitraryStateBytesNeverCrash, ()) {
  std::vector<uint8_t> bytes = *rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>());
  if (*rc::gen::inRange(0, 2) == 0) {
    // Mostly-valid states too: a real snapshot with a few bytes flipped.
    ProducerStateMachine source(ProducerTable::kDefaultExpirationMs, nullptr);
    RC_ASSERT(source.Restore(Bootstrap(), {}).ok());
    int64_t next = 0;
    for (int i = 0; i < 5; ++i) ApplyData(source, &next, i, 0, 0, 2);
    bytes = *source.Snapshot();
    const int flips = *rc::gen::inRange(1, 4);
    for (int f = 0; f < flips && !bytes.empty(); ++f) {
      bytes[*rc::gen::inRange<size_t>(0, bytes.size())] ^= *rc::gen::inRange<uint8_t>(1, 255);
    }
  }
  ProducerStateMachine m(ProducerTable::kDefaultExpirationMs, nullptr);
  const absl::Status s = m.Restore(Bootstrap(), bytes);
  RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kDataLoss);
  if (!s.ok()) return;
  RC_ASSERT(m.table().size() <= ProducerTable::kProducersMax);
  for (const auto& [id, entry] : m.table().producers()) {
    RC_ASSERT(id >= 0);
    RC_ASSERT(entry.batches.size() <= ProducerTable::kBatchesPerProducer);
    for (const BatchRecord& b : entry.batches) {
      RC_ASSERT(b.kafka_base_offset >= 0);
      RC_ASSERT(b.kafka_last_offset >= b.kafka_base_offset);
    }
  }
  // And the machine goes on applying.
  int64_t next = 0;
  ApplyData(m, &next, 3, 0, 0, 1);
}

}  // namespace
}  // namespace eddy::producer
