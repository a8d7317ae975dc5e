#include "raft/testing/schedule.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "raft/testing/cluster.h"

namespace eddy::raft::testing {
namespace {

const char* KindName(Action::Kind kind) {
  static const char* const kNames[] = {
      "deliver", "ready",   "tick",  "tick-all", "propose",  "drop",    "duplicate", "campaign",
      "partition", "heal", "crash", "restart",  "conf",     "transfer", "compact", "read", "flush", "arm-crash-on-commit"};
  return kind < Action::kKindCount ? kNames[kind] : "?";
}

constexpr size_t kInFlightMax = 400;  // keeps duplication from exploding a schedule

class Runner {
 public:
  Runner(const Scenario& s, ScenarioStats* stats)
      : s_(s), stats_(stats), cluster_(MakeOptions(s)) {
    std::vector<NodeId> voters;
    for (int i = 1; i <= s.node_count; ++i) voters.push_back(static_cast<NodeId>(i));
    for (NodeId id : voters) cluster_.AddNode(id, voters);
  }

  absl::Status Run() {
    size_t step = 0;
    for (const Action& action : s_.actions) {
      Apply(action);
      // Check before a trap fires, so what the victim committed is on record.
      absl::Status before_trap = cluster_.CheckSafety();
      if (!before_trap.ok()) {
        std::ostringstream what;
        what << "after action #" << step << " (" << action << "): " << before_trap.message();
        return absl::InternalError(what.str());
      }
      Observe();
      MaybeSpringCrashOnCommit();
      if (std::getenv("EDDY_RAFT_TRACE") != nullptr) {
        std::cerr << "#" << step << " " << action << " in_flight=" << cluster_.in_flight().size()
                  << "\n";
        for (NodeId id : Ids()) {
          const Cluster::Node& n = cluster_.node(id);
          if (!n.up) {
            std::cerr << "   " << id << ":down";
            continue;
          }
          std::cerr << "   " << id << ":" << RoleName(n.raft->role())[0] << n.raft->term() << "/c"
                    << n.raft->commit_offset() << (n.written ? "w" : "");
        }
        std::cerr << "\n";
      }
      absl::Status status = cluster_.CheckSafety();
      if (!status.ok()) {
        std::ostringstream what;
        what << "after action #" << step << " (" << action << "): " << status.message();
        return absl::InternalError(what.str());
      }
      ++step;
    }
    return Liveness();
  }

 private:
  static Cluster::Options MakeOptions(const Scenario& s) {
    Cluster::Options o;
    o.seed = s.seed;
    o.config.election_timeout_ticks = 4;
    o.config.heartbeat_interval_ticks = 1;
    o.config.pre_vote = s.pre_vote;
    o.config.check_quorum = s.check_quorum;
    o.config.quiesce = s.quiesce;
    o.config.append_entries_count_max = s.append_entries_count_max;
    o.config.inflight_messages_max = s.inflight_messages_max;
    o.config.snapshot_chunk_size_bytes_max = 40;
    o.config.planted_bug = s.planted_bug;
    o.snapshot_state_size_bytes = s.snapshot_state_size_bytes;
    return o;
  }

  std::vector<NodeId> Ids() const {
    std::vector<NodeId> ids;
    for (const auto& [id, n] : cluster_.nodes()) ids.push_back(id);
    return ids;
  }
  NodeId Pick(uint8_t a) const {
    std::vector<NodeId> ids = Ids();
    return ids[a % ids.size()];
  }
  bool Up(NodeId id) { return cluster_.node(id).up; }

  void Apply(const Action& action) {
    const NodeId id = Pick(action.a);
    switch (action.kind) {
      case Action::kDeliver:
        if (!cluster_.in_flight().empty()) {
          (void)cluster_.Deliver(action.b % cluster_.in_flight().size());
        }
        break;
      case Action::kReady:
        if (!Up(id)) break;
        if (cluster_.node(id).written) {
          cluster_.SyncAndSend(id);
        } else if (cluster_.Write(id) && action.b % 2 == 0) {
          cluster_.SyncAndSend(id);
        }
        break;
      case Action::kTick:
        cluster_.Tick(id);
        NodeLiveness();
        break;
      case Action::kTickAll:
        for (NodeId n : Ids()) cluster_.Tick(n);
        NodeLiveness();
        break;
      case Action::kPropose:
        if (Up(id) && cluster_.raft(id).role() == Role::kLeader) {
          (void)cluster_.raft(id).Propose(1 + action.b % 4, std::string(1 + action.b % 7, 'p'));
        }
        break;
      case Action::kDrop:
        if (!cluster_.in_flight().empty()) cluster_.Drop(action.b % cluster_.in_flight().size());
        break;
      case Action::kDuplicate:
        if (!cluster_.in_flight().empty() && cluster_.in_flight().size() < kInFlightMax) {
          cluster_.Duplicate(action.b % cluster_.in_flight().size());
        }
        break;
      case Action::kCampaign:
        if (Up(id)) (void)cluster_.raft(id).Campaign();
        break;
      case Action::kPartition: {
        std::set<NodeId> group;
        std::vector<NodeId> ids = Ids();
        for (size_t i = 0; i < ids.size(); ++i) {
          if ((action.b >> i) & 1) group.insert(ids[i]);
        }
        cluster_.Heal();
        cluster_.Isolate(group);
        break;
      }
      case Action::kHeal:
        cluster_.Heal();
        break;
      case Action::kCrash: {
        // Keep most of the cluster up most of the time so schedules make progress between
        // faults: at most half the nodes are down at once.
        size_t down = 0;
        for (NodeId n : Ids()) down += Up(n) ? 0 : 1;
        // Half the crashes hit the leader: the interesting moments are a leader dying between
        // replicating and committing.
        const NodeId victim =
            action.b % 2 == 0 && cluster_.Leader() != kNoNode ? cluster_.Leader() : id;
        if (2 * (down + 1) <= Ids().size() || Ids().size() == 1) cluster_.Crash(victim);
        break;
      }
      case Action::kRestart: {
        std::vector<NodeId> down;
        for (NodeId n : Ids()) {
          if (!Up(n)) down.push_back(n);
        }
        if (!down.empty()) cluster_.Restart(down[action.a % down.size()]);
        break;
      }
      case Action::kConfChange:
        ConfChange(id, action.b);
        break;
      case Action::kTransfer:
        if (Up(id) && cluster_.raft(id).role() == Role::kLeader) {
          (void)cluster_.raft(id).TransferLeadership(Pick(action.b));
        }
        break;
      case Action::kCompact:
        if (Up(id)) cluster_.Compact(id, cluster_.raft(id).applied_offset() - action.b % 4);
        break;
      case Action::kReadIndex:
        if (Up(id)) (void)cluster_.raft(id).ReadIndex(action.b + 1);
        break;
      case Action::kFlush:
        // A calm moment: every node processes its Readies and up to `b` messages are
        // delivered in order (those crossing a cut are lost).
        for (int round = 0; round < 2; ++round) {
          for (NodeId n : Ids()) {
            if (Up(n)) cluster_.ProcessReady(n);
          }
          for (int i = 0; i <= action.b % 64 && !cluster_.in_flight().empty(); ++i) {
            (void)cluster_.Deliver(0);
          }
        }
        break;
      case Action::kArmCrashOnCommit:
        // A targeted fault (like FoundationDB's buggify): the next leader whose commit offset
        // advances crashes at that instant, before the Ready that would announce it goes out.
        // With b odd it fires instead on the next newly elected leader, before its no-op leaves.
        (action.b % 2 == 0 ? crash_on_commit_armed_ : crash_on_election_armed_) = true;
        break;
      case Action::kKindCount:
        break;
    }
  }

  void ConfChange(NodeId id, uint8_t b) {
    if (!Up(id) || cluster_.raft(id).role() != Role::kLeader) return;
    RawNode& leader = cluster_.raft(id);
    const Membership& m = leader.membership();
    switch (b % 3) {
      case 0: {  // add a learner: a brand-new node, or a node that was removed earlier? new only
        if (static_cast<int>(cluster_.nodes().size()) >= kNodeCountMax) return;
        const NodeId fresh = cluster_.nodes().rbegin()->first + 1;
        if (leader.ProposeConfChange(CONF_ADD_LEARNER, fresh).ok()) cluster_.AddNode(fresh, {});
        break;
      }
      case 1:
        if (!m.learners().empty()) {
          (void)leader.ProposeConfChange(CONF_PROMOTE_LEARNER,
                                         m.learners()[(b / 3) % m.learners().size()]);
        }
        break;
      case 2: {
        std::vector<NodeId> members = m.voters();
        members.insert(members.end(), m.learners().begin(), m.learners().end());
        (void)leader.ProposeConfChange(CONF_REMOVE_NODE, members[(b / 3) % members.size()]);
        break;
      }
    }
  }

  // Heal everything, restart every node, then let time pass with a perfect network: a leader
  // must emerge and commit a new proposal within kLivenessTicksMax ticks.
  absl::Status Liveness() {
    cluster_.Heal();
    for (NodeId id : Ids()) {
      if (!Up(id)) cluster_.Restart(id);
    }
    std::optional<std::pair<NodeId, EntryMeta>> proposal;
    for (int tick = 0; tick < kLivenessTicksMax; ++tick) {
      cluster_.Stabilize();
      absl::Status status = cluster_.CheckSafety();
      if (!status.ok()) return absl::InternalError(absl::StrCat("while healing: ", status.message()));
      const NodeId leader = cluster_.Leader();
      if (proposal && leader == proposal->first &&
          cluster_.raft(leader).term() == proposal->second.term &&
          cluster_.raft(leader).commit_offset() >= proposal->second.last_offset) {
        return absl::OkStatus();
      }
      if (leader != kNoNode && (!proposal || proposal->first != leader ||
                                cluster_.raft(leader).term() != proposal->second.term)) {
        auto entry = cluster_.raft(leader).Propose(1, "liveness");
        if (entry.ok()) proposal.emplace(leader, *entry);
      }
      for (NodeId id : Ids()) cluster_.Tick(id);
    }
    std::string state;
    for (NodeId id : Ids()) absl::StrAppend(&state, "\n  ", cluster_.DescribeNode(id));
    return absl::DeadlineExceededError(absl::StrCat(
        "liveness: no proposal committed within ", kLivenessTicksMax, " ticks of healing", state));
  }

  // The driver's node liveness (raft/driver NodeDriver), eagerly: a quiesced replica that
  // cannot reach a peer it depends on is woken at once (the real one waits a timeout).
  void NodeLiveness() {
    for (NodeId id : Ids()) {
      if (!Up(id) || !cluster_.raft(id).quiesced()) continue;
      RawNode& raft = cluster_.raft(id);
      std::vector<NodeId> peers;
      if (raft.role() == Role::kLeader) {
        for (NodeId v : raft.membership().voters()) peers.push_back(v);
        for (NodeId l : raft.membership().learners()) peers.push_back(l);
      } else {
        peers.push_back(raft.leader());
      }
      for (NodeId peer : peers) {
        if (peer == id) continue;
        const bool known = cluster_.nodes().count(peer) != 0;
        if (!known || !Up(peer) || !cluster_.Connected(id, peer)) {
          raft.Unquiesce();
          break;
        }
      }
    }
  }

  void MaybeSpringCrashOnCommit() {
    for (NodeId id : Ids()) {
      const Cluster::Node& n = cluster_.node(id);
      if (!n.up) {
        leader_commit_.erase(id);
        continue;
      }
      const bool leader = n.raft->role() == Role::kLeader;
      auto it = leader_commit_.find(id);
      const bool advanced =
          leader && it != leader_commit_.end() && n.raft->commit_offset() > it->second;
      const bool elected = leader && it == leader_commit_.end();
      if (leader) {
        leader_commit_[id] = n.raft->commit_offset();
      } else {
        leader_commit_.erase(id);
      }
      size_t down = 0;
      for (NodeId other : Ids()) down += cluster_.node(other).up ? 0 : 1;
      const bool may_crash = 2 * (down + 1) <= Ids().size() || Ids().size() == 1;
      if (may_crash &&
          ((advanced && crash_on_commit_armed_) || (elected && crash_on_election_armed_))) {
        (advanced ? crash_on_commit_armed_ : crash_on_election_armed_) = false;
        cluster_.Crash(id);
        leader_commit_.erase(id);
      }
    }
  }

  void Observe() {
    if (stats_ == nullptr) return;
    for (const auto& [id, n] : cluster_.nodes()) {
      if (!n.up) continue;
      stats_->committed_offset_max =
          std::max(stats_->committed_offset_max, n.raft->commit_offset());
      if (n.raft->role() == Role::kLeader) leaders_seen_.emplace(n.raft->term(), id);
    }
    uint64_t quiesces = 0;
    for (const auto& [id, n] : cluster_.nodes()) {
      if (n.raft != nullptr) quiesces += n.raft->counters().quiesces;
    }
    stats_->quiesces = std::max(stats_->quiesces, quiesces);
    stats_->leaders = static_cast<int>(leaders_seen_.size());
    stats_->messages_delivered = cluster_.delivered_messages();
    stats_->snapshots_installed = static_cast<int>(cluster_.snapshots_installed());
    const NodeId leader = cluster_.Leader();
    if (leader != kNoNode) {
      const Membership& m = cluster_.raft(leader).membership();
      const int changes = std::abs(static_cast<int>(m.voters().size()) - s_.node_count) +
                          static_cast<int>(m.learners().size());
      stats_->membership_changes = std::max(stats_->membership_changes, changes);
    }
  }

  const Scenario& s_;
  ScenarioStats* stats_;
  bool crash_on_commit_armed_ = false;
  bool crash_on_election_armed_ = false;
  std::map<NodeId, int64_t> leader_commit_;  // leaders' commit offsets after the last action
  std::set<std::pair<Term, NodeId>> leaders_seen_;
  Cluster cluster_;
};

}  // namespace

std::ostream& operator<<(std::ostream& out, const Action& action) {
  return out << KindName(action.kind) << "(" << static_cast<int>(action.a) << ","
             << static_cast<int>(action.b) << ")";
}

std::ostream& operator<<(std::ostream& out, const Scenario& s) {
  out << "nodes=" << s.node_count << " pre_vote=" << s.pre_vote
      << " check_quorum=" << s.check_quorum << " quiesce=" << s.quiesce << " batch=" << s.append_entries_count_max
      << " inflight=" << s.inflight_messages_max << " snapshot_bytes="
      << s.snapshot_state_size_bytes << " seed=" << s.seed << " actions(" << s.actions.size()
      << "):";
  for (const Action& a : s.actions) out << " " << a;
  return out;
}

absl::Status RunScenario(const Scenario& scenario, ScenarioStats* stats) {
  return Runner(scenario, stats).Run();
}

}  // namespace eddy::raft::testing
