#include "core/producer/producer_table.h"

#include <limits>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::producer {
namespace {

BatchIdentity Batch(int64_t id, int16_t epoch, int32_t first, int32_t count) {
  return BatchIdentity{id, epoch, first, LastSequence(first, count)};
}

// Records `batch` at Kafka offsets from `*next_offset`.
void Write(ProducerTable& table, const BatchIdentity& batch, int64_t* next_offset,
           int64_t timestamp_ms = 1000) {
  const int64_t count = static_cast<int64_t>(batch.last_sequence) - batch.first_sequence + 1;
  const BatchRecord record{batch.first_sequence, batch.last_sequence, *next_offset,
                           *next_offset + (count > 0 ? count : 1) - 1};
  table.Record(batch, record, timestamp_ms, *next_offset);
  *next_offset = record.kafka_last_offset + 1;
}

TEST(SequenceTest, NextAndLastWrapAtInt32Max) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(NextSequence(0), 1);
  EXPECT_EQ(NextSequence(kMax), 0);
  EXPECT_EQ(LastSequence(10, 5), 14);
  EXPECT_EQ(LastSequence(kMax, 1), kMax);
  EXPECT_EQ(LastSequence(kMax, 3), 1);
}

TEST(ProducerTableTest, AnUnknownProducerMayStartAtAnySequence) {
  ProducerTable table;
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 0, 1)).verdict, Verdict::kAppend);
  EXPECT_EQ(table.CheckBatch(Batch(7, 3, 1234, 10)).verdict, Verdict::kAppend);
}

TEST(ProducerTableTest, NextSequenceAppendsAndAGapIsOutOfOrder) {
  ProducerTable table;
  int64_t offset = 0;
  Write(table, Batch(7, 0, 0, 3), &offset);
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 3, 2)).verdict, Verdict::kAppend);
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 4, 2)).verdict, Verdict::kOutOfOrder);
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 1, 2)).verdict, Verdict::kOutOfOrder);
  EXPECT_EQ(table.CheckBatch(Batch(8, 0, 9, 1)).verdict, Verdict::kAppend) << "another producer";
}

TEST(ProducerTableTest, AnyOfTheLastFiveBatchesIsADuplicateWithItsOffsets) {
  ProducerTable table;
  int64_t offset = 100;
  for (int b = 0; b < 7; ++b) Write(table, Batch(7, 2, b * 2, 2), &offset);
  // Batches 2..6 (sequences 4..13) are remembered, at Kafka offsets 104..113.
  for (int b = 2; b < 7; ++b) {
    const SequenceCheck check = table.CheckBatch(Batch(7, 2, b * 2, 2));
    ASSERT_EQ(check.verdict, Verdict::kDuplicate) << b;
    EXPECT_EQ(check.duplicate_of->kafka_base_offset, 100 + b * 2);
    EXPECT_EQ(check.duplicate_of->kafka_last_offset, 101 + b * 2);
  }
  EXPECT_EQ(table.CheckBatch(Batch(7, 2, 2, 2)).verdict, Verdict::kOutOfOrder) << "forgotten";
  EXPECT_EQ(table.CheckBatch(Batch(7, 2, 4, 1)).verdict, Verdict::kOutOfOrder)
      << "same start, another end: not the same batch";
}

TEST(ProducerTableTest, EpochsFenceOlderOnesAndANewEpochStartsAtZero) {
  ProducerTable table;
  int64_t offset = 0;
  Write(table, Batch(7, 1, 0, 5), &offset);
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 5, 1)).verdict, Verdict::kStaleEpoch);
  EXPECT_EQ(table.CheckBatch(Batch(7, 2, 5, 1)).verdict, Verdict::kOutOfOrder);
  EXPECT_EQ(table.CheckBatch(Batch(7, 2, 0, 1)).verdict, Verdict::kAppend);
  Write(table, Batch(7, 2, 0, 1), &offset);
  EXPECT_EQ(table.Find(7)->batches.size(), 1u) << "a new epoch forgets the old one's batches";
  EXPECT_EQ(table.CheckBatch(Batch(7, 1, 0, 5)).verdict, Verdict::kStaleEpoch);
}

TEST(ProducerTableTest, SequencesWrapPastInt32Max) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  ProducerTable table;
  int64_t offset = 0;
  Write(table, BatchIdentity{7, 0, kMax - 1, kMax}, &offset);
  EXPECT_EQ(table.CheckBatch(Batch(7, 0, 0, 4)).verdict, Verdict::kAppend);
}

TEST(ProducerTableTest, IdleProducersExpireByThePartitionClock) {
  ProducerTable table(/*expiration_ms=*/1000);
  int64_t offset = 0;
  Write(table, Batch(1, 0, 0, 1), &offset, /*timestamp_ms=*/10'000);
  Write(table, Batch(2, 0, 0, 1), &offset, /*timestamp_ms=*/10'500);
  Write(table, Batch(2, 0, 1, 1), &offset, /*timestamp_ms=*/11'000);
  EXPECT_NE(table.Find(1), nullptr) << "exactly the expiration: kept";
  Write(table, Batch(2, 0, 2, 1), &offset, /*timestamp_ms=*/11'001);
  EXPECT_EQ(table.Find(1), nullptr);
  EXPECT_NE(table.Find(2), nullptr);
  EXPECT_EQ(table.expired(), 1u);
  // A late timestamp does not move the clock back, and its producer counts as active now.
  Write(table, Batch(3, 0, 0, 1), &offset, /*timestamp_ms=*/5);
  EXPECT_EQ(table.clock_ms(), 11'001);
  Write(table, Batch(2, 0, 3, 1), &offset, /*timestamp_ms=*/11'002);
  EXPECT_NE(table.Find(3), nullptr);
  Write(table, Batch(2, 0, 4, 1), &offset, /*timestamp_ms=*/12'002);
  EXPECT_EQ(table.Find(3), nullptr);
}

TEST(ProducerTableTest, BeyondTheCapTheLeastRecentlyWrittenGoes) {
  ProducerTable table;
  int64_t offset = 0;
  for (int64_t id = 0; id < static_cast<int64_t>(ProducerTable::kProducersMax); ++id) {
    Write(table, Batch(id, 0, 0, 1), &offset);
  }
  Write(table, Batch(0, 0, 1, 1), &offset);  // producer 0 is now the most recent
  Write(table, Batch(999'999, 0, 0, 1), &offset);
  EXPECT_EQ(table.size(), ProducerTable::kProducersMax);
  EXPECT_NE(table.Find(0), nullptr);
  EXPECT_EQ(table.Find(1), nullptr);
  EXPECT_EQ(table.evicted(), 1u);
}

// The model: every batch each producer ever wrote, judged from the whole history.
struct Model {
  struct Written {
    BatchIdentity batch;
    int64_t base = 0;
  };
  std::map<int64_t, std::vector<Written>> history;

  Verdict Judge(const BatchIdentity& b, int64_t* duplicate_base) const {
    auto it = history.find(b.producer_id);
    if (it == history.end()) return Verdict::kAppend;
    const int16_t epoch = it->second.back().batch.epoch;
    if (b.epoch < epoch) return Verdict::kStaleEpoch;
    if (b.epoch > epoch) return b.first_sequence == 0 ? Verdict::kAppend : Verdict::kOutOfOrder;
    std::vector<Written> same_epoch;
    for (const Written& w : it->second) {
      if (w.batch.epoch == epoch) same_epoch.push_back(w);
    }
    const size_t from = same_epoch.size() > 5 ? same_epoch.size() - 5 : 0;
    for (size_t i = from; i < same_epoch.size(); ++i) {
      const BatchIdentity& w = same_epoch[i].batch;
      if (w.first_sequence == b.first_sequence && w.last_sequence == b.last_sequence) {
        *duplicate_base = same_epoch[i].base;
        return Verdict::kDuplicate;
      }
    }
    return b.first_sequence == NextSequence(same_epoch.back().batch.last_sequence)
               ? Verdict::kAppend
               : Verdict::kOutOfOrder;
  }
};

RC_GTEST_PROP(ProducerTableProperty, VerdictsMatchAModelOfTheWholeHistory, ()) {
  ProducerTable table(/*expiration_ms=*/std::numeric_limits<int64_t>::max() / 4);
  Model model;
  int64_t offset = 0;
  std::map<int64_t, int32_t> next;  // the next sequence each producer would send
  const int steps = *rc::gen::inRange(1, 300);
  for (int step = 0; step < steps; ++step) {
    const int64_t id = *rc::gen::inRange<int64_t>(0, 4);
    const int16_t epoch = static_cast<int16_t>(*rc::gen::inRange(0, 3));
    const int32_t count = *rc::gen::inRange(1, 4);
    // Mostly the next sequence, sometimes a retry of a recent one or a jump.
    const int choice = *rc::gen::inRange(0, 10);
    int32_t first = next.contains(id) ? next[id] : 0;
    if (choice == 0) first = *rc::gen::inRange(0, 40);
    if (choice == 1 || choice == 2) first = std::max(0, first - count * *rc::gen::inRange(1, 7));
    const BatchIdentity batch = Batch(id, epoch, first, count);
    int64_t model_base = -1;
    const Verdict expected = model.Judge(batch, &model_base);
    const SequenceCheck check = table.CheckBatch(batch);
    RC_ASSERT(check.verdict == expected);
    if (expected == Verdict::kDuplicate) RC_ASSERT(check.duplicate_of->kafka_base_offset == model_base);
    if (expected == Verdict::kAppend) {
      model.history[id].push_back({batch, offset});
      Write(table, batch, &offset);
      next[id] = NextSequence(batch.last_sequence);
    }
  }
}

}  // namespace
}  // namespace eddy::producer
