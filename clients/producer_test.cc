// The producer end to end against real Eddy brokers in the simulator (three brokers, a topic of
// three partitions with three replicas): thousands of keyed and null-key records with acks=all
// all get an offset, keyed records land on murmur2's partition, and reading every partition back
// with Fetch gives exactly the acknowledged records at exactly their offsets, in Send() order per
// partition. Then the same with a broker crash (and restart) in the middle, twice, under
// idempotence: every acknowledged record appears exactly once. Plus the API's edges: invalid
// options, buffer memory, an unknown topic timing out, Flush on an idle producer, Close.
#include "clients/producer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "clients/partitioner.h"
#include "core/broker/testing/broker_cluster.h"
#include "core/kafka/generated/fetch.h"
#include "core/record/record_batch_reader.h"
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
const std::string kTopic = "events";

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

ProducerRecord Record(const std::string& topic, const std::string& value) {
  ProducerRecord r;
  r.topic = topic;
  r.value = Bytes(value);
  return r;
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

ProducerOptions Options(Cluster& c) {
  ProducerOptions o;
  for (runtime::NodeId id : c.world.node_ids()) o.bootstrap.push_back(c.world.address(id));
  return o;
}

// What one record's callback said.
struct Outcome {
  bool done = false;
  absl::Status status;
  int32_t partition = -1;
  int64_t offset = -1;
};

struct Tally {
  std::vector<Outcome> outcomes;
  std::vector<std::optional<std::string>> keys;

  SendCallback Callback(size_t i) {
    return [this, i](absl::StatusOr<RecordMetadata> m) {
      Outcome& o = outcomes[i];
      EXPECT_FALSE(o.done) << "record " << i << " completed twice";
      o.done = true;
      o.status = m.status();
      if (m.ok()) {
        o.partition = m->partition;
        o.offset = m->offset;
      }
    };
  }
};

// Sends `count` records, `burst` per 10 ms of simulated time; every third has a null key.
// `between(i)` runs before record i is sent (fault injection).
void SendAll(Cluster& c, Producer& producer, Tally& run, int count, int burst,
             const std::function<void(int)>& between = nullptr) {
  run.outcomes.resize(static_cast<size_t>(count));
  run.keys.resize(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (between) between(i);
    ProducerRecord r;
    r.topic = kTopic;
    if (i % 3 != 0) {
      run.keys[static_cast<size_t>(i)] = "key-" + std::to_string(i % 37);
      r.key = Bytes(*run.keys[static_cast<size_t>(i)]);
    }
    r.value = Bytes("value-" + std::to_string(i));
    ASSERT_TRUE(producer.Send(std::move(r), run.Callback(static_cast<size_t>(i))).ok());
    if ((i + 1) % burst == 0) c.world.RunFor(Duration::Milliseconds(10));
  }
}

void FlushAll(Cluster& c, Producer& producer) {
  bool flushed = false;
  producer.Flush([&] { flushed = true; });
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(180), [&] { return flushed; }));
}

// Every record of the partition, as (offset, value), read from its current leader.
std::vector<std::pair<int64_t, std::string>> ReadPartition(Cluster& c, sim::SimClient& client,
                                                           int32_t partition) {
  std::vector<std::pair<int64_t, std::string>> out;
  runtime::NodeId leader = 0;
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(60), [&] {
    auto m = Metadata(c, client, c.world.node_ids().front());
    if (!m.ok() || !EveryPartitionLed(*m, kTopic, kPartitions)) return false;
    for (const auto& t : m->topics) {
      if (t.name != kTopic) continue;
      for (const auto& p : t.partitions) {
        if (p.partition_index == partition) leader = static_cast<runtime::NodeId>(p.leader_id);
      }
    }
    return leader != 0;
  }));
  BrokerConnection connection(client, c.world.address(leader));
  int64_t offset = 0;
  for (int round = 0; round < 1000; ++round) {
    kafka::FetchRequest request;
    auto& t = request.topics.emplace_back();
    t.topic = kTopic;
    auto& p = t.partitions.emplace_back();
    p.partition = partition;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    auto r = Ask<kafka::FetchRequest, kafka::FetchResponse>(c, connection, request, 12);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return out;
    const auto& data = r->response.responses[0].partitions[0];
    EXPECT_EQ(data.error_code, 0);
    const std::string bytes = data.records.Flatten();
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    while (!rest.empty()) {
      absl::StatusOr<record::BatchHeader> h = record::ParseBatchHeader(rest);
      if (!h.ok() || h->size_bytes() > rest.size()) break;
      auto reader = record::RecordBatchReader::Open(rest.subspan(0, h->size_bytes()));
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (!reader.ok()) return out;
      record::RecordView v;
      while (reader->Next(&v)) {
        const int64_t at = record::RecordOffset(*h, v.offset_delta);
        if (at >= offset && v.value.has_value()) {
          out.emplace_back(at, std::string(v.value->begin(), v.value->end()));
        }
      }
      offset = std::max(offset, h->last_offset() + 1);
      rest = rest.subspan(h->size_bytes());
    }
    if (offset >= data.high_watermark) break;
  }
  return out;
}

// Checks that the log holds each acknowledged record once, at its acknowledged offset, records of
// one partition in Send() order, and no record that was never sent.
void CheckLog(Cluster& c, sim::SimClient& client, const Tally& run) {
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < run.outcomes.size(); ++i) index_of["value-" + std::to_string(i)] = i;
  std::vector<int> seen(run.outcomes.size(), 0);
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    int64_t last_index = -1;
    for (const auto& [offset, value] : ReadPartition(c, client, partition)) {
      auto it = index_of.find(value);
      ASSERT_NE(it, index_of.end()) << "a record nobody sent: " << value;
      const size_t i = it->second;
      ++seen[i];
      EXPECT_EQ(seen[i], 1) << value << " appears twice (offset " << offset << ")";
      const Outcome& o = run.outcomes[i];
      if (o.status.ok()) {
        EXPECT_EQ(o.partition, partition) << value;
        EXPECT_EQ(o.offset, offset) << value;
      }
      EXPECT_GT(static_cast<int64_t>(i), last_index) << "out of Send() order in " << partition;
      last_index = static_cast<int64_t>(i);
    }
  }
  for (size_t i = 0; i < run.outcomes.size(); ++i) {
    if (run.outcomes[i].status.ok()) {
      EXPECT_EQ(seen[i], 1) << "acknowledged record " << i << " lost";
    }
  }
}

TEST(ProducerTest, ThousandsOfRecordsAllAcknowledgedAndReadBackInOrder) {
  Cluster c(21);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  auto producer = Producer::Create(client, Options(c));
  ASSERT_TRUE(producer.ok()) << producer.status();
  Tally run;
  SendAll(c, **producer, run, 3000, 100);
  FlushAll(c, **producer);
  std::set<int32_t> null_key_partitions;
  for (size_t i = 0; i < run.outcomes.size(); ++i) {
    const Outcome& o = run.outcomes[i];
    ASSERT_TRUE(o.done) << i;
    ASSERT_TRUE(o.status.ok()) << i << ": " << o.status;
    EXPECT_GE(o.offset, 0);
    if (run.keys[i].has_value()) {
      const std::vector<uint8_t> key = Bytes(*run.keys[i]);
      EXPECT_EQ(o.partition, PartitionForKey(key, kPartitions)) << *run.keys[i];
    } else {
      null_key_partitions.insert(o.partition);
    }
  }
  EXPECT_EQ(null_key_partitions.size(), 3u) << "sticky partitioning never moved";
  const ProducerStats& s = (*producer)->stats();
  EXPECT_EQ(s.records_sent, 3000u);
  EXPECT_EQ(s.records_acked, 3000u);
  EXPECT_EQ(s.records_failed, 0u);
  EXPECT_EQ(s.init_producer_id_requests, 1u);
  EXPECT_LT(s.produce_requests, 3000u) << "no batching";
  EXPECT_TRUE((*producer)->producer_id().valid());
  CheckLog(c, client, run);
}

class ProducerCrashTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ProducerCrashTest, IdempotentAcrossBrokerCrashesNoRecordLostOrDuplicated) {
  Cluster c(GetParam());
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  ProducerOptions options = Options(c);
  options.request_timeout = Duration::Seconds(5);
  options.delivery_timeout = Duration::Seconds(120);
  auto producer = Producer::Create(client, options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  Tally run;
  // Crash the leader of partition 0 a third of the way in, bring it back later; crash another
  // broker two thirds in.
  auto leader_of_0 = [&]() -> runtime::NodeId {
    auto m = Metadata(c, client, c.world.node_ids().front());
    if (!m.ok()) return 2;
    for (const auto& t : m->topics) {
      for (const auto& p : t.partitions) {
        if (t.name == kTopic && p.partition_index == 0 && p.leader_id > 0) {
          return static_cast<runtime::NodeId>(p.leader_id);
        }
      }
    }
    return 2;
  };
  runtime::NodeId crashed = 0;
  SendAll(c, **producer, run, 3000, 50, [&](int i) {
    if (i == 1000) {
      crashed = leader_of_0();
      c.world.Crash(crashed);
    } else if (i == 1600) {
      c.world.Restart(crashed);
    } else if (i == 2200) {
      crashed = crashed == 3 ? 2 : 3;
      c.world.Crash(crashed);
    } else if (i == 2700) {
      c.world.Restart(crashed);
    }
  });
  FlushAll(c, **producer);
  for (size_t i = 0; i < run.outcomes.size(); ++i) {
    ASSERT_TRUE(run.outcomes[i].done) << i;
    EXPECT_TRUE(run.outcomes[i].status.ok()) << i << ": " << run.outcomes[i].status;
  }
  const ProducerStats& s = (*producer)->stats();
  EXPECT_GT(s.records_retried, 0u) << "the crash should have forced retries";
  EXPECT_EQ(s.records_acked, 3000u);
  CheckLog(c, client, run);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ProducerCrashTest, ::testing::Values(33, 34, 35, 36, 37, 38));

TEST(ProducerTest, OptionsAreValidated) {
  Cluster c(5);
  sim::SimClient& client = c.world.AddClient();
  ProducerOptions o;
  EXPECT_EQ(Producer::Create(client, o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options(c);
  o.acks = 1;  // idempotence needs acks=all
  EXPECT_EQ(Producer::Create(client, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.enable_idempotence = false;
  EXPECT_TRUE(Producer::Create(client, o).ok());
  o.max_in_flight_requests_per_connection = 6;
  o.enable_idempotence = true;
  o.acks = -1;
  EXPECT_EQ(Producer::Create(client, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProducerTest, BufferMemoryFullFailsFastAndUnknownTopicTimesOut) {
  Cluster c(6);
  sim::SimClient& client = c.world.AddClient();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  ProducerOptions o = Options(c);
  o.batch_size_bytes = 1024;
  o.buffer_memory_bytes = 4096;
  o.delivery_timeout = Duration::Seconds(40);
  o.allow_auto_topic_creation = false;  // Eddy's brokers would create "nowhere"
  auto producer = Producer::Create(client, o);
  ASSERT_TRUE(producer.ok());
  Tally run;
  run.outcomes.resize(10);
  int accepted = 0;
  absl::Status refused;
  for (size_t i = 0; i < 10; ++i) {
    ProducerRecord r = Record("nowhere", std::string(1000, 'x'));
    absl::Status s = (*producer)->Send(std::move(r), run.Callback(i));
    if (s.ok()) {
      ++accepted;
    } else {
      refused = s;
    }
  }
  // Three records of ~1036 bytes (value and the worst-case record overhead) fit in 4096.
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(60), [&] { return run.outcomes[2].done; }));
  for (int i = 0; i < accepted; ++i) {
    const Outcome& outcome = run.outcomes[static_cast<size_t>(i)];
    EXPECT_TRUE(outcome.done) << i;
    EXPECT_EQ(outcome.status.code(), absl::StatusCode::kDeadlineExceeded)
        << i << " " << outcome.status << " partition " << outcome.partition << " offset "
        << outcome.offset;
  }
  EXPECT_GT((*producer)->stats().metadata_requests, 1u) << "metadata asked again meanwhile";
}

TEST(ProducerTest, FlushWhenIdleAnswersLaterAndCloseCancelsWhatIsQueued) {
  Cluster c(7);
  sim::SimClient& client = c.world.AddClient();
  StartWithTopic(c, client);
  ProducerOptions o = Options(c);
  o.linger = Duration::Seconds(10);
  auto producer = Producer::Create(client, o);
  ASSERT_TRUE(producer.ok());
  bool flushed = false;
  (*producer)->Flush([&] { flushed = true; });
  EXPECT_FALSE(flushed) << "never inline";
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(1), [&] { return flushed; }));
  Tally run;
  run.outcomes.resize(1);
  ASSERT_TRUE((*producer)->Send(Record(kTopic, "x"),
                                run.Callback(0)).ok());
  c.world.RunFor(Duration::Milliseconds(500));  // lingering
  (*producer)->Close();
  EXPECT_TRUE(run.outcomes[0].done);
  EXPECT_EQ(run.outcomes[0].status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*producer)->Send(Record(kTopic, "y"), run.Callback(0)).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eddy::clients
