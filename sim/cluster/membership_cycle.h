// MembershipCycle: the cluster harness's membership actions, one cycle at a time:
//
//   1. REMOVE a voter replica of one group (CONF_REMOVE_NODE through the group's leader), until
//      the removal is committed (a leader's committed membership no longer contains it);
//   2. optionally WIPE that replica: its node is stopped, the group's directory erased on its
//      SimDisk, and the node restarted; the replica comes back EMPTY under a NEW Raft id (the
//      next incarnation, raft/driver/driver_options.h: REPLICA IDENTITY) — the old id is retired
//      for good and the checker fails the run if it ever speaks again;
//   3. ADD the replica (the new id if wiped, else the same one) back as a LEARNER, until
//      committed; it catches up from the leader's log start (the log has no prefix truncation);
//   4. PROMOTE the learner to voter once the leader's core accepts it (its match offset reached
//      the commit offset: RawNode refuses a promotion before), until committed.
// A cycle may take several replicas (BeginSeveral, and half of the random cycles when there are
// two or more candidates): each step then runs for each replica in turn, so two voter changes
// in the same direction follow each other back to back, as in a Kafka-style reassignment.
// Each step retries its proposal every `poll_interval` (leaders change, proposals get lost or
// refused while another change is pending); a step is done when the COMMITTED membership shows
// it (Cluster::CommittedMembership: changes some replica applied). Not the leader's own view: a
// newly elected leader's commit offset lags until its no-op commits, and a removed replica that
// never learned of its removal can still win an election with its stale configuration (legal:
// single-server configurations overlap), so "the leader's membership" can go backwards.
//
// WHICH GROUPS: a live group (Cluster::LiveGroups), of whose hosts the candidates are drawn; a
// group deleted while its cycle runs cancels the cycle (CancelIfOn).
//
// WHICH REPLICAS: only those on the harness's storage-fault nodes (the highest (N-1)/2 ids), the
// minority the cluster already allows to lose data: a wiped replica is one more damaged copy, and
// removing it first means no quorum of the current configuration ever counts on it. For 3 nodes
// the voter count dips to 2 during a cycle (the shape allows no better: the replica that leaves
// is the one that comes back); for 5 nodes it stays at 4 or more.
//
// Random cycles start at intervals drawn uniform in [0, 2 × interval_mean] while running
// (Start/Stop); a cycle in progress when Stop() is called runs to completion, so the liveness
// phase ends with every node holding a voter replica again. Scenario tests call Begin().
//
// DETERMINISM: draws only from its own Random; every step is a world-loop event.
// OWNERSHIP: owned by the Cluster, which outlives it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/base/units.h"
#include "core/runtime/clock.h"
#include "core/runtime/transport.h"
#include "raft/driver/driver_options.h"
#include "raft/membership.h"
#include "raft/raft.pb.h"

namespace eddy::sim::cluster {

class Cluster;

class MembershipCycle {
 public:
  static constexpr Duration kPollInterval = Duration::Milliseconds(100);

  enum class Step { kIdle, kRemove, kWipe, kAdd, kPromote };
  static const char* StepName(Step step);

  // `candidates`: the nodes whose replicas may be cycled (may be empty: then no random cycles).
  MembershipCycle(Cluster& cluster, std::vector<runtime::NodeId> candidates, uint64_t seed,
                  Duration interval_mean, uint32_t wipe_percent);
  ~MembershipCycle();
  MembershipCycle(const MembershipCycle&) = delete;
  MembershipCycle& operator=(const MembershipCycle&) = delete;

  // Random cycles on/off. Stop() lets a cycle in progress finish.
  void Start();
  void Stop();
  // Starts one cycle of `group`'s replica on `node` now. REQUIRES: idle().
  void Begin(raft::driver::GroupId group, runtime::NodeId node, bool wipe);
  // Starts one cycle of the replicas on several nodes at once, as a Kafka-style reassignment
  // does: each step runs for every replica in turn, so changes in the same direction follow
  // each other back to back (remove a, remove b; add a, add b; promote a, promote b), the next
  // one proposed as soon as the previous one is seen committed. REQUIRES: idle(), nodes
  // distinct and non-empty.
  void BeginSeveral(raft::driver::GroupId group, std::vector<runtime::NodeId> nodes, bool wipe);
  // Some replica of `group` applied a membership change: the next step is proposed at once
  // rather than at the next poll (back-to-back changes).
  void OnChangeApplied(raft::driver::GroupId group);

  // The group is being deleted (Cluster::DeleteGroup): a cycle on it stops where it is (its
  // replicas are about to go; a wipe already begun completes as the node's scrub). Returns
  // whether one was cancelled.
  bool CancelIfOn(raft::driver::GroupId group);

  bool idle() const { return step_ == Step::kIdle; }
  // The group of the cycle in progress. REQUIRES: !idle().
  raft::driver::GroupId group() const;
  Step step() const { return step_; }
  uint64_t cycles_completed() const { return cycles_completed_; }
  // One line for a liveness failure report.
  std::string Describe() const;

 private:
  void ScheduleNextCycle();
  void MaybeBeginRandomCycle();
  void Poll();
  // Proposes one change through the group's leader; false if there is none (retried later).
  void Propose(raft::ConfChangeType type, raft::NodeId replica);
  void Finish();

  Cluster& cluster_;
  const std::vector<runtime::NodeId> candidates_;
  Random random_;
  const Duration interval_mean_;
  const uint32_t wipe_percent_;
  bool running_ = false;
  runtime::TimerId next_cycle_timer_ = runtime::kNoTimer;
  runtime::TimerId poll_timer_ = runtime::kNoTimer;

  Step step_ = Step::kIdle;
  // The replicas being cycled, in the order each step handles them.
  struct Member {
    runtime::NodeId node = runtime::kNoNode;
    raft::NodeId old_replica = raft::kNoNode;
    raft::NodeId new_replica = raft::kNoNode;
  };
  // Every member done with the current step? Otherwise proposes the first one's change.
  bool StepDone(const raft::Membership& committed);
  std::string MemberNames(bool new_ids) const;

  raft::driver::GroupId group_ = 0;
  std::vector<Member> members_;
  bool wipe_ = false;
  uint64_t cycles_completed_ = 0;
};

}  // namespace eddy::sim::cluster
