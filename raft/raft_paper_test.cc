// One test per claim of the Raft paper's Figure 2 (the rules) and Figure 3 (the guarantees),
// each citing the section it checks (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm", 2014). Rules are checked on a single RawNode fed hand-made messages
// (in offset terms: an entry is [base, last], prev_log_offset is the previous entry's last
// offset); guarantees are checked on a testing::Cluster under elections, crashes and
// partitions, with its checker verifying them after every step.
#include <memory>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/status_macros.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "raft/memory_log.h"
#include "raft/raw_node.h"
#include "raft/testing/cluster.h"

namespace eddy::raft {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

// A single node 1 in a group of three voters, over its own MemoryLog.
class NodeFixture : public ::testing::Test {
 protected:
  void Start(const std::vector<Entry>& entries, Term term, NodeId vote = kNoNode) {
    SnapshotMeta snap;
    snap.set_last_offset(kNoOffset);
    for (NodeId v : {1, 2, 3}) snap.mutable_conf_state()->add_voters(v);
    log_ = std::make_unique<MemoryLog>(snap);
    log_->Append(entries);
    HardState hs = RawNode::InitialHardState();
    hs.set_term(term);
    hs.set_vote(vote);
    Config config;
    config.id = 1;
    config.pre_vote = false;
    config.check_quorum = false;
    node_ = std::make_unique<RawNode>(config, log_.get(), hs, Random(7));
  }

  static Entry E(Term term, int64_t base, int64_t last) {
    Entry e;
    e.set_term(term);
    e.set_base_offset(base);
    e.set_last_offset(last);
    return e;
  }

  // Processes every Ready as a driver would, returning the messages sent.
  std::vector<Message> Drain() {
    std::vector<Message> sent;
    while (node_->HasReady()) {
      Ready rd = node_->TakeReady();
      if (rd.snapshot) log_->InstallSnapshot(*rd.snapshot);
      log_->Append(rd.entries);
      for (const Message& m : rd.messages) sent.push_back(m);
      node_->Advance(rd);
    }
    return sent;
  }

  Message Msg(MessageType type, NodeId from, Term term) {
    Message m;
    m.set_type(type);
    m.set_from(from);
    m.set_to(1);
    m.set_term(term);
    return m;
  }

  Message Append(NodeId from, Term term, int64_t prev, Term prev_term,
                 const std::vector<Entry>& entries, int64_t commit) {
    Message m = Msg(MSG_APPEND, from, term);
    m.set_prev_log_offset(prev);
    m.set_prev_log_term(prev_term);
    for (const Entry& e : entries) *m.add_entries() = e;
    m.set_commit_offset(commit);
    return m;
  }

  Message Vote(NodeId from, Term term, int64_t last_offset, Term last_term) {
    Message m = Msg(MSG_VOTE, from, term);
    m.set_last_log_offset(last_offset);
    m.set_last_log_term(last_term);
    return m;
  }

  void BecomeLeader() {
    ASSERT_THAT(node_->Campaign(), IsOk());
    Drain();
    Message grant = Msg(MSG_VOTE_RESP, 2, node_->term());
    ASSERT_THAT(node_->Step(grant), IsOk());
    ASSERT_EQ(node_->role(), Role::kLeader);
  }

  std::unique_ptr<MemoryLog> log_;
  std::unique_ptr<RawNode> node_;
};

// --- Figure 2, "Rules for Servers": all servers -------------------------------------------

TEST_F(NodeFixture, NewerTermInAnyRpcMakesUsAFollowerOfIt_5_1) {
  Start({}, 1);
  BecomeLeader();  // term 2
  EXPECT_THAT(node_->Step(Msg(MSG_HEARTBEAT, 3, 5)), IsOk());
  EXPECT_EQ(node_->role(), Role::kFollower);
  EXPECT_EQ(node_->term(), 5u);
  EXPECT_EQ(node_->leader(), 3u);
}

TEST_F(NodeFixture, StaleTermRequestsAreRefusedAndCounted_5_1) {
  Start({E(1, 0, 0)}, 3);
  EXPECT_THAT(node_->Step(Vote(2, 2, 10, 2)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(node_->Step(Append(2, 2, 0, 1, {}, 0)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(node_->counters().stale_term_messages, 2u);
  EXPECT_EQ(node_->term(), 3u);
}

// --- Figure 2, RequestVote RPC -------------------------------------------------------------

TEST_F(NodeFixture, GrantsAtMostOneVotePerTerm_5_2) {
  Start({}, 1);
  ASSERT_THAT(node_->Step(Vote(2, 2, kNoOffset, 0)), IsOk());
  ASSERT_THAT(node_->Step(Vote(3, 2, kNoOffset, 0)), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(sent[0].reject());  // first come, first served
  EXPECT_TRUE(sent[1].reject());
  EXPECT_EQ(node_->vote(), 2u);
}

TEST_F(NodeFixture, VotePersistsBeforeTheReplyIsSent_Figure2) {
  Start({}, 1);
  ASSERT_THAT(node_->Step(Vote(2, 2, kNoOffset, 0)), IsOk());
  Ready rd = node_->TakeReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote(), 2u);
  EXPECT_EQ(rd.hard_state->term(), 2u);
  EXPECT_TRUE(rd.must_sync);  // the reply in rd.messages goes out only after this sync
  ASSERT_EQ(rd.messages.size(), 1u);
  node_->Advance(rd);
}

TEST_F(NodeFixture, VotesOnlyForAnUpToDateLog_5_4_1) {
  Start({E(1, 0, 0), E(2, 1, 4)}, 2);
  // Lower last term: refused even with a longer log.
  ASSERT_THAT(node_->Step(Vote(2, 3, 100, 1)), IsOk());
  // Same last term, shorter log (offset 3 < 4): refused.
  ASSERT_THAT(node_->Step(Vote(3, 4, 3, 2)), IsOk());
  // Same last term, same last offset: granted.
  ASSERT_THAT(node_->Step(Vote(2, 5, 4, 2)), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_TRUE(sent[0].reject());
  EXPECT_TRUE(sent[1].reject());
  EXPECT_FALSE(sent[2].reject());
}

// --- Figure 2, AppendEntries RPC -----------------------------------------------------------

TEST_F(NodeFixture, RejectsAppendWhosePrevEntryDoesNotMatch_5_3) {
  Start({E(1, 0, 0), E(1, 1, 3)}, 1);
  // prev_log_offset 3 exists but with term 1, not 2.
  ASSERT_THAT(node_->Step(Append(2, 2, 3, 2, {E(2, 4, 4)}, 0)), IsOk());
  // prev_log_offset 2 is inside an entry (ends at 3): no entry ends there.
  ASSERT_THAT(node_->Step(Append(2, 2, 2, 1, {E(2, 3, 3)}, 0)), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].reject());
  EXPECT_TRUE(sent[1].reject());
  EXPECT_EQ(log_->LastOffset(), 3);
}

TEST_F(NodeFixture, DeletesConflictingEntriesAndAppendsNewOnes_5_3) {
  Start({E(1, 0, 0), E(1, 1, 2), E(1, 3, 5)}, 1);
  // The leader of term 2 has a different entry after offset 2.
  ASSERT_THAT(node_->Step(Append(2, 2, 2, 1, {E(2, 3, 3), E(2, 4, 7)}, 0)), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].reject());
  EXPECT_EQ(sent[0].match_offset(), 7);
  EXPECT_EQ(log_->LastOffset(), 7);
  EXPECT_EQ(log_->EntryContaining(5)->term, 2u);
  EXPECT_EQ(log_->EntryContaining(1)->term, 1u);  // the matching prefix is untouched
}

TEST_F(NodeFixture, AppendIsIdempotentForEntriesAlreadyPresent_5_3) {
  Start({E(1, 0, 0), E(2, 1, 3)}, 2);
  ASSERT_THAT(node_->Step(Append(2, 2, 0, 1, {E(2, 1, 3)}, 0)), IsOk());
  Drain();
  EXPECT_EQ(log_->entries().size(), 2u);
  EXPECT_EQ(log_->LastOffset(), 3);
}

TEST_F(NodeFixture, CommitIsMinOfLeaderCommitAndLastNewEntry_Figure2) {
  Start({E(1, 0, 0)}, 1);
  ASSERT_THAT(node_->Step(Append(2, 1, 0, 1, {E(1, 1, 2)}, 10)), IsOk());
  EXPECT_EQ(node_->commit_offset(), 2);
  ASSERT_THAT(node_->Step(Append(2, 1, 2, 1, {}, 1)), IsOk());
  EXPECT_EQ(node_->commit_offset(), 2);  // never goes back
}

TEST_F(NodeFixture, RejectionCarriesAConflictHintSkippingTheTerm_5_3) {
  // Follower: [0]@1, then a term-2 tail [1..3] [4..9] [10..12].
  Start({E(1, 0, 0), E(2, 1, 3), E(2, 4, 9), E(2, 10, 12)}, 3);
  // The leader probes at its last entry end 20 with term 3.
  ASSERT_THAT(node_->Step(Append(2, 3, 20, 3, {}, 0)), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].reject());
  EXPECT_EQ(sent[0].hint_offset(), 12);  // our last entry end at or before 20 with term <= 3
  EXPECT_EQ(sent[0].hint_term(), 2u);
  // A probe with term 1 at offset 9 skips the whole term-2 run back to offset 0.
  ASSERT_THAT(node_->Step(Append(2, 3, 9, 1, {}, 0)), IsOk());
  sent = Drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].hint_offset(), 0);
  EXPECT_EQ(sent[0].hint_term(), 1u);
}

// --- Figure 2, Rules for Servers: candidates and leaders ----------------------------------

TEST_F(NodeFixture, ElectionTimeoutStartsAnElection_5_2) {
  Start({}, 1);
  for (int i = 0; i < 2 * 10 && node_->role() == Role::kFollower; ++i) node_->Tick();
  EXPECT_EQ(node_->role(), Role::kCandidate);
  EXPECT_EQ(node_->term(), 2u);
  EXPECT_EQ(node_->vote(), 1u);
  std::vector<Message> sent = Drain();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].type(), MSG_VOTE);
}

TEST_F(NodeFixture, CandidateReturnsToFollowerOnAppendFromLeaderOfItsTerm_5_2) {
  Start({}, 1);
  ASSERT_THAT(node_->Campaign(), IsOk());
  ASSERT_THAT(node_->Step(Append(3, 2, kNoOffset, 0, {}, kNoOffset)), IsOk());
  EXPECT_EQ(node_->role(), Role::kFollower);
  EXPECT_EQ(node_->leader(), 3u);
}

TEST_F(NodeFixture, NewLeaderAppendsANoOpOfItsTerm_5_4_2) {
  Start({E(1, 0, 2)}, 1);
  BecomeLeader();
  std::optional<EntryMeta> last = node_->log().EntryAt(node_->log().LastOffset());
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->type, ENTRY_NOOP);
  EXPECT_EQ(last->term, node_->term());
  EXPECT_EQ(last->base_offset, 3);
}

TEST_F(NodeFixture, LeaderCommitsOnlyEntriesOfItsTermByCounting_5_4_2) {
  Start({E(1, 0, 2)}, 1);
  BecomeLeader();  // term 2, no-op at offset 3
  Drain();
  // Follower 2 acknowledges only the old entry (offset 2): a majority holds it, but it is of
  // term 1, so it must not commit.
  Message ack = Msg(MSG_APPEND_RESP, 2, 2);
  ack.set_match_offset(2);
  ASSERT_THAT(node_->Step(ack), IsOk());
  EXPECT_LT(node_->commit_offset(), 2);
  ack.set_match_offset(3);  // now the no-op of term 2: it and everything before commit
  ASSERT_THAT(node_->Step(ack), IsOk());
  EXPECT_EQ(node_->commit_offset(), 3);
}

TEST_F(NodeFixture, LeaderBacksOffAfterRejection_5_3) {
  Start({E(1, 0, 0), E(1, 1, 1), E(2, 2, 5)}, 2);
  BecomeLeader();  // term 3, no-op at 6
  Drain();
  Message reject = Msg(MSG_APPEND_RESP, 2, 3);
  reject.set_reject(true);
  reject.set_rejected_offset(5);
  reject.set_hint_offset(1);
  reject.set_hint_term(1);
  ASSERT_THAT(node_->Step(reject), IsOk());
  std::vector<Message> sent = Drain();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].type(), MSG_APPEND);
  EXPECT_EQ(sent[0].prev_log_offset(), 1);  // straight to the hint, not one entry back
  EXPECT_EQ(sent[0].prev_log_term(), 1u);
}

// --- Figure 3: the guarantees, on whole clusters --------------------------------------------

// Runs a cluster through elections, proposals, crashes and partitions, checking after every
// step with the cluster's checker; `rounds` bursts of chaos.
absl::Status Chaos(uint64_t seed, int node_count, int rounds) {
  testing::Cluster::Options options;
  options.seed = seed;
  options.config.election_timeout_ticks = 5;
  testing::Cluster cluster(options);
  std::vector<NodeId> ids;
  for (int i = 1; i <= node_count; ++i) ids.push_back(static_cast<NodeId>(i));
  for (NodeId id : ids) cluster.AddNode(id, ids);
  Random random(seed);
  for (int round = 0; round < rounds; ++round) {
    for (int step = 0; step < 20; ++step) {
      for (NodeId id : ids) cluster.Tick(id);
      const NodeId leader = cluster.Leader();
      if (leader != kNoNode) {
        (void)cluster.raft(leader).Propose(1 + static_cast<int64_t>(random.Uniform(3)), "x");
      }
      for (NodeId id : ids) {
        if (random.OneIn(2)) cluster.ProcessReady(id);
      }
      for (size_t i = 0; i < 6 && !cluster.in_flight().empty(); ++i) {
        (void)cluster.Deliver(random.Uniform(cluster.in_flight().size()));
      }
      EDDY_RETURN_IF_ERROR(cluster.CheckSafety());
    }
    const NodeId victim = ids[random.Uniform(ids.size())];
    if (random.OneIn(2)) {
      cluster.Crash(victim);
    } else {
      cluster.Isolate({victim});
    }
    for (NodeId id : ids) {
      if (random.OneIn(3) && !cluster.node(id).up) cluster.Restart(id);
    }
    if (random.OneIn(3)) cluster.Heal();
  }
  return cluster.CheckSafety();
}

TEST(RaftPaperGuaranteesTest, ElectionSafetyAtMostOneLeaderPerTerm_5_2) {
  for (uint64_t seed = 1; seed <= 20; ++seed) EXPECT_THAT(Chaos(seed, 3, 10), IsOk()) << seed;
}

TEST(RaftPaperGuaranteesTest, LeaderAppendOnlyNeverOverwritesItsLog_5_3) {
  // A leader's log only grows during its term: watch every leader's log between steps.
  testing::Cluster::Options options;
  options.seed = 3;
  testing::Cluster cluster(options);
  for (NodeId id : {1, 2, 3}) cluster.AddNode(id, {1, 2, 3});
  ASSERT_THAT(cluster.raft(1).Campaign(), IsOk());
  cluster.Stabilize();
  std::vector<EntryMeta> seen;
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT(cluster.raft(1).Propose(2, "y").status(), IsOk());
    if (i % 3 == 0) cluster.Stabilize();
    const RaftLog& log = cluster.raft(1).log();
    for (const EntryMeta& e : seen) EXPECT_EQ(log.EntryAt(e.last_offset), e);
    seen.clear();
    for (int64_t o = log.FirstOffset(); o <= log.LastOffset();) {
      seen.push_back(*log.EntryAt(o));
      o = seen.back().last_offset + 1;
    }
  }
  EXPECT_EQ(cluster.raft(1).role(), Role::kLeader);
}

TEST(RaftPaperGuaranteesTest, LogMatchingSameTermAndOffsetMeansSamePrefix_5_3) {
  for (uint64_t seed = 30; seed <= 34; ++seed) {
    testing::Cluster::Options options;
    options.seed = seed;
    options.config.election_timeout_ticks = 4;
    testing::Cluster cluster(options);
    for (NodeId id : {1, 2, 3}) cluster.AddNode(id, {1, 2, 3});
    Random random(seed);
    for (int step = 0; step < 150; ++step) {
      for (NodeId id : {1, 2, 3}) cluster.Tick(id);
      const NodeId leader = cluster.Leader();
      if (leader != kNoNode) (void)cluster.raft(leader).Propose(2, "z");
      for (NodeId id : {1, 2, 3}) cluster.ProcessReady(id);
      for (int i = 0; i < 4 && !cluster.in_flight().empty(); ++i) {
        if (random.OneIn(5)) {
          cluster.Drop(0);
        } else {
          (void)cluster.Deliver(random.Uniform(cluster.in_flight().size()));
        }
      }
    }
    // For every pair of logs: wherever both hold an entry with the same (term, last offset),
    // every earlier entry is identical.
    for (NodeId a : {1, 2, 3}) {
      for (NodeId b : {1, 2, 3}) {
        const RaftLog& la = cluster.raft(a).log();
        const RaftLog& lb = cluster.raft(b).log();
        for (int64_t o = std::max(la.FirstOffset(), lb.FirstOffset());
             o <= std::min(la.LastOffset(), lb.LastOffset()); ++o) {
          std::optional<EntryMeta> ea = la.EntryAt(o), eb = lb.EntryAt(o);
          if (ea->last_offset != o || !(*ea == *eb)) continue;
          for (int64_t p = std::max(la.FirstOffset(), lb.FirstOffset()); p < o; ++p) {
            EXPECT_EQ(la.EntryAt(p), lb.EntryAt(p)) << "seed " << seed << " offset " << p;
          }
        }
      }
    }
  }
}

TEST(RaftPaperGuaranteesTest, LeaderCompletenessAndStateMachineSafety_5_4) {
  // The checker verifies, after every step, that each new leader holds every entry committed
  // in an earlier term (Leader Completeness) and that every node applies the same entry at
  // each offset (State Machine Safety); crashes and partitions force many leader changes.
  for (uint64_t seed = 100; seed <= 120; ++seed) {
    EXPECT_THAT(Chaos(seed, 5, 12), IsOk()) << seed;
  }
}

}  // namespace
}  // namespace eddy::raft
