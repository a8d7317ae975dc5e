// Broker: leaderships announced to every broker, and each led partition's ISR (broker.h,
// leadership_directory.h, isr_tracker.h).
#include <utility>

#include "core/broker/broker.h"
#include "raft/driver/driver_options.h"

namespace eddy::broker {

void Broker::ScheduleAnnounce(Duration after) {
  if (after < kAnnounceInterval) {
    if (announce_soon_) return;
    announce_soon_ = true;
  }
  if (announce_timer_ != runtime::kNoTimer) runtime_.clock().Cancel(announce_timer_);
  announce_timer_ = runtime_.clock().ScheduleAfter(after, [this, alive = alive_] {
    if (!*alive) return;
    announce_timer_ = runtime::kNoTimer;
    announce_soon_ = false;
    Announce();
    ScheduleAnnounce(kAnnounceInterval);
  });
}

void Broker::Announce() {
  const Instant now = runtime_.clock().Now();
  LeadershipHints hints;
  std::map<raft::driver::GroupId, Led> still_led;
  for (const auto& [group, driver] : node_->groups()) {
    if (group == controller::MetadataImage::kMetadataGroupId) continue;
    const raft::RawNode* raft = driver->raft();
    auto ready = idempotence_.find(group);
    if (raft == nullptr || raft->role() != raft::Role::kLeader || ready == idempotence_.end() ||
        ready->second.ready_term != raft->term()) {
      continue;
    }
    auto led = led_.find(group);
    Led state = led != led_.end() && led->second.term == raft->term()
                    ? std::move(led->second)
                    : Led{raft->term(), IsrTracker(static_cast<int32_t>(runtime_.self()),
                                                   driver->log_last_offset(), now)};
    std::map<int32_t, int64_t> matches;
    for (raft::NodeId voter : raft->membership().voters()) {
      // Only a follower heard from lately can have caught up (a dead one keeps its match).
      const raft::Progress* p = raft->progress(voter);
      if (p != nullptr && p->recent_active) {
        matches[static_cast<int32_t>(raft::driver::NodeOfReplica(voter))] = p->match_offset;
      }
    }
    state.isr.Sample(matches, driver->log_last_offset(), now);
    LeadershipHint* hint = hints.add_hints();
    hint->set_group(group);
    hint->set_term(raft->term());
    hint->set_leader(static_cast<int32_t>(runtime_.self()));
    for (int32_t b : state.isr.InSync(now)) hint->add_isr(b);
    still_led.emplace(group, std::move(state));
  }
  led_ = std::move(still_led);
  if (hints.hints().empty()) return;
  // In messages of at most kHintsPerMessageMax hints, to every other registered broker.
  std::vector<std::string> payloads;
  for (int from = 0; from < hints.hints_size(); from += static_cast<int>(kHintsPerMessageMax)) {
    BrokerRpc rpc;
    const int to = std::min(hints.hints_size(), from + static_cast<int>(kHintsPerMessageMax));
    for (int i = from; i < to; ++i) *rpc.mutable_hints()->add_hints() = hints.hints(i);
    payloads.push_back(rpc.SerializeAsString());
  }
  for (const auto& [id, broker] : image_.brokers()) {
    if (static_cast<runtime::NodeId>(id) == runtime_.self()) continue;
    for (const std::string& payload : payloads) {
      ++stats_.hints_sent;
      static_cast<void>(node_->SendOwnerMessage(static_cast<runtime::NodeId>(id), payload));
    }
  }
}

void Broker::LearnHints(const LeadershipHints& hints) {
  const Instant now = runtime_.clock().Now();
  for (const LeadershipHint& h : hints.hints()) {
    // A peer's input: a hint naming an impossible group, leader or ISR is dropped and counted.
    if (h.group() < controller::MetadataImage::kFirstPartitionGroupId || h.leader() < 0 ||
        h.isr_size() > static_cast<int>(controller::MetadataImage::kReplicationFactorMax)) {
      ++stats_.rpc_malformed;
      continue;
    }
    ++stats_.hints_received;
    broker::Leadership hint;
    hint.group = h.group();
    hint.term = h.term();
    hint.leader = h.leader();
    hint.isr.assign(h.isr().begin(), h.isr().end());
    directory_.Learn(hint, now);
  }
}

std::vector<int32_t> Broker::LocalIsr(raft::driver::GroupId group) {
  auto led = led_.find(group);
  raft::driver::GroupDriver* g = node_->group(group);
  if (led == led_.end() || g == nullptr || g->raft() == nullptr ||
      g->raft()->role() != raft::Role::kLeader || g->raft()->term() != led->second.term) {
    return {};
  }
  return led->second.isr.InSync(runtime_.clock().Now());
}

std::optional<broker::Leadership> Broker::LeadershipOf(raft::driver::GroupId group) {
  const Instant now = runtime_.clock().Now();
  std::optional<broker::Leadership> announced = directory_.Find(group, now);
  auto soft = soft_states_.find(group);
  if (soft == soft_states_.end() || soft->second.leader == raft::kNoNode) return announced;
  // This broker's own replica knows the leader and term; the ISR is the leader's.
  broker::Leadership known;
  known.group = group;
  known.term = soft->second.term;
  known.leader = static_cast<int32_t>(raft::driver::NodeOfReplica(soft->second.leader));
  if (known.leader == static_cast<int32_t>(runtime_.self())) {
    known.isr = LocalIsr(group);
  } else if (announced.has_value() && announced->term == known.term) {
    known.isr = announced->isr;
  }
  if (announced.has_value() && announced->term > known.term) return announced;
  return known;
}

}  // namespace eddy::broker
