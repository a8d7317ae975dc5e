#include "sim/cluster/membership_cycle.h"

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/cluster/cluster.h"

namespace eddy::sim::cluster {

using raft::driver::GroupId;

const char* MembershipCycle::StepName(Step step) {
  switch (step) {
    case Step::kIdle:
      return "idle";
    case Step::kRemove:
      return "remove";
    case Step::kWipe:
      return "wipe";
    case Step::kAdd:
      return "add-learner";
    case Step::kPromote:
      return "promote";
  }
  return "?";
}

MembershipCycle::MembershipCycle(Cluster& cluster, std::vector<runtime::NodeId> candidates,
                                 uint64_t seed, Duration interval_mean, uint32_t wipe_percent)
    : cluster_(cluster),
      candidates_(std::move(candidates)),
      random_(seed),
      interval_mean_(interval_mean),
      wipe_percent_(wipe_percent) {
  EDDY_CHECK_LE(wipe_percent_, 100u);
  EDDY_CHECK_GE(interval_mean_.nanoseconds(), 0);
}

MembershipCycle::~MembershipCycle() {
  for (runtime::TimerId* t : {&next_cycle_timer_, &poll_timer_}) {
    if (*t != runtime::kNoTimer) cluster_.world().loop().Cancel(*t);
  }
}

void MembershipCycle::Start() {
  if (running_ || candidates_.empty() || interval_mean_.nanoseconds() == 0) return;
  running_ = true;
  ScheduleNextCycle();
}

void MembershipCycle::Stop() {
  running_ = false;
  if (next_cycle_timer_ != runtime::kNoTimer) cluster_.world().loop().Cancel(next_cycle_timer_);
  next_cycle_timer_ = runtime::kNoTimer;
}

void MembershipCycle::ScheduleNextCycle() {
  const Duration gap =
      Duration::Nanoseconds(random_.UniformInRange(1, 2 * interval_mean_.nanoseconds()));
  next_cycle_timer_ = cluster_.world().loop().ScheduleAfter(gap, [this] {
    next_cycle_timer_ = runtime::kNoTimer;
    if (!running_) return;
    MaybeBeginRandomCycle();
    ScheduleNextCycle();
  });
}

void MembershipCycle::MaybeBeginRandomCycle() {
  if (!idle()) return;
  const GroupId group = 1 + random_.Uniform(static_cast<uint64_t>(cluster_.group_count()));
  const runtime::NodeId node = candidates_[random_.Uniform(candidates_.size())];
  const bool wipe = random_.Uniform(100) < wipe_percent_;
  // Start only from a settled configuration: every node's replica a voter, no learner.
  if (!cluster_.FullMembership(group)) {
    cluster_.CountRecovery("membership cycle skipped: configuration not settled");
    return;
  }
  Begin(group, node, wipe);
}

void MembershipCycle::Begin(GroupId group, runtime::NodeId node, bool wipe) {
  EDDY_CHECK(idle());
  EDDY_CHECK_GE(group, 1u);
  step_ = Step::kRemove;
  group_ = group;
  node_ = node;
  old_replica_ = cluster_.ReplicaIdOf(node, group);
  new_replica_ = old_replica_;
  wipe_ = wipe;
  cluster_.Trace(absl::StrCat("membership: g", group, " cycle starts: remove ",
                              cluster_.ReplicaName(old_replica_), wipe ? ", wipe it" : "",
                              ", add it back as a learner, promote it"));
  Poll();
}

void MembershipCycle::Propose(raft::ConfChangeType type, raft::NodeId replica) {
  raft::driver::GroupDriver* leader = cluster_.LeaderGroup(group_);
  if (leader == nullptr) return;
  // Refusals (another change pending, learner behind, leadership moving) are retried.
  if (leader->ProposeConfChange(type, replica).ok()) {
    cluster_.Trace(absl::StrCat("membership: g", group_, " proposed ",
                                raft::ConfChangeType_Name(type), " ",
                                cluster_.ReplicaName(replica)));
  }
}

void MembershipCycle::Poll() {
  poll_timer_ = runtime::kNoTimer;
  // What some replica applied is committed: a step is done when the change shows there.
  const raft::Membership committed = cluster_.CommittedMembership(group_);
  switch (step_) {
    case Step::kIdle:
      return;
    case Step::kRemove:
      if (!committed.Contains(old_replica_)) {
        step_ = wipe_ ? Step::kWipe : Step::kAdd;
        return Poll();
      }
      Propose(raft::CONF_REMOVE_NODE, old_replica_);
      break;
    case Step::kWipe:
      // A paused process cannot be stopped cleanly by the harness: wait for it to resume.
      if (cluster_.world().node(node_).paused()) break;
      new_replica_ = cluster_.WipeReplica(node_, group_);
      step_ = Step::kAdd;
      break;
    case Step::kAdd:
      if (committed.Contains(new_replica_)) {
        step_ = Step::kPromote;
        return Poll();
      }
      Propose(raft::CONF_ADD_LEARNER, new_replica_);
      break;
    case Step::kPromote:
      if (committed.IsVoter(new_replica_)) return Finish();
      Propose(raft::CONF_PROMOTE_LEARNER, new_replica_);
      break;
  }
  poll_timer_ = cluster_.world().loop().ScheduleAfter(kPollInterval, [this] { Poll(); });
}

void MembershipCycle::Finish() {
  cluster_.Trace(absl::StrCat("membership: g", group_, " cycle done: ",
                              cluster_.ReplicaName(new_replica_), " is a voter again"));
  cluster_.CountRecovery("membership cycle completed");
  cluster_.CountRecovery("learner promoted");
  if (wipe_) cluster_.CountRecovery("replica wiped and rejoined");
  ++cycles_completed_;
  step_ = Step::kIdle;
}

std::string MembershipCycle::Describe() const {
  if (idle()) return "membership idle";
  return absl::StrCat("membership cycle of g", group_, " at step ", StepName(step_), " (",
                      cluster_.ReplicaName(old_replica_), " -> ",
                      cluster_.ReplicaName(new_replica_), ")");
}

}  // namespace eddy::sim::cluster
