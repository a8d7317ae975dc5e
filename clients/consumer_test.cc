// The consumer end to end against real Eddy brokers in the simulator (three brokers, a topic of
// three partitions with three replicas), with records written by the producer:
//   - assigned to every partition from the beginning, it reads every acknowledged record exactly
//     once, in offset order per partition, with its key, value, headers and timestamp;
//   - SeekToBeginning / Seek / SeekToEnd / SeekToTimestamp / OffsetsForTimes / Pause / Resume
//     behave as Kafka's Java consumer's;
//   - a long poll at the end returns as soon as a new record is produced, not at its timeout;
//   - auto.offset.reset latest starts at the end; none reports an error until a seek; a
//     position beyond the log (OFFSET_OUT_OF_RANGE) resets by the policy;
//   - a broker crash and restart while records are produced and consumed skips and repeats
//     nothing (three seeds).
#include "clients/consumer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clients/producer.h"
#include "core/broker/testing/broker_cluster.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::clients {
namespace {

using broker::test_support::Ask;
using broker::test_support::Cluster;
using broker::test_support::CreateRequest;
using broker::test_support::EveryPartitionLed;
using broker::test_support::Metadata;

constexpr int32_t kPartitions = 3;
constexpr int64_t kBaseTimestampMs = 1'700'000'000'000;
const std::string kTopic = "events";

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string String(const std::optional<std::vector<uint8_t>>& b) {
  return b.has_value() ? std::string(b->begin(), b->end()) : "<null>";
}

void StartWithTopic(Cluster& c, sim::SimClient& client) {
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  BrokerConnection admin(client, c.world.address(1));
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      c, admin, CreateRequest(kTopic, kPartitions, 3), 5);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    for (runtime::NodeId id : c.world.node_ids()) {
      auto m = Metadata(c, client, id);
      if (!m.ok() || !EveryPartitionLed(*m, kTopic, kPartitions)) return false;
    }
    return true;
  }));
}

std::vector<runtime::Address> Bootstrap(Cluster& c) {
  std::vector<runtime::Address> out;
  for (runtime::NodeId id : c.world.node_ids()) out.push_back(c.world.address(id));
  return out;
}

std::vector<TopicPartition> AllPartitions() {
  std::vector<TopicPartition> out;
  for (int32_t p = 0; p < kPartitions; ++p) out.push_back({kTopic, p});
  return out;
}

// What the producer was told about each record it sent: by partition, offset -> index.
struct Written {
  std::map<int32_t, std::map<int64_t, int>> by_partition;
  int acked = 0;
  int failed = 0;
};

std::string ValueOf(int i) { return "value-" + std::to_string(i); }
std::string KeyOf(int i) { return "key-" + std::to_string(i % 37); }

// Sends records [first, first + count), `burst` per 10 ms; `between(i)` runs before record i.
void Produce(Cluster& c, Producer& producer, Written& w, int first, int count, int burst,
             const std::function<void(int)>& between = nullptr) {
  for (int i = first; i < first + count; ++i) {
    if (between) between(i);
    ProducerRecord r;
    r.topic = kTopic;
    r.key = Bytes(KeyOf(i));
    r.value = Bytes(ValueOf(i));
    r.headers.push_back(record::Header{"index", Bytes(std::to_string(i))});
    r.timestamp_ms = kBaseTimestampMs + i * 10;
    ASSERT_TRUE(producer
                    .Send(std::move(r),
                          [&w, i](absl::StatusOr<RecordMetadata> m) {
                            if (!m.ok()) {
                              ++w.failed;
                              return;
                            }
                            ++w.acked;
                            EXPECT_TRUE(w.by_partition[m->partition].emplace(m->offset, i).second)
                                << "offset acknowledged twice";
                          })
                    .ok());
    if ((i + 1 - first) % burst == 0) c.world.RunFor(Duration::Milliseconds(10));
  }
}

void Flush(Cluster& c, Producer& producer) {
  bool flushed = false;
  producer.Flush([&] { flushed = true; });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(180), [&] { return flushed; }));
}

absl::StatusOr<std::vector<ConsumerRecord>> PollOnce(Cluster& c, Consumer& consumer,
                                                     Duration timeout, size_t max = 500) {
  std::optional<absl::StatusOr<std::vector<ConsumerRecord>>> out;
  consumer.Poll(max, timeout, [&](auto r) { out = std::move(r); });
  EXPECT_FALSE(out.has_value()) << "never inline";
  c.RunUntil(timeout + Duration::Seconds(5), [&] { return out.has_value(); });
  if (!out.has_value()) return absl::DeadlineExceededError("Poll never answered");
  return *std::move(out);
}

// Polls until `total` records came (or `bound` of simulated time passes).
std::map<int32_t, std::vector<ConsumerRecord>> PollAll(Cluster& c, Consumer& consumer,
                                                       size_t total, Duration bound) {
  std::map<int32_t, std::vector<ConsumerRecord>> out;
  size_t got = 0;
  const Instant deadline = c.world.Now() + bound;
  while (got < total && c.world.Now() < deadline) {
    auto records = PollOnce(c, consumer, Duration::Seconds(1));
    if (!records.ok()) {
      ADD_FAILURE() << records.status();
      break;
    }
    for (ConsumerRecord& r : *records) {
      ++got;
      out[r.partition].push_back(std::move(r));
    }
  }
  return out;
}

// Every record acknowledged is there once, at its offset, in offset order, intact.
void CheckExactlyOnce(const Written& w, const std::map<int32_t, std::vector<ConsumerRecord>>& got) {
  for (int32_t p = 0; p < kPartitions; ++p) {
    const std::map<int64_t, int>& acked = w.by_partition.count(p) ? w.by_partition.at(p)
                                                                  : std::map<int64_t, int>{};
    const std::vector<ConsumerRecord> none;
    const std::vector<ConsumerRecord>& records = got.count(p) ? got.at(p) : none;
    ASSERT_EQ(records.size(), acked.size()) << "partition " << p;
    auto expected = acked.begin();
    for (const ConsumerRecord& r : records) {
      ASSERT_EQ(r.offset, expected->first) << "partition " << p << ": skipped or repeated";
      const int i = expected->second;
      EXPECT_EQ(r.topic, kTopic);
      EXPECT_EQ(String(r.value), ValueOf(i));
      EXPECT_EQ(String(r.key), KeyOf(i));
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0].key, "index");
      EXPECT_EQ(String(r.headers[0].value), std::to_string(i));
      EXPECT_EQ(r.timestamp_ms, kBaseTimestampMs + i * 10);
      EXPECT_EQ(r.timestamp_type, record::TimestampType::kCreateTime);
      EXPECT_GE(r.leader_epoch, 0);
      ++expected;
    }
  }
}

std::unique_ptr<Producer> MakeProducer(Cluster& c, sim::SimClient& client) {
  ProducerOptions o;
  o.bootstrap = Bootstrap(c);
  o.request_timeout = Duration::Seconds(5);
  auto producer = Producer::Create(client, o);
  EXPECT_TRUE(producer.ok()) << producer.status();
  return *std::move(producer);
}

std::unique_ptr<Consumer> MakeConsumer(Cluster& c, sim::SimClient& client,
                                       OffsetResetPolicy reset = OffsetResetPolicy::kEarliest) {
  ConsumerOptions o;
  o.bootstrap = Bootstrap(c);
  o.auto_offset_reset = reset;
  o.request_timeout = Duration::Seconds(5);
  auto consumer = Consumer::Create(client, o);
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  return *std::move(consumer);
}

absl::StatusOr<Consumer::OffsetsForTimesResult> OffsetsForTimes(
    Cluster& c, Consumer& consumer, std::map<TopicPartition, int64_t> timestamps) {
  std::optional<absl::StatusOr<Consumer::OffsetsForTimesResult>> out;
  consumer.OffsetsForTimes(std::move(timestamps), [&](auto r) { out = std::move(r); });
  c.RunUntil(Duration::Seconds(70), [&] { return out.has_value(); });
  if (!out.has_value()) return absl::DeadlineExceededError("no answer");
  return *std::move(out);
}

bool PositionKnown(Cluster& c, Consumer& consumer, const TopicPartition& tp) {
  return c.RunUntil(Duration::Seconds(10), [&] { return consumer.Position(tp).has_value(); });
}

TEST(ConsumerTest, ReadsEveryRecordOnceInOrderThenSeeksPausesAndLongPolls) {
  Cluster c(41);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  auto producer = MakeProducer(c, client);
  Written w;
  Produce(c, *producer, w, 0, 3000, 100);
  Flush(c, *producer);
  ASSERT_EQ(w.acked, 3000);

  auto consumer = MakeConsumer(c, client);
  ASSERT_TRUE(consumer->Assign(AllPartitions()).ok());
  EXPECT_EQ(consumer->Assignment(), AllPartitions());
  auto got = PollAll(c, *consumer, 3000, Duration::Seconds(120));
  CheckExactlyOnce(w, got);
  // Nothing more: a short poll answers empty at its timeout.
  auto more = PollOnce(c, *consumer, Duration::Milliseconds(700));
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->empty());
  for (int32_t p = 0; p < kPartitions; ++p) {
    const int64_t end = static_cast<int64_t>(w.by_partition[p].size());
    EXPECT_EQ(consumer->Position({kTopic, p}), end) << p;
    EXPECT_EQ(consumer->HighWatermark({kTopic, p}), end) << p;
  }
  EXPECT_LT(consumer->stats().fetch_requests, 3000u) << "records come many per fetch";

  // Pause two partitions; SeekToBeginning the third: only its records come, from offset 0.
  const TopicPartition p0{kTopic, 0}, p1{kTopic, 1}, p2{kTopic, 2};
  ASSERT_TRUE(consumer->Pause({p1, p2}).ok());
  EXPECT_EQ(consumer->Paused(), (std::set<TopicPartition>{p1, p2}));
  ASSERT_TRUE(consumer->SeekToBeginning({p0}).ok());
  EXPECT_EQ(consumer->Position(p0), std::nullopt) << "lazy, as Java's";
  auto first = PollOnce(c, *consumer, Duration::Seconds(5), 10);
  ASSERT_TRUE(first.ok() && !first->empty());
  EXPECT_EQ(first->front().offset, 0);
  for (const ConsumerRecord& r : *first) EXPECT_EQ(r.partition, 0);
  // Seek to an offset: the next record is exactly that one.
  ASSERT_TRUE(consumer->Seek(p0, 100).ok());
  EXPECT_EQ(consumer->Position(p0), 100);
  auto at100 = PollOnce(c, *consumer, Duration::Seconds(5), 1);
  ASSERT_TRUE(at100.ok() && at100->size() == 1u);
  EXPECT_EQ(at100->front().offset, 100);
  EXPECT_EQ(String(at100->front().value), ValueOf(w.by_partition[0].at(100)));
  EXPECT_EQ(consumer->Position(p0), 101);
  // OffsetsForTimes: the first record at or after a timestamp; none beyond the last.
  const int i_at_200 = w.by_partition[0].at(200);
  auto offsets = OffsetsForTimes(
      c, *consumer,
      {{p0, kBaseTimestampMs + i_at_200 * 10}, {p1, kBaseTimestampMs + 10 * 10'000}});
  ASSERT_TRUE(offsets.ok()) << offsets.status();
  ASSERT_TRUE((*offsets)[p0].has_value());
  EXPECT_EQ((*offsets)[p0]->offset, 200);
  EXPECT_EQ((*offsets)[p0]->timestamp_ms, kBaseTimestampMs + i_at_200 * 10);
  EXPECT_EQ((*offsets)[p1], std::nullopt);
  // A timestamp between two records of p0 finds the later one.
  auto between = OffsetsForTimes(c, *consumer, {{p0, kBaseTimestampMs + i_at_200 * 10 - 5}});
  ASSERT_TRUE(between.ok());
  EXPECT_EQ((*between)[p0]->offset, 200);
  // SeekToTimestamp goes there too.
  ASSERT_TRUE(consumer->SeekToTimestamp({p0}, kBaseTimestampMs + i_at_200 * 10).ok());
  auto at200 = PollOnce(c, *consumer, Duration::Seconds(5), 1);
  ASSERT_TRUE(at200.ok() && at200->size() == 1u);
  EXPECT_EQ(at200->front().offset, 200);
  // SeekToEnd: nothing more; the position is the end.
  ASSERT_TRUE(consumer->SeekToEnd({p0}).ok());
  ASSERT_TRUE(PositionKnown(c, *consumer, p0));
  EXPECT_EQ(consumer->Position(p0), static_cast<int64_t>(w.by_partition[0].size()));
  auto none = PollOnce(c, *consumer, Duration::Seconds(1));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // Resume: the paused partitions continue from where they were (the end): nothing.
  ASSERT_TRUE(consumer->Resume({p1, p2}).ok());
  EXPECT_TRUE(consumer->Paused().empty());

  // A long poll returns when a record is produced, well before its timeout.
  std::optional<absl::StatusOr<std::vector<ConsumerRecord>>> polled;
  consumer->Poll(100, Duration::Seconds(20), [&](auto r) { polled = std::move(r); });
  c.world.RunFor(Duration::Seconds(2));
  EXPECT_FALSE(polled.has_value()) << "answered with nothing to say";
  const Instant produced_at = c.world.Now();
  Produce(c, *producer, w, 3000, 1, 1);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(20), [&] { return polled.has_value(); }));
  EXPECT_LT(c.world.Now() - produced_at, Duration::Seconds(3));
  ASSERT_TRUE(polled->ok());
  ASSERT_EQ((*polled)->size(), 1u);
  EXPECT_EQ(String((*polled)->front().value), ValueOf(3000));

  // Errors: seeking a partition not assigned changes nothing.
  EXPECT_EQ(consumer->Seek({kTopic, 7}, 0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(consumer->Pause({p0, {kTopic, 7}}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(consumer->Paused().empty());
  consumer->Close();
  auto closed = PollOnce(c, *consumer, Duration::Seconds(1));
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ConsumerTest, ResetPoliciesLatestNoneAndOutOfRange) {
  Cluster c(42);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  auto producer = MakeProducer(c, client);
  Written w;
  Produce(c, *producer, w, 0, 300, 100);
  Flush(c, *producer);
  const TopicPartition p0{kTopic, 0};
  const int64_t end0 = static_cast<int64_t>(w.by_partition[0].size());

  // latest: starts at the end, sees only what comes after.
  auto latest = MakeConsumer(c, client, OffsetResetPolicy::kLatest);
  ASSERT_TRUE(latest->Assign({p0}).ok());
  ASSERT_TRUE(PositionKnown(c, *latest, p0));
  EXPECT_EQ(latest->Position(p0), end0);

  // none: Poll reports the missing position until a seek.
  auto none = MakeConsumer(c, client, OffsetResetPolicy::kNone);
  ASSERT_TRUE(none->Assign({p0}).ok());
  auto refused = PollOnce(c, *none, Duration::Seconds(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  // A position beyond the log: OFFSET_OUT_OF_RANGE, reported with none...
  ASSERT_TRUE(none->Seek(p0, end0 + 1000).ok());
  auto out_of_range = PollOnce(c, *none, Duration::Seconds(5));
  EXPECT_EQ(out_of_range.status().code(), absl::StatusCode::kOutOfRange) << out_of_range.status();
  EXPECT_EQ(none->Position(p0), end0 + 1000) << "kept, as Java's";
  ASSERT_TRUE(none->Seek(p0, 0).ok());
  auto from0 = PollOnce(c, *none, Duration::Seconds(5));
  ASSERT_TRUE(from0.ok() && !from0->empty());
  EXPECT_EQ(from0->front().offset, 0);

  // ... and reset by the policy with earliest.
  auto earliest = MakeConsumer(c, client, OffsetResetPolicy::kEarliest);
  ASSERT_TRUE(earliest->Assign({p0}).ok());
  ASSERT_TRUE(PositionKnown(c, *earliest, p0));
  ASSERT_TRUE(earliest->Seek(p0, end0 + 1000).ok());
  auto reset = PollOnce(c, *earliest, Duration::Seconds(5));
  ASSERT_TRUE(reset.ok() && !reset->empty()) << reset.status();
  EXPECT_EQ(reset->front().offset, 0);

  Produce(c, *producer, w, 300, 30, 30);
  Flush(c, *producer);
  auto after = PollAll(c, *latest, w.by_partition[0].size() - static_cast<size_t>(end0),
                       Duration::Seconds(30));
  ASSERT_FALSE(after[0].empty());
  EXPECT_EQ(after[0].front().offset, end0);
  EXPECT_EQ(static_cast<int64_t>(after[0].size()),
            static_cast<int64_t>(w.by_partition[0].size()) - end0);
}

class ConsumerCrashTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ConsumerCrashTest, BrokerCrashWhileConsumingSkipsAndRepeatsNothing) {
  Cluster c(GetParam());
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  auto producer = MakeProducer(c, client);
  auto consumer = MakeConsumer(c, client);
  ASSERT_TRUE(consumer->Assign(AllPartitions()).ok());
  std::map<int32_t, std::vector<ConsumerRecord>> got;
  // Poll continuously, in the background of the producing.
  bool closing = false;
  std::function<void()> poll = [&] {
    consumer->Poll(200, Duration::Seconds(1), [&](absl::StatusOr<std::vector<ConsumerRecord>> r) {
      if (closing) return;
      ASSERT_TRUE(r.ok()) << r.status();
      for (ConsumerRecord& record : *r) got[record.partition].push_back(std::move(record));
      poll();
    });
  };
  poll();
  Written w;
  runtime::NodeId crashed = 0;
  Produce(c, *producer, w, 0, 2000, 40, [&](int i) {
    if (i == 700) {
      auto m = Metadata(c, client, 1);
      crashed = 2;
      if (m.ok()) {
        for (const auto& t : m->topics) {
          for (const auto& p : t.partitions) {
            if (t.name == kTopic && p.partition_index == 0 && p.leader_id > 0) {
              crashed = static_cast<runtime::NodeId>(p.leader_id);
            }
          }
        }
      }
      c.world.Crash(crashed);
    } else if (i == 1300) {
      c.world.Restart(crashed);
    }
  });
  Flush(c, *producer);
  ASSERT_EQ(w.failed, 0);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(120), [&] {
    size_t n = 0;
    for (const auto& [p, records] : got) n += records.size();
    return n >= static_cast<size_t>(w.acked);
  }));
  c.world.RunFor(Duration::Seconds(2));  // and nothing more arrives
  CheckExactlyOnce(w, got);
  EXPECT_GT(consumer->stats().fetch_failures, 0u) << "the crash should have failed fetches";
  closing = true;
  consumer->Close();
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConsumerCrashTest, ::testing::Values(51, 52, 53));

}  // namespace
}  // namespace eddy::clients
