// DecodeFetchedRecords, rule by rule: records below the position are dropped (a fetch returns
// whole batches), control batches are skipped but still move the next offset, a trailing partial
// batch ends decoding quietly, a damaged batch is kDataLoss; and a RapidCheck property of the
// consumer's SubscriptionState against a model — whatever the order of seeks, resets, fetches
// (fresh or stale) and drains, the records handed out for a partition are exactly the log's
// records from the position on, each once, in offset order.
#include "clients/fetch_decoder.h"

#include <map>
#include <string>
#include <vector>

#include "clients/subscription_state.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::clients {
namespace {

std::vector<uint8_t> Batch(int64_t base_offset, int count, bool control = false) {
  record::RecordBatchBuilder builder(record::BatchHeader{});
  for (int i = 0; i < count; ++i) {
    const std::string value = "v" + std::to_string(base_offset + i);
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(value.data()), value.size());
    EXPECT_TRUE(builder.Append(1000 + base_offset + i, std::nullopt, bytes).ok());
  }
  std::vector<uint8_t> batch = builder.Finish();
  record::SetBaseOffset(batch, base_offset);
  if (control) {
    batch[record::kAttributesPosition + 1] |= record::kAttributesControlBit;
    record::WriteBatchCrc(batch);
  }
  return batch;
}

std::vector<uint8_t> Concat(std::vector<std::vector<uint8_t>> batches) {
  std::vector<uint8_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<int64_t> Offsets(const DecodedFetch& d) {
  std::vector<int64_t> out;
  for (const ConsumerRecord& r : d.records) out.push_back(r.offset);
  return out;
}

TEST(FetchDecoderTest, DropsRecordsBelowThePositionAndSkipsControlBatches) {
  const auto bytes = Concat({Batch(0, 3), Batch(3, 1, /*control=*/true), Batch(4, 2)});
  auto d = DecodeFetchedRecords(bytes, "t", 2, 1);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(Offsets(*d), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(d->next_offset, 6);
  EXPECT_EQ(d->records[0].topic, "t");
  EXPECT_EQ(d->records[0].partition, 2);
  EXPECT_EQ(d->records[0].timestamp_ms, 1001);
  EXPECT_EQ(std::string(d->records[0].value->begin(), d->records[0].value->end()), "v1");
  EXPECT_FALSE(d->records[0].key.has_value());
}

TEST(FetchDecoderTest, ControlBatchAloneMovesTheNextOffset) {
  auto d = DecodeFetchedRecords(Batch(7, 1, true), "t", 0, 7);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->records.empty());
  EXPECT_EQ(d->next_offset, 8);
}

TEST(FetchDecoderTest, PartialTrailingBatchEndsQuietly) {
  auto bytes = Concat({Batch(0, 2), Batch(2, 2)});
  bytes.resize(bytes.size() - 5);
  auto d = DecodeFetchedRecords(bytes, "t", 0, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Offsets(*d), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(d->next_offset, 2);
  auto empty = DecodeFetchedRecords({}, "t", 0, 5);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->next_offset, 5);
}

TEST(FetchDecoderTest, DamagedBatchIsDataLoss) {
  auto bytes = Batch(0, 3);
  bytes.back() ^= 0x40;
  EXPECT_EQ(DecodeFetchedRecords(bytes, "t", 0, 0).status().code(), absl::StatusCode::kDataLoss);
}

// ---- SubscriptionState against a model ----

// The log of partition p: records at offsets [0, kLogEnd), except every 7th (a compacted gap).
constexpr int64_t kLogEnd = 60;
bool Present(int64_t offset) { return offset % 7 != 3; }

// What a fetch from `from` returns: up to `count` records, as whole-batch decoding would.
DecodedFetch FetchFrom(const TopicPartition& tp, int64_t from, int count) {
  DecodedFetch d;
  int64_t o = from;
  for (; o < kLogEnd && static_cast<int>(d.records.size()) < count; ++o) {
    if (!Present(o)) continue;
    ConsumerRecord r;
    r.topic = tp.topic;
    r.partition = tp.partition;
    r.offset = o;
    d.records.push_back(r);
  }
  d.next_offset = std::min(o, kLogEnd);
  if (d.next_offset < from) d.next_offset = from;
  return d;
}

struct Op {
  int kind = 0;
  int partition = 0;
  int arg = 0;
};

RC_GTEST_PROP(SubscriptionStateProperty, HandsOutEachRecordOnceFromThePosition, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 7)),
      rc::gen::set(&Op::partition, rc::gen::inRange(0, 3)),
      rc::gen::set(&Op::arg, rc::gen::inRange(0, 70))));
  SubscriptionState state;
  std::vector<TopicPartition> tps = {{"a", 0}, {"a", 1}, {"b", 0}};
  state.Assign(tps);
  // The model: each partition's expected position (the next record to hand out is the first
  // present offset >= it), and the fetch in flight (its offset) if any.
  std::map<TopicPartition, std::optional<int64_t>> position;
  std::map<TopicPartition, std::optional<int64_t>> in_flight;
  for (const auto& tp : tps) {
    RC_ASSERT(state.Seek(tp, 0).ok());
    position[tp] = 0;
  }
  const Instant now;
  for (const Op& op : ops) {
    const TopicPartition& tp = tps[static_cast<size_t>(op.partition)];
    switch (op.kind) {
      case 0:  // seek
        RC_ASSERT(state.Seek(tp, op.arg).ok());
        position[tp] = op.arg;
        break;
      case 1:  // a reset, answered at once
        RC_ASSERT(state.RequestReset(tp, kEarliestTimestamp).ok());
        RC_ASSERT(!state.Position(tp).has_value());
        state.OnResetSent(tp);
        state.OnResetDone(tp, kEarliestTimestamp, op.arg);
        position[tp] = op.arg;
        break;
      case 2:  // send a fetch if the partition may be fetched
        if (state.Fetchable(tp, now)) {
          state.OnFetchSent(tp);
          in_flight[tp] = *state.Position(tp);
        }
        break;
      case 3:  // its answer (fresh or, after a seek or drain, stale)
        if (in_flight[tp].has_value()) {
          state.OnFetched(tp, *in_flight[tp], FetchFrom(tp, *in_flight[tp], op.arg % 9), kLogEnd);
          in_flight[tp].reset();
        }
        break;
      case 4:  // a duplicate answer from an old fetch at an arbitrary offset
        state.OnFetched(tp, op.arg, FetchFrom(tp, op.arg, 4), kLogEnd);
        in_flight[tp].reset();
        break;
      case 5:  // pause or resume
        RC_ASSERT(state.SetPaused(tp, op.arg % 2 == 0).ok());
        break;
      default: {  // drain
        std::map<TopicPartition, bool> paused;
        for (const auto& t : tps) paused[t] = state.Find(t)->paused;
        for (const ConsumerRecord& r : state.Drain(static_cast<size_t>(op.arg % 10) + 1)) {
          const TopicPartition rtp{r.topic, r.partition};
          RC_ASSERT(!paused[rtp]);
          int64_t expected = *position[rtp];
          while (expected < kLogEnd && !Present(expected)) ++expected;
          RC_ASSERT(r.offset == expected);  // nothing skipped, nothing repeated
          position[rtp] = r.offset + 1;
        }
        break;
      }
    }
    // Whatever the state says its position is, the next record it hands out is the model's.
    const std::optional<int64_t> p = state.Position(tp);
    RC_ASSERT(p.has_value());
    int64_t a = *p, b = *position[tp];
    while (a < kLogEnd && !Present(a)) ++a;
    while (b < kLogEnd && !Present(b)) ++b;
    RC_ASSERT(std::min(a, kLogEnd) == std::min(b, kLogEnd) || *p >= kLogEnd);
    state.CheckInvariants();
  }
}

}  // namespace
}  // namespace eddy::clients
