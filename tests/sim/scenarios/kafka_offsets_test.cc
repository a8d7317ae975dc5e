// The Kafka offsets clients see, through the replicated partition (GroupDriver on SimDisk, 3
// brokers, no random faults). Raft's own entries (every new leader's no-op, membership changes)
// take Raft offsets but no Kafka offset: an empty partition has high watermark 0, the first
// record produced gets Kafka offset 0, and data records stay dense however many elections and
// membership changes come between them; fetched batches carry their Kafka offsets; the mapping
// survives restarts, retention (snapshot points carry the hidden count) and snapshot installs.
// The checker's kafka-offsets and kafka-hwm-monotonic properties hold throughout.
#include <cstdint>
#include <vector>

#include "core/record/batch_header.h"
#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

using raft::driver::GroupDriver;

ClusterOptions Quiet(uint64_t seed) {
  ClusterOptions options = QuietOptions(seed);
  options.batches_per_second = 100;
  return options;
}

GroupDriver* Group(Cluster& cluster, raft::NodeId node) { return cluster.node(node)->group(1); }

// Reads every record batch `node` serves from Kafka offset 0 to its high watermark; checks the
// batches are contiguous in Kafka offsets and returns the record count.
int64_t FetchEverything(Cluster& cluster, raft::NodeId node) {
  GroupDriver* g = Group(cluster, node);
  int64_t next = g->kafka_log_start_offset();
  while (next < g->kafka_high_watermark()) {
    std::optional<absl::StatusOr<log::KafkaReadResult>> got;
    g->ReadKafka(next, 64 * kKiB, [&](absl::StatusOr<log::KafkaReadResult> r) { got = std::move(r); });
    while (!got.has_value()) cluster.world().RunFor(Duration::Milliseconds(1));
    EXPECT_TRUE(got->ok()) << got->status();
    if (!got->ok() || (*got)->batch_count == 0) break;
    std::span<const uint8_t> bytes((*got)->bytes);
    while (!bytes.empty()) {
      const absl::StatusOr<record::BatchHeader> h = record::ParseBatchHeader(bytes);
      EXPECT_TRUE(h.ok());
      if (!h.ok()) return next;
      EXPECT_FALSE(h->is_control()) << "a Raft entry reached a Kafka fetch";
      EXPECT_EQ(h->base_offset, next) << "Kafka offsets not dense";
      next = h->last_offset() + 1;
      bytes = bytes.subspan(h->size_bytes());
    }
    EXPECT_EQ(next, (*got)->next_kafka_offset);
  }
  return next;
}

TEST(KafkaOffsetsTest, EmptyPartitionHasHighWatermarkZeroAndTheFirstRecordGetsOffsetZero) {
  Cluster cluster(Quiet(101));
  cluster.world().RunFor(Duration::Seconds(2));  // elections, no-ops, nothing produced
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  for (raft::NodeId n : {1, 2, 3}) {
    EXPECT_GE(Group(cluster, n)->log_last_offset(), 0) << "the no-op takes a Raft offset";
    EXPECT_EQ(Group(cluster, n)->kafka_high_watermark(), 0) << "node " << n;
    EXPECT_EQ(Group(cluster, n)->kafka_log_start_offset(), 0);
  }
  ASSERT_TRUE(cluster.ProposeOne(1));
  cluster.world().RunFor(Duration::Milliseconds(500));
  GroupDriver* g = Group(cluster, leader);
  const int64_t raft_last = g->log_last_offset();
  EXPECT_GT(g->kafka_high_watermark(), 0);
  EXPECT_EQ(FetchEverything(cluster, leader), g->kafka_high_watermark());
  EXPECT_LT(g->kafka_high_watermark(), raft_last + 1) << "the no-op must not count";
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->detail;
}

TEST(KafkaOffsetsTest, OffsetsStayDenseAcrossElectionsRestartsAndSnapshots) {
  ClusterOptions options = Quiet(102);
  options.retention_offsets = 32;
  options.segment_size_bytes_max = 4 * kKiB;
  Cluster cluster(options);
  cluster.StartWorkload();
  for (int round = 0; round < 6; ++round) {
    cluster.world().RunFor(Duration::Seconds(1));
    const raft::NodeId leader = cluster.LeaderOf(1);
    if (leader != raft::kNoNode) {
      static_cast<void>(Group(cluster, leader)->TransferLeadership(leader % 3 + 1));
    }
  }
  // A follower down while retention moves past its log: it comes back through a snapshot.
  const raft::NodeId victim = cluster.LeaderOf(1) == 3 ? 2 : 3;
  const int64_t hwm_before = Group(cluster, victim)->kafka_high_watermark();
  cluster.world().Crash(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.world().Restart(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(1));
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  const int64_t hwm = Group(cluster, leader)->kafka_high_watermark();
  EXPECT_GE(Group(cluster, victim)->kafka_high_watermark(), hwm_before);
  for (raft::NodeId n : {1, 2, 3}) {
    GroupDriver* g = Group(cluster, n);
    EXPECT_EQ(g->kafka_high_watermark(), hwm) << "node " << n;
    EXPECT_GT(g->kafka_log_start_offset(), 0) << "retention moved the log start";
    EXPECT_EQ(FetchEverything(cluster, n), hwm) << "node " << n;
    // The Kafka offset of the Raft log end: the Raft offsets of hidden entries are not counted.
    EXPECT_LT(*g->KafkaOffsetOf(g->log_last_offset() + 1), g->log_last_offset() + 1);
  }
  EXPECT_GT(cluster.recovery_counts().count("snapshot installed"), 0u);
  // Every acknowledged record is in the Kafka range: the leader has served them all.
  EXPECT_GE(hwm, static_cast<int64_t>(cluster.checker().acked_count()));
}

}  // namespace
}  // namespace eddy::sim::cluster
