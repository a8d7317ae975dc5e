// Bad input from a peer never crashes a RawNode: each kind of malformed, stale, inconsistent or
// foreign message is answered with the documented Status code and counted. A RapidCheck fuzz
// property then throws arbitrary messages (random types, senders, terms, offsets, entries,
// snapshot chunks) at every node of a live cluster: Step must return, and CheckInvariants (run
// after every Step) must hold — an abort fails the test. The quiescence tests walk each
// transition (quiet when idle and caught up, woken by a proposal, a message or Unquiesce; a
// woken leader cut off steps down; followers refuse to go quiet unless caught up).
#include <memory>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "raft/memory_log.h"
#include "raft/raw_node.h"
#include "raft/testing/cluster.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::raft {
namespace {

using ::eddy::testing::IsOk;
using ::eddy::testing::StatusIs;

class BadInputTest : public ::testing::Test {
 protected:
  BadInputTest() : cluster_(Options()) {
    for (NodeId id : {1, 2, 3}) cluster_.AddNode(id, {1, 2, 3});
    EXPECT_THAT(cluster_.raft(1).Campaign(), IsOk());
    cluster_.Stabilize();
    EXPECT_EQ(cluster_.raft(1).role(), Role::kLeader);
  }
  static testing::Cluster::Options Options() {
    testing::Cluster::Options o;
    o.seed = 11;
    return o;
  }
  Message Msg(MessageType type, NodeId from, NodeId to, Term term) {
    Message m;
    m.set_type(type);
    m.set_from(from);
    m.set_to(to);
    m.set_term(term);
    return m;
  }
  testing::Cluster cluster_;
};

TEST_F(BadInputTest, MalformedEnvelopeIsInvalidArgument) {
  RawNode& n = cluster_.raft(2);
  const Term t = n.term();
  EXPECT_THAT(n.Step(Msg(MSG_HEARTBEAT, 1, 3, t)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(n.Step(Msg(MSG_HEARTBEAT, 0, 2, t)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(n.Step(Msg(MSG_HEARTBEAT, 2, 2, t)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(n.Step(Msg(MSG_UNKNOWN, 1, 2, t)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(n.Step(Msg(static_cast<MessageType>(99), 1, 2, t)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(n.Step(Msg(MSG_HEARTBEAT, 1, 2, 0)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(n.counters().invalid_messages, 6u);
}

TEST_F(BadInputTest, VotesAndResponsesFromNonMembersAreRefused) {
  RawNode& leader = cluster_.raft(1);
  Message resp = Msg(MSG_APPEND_RESP, 9, 1, leader.term());
  resp.set_match_offset(0);
  EXPECT_THAT(leader.Step(resp), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(leader.Step(Msg(MSG_VOTE, 9, 1, leader.term() + 5)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(leader.counters().unknown_sender_messages, 2u);
  EXPECT_EQ(leader.role(), Role::kLeader);  // the foreign vote request did not depose it
}

TEST_F(BadInputTest, InconsistentAppendEntriesAreInvalidArgument) {
  RawNode& f = cluster_.raft(2);
  const Term t = f.term();
  Message m = Msg(MSG_APPEND, 1, 2, t);
  m.set_prev_log_offset(0);
  m.set_prev_log_term(t);
  Entry* e = m.add_entries();
  e->set_term(t);
  e->set_base_offset(5);  // not prev + 1
  e->set_last_offset(5);
  EXPECT_THAT(f.Step(m), StatusIs(absl::StatusCode::kInvalidArgument));
  e->set_base_offset(1);
  e->set_last_offset(0);  // last < base
  EXPECT_THAT(f.Step(m), StatusIs(absl::StatusCode::kInvalidArgument));
  e->set_last_offset(1);
  e->set_term(t + 1);  // entry newer than the message's term
  EXPECT_THAT(f.Step(m), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(f.counters().invalid_messages, 3u);
  EXPECT_EQ(f.log().LastOffset(), 0);  // nothing was appended
}

TEST_F(BadInputTest, AckBeyondTheLeadersLogIsInvalidArgument) {
  RawNode& leader = cluster_.raft(1);
  Message ack = Msg(MSG_APPEND_RESP, 2, 1, leader.term());
  ack.set_match_offset(1000);
  EXPECT_THAT(leader.Step(ack), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(leader.commit_offset(), 0);
}

TEST_F(BadInputTest, SnapshotChunkOutsideTheSnapshotIsInvalidArgument) {
  RawNode& f = cluster_.raft(2);
  Message m = Msg(MSG_SNAPSHOT, 1, 2, f.term());
  m.mutable_snapshot()->set_last_offset(50);
  m.mutable_snapshot()->set_term(f.term());
  m.mutable_snapshot()->set_size_bytes(10);
  m.set_chunk_offset_bytes(8);
  m.set_chunk_size_bytes(5);
  EXPECT_THAT(f.Step(m), StatusIs(absl::StatusCode::kInvalidArgument));
  // A chunk that skips ahead is refused too (and its bytes must not be kept).
  m.set_chunk_offset_bytes(4);
  m.set_chunk_size_bytes(2);
  EXPECT_THAT(f.Step(m), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(f.counters().snapshot_chunks_ignored, 1u);
}

TEST_F(BadInputTest, StaleTermIsFailedPreconditionAndCounted) {
  RawNode& f = cluster_.raft(3);
  ASSERT_THAT(f.Step(Msg(MSG_HEARTBEAT, 2, 3, 3)), IsOk());  // a leader of term 3
  ASSERT_EQ(f.term(), 3u);
  EXPECT_THAT(f.Step(Msg(MSG_HEARTBEAT, 1, 3, 2)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(f.Step(Msg(MSG_VOTE_RESP, 1, 3, 1)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(f.counters().stale_term_messages, 2u);
  EXPECT_EQ(f.term(), 3u);
}

TEST_F(BadInputTest, MessagesFromARemovedMemberAreRefused) {
  ASSERT_THAT(cluster_.raft(1).ProposeConfChange(CONF_REMOVE_NODE, 3).status(), IsOk());
  cluster_.Stabilize();
  RawNode& leader = cluster_.raft(1);
  ASSERT_FALSE(leader.membership().Contains(3));
  Message resp = Msg(MSG_HEARTBEAT_RESP, 3, 1, leader.term());
  EXPECT_THAT(leader.Step(resp), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(leader.Step(Msg(MSG_PRE_VOTE, 3, 1, leader.term() + 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_GE(leader.counters().unknown_sender_messages, 2u);
}

TEST_F(BadInputTest, ProposalsOnAFollowerAreRefused) {
  EXPECT_THAT(cluster_.raft(2).Propose(1, "x").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cluster_.raft(1).Propose(0, "x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(cluster_.raft(2).counters().proposals_refused, 1u);
}

TEST(OutgoingQueueTest, MessagesBeyondTheLimitAreDroppedAndCounted) {
  SnapshotMeta snap;
  snap.set_last_offset(kNoOffset);
  for (NodeId v : {1, 2, 3}) snap.mutable_conf_state()->add_voters(v);
  MemoryLog log(snap);
  Config config;
  config.id = 1;
  config.outgoing_messages_max = 4;
  RawNode node(config, &log, RawNode::InitialHardState(), Random(1));
  for (int i = 0; i < 10; ++i) {
    Message m;
    m.set_type(MSG_HEARTBEAT);
    m.set_from(2);
    m.set_to(1);
    m.set_term(1);
    ASSERT_THAT(node.Step(m), IsOk());  // each answered with a heartbeat response
  }
  EXPECT_EQ(node.counters().outgoing_messages_dropped, 6u);
  Ready rd = node.TakeReady();
  EXPECT_EQ(rd.messages.size(), 4u);
  node.Advance(rd);
}

// --- Quiescence (Config::quiesce): the transitions, one test each. ---------------------------

class QuiesceTest : public ::testing::Test {
 protected:
  QuiesceTest() : cluster_(Options()) {
    for (NodeId id : {1, 2, 3}) cluster_.AddNode(id, {1, 2, 3});
    EXPECT_THAT(cluster_.raft(1).Campaign(), IsOk());
    cluster_.Stabilize();
    EXPECT_EQ(cluster_.raft(1).role(), Role::kLeader);
  }
  static testing::Cluster::Options Options() {
    testing::Cluster::Options o;
    o.seed = 12;
    o.config.quiesce = true;
    o.config.election_timeout_ticks = 5;
    return o;
  }
  void TickAll(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      for (NodeId id : {1, 2, 3}) cluster_.Tick(id);
      cluster_.Stabilize();
    }
  }
  bool AllQuiesced() {
    for (NodeId id : {1, 2, 3}) {
      if (!cluster_.raft(id).quiesced()) return false;
    }
    return true;
  }
  testing::Cluster cluster_;
};

TEST_F(QuiesceTest, IdleCaughtUpGroupGoesQuietAndStaysQuiet) {
  TickAll(1);
  ASSERT_TRUE(AllQuiesced());
  const uint64_t delivered = cluster_.delivered_messages();
  const Term term = cluster_.raft(1).term();
  TickAll(100);  // ten election timeouts: no heartbeat, no election
  EXPECT_EQ(cluster_.delivered_messages(), delivered);
  EXPECT_TRUE(AllQuiesced());
  EXPECT_EQ(cluster_.raft(1).role(), Role::kLeader);
  EXPECT_EQ(cluster_.raft(2).term(), term);
  for (NodeId id : {2, 3}) EXPECT_EQ(cluster_.raft(id).commit_offset(), cluster_.raft(1).commit_offset());
}

TEST_F(QuiesceTest, LeaderDoesNotQuiesceWhileAFollowerIsBehindOrAProposalIsUncommitted) {
  cluster_.Cut(1, 3);
  ASSERT_THAT(cluster_.raft(1).Propose(1, "x").status(), IsOk());
  cluster_.Stabilize();
  TickAll(2);  // 3 is behind and still counts as recently active
  EXPECT_FALSE(cluster_.raft(1).quiesced());
  cluster_.Heal();
  TickAll(3);
  EXPECT_TRUE(AllQuiesced());
  EXPECT_EQ(cluster_.raft(3).commit_offset(), cluster_.raft(1).commit_offset());
}

TEST_F(QuiesceTest, ProposalWakesTheLeaderAndCommitsEverywhere) {
  TickAll(1);
  ASSERT_TRUE(AllQuiesced());
  auto meta = cluster_.raft(1).Propose(2, "ab");
  ASSERT_THAT(meta.status(), IsOk());
  EXPECT_FALSE(cluster_.raft(1).quiesced());
  cluster_.Stabilize();
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(cluster_.raft(id).commit_offset(), meta->last_offset);
  TickAll(1);
  EXPECT_TRUE(AllQuiesced()) << "quiet again once everyone committed the proposal";
}

TEST_F(QuiesceTest, VoteRequestWakesAFollowerWhichWakesItsLeader) {
  TickAll(1);
  ASSERT_TRUE(AllQuiesced());
  // Node 3 restarts unquiesced (its RawNode is new) and campaigns after its election timeout.
  cluster_.Crash(3);
  cluster_.Restart(3);
  EXPECT_FALSE(cluster_.raft(3).quiesced());
  TickAll(12);
  // 3's pre-vote woke 2, 2 woke the leader; the lease held (no new term) and 3 follows 1 again.
  EXPECT_EQ(cluster_.raft(1).role(), Role::kLeader);
  EXPECT_EQ(cluster_.raft(3).leader(), 1u);
  EXPECT_GT(cluster_.raft(2).counters().wakes, 0u);
  EXPECT_GT(cluster_.raft(1).counters().wakes, 0u);
  TickAll(2);
  EXPECT_TRUE(AllQuiesced());
}

TEST_F(QuiesceTest, UnquiescedFollowersElectANewLeaderWhenTheLeaderIsGone) {
  TickAll(1);
  ASSERT_TRUE(AllQuiesced());
  const Term term = cluster_.raft(1).term();
  cluster_.Crash(1);
  TickAll(30);
  EXPECT_EQ(cluster_.Leader(), kNoNode) << "quiet followers keep no timer: nobody notices";
  // The driver's node liveness notices the leader's node is silent.
  cluster_.raft(2).Unquiesce();
  cluster_.raft(3).Unquiesce();
  TickAll(40);  // randomized timeouts: a split vote or two may come first
  const NodeId leader = cluster_.Leader();
  ASSERT_TRUE(leader == 2 || leader == 3);
  EXPECT_GT(cluster_.raft(leader).term(), term);
  EXPECT_THAT(cluster_.CheckSafety(), IsOk());
}

TEST_F(QuiesceTest, UnquiescedLeaderCutOffFromItsQuorumStepsDown) {
  TickAll(1);
  ASSERT_TRUE(AllQuiesced());
  cluster_.Isolate({1});
  TickAll(30);
  EXPECT_EQ(cluster_.raft(1).role(), Role::kLeader) << "quiet: it believes it leads";
  // Node liveness on node 1 notices its peers are silent: check-quorum runs again.
  cluster_.raft(1).Unquiesce();
  TickAll(6);  // one election timeout
  EXPECT_NE(cluster_.raft(1).role(), Role::kLeader);
}

TEST_F(QuiesceTest, FollowerRefusesQuiesceUnlessItHoldsAndCommittedTheLeadersLog) {
  RawNode& f = cluster_.raft(2);
  Message m;
  m.set_type(MSG_HEARTBEAT);
  m.set_from(1);
  m.set_to(2);
  m.set_term(f.term());
  m.set_commit_offset(f.commit_offset());
  m.set_last_log_offset(f.log().LastOffset() + 5);  // the leader has more than we do
  m.set_last_log_term(f.term());
  m.set_quiesce(true);
  ASSERT_THAT(f.Step(m), IsOk());
  EXPECT_FALSE(f.quiesced());
  m.set_last_log_offset(f.log().LastOffset());
  ASSERT_THAT(f.Step(m), IsOk());
  EXPECT_TRUE(f.quiesced());
  // A plain heartbeat (the leader woke) wakes it; so does a pre-vote.
  Message plain = m;
  plain.set_quiesce(false);
  ASSERT_THAT(f.Step(plain), IsOk());
  EXPECT_FALSE(f.quiesced());
  ASSERT_THAT(f.Step(m), IsOk());
  ASSERT_TRUE(f.quiesced());
  Message prevote;
  prevote.set_type(MSG_PRE_VOTE);
  prevote.set_from(3);
  prevote.set_to(2);
  prevote.set_term(f.term() + 1);
  prevote.set_last_log_offset(f.log().LastOffset());
  prevote.set_last_log_term(f.term());
  ASSERT_THAT(f.Step(prevote), IsOk());
  EXPECT_FALSE(f.quiesced());
  EXPECT_EQ(f.counters().disruptive_votes_ignored, 1u) << "the lease still holds";
}

TEST(QuiesceConfigTest, NodesWithoutQuiesceNeverGoQuiet) {
  testing::Cluster::Options o;
  o.seed = 13;
  testing::Cluster cluster(o);
  for (NodeId id : {1, 2, 3}) cluster.AddNode(id, {1, 2, 3});
  ASSERT_THAT(cluster.raft(1).Campaign(), IsOk());
  for (int i = 0; i < 20; ++i) {
    for (NodeId id : {1, 2, 3}) cluster.Tick(id);
    cluster.Stabilize();
  }
  for (NodeId id : {1, 2, 3}) EXPECT_FALSE(cluster.raft(id).quiesced());
  EXPECT_EQ(cluster.raft(1).counters().quiesces, 0u);
}

// Arbitrary messages: whatever a peer sends, Step returns and the invariants hold.
RC_GTEST_PROP(RawNodeFuzzTest, ArbitraryMessagesNeverCrash, ()) {
  testing::Cluster::Options options;
  options.seed = *rc::gen::arbitrary<uint64_t>();
  options.snapshot_state_size_bytes = *rc::gen::element<uint64_t>(0, 30);
  options.config.quiesce = *rc::gen::arbitrary<bool>();
  testing::Cluster cluster(options);
  for (NodeId id : {1, 2, 3}) cluster.AddNode(id, {1, 2, 3});
  RC_ASSERT(cluster.raft(1).Campaign().ok());
  cluster.Stabilize();
  (void)cluster.raft(1).Propose(3, "abc");
  cluster.Stabilize();
  const int count = *rc::gen::inRange(1, 40);
  for (int i = 0; i < count; ++i) {
    Message m;
    m.set_type(static_cast<MessageType>(*rc::gen::inRange(0, 13)));
    m.set_from(*rc::gen::inRange<uint64_t>(0, 5));
    m.set_to(*rc::gen::inRange<uint64_t>(1, 4));
    m.set_term(*rc::gen::inRange<uint64_t>(0, 6));
    m.set_reject(*rc::gen::arbitrary<bool>());
    m.set_transfer(*rc::gen::arbitrary<bool>());
    m.set_last_log_offset(*rc::gen::inRange<int64_t>(-3, 20));
    m.set_last_log_term(*rc::gen::inRange<uint64_t>(0, 6));
    m.set_prev_log_offset(*rc::gen::inRange<int64_t>(-3, 20));
    m.set_prev_log_term(*rc::gen::inRange<uint64_t>(0, 6));
    m.set_commit_offset(*rc::gen::inRange<int64_t>(-3, 30));
    m.set_match_offset(*rc::gen::inRange<int64_t>(-3, 30));
    m.set_rejected_offset(*rc::gen::inRange<int64_t>(-3, 30));
    m.set_hint_offset(*rc::gen::inRange<int64_t>(-3, 30));
    m.set_hint_term(*rc::gen::inRange<uint64_t>(0, 6));
    m.set_read_context(*rc::gen::inRange<uint64_t>(0, 4));
    m.set_quiesce(*rc::gen::arbitrary<bool>());
    int64_t base = m.prev_log_offset() + 1;
    const int entries = *rc::gen::inRange(0, 4);
    for (int j = 0; j < entries; ++j) {
      Entry* e = m.add_entries();
      e->set_term(*rc::gen::inRange<uint64_t>(0, 6));
      const bool contiguous = *rc::gen::arbitrary<bool>();
      e->set_base_offset(contiguous ? base : *rc::gen::inRange<int64_t>(-2, 20));
      e->set_last_offset(e->base_offset() + *rc::gen::inRange<int64_t>(-1, 4));
      e->set_type(static_cast<EntryType>(*rc::gen::inRange(0, 3)));
      if (e->type() == ENTRY_CONF_CHANGE) {
        e->mutable_conf_change()->set_type(static_cast<ConfChangeType>(*rc::gen::inRange(0, 3)));
        e->mutable_conf_change()->set_node_id(*rc::gen::inRange<uint64_t>(0, 6));
      }
      base = e->last_offset() + 1;
    }
    SnapshotMeta* snap = m.mutable_snapshot();
    snap->set_last_offset(*rc::gen::inRange<int64_t>(-2, 30));
    snap->set_term(*rc::gen::inRange<uint64_t>(0, 6));
    snap->set_size_bytes(*rc::gen::inRange<uint64_t>(0, 40));
    for (NodeId v : {1, 2, 3}) {
      if (*rc::gen::arbitrary<bool>()) snap->mutable_conf_state()->add_voters(v);
    }
    m.set_chunk_offset_bytes(*rc::gen::inRange<uint64_t>(0, 45));
    m.set_chunk_size_bytes(*rc::gen::inRange<uint64_t>(0, 45));
    m.set_data(std::string(m.chunk_size_bytes() <= 40 ? m.chunk_size_bytes() : 0, 's'));
    // Delivered through the harness driver, which keeps snapshot chunk bytes iff Step says OK
    // and processes every Ready by the rules (a forged snapshot must still arrive whole).
    if (m.to() < 1 || m.to() > 3) continue;
    (void)cluster.Deliver(cluster.Inject(m));
    for (NodeId id : {1, 2, 3}) cluster.ProcessReady(id);
  }
}

}  // namespace
}  // namespace eddy::raft

namespace eddy::raft {
namespace {

Entry LogEntry(int64_t offset, Term term, EntryType type, ConfChangeType change = CONF_ADD_LEARNER,
               NodeId node = kNoNode) {
  Entry e;
  e.set_term(term);
  e.set_base_offset(offset);
  e.set_last_offset(offset);
  e.set_type(type);
  if (type == ENTRY_CONF_CHANGE) {
    e.mutable_conf_change()->set_type(change);
    e.mutable_conf_change()->set_node_id(node);
  }
  return e;
}

TEST(ConfChangeRecoveryTest, AChangeFollowedByAnotherInTheLogIsCommittedOnOpen) {
  // Regression (issue 8, §1): a replica reopened with a saved commit offset below C1 = promote
  // 4 while its log held C1 and C2 = promote 5. Taking its configuration only from the saved
  // commit, it ran in C0 = voters {1, 2, 3}, where {1, 2} is a quorum that does not overlap
  // C2's {3, 4, 5}, and could win and overwrite a batch C2's quorum had acknowledged. A leader
  // proposes C2 only after C1 committed, so a log holding C2 proves C1 committed.
  SnapshotMeta start;
  start.set_last_offset(-1);
  for (NodeId v : {1, 2, 3}) start.mutable_conf_state()->add_voters(v);
  for (NodeId l : {4, 5}) start.mutable_conf_state()->add_learners(l);
  MemoryLog log(start);
  log.Append(std::vector<Entry>{LogEntry(0, 2, ENTRY_NOOP),
                                LogEntry(1, 2, ENTRY_CONF_CHANGE, CONF_PROMOTE_LEARNER, 4),
                                LogEntry(2, 2, ENTRY_CONF_CHANGE, CONF_PROMOTE_LEARNER, 5)});
  HardState saved = RawNode::InitialHardState();
  saved.set_term(2);
  saved.set_commit_offset(0);  // below C1: the commit that covered C1 was never saved
  *saved.mutable_conf_state() = start.conf_state();
  Config config;
  config.id = 1;
  RawNode node(config, &log, saved, Random(1));
  EXPECT_GE(node.commit_offset(), 1);
  EXPECT_TRUE(node.membership().IsVoter(4)) << node.membership().DebugString();
  // C2 itself is followed by nothing: it is not known committed, so 5 is still a learner.
  EXPECT_TRUE(node.membership().IsLearner(5)) << node.membership().DebugString();
}

}  // namespace
}  // namespace eddy::raft

namespace eddy::raft {
namespace {

// Delivers the messages in flight from `from` to `to` and drops every other one; then both
// nodes process what that caused.
void DeliverOnly(testing::Cluster& cluster, NodeId from, NodeId to) {
  for (size_t i = cluster.in_flight().size(); i-- > 0;) {
    const Message& m = cluster.in_flight()[i];
    if (m.from() == from && m.to() == to) {
      (void)cluster.Deliver(i);
    } else {
      cluster.Drop(i);
    }
  }
  cluster.ProcessReady(from);
  cluster.ProcessReady(to);
}

class RemovedLeaderTest : public ::testing::TestWithParam<bool> {};

TEST_P(RemovedLeaderTest, TheRemainingVoterOfTwoLearnsTheRemovalFromTheRefusedVote) {
  // Regression (raft_property_test, RapidCheck seed 4608036309445051658): voters {1, 2}; leader
  // 1 commits its own removal, holding one more entry, and node 2 never hears that commit
  // before it campaigns. Node 2 still counts node 1 (membership changes take effect at
  // commit), node 1's longer log refuses its vote, and node 1, no longer a voter, never
  // campaigns: nothing could commit again. Node 1's refusal now carries its commit, which node
  // 2's log matches, so node 2 applies the removal and wins alone.
  testing::Cluster::Options options;
  options.seed = 5;
  options.config.pre_vote = GetParam();  // the failing schedule had neither
  options.config.check_quorum = GetParam();
  testing::Cluster cluster(options);
  for (NodeId id : {1, 2}) cluster.AddNode(id, {1, 2});
  ASSERT_THAT(cluster.raft(1).Campaign(), IsOk());
  cluster.Stabilize();
  ASSERT_EQ(cluster.Leader(), 1u);

  const absl::StatusOr<EntryMeta> removal = cluster.raft(1).ProposeConfChange(CONF_REMOVE_NODE, 1);
  ASSERT_TRUE(removal.ok()) << removal.status();
  cluster.ProcessReady(1);                                            // the removal goes out
  ASSERT_TRUE(cluster.raft(1).Propose(1, "after the removal").ok());  // this one does not yet
  DeliverOnly(cluster, 1, 2);  // node 2 appends the removal and acknowledges it
  DeliverOnly(cluster, 2, 1);  // node 1 commits the removal and leaves the voters
  ASSERT_GE(cluster.raft(1).commit_offset(), removal->last_offset);
  ASSERT_FALSE(cluster.raft(1).membership().IsVoter(1));
  ASSERT_LT(cluster.raft(2).commit_offset(), removal->last_offset);
  ASSERT_GT(cluster.raft(1).log().LastOffset(), cluster.raft(2).log().LastOffset());

  // Node 1's news is lost (with check-quorum it steps down, hearing nobody); node 2 times out
  // and its (pre-)vote request reaches node 1.
  const auto vote_request_to_follower = [&] {
    // With check-quorum a leader ignores vote requests until it steps down by itself.
    if (GetParam() && cluster.raft(1).role() != Role::kFollower) return false;
    for (const Message& m : cluster.in_flight()) {
      if (m.type() == MSG_VOTE || m.type() == MSG_PRE_VOTE) return true;
    }
    return false;
  };
  for (int i = 0; i < 1000 && !vote_request_to_follower(); ++i) {
    for (size_t m = cluster.in_flight().size(); m-- > 0;) cluster.Drop(m);
    for (NodeId id : {1, 2}) {
      cluster.Tick(id);
      cluster.ProcessReady(id);
    }
  }
  ASSERT_TRUE(vote_request_to_follower());
  DeliverOnly(cluster, 2, 1);
  EXPECT_EQ(cluster.raft(1).role(), Role::kFollower);
  DeliverOnly(cluster, 1, 2);  // the refusal, with node 1's commit
  EXPECT_EQ(cluster.raft(2).counters().commits_learned_from_vote_replies, 1u);
  EXPECT_EQ(cluster.raft(2).membership().voters(), std::vector<NodeId>{2});

  for (int i = 0; i < 100 && cluster.Leader() != 2; ++i) {
    for (NodeId id : {1, 2}) cluster.Tick(id);
    cluster.Stabilize();
  }
  ASSERT_EQ(cluster.Leader(), 2u) << cluster.DescribeNode(1) << "\n" << cluster.DescribeNode(2);
  const absl::StatusOr<EntryMeta> next = cluster.raft(2).Propose(1, "committed by node 2 alone");
  ASSERT_TRUE(next.ok()) << next.status();
  cluster.Stabilize();
  EXPECT_GE(cluster.raft(2).commit_offset(), next->last_offset);
  EXPECT_THAT(cluster.CheckSafety(), IsOk());
}

INSTANTIATE_TEST_SUITE_P(PreVoteAndCheckQuorum, RemovedLeaderTest, ::testing::Bool());

}  // namespace
}  // namespace eddy::raft
