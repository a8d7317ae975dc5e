// GroupCoordinator through its public calls, on a simulated node's clocks, with its writes
// applied to a real GroupStateMachine (the replication between is what the broker adds; the
// broker tests cover it). Each test is one story of Kafka's classic protocol: joins with
// MEMBER_ID_REQUIRED, the initial delay, syncs, heartbeat expiry, stale generations, static
// members, a coordinator failover rebuilt from the store, deletes and expiry.
#include "core/group/group_coordinator.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>

#include "core/group/group_state_machine.h"
#include "sim/runtime/sim_world.h"

namespace eddy::group {
namespace {

using kafka::ErrorCode;

// The partition: a write is applied to the machine on the next loop turn and answered.
class MachineLog final : public GroupLog {
 public:
  explicit MachineLog(runtime::Clock& clock) : clock_(clock) { Reset(); }
  void Reset() {
    machine_ = std::make_unique<GroupStateMachine>(nullptr);
    raft::SnapshotMeta bootstrap;
    bootstrap.set_last_offset(raft::kNoOffset);
    EXPECT_TRUE(machine_->Restore(bootstrap, {}).ok());
  }
  void Write(int32_t, uint64_t, std::vector<uint8_t> batch, WriteDone done) override {
    ++writes;
    clock_.Post([this, batch = std::move(batch), done = std::move(done)]() mutable {
      if (fail_next) {
        fail_next = false;
        return std::move(done)(ErrorCode::kNotCoordinator);
      }
      raft::EntryMeta meta;
      meta.base_offset = meta.last_offset = ++offset_;
      EXPECT_TRUE(machine_->Apply(meta, batch).ok());
      std::move(done)(ErrorCode::kNone);
    });
  }
  const GroupStore* Store(int32_t) override { return &machine_->store(); }
  bool PartitionExists(const std::string& topic, int32_t partition) override {
    return topic != "missing" && partition >= 0 && partition < 3;
  }
  const GroupStore& store() const { return machine_->store(); }
  int writes = 0;
  bool fail_next = false;

 private:
  runtime::Clock& clock_;
  std::unique_ptr<GroupStateMachine> machine_;
  int64_t offset_ = 0;
};

struct Fixture {
  explicit Fixture(CoordinatorOptions options = {.initial_rebalance_delay_ms = 100})
      : log(world.node(1).clock()),
        coordinator(world.node(1).clock(), world.node(1).wall_clock(), world.node(1).random(),
                    log, options) {
    coordinator.Load(0, 1);
  }
  void Run(Duration d) { world.loop().RunFor(d); }

  // JoinGroup v4+: the MEMBER_ID_REQUIRED round, then the join, left waiting.
  std::shared_ptr<std::optional<JoinOutcome>> Join(const std::string& member_id,
                                                   const std::string& protocol = "range",
                                                   std::optional<std::string> instance = {}) {
    JoinRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.group_instance_id = std::move(instance);
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 20000;
    r.protocol_type = "consumer";
    r.protocols = {{protocol, "meta-" + member_id}};
    r.client_id = "c";
    r.require_known_member_id = true;
    auto out = std::make_shared<std::optional<JoinOutcome>>();
    coordinator.JoinGroup(0, r, [out](JoinOutcome o) { *out = std::move(o); });
    return out;
  }
  std::string NewMember() {
    auto first = Join("");
    EXPECT_TRUE(first->has_value());
    EXPECT_EQ((*first)->error, ErrorCode::kMemberIdRequired);
    return (*first)->member_id;
  }
  std::shared_ptr<std::optional<SyncOutcome>> Sync(const std::string& member, int32_t generation,
                                                   std::map<std::string, std::string> a = {}) {
    SyncRequest r{"g", generation, member, std::nullopt, "consumer", std::nullopt, std::move(a)};
    auto out = std::make_shared<std::optional<SyncOutcome>>();
    coordinator.SyncGroup(0, r, [out](SyncOutcome o) { *out = std::move(o); });
    return out;
  }
  std::vector<ErrorCode> Commit(const std::string& member, int32_t generation, int64_t offset,
                                const std::string& topic = "t") {
    CommitRequest r;
    r.member = MemberRef{"g", generation, member, std::nullopt};
    r.partitions.push_back({TopicPartition{topic, 0}, offset, 3, std::string("m")});
    std::vector<ErrorCode> errors;
    coordinator.CommitOffsets(0, r, [&errors](std::vector<ErrorCode> e) { errors = e; });
    Run(Duration::Milliseconds(1));
    return errors;
  }
  std::optional<int64_t> Committed() {
    auto got = coordinator.FetchOffsets(0, "g", std::vector<TopicPartition>{{"t", 0}});
    if (got.size() != 1 || !got[0].value.has_value()) return std::nullopt;
    return got[0].value->offset();
  }
  // Two members through a whole rebalance: both Stable at generation 1.
  std::pair<std::string, std::string> TwoStableMembers() {
    const std::string a = NewMember();
    const std::string b = NewMember();
    auto ja = Join(a);
    auto jb = Join(b);
    Run(Duration::Milliseconds(300));  // the initial delay
    EXPECT_TRUE(ja->has_value() && jb->has_value());
    auto sa = Sync(a, 1, {{a, "A"}, {b, "B"}});
    auto sb = Sync(b, 1);
    Run(Duration::Milliseconds(1));
    EXPECT_TRUE(sa->has_value() && sb->has_value());
    return {a, b};
  }

  sim::SimWorld world{sim::SimWorldOptions{.seed = 7, .nodes = {1}}};
  MachineLog log;
  GroupCoordinator coordinator;
};

TEST(GroupCoordinatorTest, TwoMembersJoinAfterTheInitialDelayAndTheLeaderAssigns) {
  Fixture f;
  const std::string a = f.NewMember();
  const std::string b = f.NewMember();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("c-", 0), 0u);  // Kafka's form: client id, dash, UUID
  auto ja = f.Join(a);
  auto jb = f.Join(b);
  f.Run(Duration::Milliseconds(50));
  EXPECT_FALSE(ja->has_value()) << "the first join waits out group.initial.rebalance.delay.ms";
  f.Run(Duration::Milliseconds(250));
  ASSERT_TRUE(ja->has_value() && jb->has_value());
  EXPECT_EQ((*ja)->error, ErrorCode::kNone);
  EXPECT_EQ((*ja)->generation, 1);
  EXPECT_EQ((*ja)->protocol, "range");
  EXPECT_EQ((*ja)->leader, a);
  EXPECT_EQ((*ja)->members.size(), 2u) << "the leader gets every member's metadata";
  EXPECT_TRUE((*jb)->members.empty());
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kCompletingRebalance);

  auto sb = f.Sync(b, 1);
  f.Run(Duration::Milliseconds(1));
  EXPECT_FALSE(sb->has_value()) << "a follower waits for the leader's assignment";
  auto sa = f.Sync(a, 1, {{a, "for-a"}, {b, "for-b"}});
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(sa->has_value() && sb->has_value());
  EXPECT_EQ((*sa)->assignment, "for-a");
  EXPECT_EQ((*sb)->assignment, "for-b");
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kStable);
  const StoredGroup* stored = f.log.store().Find("g");
  ASSERT_NE(stored, nullptr);
  ASSERT_TRUE(stored->metadata.has_value());
  EXPECT_EQ(stored->metadata->generation(), 1);
  EXPECT_EQ(stored->metadata->members_size(), 2);
}

TEST(GroupCoordinatorTest, ErrorsForBadJoins) {
  Fixture f;
  JoinRequest r;
  r.group_id = "g";
  r.session_timeout_ms = 10;  // below group.min.session.timeout.ms
  r.protocol_type = "consumer";
  r.protocols = {{"range", ""}};
  std::optional<JoinOutcome> out;
  f.coordinator.JoinGroup(0, r, [&](JoinOutcome o) { out = o; });
  EXPECT_EQ(out->error, ErrorCode::kInvalidSessionTimeout);
  r.session_timeout_ms = 10000;
  r.member_id = "nobody";
  f.coordinator.JoinGroup(0, r, [&](JoinOutcome o) { out = o; });
  EXPECT_EQ(out->error, ErrorCode::kUnknownMemberId);
  r.group_id = "";
  f.coordinator.JoinGroup(0, r, [&](JoinOutcome o) { out = o; });
  EXPECT_EQ(out->error, ErrorCode::kInvalidGroupId);
  EXPECT_EQ(f.coordinator.group(0, "g"), nullptr) << "refused joins leave no group behind";

  auto [a, b] = f.TwoStableMembers();
  r.group_id = "g";
  r.member_id = "";
  r.protocol_type = "other";
  f.coordinator.JoinGroup(0, r, [&](JoinOutcome o) { out = o; });
  EXPECT_EQ(out->error, ErrorCode::kInconsistentGroupProtocol);
}

TEST(GroupCoordinatorTest, AStaleGenerationCannotCommitAndTheCurrentOneCan) {
  Fixture f;
  auto [a, b] = f.TwoStableMembers();
  EXPECT_EQ(f.Commit(a, 1, 42), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(f.Committed(), 42);
  EXPECT_EQ(f.Commit(a, 0, 7), std::vector<ErrorCode>{ErrorCode::kIllegalGeneration});
  EXPECT_EQ(f.Commit("stranger", 1, 7), std::vector<ErrorCode>{ErrorCode::kUnknownMemberId});
  EXPECT_EQ(f.Commit(a, 1, 7, "missing"),
            std::vector<ErrorCode>{ErrorCode::kUnknownTopicOrPartition});
  EXPECT_EQ(f.Committed(), 42);
  EXPECT_EQ(f.coordinator.stats().commits_refused, 2u);
}

TEST(GroupCoordinatorTest, AMemberThatStopsHeartbeatingIsRemovedAndTheRestRebalance) {
  Fixture f;
  auto [a, b] = f.TwoStableMembers();
  for (int i = 0; i < 12; ++i) {
    f.Run(Duration::Seconds(1));
    EXPECT_NE(f.coordinator.Heartbeat(0, {"g", 1, a, std::nullopt}),
              ErrorCode::kUnknownMemberId);
  }
  // b was silent for longer than its 10 s session timeout.
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kPreparingRebalance);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 1, a, std::nullopt}),
            ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 1, b, std::nullopt}), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(f.coordinator.stats().members_expired, 1u);
  auto ja = f.Join(a);
  ASSERT_TRUE(ja->has_value()) << "the only member left has rejoined: the join completes";
  EXPECT_EQ((*ja)->generation, 2);
  EXPECT_EQ((*ja)->members.size(), 1u);
}

TEST(GroupCoordinatorTest, AFailedAssignmentWriteSendsTheGroupBackToRebalance) {
  Fixture f;
  const std::string a = f.NewMember();
  auto ja = f.Join(a);
  f.Run(Duration::Milliseconds(300));
  ASSERT_TRUE(ja->has_value());
  f.log.fail_next = true;
  auto sa = f.Sync(a, 1, {{a, "x"}});
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(sa->has_value());
  EXPECT_EQ((*sa)->error, ErrorCode::kNotCoordinator);
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kPreparingRebalance);
}

TEST(GroupCoordinatorTest, ANewCoordinatorRebuildsTheGroupFromTheStore) {
  Fixture f;
  auto [a, b] = f.TwoStableMembers();
  ASSERT_EQ(f.Commit(b, 1, 99), std::vector<ErrorCode>{ErrorCode::kNone});
  auto waiting = f.Sync(a, 1);  // Stable: answered at once
  EXPECT_TRUE(waiting->has_value());
  f.coordinator.Unload(0);
  f.coordinator.Load(0, 2);  // the next leader's term
  const ClassicGroup* g = f.coordinator.group(0, "g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->state(), GroupState::kStable);
  EXPECT_EQ(g->generation(), 1);
  EXPECT_EQ(g->leader(), a);
  auto sb = f.Sync(b, 1);
  ASSERT_TRUE(sb->has_value());
  EXPECT_EQ((*sb)->assignment, "B");
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 1, a, std::nullopt}), ErrorCode::kNone);
  EXPECT_EQ(f.Committed(), 99);
  EXPECT_EQ(f.Commit(a, 0, 1), std::vector<ErrorCode>{ErrorCode::kIllegalGeneration});
}

TEST(GroupCoordinatorTest, UnloadAnswersWaitingRequestsNotCoordinator) {
  Fixture f;
  const std::string a = f.NewMember();
  auto ja = f.Join(a);
  f.coordinator.Unload(0);
  ASSERT_TRUE(ja->has_value());
  EXPECT_EQ((*ja)->error, ErrorCode::kNotCoordinator);
}

TEST(GroupCoordinatorTest, AStaticMemberRestartsWithoutARebalanceAndFencesItsOldSelf) {
  Fixture f;
  auto j1 = f.Join("", "range", "instance-1");
  f.Run(Duration::Milliseconds(300));
  ASSERT_TRUE(j1->has_value());
  const std::string old_id = (*j1)->member_id;
  EXPECT_EQ(old_id.rfind("instance-1-", 0), 0u);
  auto s1 = f.Sync(old_id, 1, {{old_id, "mine"}});
  f.Run(Duration::Milliseconds(1));
  ASSERT_EQ((*s1)->error, ErrorCode::kNone);
  // A second static member makes the first one a follower.
  auto j2 = f.Join("", "range", "instance-2");
  auto j1b = f.Join(old_id, "range", "instance-1");
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(j2->has_value() && j1b->has_value());
  const std::string second = (*j2)->member_id;
  auto sa = f.Sync(old_id, 2, {{old_id, "mine"}, {second, "yours"}});
  auto sb = f.Sync(second, 2);
  f.Run(Duration::Milliseconds(1));
  ASSERT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kStable);
  const std::string follower = f.coordinator.group(0, "g")->leader() == old_id ? second : old_id;
  const std::string instance = follower == old_id ? "instance-1" : "instance-2";

  // The follower restarts: it joins with no member id and the same instance id.
  auto again = f.Join("", "range", instance);
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->error, ErrorCode::kNone);
  EXPECT_EQ((*again)->generation, 2) << "no rebalance for a static member's restart";
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kStable);
  const std::string new_id = (*again)->member_id;
  EXPECT_NE(new_id, follower);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 2, follower, instance}),
            ErrorCode::kFencedInstanceId);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 2, new_id, instance}), ErrorCode::kNone);
  // The new id was written: a failover keeps the fence.
  f.coordinator.Unload(0);
  f.coordinator.Load(0, 2);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 2, follower, instance}),
            ErrorCode::kFencedInstanceId);
  EXPECT_EQ(f.coordinator.Heartbeat(0, {"g", 2, new_id, instance}), ErrorCode::kNone);
}

// Regression (found by the broker simulation, seed 1): a static LEADER that restarts kept the
// old member id as the group's leader (the replaced id was read through a reference into the
// map the replacement overwrote), so the new leader's SyncGroup was never treated as the
// leader's and the group hung in CompletingRebalance.
TEST(GroupCoordinatorTest, AStaticLeaderThatRestartsStillLeadsTheNextGeneration) {
  Fixture f;
  auto j1 = f.Join("", "range", "leader-instance");
  f.Run(Duration::Milliseconds(300));
  ASSERT_TRUE(j1->has_value());
  const std::string old_id = (*j1)->member_id;
  ASSERT_EQ((*j1)->leader, old_id);
  f.Sync(old_id, 1, {{old_id, "x"}});
  f.Run(Duration::Milliseconds(1));
  ASSERT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kStable);

  auto again = f.Join("", "range", "leader-instance");  // the leader restarts
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(again->has_value());
  const std::string new_id = (*again)->member_id;
  EXPECT_EQ((*again)->leader, new_id);
  EXPECT_EQ(f.coordinator.group(0, "g")->leader(), new_id);
  auto synced = f.Sync(new_id, (*again)->generation, {{new_id, "y"}});
  f.Run(Duration::Milliseconds(1));
  ASSERT_TRUE(synced->has_value()) << "the new leader's sync completes the generation";
  EXPECT_EQ((*synced)->assignment, "y");
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kStable);
}

TEST(GroupCoordinatorTest, LeavingMembersEmptyTheGroupAndItsGenerationIsWritten) {
  Fixture f;
  auto [a, b] = f.TwoStableMembers();
  auto [top, errors] = f.coordinator.LeaveGroup(0, "g", {{a, std::nullopt}, {"x", std::nullopt}});
  EXPECT_EQ(top, ErrorCode::kNone);
  EXPECT_EQ(errors, (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kUnknownMemberId}));
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kPreparingRebalance);
  f.coordinator.LeaveGroup(0, "g", {{b, std::nullopt}});
  EXPECT_EQ(f.coordinator.group(0, "g")->state(), GroupState::kEmpty);
  EXPECT_EQ(f.coordinator.group(0, "g")->generation(), 2);
  f.Run(Duration::Milliseconds(1));
  EXPECT_EQ(f.log.store().Find("g")->metadata->generation(), 2);
  EXPECT_EQ(f.log.store().Find("g")->metadata->members_size(), 0);
}

TEST(GroupCoordinatorTest, SimpleCommitsDescribeDeleteAndExpiry) {
  Fixture f(CoordinatorOptions{.initial_rebalance_delay_ms = 100,
                               .offsets_retention_ms = 60'000,
                               .offsets_retention_check_interval_ms = 1000});
  EXPECT_EQ(f.Commit("", -1, 5), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(f.Committed(), 5);
  EXPECT_EQ(f.coordinator.Describe(0, "g").state, GroupState::kEmpty);
  EXPECT_EQ(f.coordinator.Describe(0, "nope").state, GroupState::kDead);
  ASSERT_EQ(f.coordinator.List(0).size(), 1u);
  f.Run(Duration::Seconds(30));
  EXPECT_EQ(f.Committed(), 5);
  f.Run(Duration::Seconds(32));
  EXPECT_EQ(f.Committed(), std::nullopt) << "expired retention after its commit";
  EXPECT_EQ(f.coordinator.group(0, "g"), nullptr);
  EXPECT_EQ(f.coordinator.stats().offsets_expired, 1u);

  auto [a, b] = f.TwoStableMembers();
  ErrorCode deleted = ErrorCode::kUnknownServerError;
  f.coordinator.DeleteGroup(0, "g", [&](ErrorCode e) { deleted = e; });
  EXPECT_EQ(deleted, ErrorCode::kNonEmptyGroup);
  f.coordinator.LeaveGroup(0, "g", {{a, std::nullopt}, {b, std::nullopt}});
  ASSERT_EQ(f.Commit("", -1, 8), std::vector<ErrorCode>{ErrorCode::kNone});
  f.coordinator.DeleteGroup(0, "g", [&](ErrorCode e) { deleted = e; });
  f.Run(Duration::Milliseconds(1));
  EXPECT_EQ(deleted, ErrorCode::kNone);
  EXPECT_EQ(f.log.store().Find("g"), nullptr) << "metadata and offsets are tombstoned";
  f.coordinator.DeleteGroup(0, "g", [&](ErrorCode e) { deleted = e; });
  EXPECT_EQ(deleted, ErrorCode::kGroupIdNotFound);
}

}  // namespace
}  // namespace eddy::group
