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
  const std::vector<GroupId> live = cluster_.LiveGroups();
  if (live.empty()) return;
  const GroupId group = live[random_.Uniform(live.size())];
  // Candidates among the group's hosts (a created group lives on some of the nodes only).
  std::vector<runtime::NodeId> eligible;
  for (runtime::NodeId c : candidates_) {
    if (cluster_.Hosts(c, group)) eligible.push_back(c);
  }
  if (eligible.empty()) return;
  const runtime::NodeId node = eligible[random_.Uniform(eligible.size())];
  const bool wipe = random_.Uniform(100) < wipe_percent_;
  // Start only from a settled configuration: every host's replica a voter, no learner.
  if (!cluster_.FullMembership(group)) {
    cluster_.CountRecovery("membership cycle skipped: configuration not settled");
    return;
  }
  if (eligible.size() >= 2 && random_.OneIn(2)) {
    // Two replicas: back-to-back changes in the same direction (the drawn one first).
    std::vector<runtime::NodeId> nodes = {node};
    for (runtime::NodeId other : eligible) {
      if (other != node && nodes.size() < 2) nodes.push_back(other);
    }
    return BeginSeveral(group, std::move(nodes), wipe);
  }
  Begin(group, node, wipe);
}

void MembershipCycle::Begin(GroupId group, runtime::NodeId node, bool wipe) {
  BeginSeveral(group, {node}, wipe);
}

void MembershipCycle::BeginSeveral(GroupId group, std::vector<runtime::NodeId> nodes,
                                   bool wipe) {
  EDDY_CHECK(idle());
  EDDY_CHECK_GE(group, 1u);
  EDDY_CHECK(!nodes.empty());
  step_ = Step::kRemove;
  group_ = group;
  members_.clear();
  for (runtime::NodeId node : nodes) {
    for (const Member& m : members_) EDDY_CHECK_NE(m.node, node);
    const raft::NodeId replica = cluster_.ReplicaIdOf(node, group);
    members_.push_back(Member{node, replica, replica});
  }
  wipe_ = wipe;
  cluster_.Trace(absl::StrCat("membership: g", group, " cycle starts: remove ", MemberNames(false),
                              wipe ? ", wipe" : "", ", add back as learners, promote"));
  if (members_.size() > 1) cluster_.CountRecovery("membership cycle of several replicas");
  Poll();
}

void MembershipCycle::OnChangeApplied(GroupId group) {
  if (idle() || group != group_ || poll_timer_ == runtime::kNoTimer) return;
  cluster_.world().loop().Cancel(poll_timer_);
  poll_timer_ = cluster_.world().loop().ScheduleAfter(Duration::Zero(), [this] { Poll(); });
}

std::string MembershipCycle::MemberNames(bool new_ids) const {
  std::string names;
  for (const Member& m : members_) {
    absl::StrAppend(&names, names.empty() ? "" : ",",
                    cluster_.ReplicaName(new_ids ? m.new_replica : m.old_replica));
  }
  return names;
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

bool MembershipCycle::StepDone(const raft::Membership& committed) {
  for (Member& m : members_) {
    switch (step_) {
      case Step::kRemove:
        if (!committed.Contains(m.old_replica)) continue;
        Propose(raft::CONF_REMOVE_NODE, m.old_replica);
        return false;
      case Step::kWipe:
        if (m.new_replica != m.old_replica) continue;
        // A paused process cannot be stopped cleanly by the harness: wait for it to resume.
        if (cluster_.world().node(m.node).paused()) return false;
        m.new_replica = cluster_.WipeReplica(m.node, group_);
        continue;
      case Step::kAdd:
        if (committed.Contains(m.new_replica)) continue;
        Propose(raft::CONF_ADD_LEARNER, m.new_replica);
        return false;
      case Step::kPromote:
        if (committed.IsVoter(m.new_replica)) continue;
        Propose(raft::CONF_PROMOTE_LEARNER, m.new_replica);
        return false;
      case Step::kIdle:
        return true;
    }
  }
  return true;
}

void MembershipCycle::Poll() {
  poll_timer_ = runtime::kNoTimer;
  if (idle()) return;
  // What some replica applied is committed: a step is done when the change shows there.
  while (StepDone(cluster_.CommittedMembership(group_))) {
    switch (step_) {
      case Step::kRemove:
        step_ = wipe_ ? Step::kWipe : Step::kAdd;
        break;
      case Step::kWipe:
        step_ = Step::kAdd;
        break;
      case Step::kAdd:
        step_ = Step::kPromote;
        break;
      case Step::kPromote:
      case Step::kIdle:
        return Finish();
    }
  }
  poll_timer_ = cluster_.world().loop().ScheduleAfter(kPollInterval, [this] { Poll(); });
}

void MembershipCycle::Finish() {
  cluster_.Trace(absl::StrCat("membership: g", group_, " cycle done: ", MemberNames(true),
                              " voters again"));
  cluster_.CountRecovery("membership cycle completed");
  for (size_t i = 0; i < members_.size(); ++i) {
    cluster_.CountRecovery("learner promoted");
    if (wipe_) cluster_.CountRecovery("replica wiped and rejoined");
  }
  ++cycles_completed_;
  step_ = Step::kIdle;
}

bool MembershipCycle::CancelIfOn(GroupId group) {
  if (idle() || group_ != group) return false;
  if (poll_timer_ != runtime::kNoTimer) cluster_.world().loop().Cancel(poll_timer_);
  poll_timer_ = runtime::kNoTimer;
  cluster_.Trace(absl::StrCat("membership: g", group_, " cycle cancelled at step ",
                              StepName(step_), ": the group is deleted"));
  cluster_.CountRecovery("membership cycle cancelled: group deleted");
  step_ = Step::kIdle;
  members_.clear();
  return true;
}

GroupId MembershipCycle::group() const {
  EDDY_CHECK(!idle());
  return group_;
}

std::string MembershipCycle::Describe() const {
  if (idle()) return "membership idle";
  return absl::StrCat("membership cycle of g", group_, " at step ", StepName(step_), " (",
                      MemberNames(false), " -> ", MemberNames(true), ")");
}

}  // namespace eddy::sim::cluster
