#include "core/producer/producer_sequencer.h"

#include "gtest/gtest.h"

namespace eddy::producer {
namespace {

BatchIdentity Batch(int64_t id, int16_t epoch, int32_t first, int32_t count) {
  return BatchIdentity{id, epoch, first, LastSequence(first, count)};
}

void Commit(ProducerTable& table, const BatchIdentity& b, int64_t base) {
  table.Record(b, BatchRecord{b.first_sequence, b.last_sequence, base,
                              base + b.last_sequence - b.first_sequence},
               0, base);
}

TEST(ProducerSequencerTest, BatchesInFlightCountTowardsTheNextSequence) {
  ProducerTable table;
  ProducerSequencer sequencer;
  Commit(table, Batch(7, 0, 0, 2), 0);
  ASSERT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 2, 2)).verdict, Verdict::kAppend);
  sequencer.Add(3, Batch(7, 0, 2, 2));
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 2, 2)).verdict, Verdict::kDuplicate);
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 4, 1)).verdict, Verdict::kAppend);
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 5, 1)).verdict, Verdict::kOutOfOrder);
}

TEST(ProducerSequencerTest, ADuplicateNamesTheBatchInFlightOrTheCommittedOffsets) {
  ProducerTable table;
  ProducerSequencer sequencer;
  Commit(table, Batch(7, 0, 0, 2), 40);
  const uint64_t ticket = sequencer.Add(3, Batch(7, 0, 2, 1));
  ProducerSequencer::Decision in_flight = sequencer.Decide(table, 3, Batch(7, 0, 2, 1));
  EXPECT_EQ(in_flight.in_flight_duplicate, ticket);
  EXPECT_FALSE(in_flight.committed_duplicate.has_value());
  ProducerSequencer::Decision committed = sequencer.Decide(table, 3, Batch(7, 0, 0, 2));
  ASSERT_EQ(committed.verdict, Verdict::kDuplicate);
  EXPECT_EQ(committed.in_flight_duplicate, 0u);
  EXPECT_EQ(committed.committed_duplicate->kafka_base_offset, 40);
}

TEST(ProducerSequencerTest, AFailedBatchLeavesAGapTheNextBatchCannotCross) {
  ProducerTable table;
  ProducerSequencer sequencer;
  const uint64_t first = sequencer.Add(3, Batch(7, 0, 0, 1));
  sequencer.Settle(first);  // refused by the replica: never written
  EXPECT_EQ(sequencer.in_flight(), 0u);
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 0, 1)).verdict, Verdict::kAppend)
      << "the retry is the producer's first batch again";
}

TEST(ProducerSequencerTest, SettlingAfterTheApplyHandsOverToTheTable) {
  ProducerTable table;
  ProducerSequencer sequencer;
  const uint64_t ticket = sequencer.Add(3, Batch(7, 0, 0, 1));
  Commit(table, Batch(7, 0, 0, 1), 0);  // the driver applies, then acknowledges
  sequencer.Settle(ticket);
  const ProducerSequencer::Decision d = sequencer.Decide(table, 3, Batch(7, 0, 0, 1));
  ASSERT_EQ(d.verdict, Verdict::kDuplicate);
  EXPECT_EQ(d.committed_duplicate->kafka_base_offset, 0);
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 1, 1)).verdict, Verdict::kAppend);
}

TEST(ProducerSequencerTest, ANewTermForgetsTheOldTermsBatchesInFlight) {
  ProducerTable table;
  ProducerSequencer sequencer;
  const uint64_t old = sequencer.Add(3, Batch(7, 0, 0, 1));
  EXPECT_EQ(sequencer.Decide(table, 5, Batch(7, 0, 0, 1)).verdict, Verdict::kAppend);
  EXPECT_EQ(sequencer.in_flight(), 0u);
  sequencer.Add(5, Batch(7, 0, 0, 1));
  sequencer.Settle(old);  // a late acknowledgement of the old term changes nothing
  EXPECT_EQ(sequencer.in_flight(), 1u);
}

TEST(ProducerSequencerTest, EpochsAreJudgedAgainstTheBatchesInFlight) {
  ProducerTable table;
  ProducerSequencer sequencer;
  Commit(table, Batch(7, 0, 0, 1), 0);
  sequencer.Add(3, Batch(7, 1, 0, 1));
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 1, 1)).verdict, Verdict::kStaleEpoch);
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 1, 1, 1)).verdict, Verdict::kAppend);
}

TEST(ProducerSequencerTest, TooManyInFlightForOneProducerIsRefused) {
  ProducerTable table;
  ProducerSequencer sequencer;
  for (int32_t s = 0; s < static_cast<int32_t>(ProducerSequencer::kInFlightPerProducerMax); ++s) {
    ASSERT_EQ(sequencer.Decide(table, 3, Batch(7, 0, s, 1)).verdict, Verdict::kAppend);
    sequencer.Add(3, Batch(7, 0, s, 1));
  }
  EXPECT_EQ(sequencer.Decide(table, 3, Batch(7, 0, 32, 1)).verdict, Verdict::kOutOfOrder);
}

}  // namespace
}  // namespace eddy::producer
