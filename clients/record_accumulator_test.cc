// The accumulator's rules one by one — batch.size closes a batch, linger makes a partial one
// ready, flushing makes every head ready, a retry waits out its backoff and goes back in
// creation order, delivery deadlines expire heads, buffer memory is bounded — then a RapidCheck
// property: under random appends, takes, put-backs and completions, it agrees with a model (per
// partition, the list of record numbers in append order): every record is in exactly one batch,
// batches leave each partition in creation order, records keep their order, and the memory count
// is the sum of the batches held.
#include "clients/record_accumulator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::clients {
namespace {

using testing::IsOk;
using testing::StatusIs;

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

Instant At(int64_t ms) { return Instant::FromNanoseconds(0) + Duration::Milliseconds(ms); }

absl::Status Add(RecordAccumulator& a, const TopicPartition& tp, size_t value_size, Instant now,
                 uint64_t index = 0, std::vector<absl::StatusOr<RecordMetadata>>* out = nullptr) {
  const std::vector<uint8_t> value(value_size, 'v');
  SendCallback callback = [out](absl::StatusOr<RecordMetadata> m) {
    if (out != nullptr) out->push_back(std::move(m));
  };
  return a.Append(tp, 1000, std::nullopt, std::span<const uint8_t>(value), {}, index, now,
                  callback);
}

TEST(RecordAccumulatorTest, BatchSizeClosesABatchAndTheFullOneIsReadyAtOnce) {
  RecordAccumulator a({.batch_size_bytes = 1000, .linger = Duration::Seconds(1)});
  ASSERT_THAT(Add(a, kP0, 400, At(0)), IsOk());
  EXPECT_TRUE(a.Ready(At(0), false).empty()) << "a partial batch lingers";
  ASSERT_THAT(Add(a, kP0, 400, At(0)), IsOk());
  EXPECT_EQ(a.batch_count(), 1u);
  EXPECT_TRUE(a.WouldOpenBatch(kP0, 400));
  ASSERT_THAT(Add(a, kP0, 400, At(0)), IsOk());  // does not fit: a second batch
  EXPECT_EQ(a.batch_count(), 2u);
  EXPECT_EQ(a.Ready(At(0), false), std::vector<TopicPartition>{kP0});
  std::unique_ptr<ProducerBatch> head = a.TakeHead(kP0);
  EXPECT_EQ(head->record_count(), 2);
  EXPECT_TRUE(head->sealed());
  EXPECT_LE(head->size_bytes(), 1000u);
  EXPECT_TRUE(a.Ready(At(0), false).empty()) << "the second batch lingers on";
  a.CheckInvariants();
}

TEST(RecordAccumulatorTest, LingerMakesAPartialBatchReadyAndNextWakeupSaysWhen) {
  RecordAccumulator a({.linger = Duration::Milliseconds(5)});
  ASSERT_THAT(Add(a, kP1, 10, At(100)), IsOk());
  EXPECT_TRUE(a.Ready(At(104), false).empty());
  EXPECT_EQ(a.NextWakeup(At(100), false), At(105));
  EXPECT_EQ(a.Ready(At(105), false), std::vector<TopicPartition>{kP1});
  EXPECT_EQ(a.Ready(At(100), true), std::vector<TopicPartition>{kP1}) << "flush skips linger";
}

TEST(RecordAccumulatorTest, LoneRecordBeyondBatchSizeTravelsAlone) {
  RecordAccumulator a({.batch_size_bytes = 100, .linger = Duration::Seconds(1)});
  ASSERT_THAT(Add(a, kP0, 500, At(0)), IsOk());
  EXPECT_EQ(a.Ready(At(0), false), std::vector<TopicPartition>{kP0});
  EXPECT_EQ(a.TakeHead(kP0)->record_count(), 1);
}

TEST(RecordAccumulatorTest, RetryWaitsForItsBackoffAndGoesBackInCreationOrder) {
  RecordAccumulator a({.batch_size_bytes = 200, .linger = Duration::Zero()});
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Add(a, kP0, 150, At(0)), IsOk());
  std::unique_ptr<ProducerBatch> first = a.TakeHead(kP0);
  std::unique_ptr<ProducerBatch> second = a.TakeHead(kP0);
  second->retry_at = At(50);
  a.Reenqueue(std::move(second));
  first->retry_at = At(100);
  a.Reenqueue(std::move(first));
  a.CheckInvariants();
  EXPECT_TRUE(a.Ready(At(99), false).empty()) << "the head waits out its backoff";
  EXPECT_EQ(a.NextWakeup(At(0), false), At(100));
  std::vector<uint64_t> order;
  while (a.batch_count() > 0) order.push_back(a.TakeHead(kP0)->ordinal());
  EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2}));
}

TEST(RecordAccumulatorTest, ExpireTakesHeadsPastTheirDeliveryDeadline) {
  RecordAccumulator a({.delivery_timeout = Duration::Seconds(10)});
  ASSERT_THAT(Add(a, kP0, 10, At(0)), IsOk());
  ASSERT_THAT(Add(a, kP1, 10, At(5000)), IsOk());
  EXPECT_TRUE(a.Expire(At(9999)).empty());
  auto expired = a.Expire(At(10000));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0]->tp(), kP0);
  EXPECT_EQ(a.batch_count(), 1u);
}

TEST(RecordAccumulatorTest, BufferMemoryIsBoundedAndReleased) {
  RecordAccumulator a({.batch_size_bytes = 1000, .buffer_memory_bytes = 2000});
  ASSERT_THAT(Add(a, kP0, 900, At(0)), IsOk());
  ASSERT_THAT(Add(a, kP1, 900, At(0)), IsOk());
  EXPECT_THAT(Add(a, kP0, 900, At(0)), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(a.Reserve(1000), StatusIs(absl::StatusCode::kResourceExhausted));
  std::unique_ptr<ProducerBatch> head = a.TakeHead(kP0);
  EXPECT_EQ(a.buffered_bytes(), head->size_bytes() + a.TakeHead(kP1)->size_bytes())
      << "in-flight batches still count";
  a.Release(a.buffered_bytes());
  EXPECT_THAT(Add(a, kP0, 900, At(0)), IsOk());
}

TEST(RecordAccumulatorTest, CompletionGivesEachRecordItsOffset) {
  RecordAccumulator a({});
  std::vector<absl::StatusOr<RecordMetadata>> out;
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Add(a, kP1, 10, At(0), i, &out), IsOk());
  std::unique_ptr<ProducerBatch> batch = a.TakeHead(kP1);
  batch->Complete(int64_t{40});
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(out[i].ok());
    EXPECT_EQ(out[i]->partition, 1);
    EXPECT_EQ(out[i]->offset, 40 + i);
  }
}

// ---- the property ----

struct Op {
  int kind = 0;       // 0 append, 1 take head, 2 put back a taken batch, 3 complete a taken one
  int partition = 0;  // 0..2
  int size = 0;       // value bytes
  int pick = 0;       // which taken batch
};

RC_GTEST_PROP(RecordAccumulatorProperty, AgreesWithAModel, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 4)),
      rc::gen::set(&Op::partition, rc::gen::inRange(0, 3)),
      rc::gen::set(&Op::size, rc::gen::inRange(0, 700)),
      rc::gen::set(&Op::pick, rc::gen::inRange(0, 8))));
  RecordAccumulator a({.batch_size_bytes = 1024,
                       .linger = Duration::Zero(),
                       .buffer_memory_bytes = 8 * 1024});
  std::map<int, std::vector<uint64_t>> appended;  // model: record indices per partition
  std::map<int, std::vector<uint64_t>> delivered;  // records of completed batches, in order
  std::map<int, uint64_t> next_ordinal_out;        // batches leave in creation order
  std::vector<std::unique_ptr<ProducerBatch>> taken;
  uint64_t next_index = 0;
  for (const Op& op : ops) {
    const TopicPartition tp{"t", op.partition};
    if (op.kind == 0) {
      const size_t before = a.buffered_bytes();
      const absl::Status s = Add(a, tp, static_cast<size_t>(op.size), At(0), next_index);
      if (!s.ok()) {
        RC_ASSERT(absl::IsResourceExhausted(s));
        RC_ASSERT(a.buffered_bytes() == before);
        continue;
      }
      appended[op.partition].push_back(next_index++);
    } else if (op.kind == 1) {
      bool has = false;
      for (const TopicPartition& r : a.Ready(At(0), false)) has = has || r == tp;
      if (!has) continue;
      taken.push_back(a.TakeHead(tp));
    } else if (!taken.empty()) {
      const size_t at = static_cast<size_t>(op.pick) % taken.size();
      std::unique_ptr<ProducerBatch> batch = std::move(taken[at]);
      taken.erase(taken.begin() + static_cast<std::ptrdiff_t>(at));
      if (op.kind == 2) {
        a.Reenqueue(std::move(batch));
        continue;
      }
      // Complete only the oldest batch of its partition (the producer completes in order when
      // nothing is retried); otherwise leave it taken.
      const int p = batch->tp().partition;
      bool oldest = true;
      for (const auto& b : taken) oldest = oldest && !(b->tp() == batch->tp() && b->ordinal() < batch->ordinal());
      a.ForEachBatch(batch->tp(), [&](ProducerBatch& b) { oldest = oldest && b.ordinal() > batch->ordinal(); });
      if (!oldest) {
        taken.push_back(std::move(batch));
        continue;
      }
      RC_ASSERT(batch->ordinal() >= next_ordinal_out[p]);
      next_ordinal_out[p] = batch->ordinal() + 1;
      auto& list = appended[p];
      // Its records are the partition's oldest undelivered ones, in append order.
      RC_ASSERT(!list.empty());
      RC_ASSERT(batch->first_record_index() == list.front());
      RC_ASSERT(static_cast<size_t>(batch->record_count()) <= list.size());
      for (int i = 0; i < batch->record_count(); ++i) delivered[p].push_back(list[static_cast<size_t>(i)]);
      list.erase(list.begin(), list.begin() + batch->record_count());
      a.Release(batch->size_bytes());
      batch->Complete(int64_t{0});
    }
    a.CheckInvariants();
    size_t held = 0;
    for (const auto& b : taken) held += b->size_bytes();
    RC_ASSERT(held <= a.buffered_bytes());
  }
  // Every record is in exactly one place: delivered, queued or taken.
  int64_t records_left = 0;
  for (const auto& [p, list] : appended) records_left += static_cast<int64_t>(list.size());
  int64_t records_held = 0;
  for (const auto& b : taken) records_held += b->record_count();
  for (auto& b : a.TakeAll()) records_held += b->record_count();
  RC_ASSERT(records_left == records_held);
  for (const auto& [p, list] : delivered) RC_ASSERT(std::is_sorted(list.begin(), list.end()));
}

}  // namespace
}  // namespace eddy::clients
