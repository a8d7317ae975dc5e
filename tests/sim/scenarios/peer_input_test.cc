// Forged and buggy peer input against running NodeDrivers on SimDisk (3 brokers, no random
// faults). Each test sends envelopes a broken or hostile peer could send — acknowledgements and
// commit offsets inside a batch, terms no batch header can carry, offsets near INT64_MAX, a
// duplicated stale rejection, a membership naming a second replica on one node — and shows the
// broker refuses them with a counted status instead of aborting, and keeps serving. The last
// test is a seeded fuzz loop: thousands of mutated envelopes (interesting field values and raw
// byte flips of real ones) into a live cluster; the run must simply survive (under ASan/UBSan in
// CI). Forged input may legitimately break Raft's guarantees (a peer lying in its own term is
// outside the fault model), so only the fuzz test does not assert the checker.
#include <cstdint>
#include <limits>
#include <vector>

#include "core/base/random.h"
#include "gtest/gtest.h"
#include "raft/driver/driver.pb.h"
#include "raft/driver/entry_batch.h"
#include "raft/driver/node_driver.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/scenarios/scenario_support.h"

namespace eddy::sim::cluster {
namespace {

using raft::driver::GroupDriver;

ClusterOptions Quiet(uint64_t seed) { return QuietOptions(seed); }

GroupDriver* Group(Cluster& cluster, raft::NodeId node) { return cluster.node(node)->group(1); }

// Sends `message` for group `group` from node `from`'s transport to node `to`.
void SendForged(Cluster& cluster, runtime::NodeId from, runtime::NodeId to, raft::Message message,
                raft::driver::GroupId group = 1) {
  raft::driver::Envelope envelope;
  raft::driver::GroupMessage* gm = envelope.add_messages();
  gm->set_group_id(group);
  *gm->mutable_message() = std::move(message);
  const std::string bytes = envelope.SerializeAsString();
  cluster.world().node(from).transport().SendToPeer(
      to, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

struct Roles {
  raft::NodeId leader = raft::kNoNode;
  raft::NodeId follower = raft::kNoNode;
};

// Runs the workload for a while and stops it: a leader, and batches of several records.
Roles Settle(Cluster& cluster) {
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(2));
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Milliseconds(500));
  Roles roles;
  roles.leader = cluster.LeaderOf(1);
  roles.follower = roles.leader == 1 ? 2 : 1;
  return roles;
}

raft::Message Base(raft::MessageType type, raft::NodeId from, raft::NodeId to, raft::Term term) {
  raft::Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_term(term);
  return m;
}

void ExpectHealthy(Cluster& cluster, raft::NodeId leader) {
  EXPECT_EQ(cluster.LeaderOf(1), leader);
  const uint64_t acked = cluster.checker().acked_count();
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(1));
  cluster.StopWorkload();
  EXPECT_GT(cluster.checker().acked_count(), acked + 50) << "the group stopped serving";
  ASSERT_FALSE(cluster.checker().failed()) << cluster.checker().violation()->property << ": "
                                           << cluster.checker().violation()->detail;
}

TEST(PeerInputTest, AcknowledgementInsideABatchIsRefusedNotAborted) {
  Cluster cluster(Quiet(71));
  const Roles r = Settle(cluster);
  GroupDriver* leader = Group(cluster, r.leader);
  const raft::Term term = leader->raft()->term();
  const uint64_t invalid_before = leader->raft()->counters().invalid_messages;
  // A data batch has 1..4 records: some offset below the log end lies inside one.
  int sent = 0;
  for (int64_t offset = leader->log_last_offset(); offset > leader->log_last_offset() - 40;
       --offset) {
    raft::Message ack = Base(raft::MSG_APPEND_RESP, r.follower, r.leader, term);
    ack.set_match_offset(offset);
    SendForged(cluster, r.follower, r.leader, ack);
    ++sent;
  }
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_NE(leader->raft(), nullptr) << "the leader stopped";
  EXPECT_GT(leader->raft()->counters().invalid_messages, invalid_before);
  EXPECT_EQ(leader->stats().failures, 0u);
  ExpectHealthy(cluster, r.leader);
}

TEST(PeerInputTest, HeartbeatCommitInsideABatchIsClampedToAnEntryEnd) {
  Cluster cluster(Quiet(72));
  const Roles r = Settle(cluster);
  GroupDriver* follower = Group(cluster, r.follower);
  const raft::Term term = follower->raft()->term();
  for (int64_t offset = follower->log_last_offset(); offset > follower->log_last_offset() - 40;
       --offset) {
    raft::Message hb = Base(raft::MSG_HEARTBEAT, r.leader, r.follower, term);
    hb.set_commit_offset(offset);
    SendForged(cluster, r.leader, r.follower, hb);
  }
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_NE(follower->raft(), nullptr);
  EXPECT_EQ(follower->stats().failures, 0u);
  ExpectHealthy(cluster, r.leader);
}

TEST(PeerInputTest, TermBeyondTheBatchHeaderIsRefusedAndNeverPersisted) {
  Cluster cluster(Quiet(73));
  const Roles r = Settle(cluster);
  GroupDriver* follower = Group(cluster, r.follower);
  const raft::Term term = follower->raft()->term();
  const uint64_t invalid_before = follower->raft()->counters().invalid_messages;
  for (raft::Term forged : {raft::kTermMax + 1, raft::Term{1} << 40, UINT64_MAX}) {
    SendForged(cluster, r.leader, r.follower,
               Base(raft::MSG_HEARTBEAT, r.leader, r.follower, forged));
    raft::Message vote = Base(raft::MSG_VOTE, r.leader, r.follower, forged);
    vote.set_last_log_offset(follower->log_last_offset() + 10);
    vote.set_last_log_term(forged);
    SendForged(cluster, r.leader, r.follower, vote);
  }
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_NE(follower->raft(), nullptr);
  EXPECT_EQ(follower->raft()->term(), term);
  EXPECT_GE(follower->raft()->counters().invalid_messages, invalid_before + 6);
  ExpectHealthy(cluster, r.leader);
}

TEST(PeerInputTest, OffsetsNearInt64MaxAreRefused) {
  Cluster cluster(Quiet(74));
  const Roles r = Settle(cluster);
  GroupDriver* follower = Group(cluster, r.follower);
  GroupDriver* leader = Group(cluster, r.leader);
  const raft::Term term = leader->raft()->term();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t offset : {kMax, kMax - 1, raft::kOffsetMax + 1, std::numeric_limits<int64_t>::min()}) {
    raft::Message append = Base(raft::MSG_APPEND, r.leader, r.follower, term);
    append.set_prev_log_offset(offset);
    append.set_commit_offset(offset);
    SendForged(cluster, r.leader, r.follower, append);
    raft::Message ack = Base(raft::MSG_APPEND_RESP, r.follower, r.leader, term);
    ack.set_match_offset(offset);
    SendForged(cluster, r.follower, r.leader, ack);
    raft::Message reject = Base(raft::MSG_APPEND_RESP, r.follower, r.leader, term);
    reject.set_reject(true);
    reject.set_rejected_offset(offset);
    reject.set_hint_offset(offset);
    SendForged(cluster, r.follower, r.leader, reject);
  }
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_NE(follower->raft(), nullptr);
  ASSERT_NE(leader->raft(), nullptr);
  EXPECT_EQ(leader->stats().failures + follower->stats().failures, 0u);
  ExpectHealthy(cluster, r.leader);
}

TEST(PeerInputTest, DuplicatedStaleRejectionDoesNotRestartTheLeader) {
  Cluster cluster(Quiet(75));
  const Roles r = Settle(cluster);
  GroupDriver* leader = Group(cluster, r.leader);
  const raft::Progress* pr = leader->raft()->progress(r.follower);
  ASSERT_NE(pr, nullptr);
  ASSERT_EQ(pr->state, raft::Progress::State::kReplicate);
  ASSERT_GT(pr->match_offset, 10);
  // A late duplicate of an early probe's rejection: it rejected an offset the follower has
  // since matched, with a hint far below the match.
  raft::Message reject = Base(raft::MSG_APPEND_RESP, r.follower, r.leader, leader->raft()->term());
  reject.set_reject(true);
  reject.set_rejected_offset(pr->match_offset - 5);
  reject.set_hint_offset(0);
  reject.set_hint_term(leader->TermAt(0).value_or(1));
  SendForged(cluster, r.follower, r.leader, reject);
  cluster.world().RunFor(Duration::Milliseconds(100));
  ASSERT_NE(leader->raft(), nullptr) << "a stale rejection restarted the leader";
  EXPECT_EQ(leader->stats().failures, 0u);
  EXPECT_EQ(cluster.recovery_counts().count(
                "leader restarted to reset a damaged follower's progress"),
            0u);
  ExpectHealthy(cluster, r.leader);
}

TEST(PeerInputTest, MembershipNamingASecondReplicaOnTheLeadersNodeIsDroppedAtSend) {
  Cluster cluster(Quiet(76));
  const Roles r = Settle(cluster);
  GroupDriver* leader = Group(cluster, r.leader);
  // A buggy controller adds another incarnation of the leader's own node as a learner: the
  // leader would address messages to itself.
  const raft::NodeId twin = raft::driver::ReplicaId(static_cast<uint32_t>(r.leader), 7);
  ASSERT_TRUE(leader->ProposeConfChange(raft::CONF_ADD_LEARNER, twin).ok());
  cluster.world().RunFor(Duration::Seconds(1));
  EXPECT_GT(cluster.node(r.leader)->stats().messages_to_self_dropped, 0u);
  ASSERT_NE(leader->raft(), nullptr);
  ASSERT_TRUE(leader->ProposeConfChange(raft::CONF_REMOVE_NODE, twin).ok());
  cluster.world().RunFor(Duration::Seconds(1));
  ExpectHealthy(cluster, r.leader);
}

// raft/driver/node_driver.h, ANSWERS FOR ABSENT REPLICAS: a node answers a fence query for a
// replica id it holds nothing of, and stays silent when the id is not one it could have given.
TEST(PeerInputTest, FenceQueriesForAbsentReplicasAreAnsweredOnlyWhenSure) {
  Cluster cluster(Quiet(78));
  Settle(cluster);
  const raft::driver::NodeStats& node2 = cluster.node(2)->stats();
  auto query = [](raft::NodeId to) {
    raft::Message m = Base(raft::MSG_FENCE_QUERY, 1, to, 0);
    m.set_fence_query_id(5);
    return m;
  };
  // Group 9 never existed on node 2: its replica 2 has an empty log.
  SendForged(cluster, 1, 2, query(2), 9);
  cluster.world().RunFor(Duration::Milliseconds(100));
  EXPECT_EQ(node2.fence_queries_answered_absent, 1u);
  // A later incarnation than node 2's replica of group 1 (none was ever made), and a replica of
  // node 3 asked at node 2: not node 2's to answer for.
  const uint64_t unknown = node2.unknown_group_messages;
  SendForged(cluster, 1, 2, query(raft::driver::ReplicaId(2, 5)), 1);
  SendForged(cluster, 1, 2, query(3), 9);
  cluster.world().RunFor(Duration::Milliseconds(100));
  EXPECT_EQ(node2.fence_queries_answered_absent, 1u);
  EXPECT_EQ(node2.unknown_group_messages, unknown + 2);
  // The replica itself answers for its own id (GroupDriver), not the node.
  const uint64_t sent = Group(cluster, 2)->stats().fence_reports_sent;
  SendForged(cluster, 1, 2, query(2), 1);
  cluster.world().RunFor(Duration::Milliseconds(100));
  EXPECT_EQ(Group(cluster, 2)->stats().fence_reports_sent, sent + 1);
  EXPECT_EQ(node2.fence_queries_answered_absent, 1u);
}

// A node erasing a replica's state and files (a deleted group, erased as the node's broker
// starts again) cannot yet vouch that the replica acknowledged nothing: until the erasure is
// durable a crash brings the state back. It stays silent until then, and answers after.
TEST(PeerInputTest, NoAnswerForAnAbsentReplicaWhileItsErasureIsInFlight) {
  Cluster cluster(Quiet(79));
  Settle(cluster);
  cluster.world().Crash(2);
  cluster.DeleteGroup(1);
  // A slow disk on node 2 keeps the erasure in flight for a while after its store opens.
  cluster.world().node(2).sim_disk().SetFaults(
      DiskFaultOptions{.extra_latency = Duration::Milliseconds(20)});
  cluster.world().Restart(2);
  constexpr const char* kErased = "deleted group's files erased before its node's broker started";
  auto erased = [&cluster] {
    const auto& counts = cluster.recovery_counts();
    const auto it = counts.find(kErased);
    return it != counts.end() && it->second > 0;
  };
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(5), [&cluster] {
    return cluster.node(2) != nullptr && cluster.node(2)->state_store().open();
  }));
  raft::Message query = Base(raft::MSG_FENCE_QUERY, 1, 2, 0);
  query.set_fence_query_id(5);
  SendForged(cluster, 1, 2, query, 1);
  cluster.world().RunFor(Duration::Milliseconds(5));
  ASSERT_FALSE(erased()) << "the erasure finished before the query arrived";
  EXPECT_EQ(cluster.node(2)->group(1), nullptr);
  EXPECT_EQ(cluster.node(2)->stats().fence_queries_answered_absent, 0u);
  ASSERT_TRUE(RunUntil(cluster, Duration::Seconds(5), erased));
  SendForged(cluster, 1, 2, query, 1);
  cluster.world().RunFor(Duration::Milliseconds(100));
  EXPECT_EQ(cluster.node(2)->stats().fence_queries_answered_absent, 1u);
}

// The owner channel rides the Raft envelopes: payloads reach the peer's owner in order with
// their sender, alongside a running workload; a send to itself or one too large is refused;
// what arrives before a handler is set is counted.
TEST(PeerInputTest, OwnerMessagesReachThePeersOwnerInOrder) {
  Cluster cluster(Quiet(80));
  cluster.StartWorkload();
  cluster.world().RunFor(Duration::Seconds(1));
  std::vector<std::pair<runtime::NodeId, std::string>> got;
  cluster.node(2)->SetOwnerHandler([&got](runtime::NodeId from, std::string payload) {
    got.emplace_back(from, std::move(payload));
  });
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(cluster.node(1)->SendOwnerMessage(2, "m" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(cluster.node(3)->SendOwnerMessage(2, "from three").ok());
  ASSERT_TRUE(cluster.node(1)->SendOwnerMessage(3, "nobody listens").ok());
  EXPECT_EQ(cluster.node(1)->SendOwnerMessage(1, "self").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster.node(1)
                ->SendOwnerMessage(2, std::string(runtime::kMessageSizeBytesMax, 'x'))
                .code(),
            absl::StatusCode::kInvalidArgument);
  const uint64_t acked = cluster.checker().acked_count();
  cluster.world().RunFor(Duration::Seconds(1));
  EXPECT_GT(cluster.checker().acked_count(), acked);  // Raft traffic unharmed
  std::vector<std::string> from_one;
  for (const auto& [from, payload] : got) {
    if (from == 1) from_one.push_back(payload);
  }
  EXPECT_EQ(from_one, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(cluster.node(1)->stats().owner_messages_sent, 6u);
  EXPECT_EQ(cluster.node(2)->stats().owner_messages_received, 6u);
  EXPECT_EQ(cluster.node(3)->stats().owner_messages_unhandled, 1u);
  cluster.StopWorkload();
  cluster.world().RunFor(Duration::Seconds(1));
  ExpectSafe(cluster);
}

TEST(PeerInputTest, AddGroupReportsBadRequestsAsStatuses) {
  Cluster cluster(Quiet(77));
  Settle(cluster);
  raft::driver::NodeDriver* node = cluster.node(1);
  raft::driver::GroupOptions again;
  again.group_id = 1;
  again.replica_id = 1;
  again.voters = {1, 2, 3};
  EXPECT_EQ(node->AddGroup(again).code(), absl::StatusCode::kAlreadyExists);
  raft::driver::GroupOptions foreign = again;
  foreign.group_id = 9;
  foreign.replica_id = 2;  // a replica of node 2, not of node 1
  EXPECT_EQ(node->AddGroup(foreign).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(node->group(9), nullptr);
}

// Interesting values for a forged field: around the leader's log, entry ends and insides, and
// the extremes.
int64_t DrawOffset(Random& random, int64_t last) {
  switch (random.Uniform(6)) {
    case 0:
      return last - static_cast<int64_t>(random.Uniform(8));
    case 1:
      return last + static_cast<int64_t>(random.Uniform(8));
    case 2:
      return static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(last + 2))) - 1;
    case 3:
      return std::numeric_limits<int64_t>::max() - static_cast<int64_t>(random.Uniform(3));
    case 4:
      return -2 - static_cast<int64_t>(random.Uniform(3));
    default:
      return raft::kOffsetMax + static_cast<int64_t>(random.Uniform(3)) - 1;
  }
}

raft::Term DrawTerm(Random& random, raft::Term term) {
  switch (random.Uniform(4)) {
    case 0:
      return term;
    case 1:
      return term + random.Uniform(3);
    case 2:
      return raft::kTermMax + random.Uniform(3) - 1;
    default:
      return random.Next();
  }
}

raft::Message DrawMessage(Random& random, raft::NodeId from, raft::NodeId to, raft::Term term,
                          int64_t last) {
  raft::Message m = Base(static_cast<raft::MessageType>(random.Uniform(14)), from,
                         random.OneIn(8) ? random.Next() : to, DrawTerm(random, term));
  m.set_last_log_offset(DrawOffset(random, last));
  m.set_last_log_term(DrawTerm(random, term));
  m.set_reject(random.OneIn(2));
  m.set_prev_log_offset(DrawOffset(random, last));
  m.set_prev_log_term(DrawTerm(random, term));
  m.set_commit_offset(DrawOffset(random, last));
  m.set_match_offset(DrawOffset(random, last));
  m.set_rejected_offset(DrawOffset(random, last));
  m.set_hint_offset(DrawOffset(random, last));
  m.set_hint_term(DrawTerm(random, term));
  m.set_read_context(random.Uniform(4));
  m.mutable_snapshot()->set_last_offset(DrawOffset(random, last));
  m.mutable_snapshot()->set_term(DrawTerm(random, term));
  m.set_chunk_offset_bytes(random.Uniform(3));
  m.set_chunk_size_bytes(random.Uniform(3));
  const int entries = static_cast<int>(random.Uniform(3));
  // Saturating: the drawn offsets reach INT64_MAX (the test must not overflow where the broker
  // must not).
  const auto next_after = [](int64_t offset) {
    return offset == std::numeric_limits<int64_t>::max() ? offset : offset + 1;
  };
  int64_t base = next_after(m.prev_log_offset());
  for (int i = 0; i < entries; ++i) {
    raft::EntryMeta meta;
    meta.term = random.OneIn(2) ? m.term() : DrawTerm(random, term);
    meta.base_offset = random.OneIn(4) ? DrawOffset(random, last) : base;
    meta.last_offset = meta.base_offset;
    meta.type = random.OneIn(2) ? raft::ENTRY_NOOP : raft::ENTRY_CONF_CHANGE;
    meta.conf_change_type = static_cast<raft::ConfChangeType>(random.Uniform(3));
    meta.conf_change_node = random.OneIn(2) ? from : random.Next();
    raft::Entry* e = m.add_entries();
    meta.ToProto(e);
    if (meta.base_offset >= 0 && meta.term <= raft::kTermMax) {
      const std::vector<uint8_t> bytes = raft::driver::EncodeControlEntry(meta);
      e->set_data(std::string(bytes.begin(), bytes.end()));
    }
    base = next_after(meta.last_offset);
  }
  return m;
}

TEST(PeerInputTest, ThousandsOfMutatedEnvelopesNeverCrashABroker) {
  Cluster cluster(Quiet(78));
  const Roles r = Settle(cluster);
  Random random(78);
  cluster.StartWorkload();
  uint64_t sent = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 20; ++i) {
      const runtime::NodeId from = 1 + random.Uniform(3);
      const runtime::NodeId to = from % 3 + 1;
      GroupDriver* target = Group(cluster, to);
      const raft::Term term = target->raft() != nullptr ? target->raft()->term() : 1;
      const int64_t last = target->log_last_offset();
      raft::Message m = DrawMessage(random, from, to, term, last);
      raft::driver::Envelope envelope;
      raft::driver::GroupMessage* gm = envelope.add_messages();
      gm->set_group_id(random.OneIn(8) ? random.Next() : 1);
      *gm->mutable_message() = std::move(m);
      std::string bytes = envelope.SerializeAsString();
      if (random.OneIn(4) && !bytes.empty()) {
        // Raw damage too: flip a few bytes (the envelope may no longer parse).
        for (uint64_t flips = 1 + random.Uniform(3); flips > 0; --flips) {
          bytes[random.Uniform(bytes.size())] ^= static_cast<char>(1 + random.Uniform(255));
        }
      }
      cluster.world().node(from).transport().SendToPeer(
          to, std::vector<uint8_t>(bytes.begin(), bytes.end()));
      ++sent;
    }
    cluster.world().RunFor(Duration::Milliseconds(20));
  }
  cluster.StopWorkload();
  EXPECT_EQ(sent, 4000u);
  uint64_t refused = 0;
  for (runtime::NodeId id : {1, 2, 3}) {
    refused += cluster.node(id)->stats().malformed_envelopes +
               cluster.node(id)->stats().unknown_group_messages +
               Group(cluster, id)->stats().invalid_messages;
    if (Group(cluster, id)->raft() != nullptr) {
      refused += Group(cluster, id)->raft()->counters().invalid_messages;
    }
  }
  EXPECT_GT(refused, 1000u) << "the forged input was not refused and counted";
  static_cast<void>(r);
}

}  // namespace
}  // namespace eddy::sim::cluster
