// PartitionLog's Kafka offsets, scenario by scenario on a SimDisk, with the Raft driver's
// classifier (control batch with producerEpoch 1 or 2 = hidden): an empty topic and one holding
// only Raft's own entries report Kafka log end 0 and the first record gets Kafka offset 0; the
// hidden count, Kafka offsets, batch ranges and the fetch lookup are exact around hidden batches
// (checked value by value); ReadKafka leaves hidden batches out, rewrites each data batch's
// baseOffset to its Kafka offset with the CRC still valid and every other byte unchanged, and
// serves only whole batches below the end it is given; a hidden batch of several offsets is
// refused; visible control batches take Kafka offsets; and the mapping survives suffix
// truncation, prefix truncation (through the snapshot anchor), ResetTo, reopening from sealed
// index files, and a crash with rescanning. A sealed index whose hidden bit disagrees with the
// classifier is not trusted.

#include <vector>

#include "core/base/status_matchers.h"
#include "core/log/log_test_fixture.h"
#include "core/log/partition_log.h"
#include "core/record/batch_header.h"
#include "gtest/gtest.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;
using testing::IsRaftInternalTestBatch;
using testing::LogFixture;
using testing::MakeTestBatch;

LogOptions KafkaOptions(uint64_t segment_size_bytes_max = 256 * kMiB) {
  LogOptions options;
  options.segment_size_bytes_max = segment_size_bytes_max;
  options.is_hidden = IsRaftInternalTestBatch;
  return options;
}

struct KafkaView {
  int64_t base_offset;
  int64_t kafka_base_offset;
  int64_t kafka_last_offset;
  bool hidden;
  friend bool operator==(const KafkaView&, const KafkaView&) = default;
};

// Every batch from `from` to the log end with its Kafka range.
std::vector<KafkaView> KafkaMap(const PartitionLog& log, int64_t hidden_base, int64_t from) {
  std::vector<KafkaView> views;
  for (int64_t offset = from; offset < log.next_offset();) {
    const std::optional<KafkaBatch> batch = log.KafkaBatchAt(offset, hidden_base);
    EDDY_CHECK(batch.has_value());
    views.push_back({batch->location.base_offset, batch->kafka_base_offset,
                     batch->kafka_last_offset, batch->location.hidden});
    offset = batch->location.last_offset + 1;
  }
  return views;
}

// Base offsets (as served) of every batch in a Kafka read, each CRC-checked.
std::vector<int64_t> ServedBases(const KafkaReadResult& read) {
  std::vector<int64_t> bases;
  std::span<const uint8_t> rest(read.bytes);
  while (!rest.empty()) {
    const absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(rest);
    EDDY_CHECK_OK(header.status());
    EDDY_CHECK_OK(record::VerifyBatchCrc(rest.first(header->size_bytes())));
    EDDY_CHECK(!IsRaftInternalTestBatch(*header));
    bases.push_back(header->base_offset);
    rest = rest.subspan(header->size_bytes());
  }
  EDDY_CHECK_EQ(bases.size(), read.batch_count);
  return bases;
}

// Raft: 0 no-op | 1-2 data | 3 no-op | 4 no-op | 5-7 data | 8 no-op | 9 data.
// Kafka:          [0, 1]                         [2, 4]                 [5].
// Terms first_term .. first_term + 2.
void AppendMixedLog(LogFixture& f, int64_t first_term = 1) {
  EDDY_CHECK_OK(f.AppendHidden(first_term).status());
  EDDY_CHECK_OK(f.Append(first_term, 2).status());
  EDDY_CHECK_OK(f.AppendHidden(first_term).status());
  EDDY_CHECK_OK(f.AppendHidden(first_term + 1).status());
  EDDY_CHECK_OK(f.Append(first_term + 1, 3).status());
  EDDY_CHECK_OK(f.AppendHidden(first_term + 2).status());
  EDDY_CHECK_OK(f.Append(first_term + 2, 1).status());
}

TEST(PartitionLogKafkaTest, EmptyTopicAndRaftOnlyTopicHaveKafkaEndZero) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  PartitionLog& log = f.log();
  EXPECT_EQ(log.KafkaOffsetFor(0, 0), 0);
  EXPECT_EQ(log.HiddenCountBefore(0), 0);
  EXPECT_FALSE(log.FindKafkaBatch(0, 0).has_value());
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult empty, f.ReadKafka(0, 100, 0));
  EXPECT_EQ(empty.batch_count, 0u);
  EXPECT_EQ(empty.next_kafka_offset, 0);
  // A leader's first no-op: Raft offset 0, no Kafka offset; the high watermark after it
  // commits (commit + 1 = 1) is Kafka offset 0.
  EDDY_ASSERT_OK(f.AppendHidden(1).status());
  EXPECT_EQ(log.next_offset(), 1);
  EXPECT_EQ(log.KafkaOffsetFor(1, 0), 0);
  EXPECT_FALSE(log.FindKafkaBatch(0, 0).has_value());
  EDDY_ASSERT_OK_AND_ASSIGN(empty, f.ReadKafka(0, 100, 0));
  EXPECT_EQ(empty.batch_count, 0u);
  // The first record produced gets Kafka offset 0.
  EDDY_ASSERT_OK_AND_ASSIGN(AppendResult data, f.Append(1, 3));
  EXPECT_EQ(data.base_offset, 1);
  const std::optional<KafkaBatch> batch = log.KafkaBatchAt(2, 0);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->kafka_base_offset, 0);
  EXPECT_EQ(batch->kafka_last_offset, 2);
  EXPECT_EQ(log.KafkaOffsetFor(log.next_offset(), 0), 3);
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult read, f.ReadKafka(0, 3, 0));
  EXPECT_EQ(ServedBases(read), std::vector<int64_t>({0}));
  EXPECT_EQ(read.next_kafka_offset, 3);
  // Only baseOffset differs from the stored batch.
  EDDY_ASSERT_OK_AND_ASSIGN(ReadResult stored, f.Read(1));
  ASSERT_EQ(stored.bytes.size(), read.bytes.size());
  record::SetBaseOffset(stored.bytes, 0);
  EXPECT_EQ(stored.bytes, read.bytes);
}

TEST(PartitionLogKafkaTest, QueriesAroundHiddenBatches) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  AppendMixedLog(f);
  const PartitionLog& log = f.log();
  ASSERT_EQ(log.next_offset(), 10);
  const std::vector<std::pair<int64_t, int64_t>> hidden_before = {
      {0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 2}, {5, 3}, {7, 3}, {8, 3}, {9, 4}, {10, 4}};
  for (const auto& [offset, count] : hidden_before) {
    EXPECT_EQ(log.HiddenCountBefore(offset), count) << offset;
    EXPECT_EQ(log.KafkaOffsetFor(offset, 0), offset - count) << offset;
  }
  EXPECT_FALSE(log.HiddenCountBefore(11).has_value());
  EXPECT_FALSE(log.KafkaOffsetFor(-1, 0).has_value());
  EXPECT_EQ(KafkaMap(log, 0, 0), (std::vector<KafkaView>{{0, 0, -1, true},
                                                          {1, 0, 1, false},
                                                          {3, 2, 1, true},
                                                          {4, 2, 1, true},
                                                          {5, 2, 4, false},
                                                          {8, 5, 4, true},
                                                          {9, 5, 5, false}}));
  // Kafka offset -> the data batch holding it (or the first after it).
  const std::vector<std::pair<int64_t, int64_t>> fetch_starts = {
      {-5, 1}, {0, 1}, {1, 1}, {2, 5}, {3, 5}, {4, 5}, {5, 9}};
  for (const auto& [kafka, raft_base] : fetch_starts) {
    const std::optional<KafkaBatch> found = log.FindKafkaBatch(kafka, 0);
    ASSERT_TRUE(found.has_value()) << kafka;
    EXPECT_EQ(found->location.base_offset, raft_base) << kafka;
    EXPECT_FALSE(found->location.hidden);
  }
  EXPECT_FALSE(log.FindKafkaBatch(6, 0).has_value());
  EXPECT_FALSE(log.KafkaBatchAt(10, 0).has_value());
}

TEST(PartitionLogKafkaTest, ReadKafkaServesDataBatchesWithKafkaOffsets) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  AppendMixedLog(f);
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult all, f.ReadKafka(0, 6, 0));
  EXPECT_EQ(ServedBases(all), std::vector<int64_t>({0, 2, 5}));
  EXPECT_EQ(all.next_kafka_offset, 6);
  // A fetch inside a batch starts with that whole batch, as Kafka does.
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult middle, f.ReadKafka(3, 6, 0));
  EXPECT_EQ(ServedBases(middle), std::vector<int64_t>({2, 5}));
  // Only whole batches below the end: [2, 4] straddles 4, [5] reaches 5.
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult below_five, f.ReadKafka(0, 5, 0));
  EXPECT_EQ(ServedBases(below_five), std::vector<int64_t>({0, 2}));
  EXPECT_EQ(below_five.next_kafka_offset, 5);
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult below_four, f.ReadKafka(0, 4, 0));
  EXPECT_EQ(ServedBases(below_four), std::vector<int64_t>({0}));
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult nothing, f.ReadKafka(2, 4, 0));
  EXPECT_EQ(nothing.batch_count, 0u);
  EXPECT_EQ(nothing.next_kafka_offset, 2);
  // At least one batch whatever the byte budget.
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult one, f.ReadKafka(0, 6, 0, /*size_bytes_max=*/1));
  EXPECT_EQ(ServedBases(one), std::vector<int64_t>({0}));
  EXPECT_EQ(one.next_kafka_offset, 2);
  // At the Kafka log end: nothing; beyond it or below the start: out of range.
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult at_end, f.ReadKafka(6, 100, 0));
  EXPECT_EQ(at_end.batch_count, 0u);
  EXPECT_EQ(at_end.next_kafka_offset, 6);
  EXPECT_THAT(f.ReadKafka(7, 100, 0), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(f.ReadKafka(-1, 100, 0), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(PartitionLogKafkaTest, HiddenBatchMustCoverOneOffset) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  const auto wide = MakeTestBatch(
      {.base_offset = 0, .record_count = 2, .term = 1, .control = true, .producer_epoch = 2});
  EXPECT_THAT(f.log().AppendAsLeader(wide, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(f.log().AppendAsFollower(wide), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(f.log().next_offset(), 0);
  // Without a classifier it is an ordinary batch.
  LogFixture plain;
  EDDY_ASSERT_OK(plain.Open());
  EDDY_ASSERT_OK(plain.log().AppendAsFollower(wide).status());
  EXPECT_EQ(plain.log().HiddenCountBefore(2), 0);
}

TEST(PartitionLogKafkaTest, VisibleControlBatchesTakeKafkaOffsets) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  EDDY_ASSERT_OK(f.AppendHidden(1).status());
  EDDY_ASSERT_OK(f.log()
                     .AppendAsLeader(MakeTestBatch({.record_count = 1,
                                                    .term = 1,
                                                    .control = true,
                                                    .producer_epoch = 9}),
                                     1)
                     .status());
  EXPECT_EQ(f.log().KafkaOffsetFor(f.log().next_offset(), 0), 1);
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult read, f.ReadKafka(0, 1, 0));
  EXPECT_EQ(ServedBases(read), std::vector<int64_t>({0}));
}

TEST(PartitionLogKafkaTest, SuffixTruncationKeepsCountsExact) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions(/*segment_size_bytes_max=*/300)));
  AppendMixedLog(f);
  ASSERT_GT(f.log().segment_count(), 1u);
  EDDY_ASSERT_OK(f.log().TruncateSuffix(4).status());  // removes the no-op at 4 and all after
  EXPECT_EQ(f.log().HiddenCountBefore(4), 2);
  EXPECT_EQ(f.log().KafkaOffsetFor(4, 0), 2);
  EDDY_ASSERT_OK(f.Append(4, 2).status());
  EXPECT_EQ(KafkaMap(f.log(), 0, 3),
            (std::vector<KafkaView>{{3, 2, 1, true}, {4, 2, 3, false}}));
  EDDY_ASSERT_OK(f.log().TruncateSuffix(1).status());
  EXPECT_EQ(f.log().KafkaOffsetFor(1, 0), 0);
  EXPECT_FALSE(f.log().FindKafkaBatch(0, 0).has_value());
}

TEST(PartitionLogKafkaTest, PrefixTruncationKeepsKafkaOffsetsThroughTheAnchor) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions(/*segment_size_bytes_max=*/300)));
  for (int round = 0; round < 4; ++round) AppendMixedLog(f, 1 + 3 * round);
  const std::vector<KafkaView> before = KafkaMap(f.log(), 0, 0);
  // The snapshot point: the data batch ending at Raft offset 27; the anchor sits after it.
  const int64_t point = 27;
  ASSERT_EQ(f.log().KafkaBatchAt(point, 0)->location.last_offset, point);
  const KafkaAnchor anchor{point + 1, *f.log().HiddenCountBefore(point + 1)};
  EXPECT_EQ(f.log().HiddenBaseFor(anchor), 0);
  EDDY_ASSERT_OK(f.Flush(f.log().last_offset()));
  EDDY_ASSERT_OK(f.TruncatePrefix(point + 1));
  const int64_t first = f.log().first_offset();
  ASSERT_GT(first, 0);
  ASSERT_LE(first, point + 1);
  const std::optional<int64_t> hidden_base = f.log().HiddenBaseFor(anchor);
  ASSERT_TRUE(hidden_base.has_value());
  // hidden_base = the hidden batches the truncation removed.
  int64_t removed_hidden = 0;
  for (const KafkaView& view : before) {
    if (view.base_offset < first && view.hidden) ++removed_hidden;
  }
  EXPECT_EQ(*hidden_base, removed_hidden);
  // Every batch still held keeps its Kafka range.
  std::vector<KafkaView> expected;
  for (const KafkaView& view : before) {
    if (view.base_offset >= first) expected.push_back(view);
  }
  EXPECT_EQ(KafkaMap(f.log(), *hidden_base, first), expected);
  // An anchor outside the log, or one claiming too many hidden batches, is refused.
  EXPECT_FALSE(f.log().HiddenBaseFor({first - 1, 0}).has_value());
  EXPECT_FALSE(f.log().HiddenBaseFor({point + 1, point + 100}).has_value());
  EXPECT_FALSE(f.log().HiddenBaseFor({point + 1, -1}).has_value());
  // Reopening (sealed indexes loaded, the tail scanned) changes nothing.
  EDDY_ASSERT_OK(f.Open(KafkaOptions(300)));
  EXPECT_GT(f.report().segments_loaded, 0u);
  EXPECT_EQ(f.log().HiddenBaseFor(anchor), hidden_base);
  EXPECT_EQ(KafkaMap(f.log(), *hidden_base, first), expected);
}

TEST(PartitionLogKafkaTest, ResetToStartsAtTheAnchor) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions()));
  AppendMixedLog(f);
  // Install a snapshot whose point is Raft offset 99 with 30 hidden batches up to it.
  const KafkaAnchor anchor{100, 30};
  EDDY_ASSERT_OK(sim::AwaitStatus(f.loop(), [&](auto done) {
    f.log().ResetTo(anchor.offset, std::move(done));
  }));
  ASSERT_EQ(f.log().HiddenBaseFor(anchor), 30);
  EXPECT_EQ(f.log().KafkaOffsetFor(100, 30), 70);
  EDDY_ASSERT_OK(f.AppendHidden(5).status());
  EDDY_ASSERT_OK(f.Append(5, 4).status());
  EXPECT_EQ(KafkaMap(f.log(), 30, 100),
            (std::vector<KafkaView>{{100, 70, 69, true}, {101, 70, 73, false}}));
  EDDY_ASSERT_OK_AND_ASSIGN(KafkaReadResult read, f.ReadKafka(70, 74, 30));
  EXPECT_EQ(ServedBases(read), std::vector<int64_t>({70}));
  EXPECT_THAT(f.ReadKafka(69, 74, 30), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(PartitionLogKafkaTest, CrashRecoveryRescansToTheSameOffsets) {
  LogFixture f;
  EDDY_ASSERT_OK(f.Open(KafkaOptions(/*segment_size_bytes_max=*/300)));
  for (int round = 0; round < 3; ++round) AppendMixedLog(f, 1 + 3 * round);
  EDDY_ASSERT_OK(f.Flush(f.log().last_offset()));
  const std::vector<KafkaView> before = KafkaMap(f.log(), 0, 0);
  f.Crash(/*keep_unsynced_prefix=*/false, /*tear_last_sector=*/true);
  EDDY_ASSERT_OK(f.Open(KafkaOptions(300)));
  EXPECT_GT(f.report().segments_scanned, 0u);
  EXPECT_EQ(KafkaMap(f.log(), 0, 0), before);
}

TEST(PartitionLogKafkaTest, SealedIndexDisagreeingWithTheClassifierIsRescanned) {
  LogFixture f;
  // 93-byte data batches and 77-byte hidden ones: d d d h fill the first 400-byte segment.
  EDDY_ASSERT_OK(f.Open(KafkaOptions(/*segment_size_bytes_max=*/400)));
  for (int i = 0; i < 3; ++i) EDDY_ASSERT_OK(f.Append(1).status());
  EDDY_ASSERT_OK(f.AppendHidden(1).status());
  EDDY_ASSERT_OK(f.Append(1).status());
  ASSERT_EQ(f.log().segment_count(), 2u);
  ASSERT_EQ(f.log().SegmentBaseFor(3), 0);
  EDDY_ASSERT_OK(f.Flush(f.log().last_offset()));
  f.loop().RunUntilIdle();  // the first segment's index files are written
  ASSERT_TRUE(f.disk().FileExists(f.SegmentPath(0, ".index")));
  EDDY_ASSERT_OK(f.Open(KafkaOptions(400)));
  EXPECT_EQ(f.report().segments_loaded, 1u);
  EXPECT_EQ(f.log().HiddenCountBefore(5), 1);
  // A different classifier does not trust the bits in the file.
  LogOptions no_hidden = KafkaOptions(400);
  no_hidden.is_hidden = nullptr;
  EDDY_ASSERT_OK(f.Open(no_hidden));
  EXPECT_EQ(f.report().segments_loaded, 0u);
  EXPECT_EQ(f.report().indexes_rebuilt, 1u);
  EXPECT_EQ(f.log().HiddenCountBefore(5), 0);
}

}  // namespace
}  // namespace eddy::log
