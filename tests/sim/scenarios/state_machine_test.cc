// Applied-state machines on replicas (raft/driver/state_machine.h), through the whole stack:
// 3 brokers on SimDisk, every replica hosting a HashMachine (sim/cluster/hash_machine.h: a hash
// chain over every applied entry, which refuses an entry that does not follow the last one).
// The checker compares every replica's machine state at every offset it reaches, by Apply or by
// Restore ("machine-states-agree"), besides all its usual properties. The stories:
//   - retention moves the snapshot point; a follower down meanwhile comes back through a
//     snapshot whose state arrives in many small chunks, and ends with the leader's state;
//   - a restarted replica resumes apply after its machine's durable offset, not the snapshot;
//   - a crash after the snapshot file is durable but before the point is saved: the replica
//     reopens on its old point and old file, and catches up;
//   - forged snapshot chunks (wrong sizes, out of order, wrong bytes) never crash a replica nor
//     give it a wrong state.
#include <cstdint>
#include <string_view>

#include "core/base/random.h"
#include "gtest/gtest.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/hash_machine.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

using raft::driver::GroupDriver;

GroupDriver* Group(Cluster& cluster, raft::NodeId node) { return cluster.node(node)->group(1); }

HashMachine* Machine(Cluster& cluster, raft::NodeId node) {
  GroupDriver* g = Group(cluster, node);
  return g == nullptr ? nullptr : static_cast<HashMachine*>(g->state_machine());
}

ClusterOptions MachineOptions(uint64_t seed) {
  ClusterOptions options = QuietOptions(seed);
  options.state_machines = true;
  options.retention_offsets = 32;
  options.segment_size_bytes_max = 4 * kKiB;
  options.snapshot_chunk_size_bytes_max = 256;  // a snapshot of a few KiB: many chunks
  return options;
}

void ExpectHealthy(Cluster& cluster) {
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

// Stops the workload, lets every replica catch up, and expects every machine at the leader's
// applied offset with the leader's digest.
void ExpectMachinesAgree(Cluster& cluster) {
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  ExpectHealthy(cluster);
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  HashMachine* lm = Machine(cluster, leader);
  ASSERT_NE(lm, nullptr);
  EXPECT_EQ(lm->applied_offset(), Group(cluster, leader)->applied_offset());
  for (raft::NodeId n : {1, 2, 3}) {
    HashMachine* m = Machine(cluster, n);
    ASSERT_NE(m, nullptr) << "node " << n << " not running";
    EXPECT_EQ(m->applied_offset(), lm->applied_offset()) << "node " << n;
    EXPECT_EQ(m->digest(), lm->digest()) << "node " << n;
  }
}

uint64_t Count(Cluster& cluster, const char* name) {
  auto it = cluster.recovery_counts().find(name);
  return it == cluster.recovery_counts().end() ? 0 : it->second;
}

TEST(StateMachineTest, ALaggingFollowerInstallsTheLeadersStateInChunks) {
  Cluster cluster(MachineOptions(301));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  const raft::NodeId leader = cluster.LeaderOf(1);
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId victim = leader % 3 + 1;
  cluster.world().Crash(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(3));  // retention moves far past the victim's log
  ASSERT_GT(Group(cluster, leader)->log_start_offset(), 0);
  cluster.world().Restart(static_cast<runtime::NodeId>(victim));
  cluster.world().RunFor(Duration::Seconds(3));
  ExpectMachinesAgree(cluster);
  EXPECT_GT(Count(cluster, "snapshot installed"), 0u);
  EXPECT_GT(Count(cluster, GroupDriver::kSnapshotFileWrittenEvent), 0u);
  // A snapshot of the HashMachine is thousands of bytes: 256-byte chunks, many per install.
  EXPECT_GT(Count(cluster, "snapshot sent"), 4u);
  EXPECT_GT(Group(cluster, victim)->log_start_offset(), 0);
}

TEST(StateMachineTest, ARestartResumesAfterTheMachinesDurableOffset) {
  ClusterOptions options = MachineOptions(302);
  options.retention_offsets = 200;  // the snapshot point stays well behind the durable offset
  options.machine_persist_every = 4;
  Cluster cluster(options);
  cluster.StartWorkload();
  for (raft::NodeId n : {1, 2, 3}) {
    cluster.world().RunFor(Duration::Seconds(2));
    cluster.world().Crash(static_cast<runtime::NodeId>(n));
    cluster.world().RunFor(Duration::Milliseconds(300));
    cluster.world().Restart(static_cast<runtime::NodeId>(n));
  }
  cluster.world().RunFor(Duration::Seconds(1));
  ExpectMachinesAgree(cluster);
  EXPECT_GT(Count(cluster, "state machine resumes after its durable offset"), 0u);
}

TEST(StateMachineTest, WithoutDurableStateEveryOpenRestoresTheSnapshot) {
  ClusterOptions options = MachineOptions(303);
  options.machine_persist_every = 0;
  Cluster cluster(options);
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(3));
  cluster.world().Crash(2);
  cluster.world().RunFor(Duration::Milliseconds(300));
  cluster.world().Restart(2);
  cluster.world().RunFor(Duration::Seconds(1));
  ExpectMachinesAgree(cluster);
  EXPECT_EQ(Count(cluster, "state machine resumes after its durable offset"), 0u);
  EXPECT_GT(Count(cluster, "state machine restored from the snapshot point"), 3u);
}

TEST(StateMachineTest, ACrashBetweenTheSnapshotFileAndThePointSaveReopensOnTheOldPoint) {
  Cluster cluster(MachineOptions(304));
  int crashes = 0;
  cluster.SetEventHook([&](runtime::NodeId node, raft::driver::GroupId, const char* name) {
    if (crashes >= 3 || std::string_view(name) != GroupDriver::kSnapshotFileWrittenEvent) return;
    ++crashes;
    // The point's save has just been submitted; the crash lands before it is durable.
    cluster.world().loop().ScheduleAfter(Duration::Zero(), [&cluster, node] {
      cluster.world().Crash(node);
      cluster.world().loop().ScheduleAfter(Duration::Milliseconds(300),
                                           [&cluster, node] { cluster.world().Restart(node); });
    });
  });
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(8));
  cluster.SetEventHook(nullptr);
  EXPECT_EQ(crashes, 3);
  ExpectMachinesAgree(cluster);
  EXPECT_GT(Count(cluster, "state machine restored from the snapshot point"), 0u);
}

TEST(StateMachineTest, ForgedSnapshotChunksNeverCrashAReplicaNorChangeItsState) {
  Cluster cluster(MachineOptions(305));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  Random random(305);
  for (int i = 0; i < 400; ++i) {
    const raft::NodeId leader = cluster.LeaderOf(1);
    if (leader == raft::kNoNode) {
      cluster.world().RunFor(Duration::Milliseconds(50));
      continue;
    }
    const raft::NodeId target = (leader + random.Uniform(2)) % 3 + 1;
    GroupDriver* g = Group(cluster, target);
    GroupDriver* lg = Group(cluster, leader);
    if (g == nullptr || !g->running() || lg == nullptr || !lg->running()) continue;
    raft::Message m;
    m.set_type(raft::MSG_SNAPSHOT);
    m.set_from(leader);
    m.set_to(target);
    m.set_term(lg->raft()->term());
    // The leader's real snapshot point (a forged point beyond the log would be a Byzantine
    // leader, outside Raft's model), or a committed one, with forged sizes, orders and bytes.
    raft::SnapshotMeta meta = lg->raft()->log().SnapshotPoint();
    meta.set_size_bytes(random.Uniform(3) == 0 ? random.Uniform(1 << 26) : random.Uniform(4096));
    meta.set_state_crc32c(static_cast<uint32_t>(random.Next()));
    if (random.Uniform(2) == 0) meta.set_last_offset(g->raft()->commit_offset());
    const uint64_t offset = random.Uniform(2) == 0 ? 0 : random.Uniform(meta.size_bytes() + 2);
    const uint64_t size = random.Uniform(1024);
    m.set_chunk_offset_bytes(offset);
    m.set_chunk_size_bytes(size);
    const uint64_t data_size = random.Uniform(4) == 0 ? random.Uniform(1024) : size;
    m.set_data(std::string(data_size, static_cast<char>(random.Uniform(256))));
    *m.mutable_snapshot() = meta;
    g->Receive(std::move(m));
    cluster.world().RunFor(Duration::Milliseconds(random.Uniform(20) + 1));
  }
  ExpectMachinesAgree(cluster);
}

// The random workload with swarm faults (crashes, media damage, partitions, membership cycles
// with wipes) and machines on every replica: every checker property, machine-states-agree
// included, holds, and the cluster converges after the faults heal.
TEST(StateMachineTest, SwarmRunsKeepEveryMachineInAgreement) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    ClusterOptions options;
    options.seed = seed;
    options.duration = Duration::Seconds(20);
    options.state_machines = true;
    options.machine_persist_every = 8;
    options.retention_offsets = 40;
    options.segment_size_bytes_max = 4 * kKiB;
    options.snapshot_chunk_size_bytes_max = 512;
    Cluster cluster(options);
    const RunResult result = cluster.Run();
    EXPECT_FALSE(result.violation.has_value())
        << result.violation->property << ": " << result.violation->detail << "\n  "
        << result.replay_command;
  }
}

}  // namespace
}  // namespace eddy::sim::cluster
