// Consumer: consumer groups — Subscribe, the commit APIs, and the GroupMembership's Host
// (consumer.h, GROUPS).
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/consumer.h"
#include "core/base/check.h"

namespace eddy::clients {

absl::Status Consumer::EnsureMembership() {
  if (membership_) return absl::OkStatus();
  if (!options_.group_id.has_value()) {
    return absl::FailedPreconditionError("no group.id: the group APIs need one");
  }
  GroupMembershipOptions o;
  o.group_id = *options_.group_id;
  o.group_instance_id = options_.group_instance_id;
  o.client_id = options_.client_id;
  o.rack = options_.client_rack;
  o.session_timeout = options_.session_timeout;
  o.heartbeat_interval = options_.heartbeat_interval;
  o.rebalance_timeout = options_.max_poll_interval;
  o.request_timeout = options_.request_timeout;
  o.retry_backoff = options_.retry_backoff;
  o.default_api_timeout = options_.default_api_timeout;
  o.assignors = options_.partition_assignment_strategy;
  absl::StatusOr<std::unique_ptr<GroupMembership>> m =
      GroupMembership::Create(runtime_, std::move(o), MembershipHost());
  if (!m.ok()) return m.status();
  membership_ = *std::move(m);
  return absl::OkStatus();
}

GroupMembership::Host Consumer::MembershipHost() {
  GroupMembership::Host host;
  host.partition_count = [this](const std::string& topic) {
    return metadata_.PartitionCount(topic);
  };
  host.want_topics = [this](const std::set<std::string>& topics) {
    if (topics != group_topics_) group_topics_ = topics;
    metadata_wanted_ = true;
    Wake(Duration::Zero());
  };
  host.brokers = [this] {
    std::vector<runtime::Address> known = metadata_.BrokerAddresses();
    return known.empty() ? options_.bootstrap : known;
  };
  host.broker_address = [this](int32_t id) -> std::optional<runtime::Address> {
    const runtime::Address* a = metadata_.BrokerAddress(id);
    if (a == nullptr) return std::nullopt;
    return *a;
  };
  host.revoke = [this](std::vector<TopicPartition> partitions,
                       absl::AnyInvocable<void() &&> done) {
    OnRevoke(std::move(partitions), std::move(done));
  };
  host.assigned = [this](std::vector<TopicPartition> p) { OnAssigned(std::move(p)); };
  host.lost = [this](std::vector<TopicPartition> p) { OnLost(std::move(p)); };
  host.fatal = [this](absl::Status why) {
    group_error_ = std::move(why);
    Wake(Duration::Zero());
  };
  return host;
}

absl::Status Consumer::Subscribe(std::set<std::string> topics, RebalanceListener listener) {
  if (closed_) return absl::FailedPreconditionError("consumer closed");
  if (manually_assigned_) {
    return absl::FailedPreconditionError("Subscribe after Assign: one or the other");
  }
  for (const std::string& t : topics) {
    if (t.empty()) return absl::InvalidArgumentError("empty topic name");
  }
  if (absl::Status s = EnsureMembership(); !s.ok()) return s;
  subscribed_ = !topics.empty();
  listener_ = std::move(listener);
  metadata_wanted_ = true;
  next_auto_commit_ = runtime_.clock().Now() + options_.auto_commit_interval;
  membership_->Subscribe(std::move(topics));
  Wake(Duration::Zero());
  return absl::OkStatus();
}

void Consumer::Unsubscribe() {
  if (membership_ && subscribed_) membership_->Subscribe({});
  subscribed_ = false;
}

std::map<TopicPartition, int64_t> Consumer::Positions(
    const std::vector<TopicPartition>& partitions) const {
  std::map<TopicPartition, int64_t> out;
  for (const TopicPartition& tp : partitions) {
    if (awaiting_committed_.contains(tp)) continue;  // nothing read: nothing to commit
    if (std::optional<int64_t> p = state_.Position(tp)) out[tp] = *p;
  }
  return out;
}

void Consumer::Commit(std::map<TopicPartition, int64_t> offsets, CommitCallback done) {
  if (absl::Status s = closed_ ? absl::FailedPreconditionError("consumer closed")
                               : EnsureMembership();
      !s.ok()) {
    return Post([done = std::move(done), s]() mutable { std::move(done)(s); });
  }
  std::map<TopicPartition, GroupMembership::CommitOffset> commit;
  for (const auto& [tp, offset] : offsets) commit[tp] = GroupMembership::CommitOffset{offset};
  membership_->Commit(std::move(commit), std::move(done));
}

void Consumer::CommitPositions(CommitCallback done) {
  Commit(Positions(state_.Assignment()), std::move(done));
}

void Consumer::Committed(std::vector<TopicPartition> partitions, CommittedCallback done) {
  if (absl::Status s = closed_ ? absl::FailedPreconditionError("consumer closed")
                               : EnsureMembership();
      !s.ok()) {
    return Post([done = std::move(done), s]() mutable { std::move(done)(s); });
  }
  membership_->FetchCommitted(std::move(partitions), std::move(done));
}

void Consumer::OnRevoke(std::vector<TopicPartition> partitions,
                        absl::AnyInvocable<void() &&> done) {
  auto finish = [this, alive = std::weak_ptr<bool>(alive_), partitions,
                 done = std::move(done)](absl::Status) mutable {
    if (alive.expired()) return;
    if (!partitions.empty() && listener_.on_revoked) listener_.on_revoked(partitions);
    state_.Assign({});
    awaiting_committed_.clear();
    ++assignment_epoch_;
    std::move(done)();
  };
  const std::map<TopicPartition, int64_t> positions = Positions(partitions);
  if (!options_.enable_auto_commit || positions.empty()) return finish(absl::OkStatus());
  // Committed before the join, so the next owner starts where this one stopped.
  Commit(positions, std::move(finish));
}

void Consumer::OnAssigned(std::vector<TopicPartition> partitions) {
  state_.Assign(partitions);
  awaiting_committed_ = std::set<TopicPartition>(partitions.begin(), partitions.end());
  const uint64_t epoch = ++assignment_epoch_;
  metadata_wanted_ = true;
  if (listener_.on_assigned) listener_.on_assigned(partitions);
  if (!partitions.empty()) FetchCommittedPositions(epoch);
  Wake(Duration::Zero());
}

void Consumer::OnLost(std::vector<TopicPartition> partitions) {
  if (listener_.on_lost) {
    listener_.on_lost(partitions);
  } else if (listener_.on_revoked) {
    listener_.on_revoked(partitions);
  }
  state_.Assign({});
  awaiting_committed_.clear();
  ++assignment_epoch_;
}

void Consumer::FetchCommittedPositions(uint64_t epoch) {
  std::vector<TopicPartition> wanted(awaiting_committed_.begin(), awaiting_committed_.end());
  membership_->FetchCommitted(
      std::move(wanted), [this, alive = std::weak_ptr<bool>(alive_), epoch](auto result) {
        if (!alive.expired()) OnCommittedPositions(epoch, std::move(result));
      });
}

void Consumer::OnCommittedPositions(
    uint64_t epoch, absl::StatusOr<std::map<TopicPartition, CommittedOffset>> result) {
  if (closed_ || epoch != assignment_epoch_) return;  // another assignment since
  if (!result.ok()) {
    // Retried: a partition is never read from a guess.
    runtime_.clock().ScheduleAfter(options_.retry_backoff,
                                   [this, alive = std::weak_ptr<bool>(alive_), epoch] {
                                     if (!alive.expired() && !closed_ &&
                                         epoch == assignment_epoch_) {
                                       FetchCommittedPositions(epoch);
                                     }
                                   });
    return;
  }
  for (const TopicPartition& tp : std::set<TopicPartition>(awaiting_committed_)) {
    awaiting_committed_.erase(tp);
    auto it = result->find(tp);
    if (it != result->end() && it->second.offset >= 0) {
      EDDY_CHECK_OK(state_.Seek(tp, it->second.offset));
    } else if (options_.auto_offset_reset != OffsetResetPolicy::kNone) {
      EDDY_CHECK_OK(state_.RequestReset(tp, ResetTimestamp()));
    }
  }
  Wake(Duration::Zero());
}

void Consumer::MaybeAutoCommit(Instant now) {
  if (!options_.enable_auto_commit || !membership_ || !membership_->stable() ||
      now < next_auto_commit_) {
    return;
  }
  next_auto_commit_ = now + options_.auto_commit_interval;
  std::map<TopicPartition, int64_t> positions = Positions(state_.Assignment());
  if (!positions.empty()) Commit(std::move(positions), [](absl::Status) {});
}

void Consumer::Shutdown(Duration timeout, absl::AnyInvocable<void() &&> done) {
  if (closed_ || !membership_) {
    Close();
    return Post(std::move(done));
  }
  auto leave = [this, alive = std::weak_ptr<bool>(alive_), timeout,
                done = std::move(done)](absl::Status) mutable {
    if (alive.expired()) return std::move(done)();
    membership_->Leave(timeout, [this, alive, done = std::move(done)]() mutable {
      if (!alive.expired()) Close();
      std::move(done)();
    });
  };
  const std::map<TopicPartition, int64_t> positions = Positions(state_.Assignment());
  if (!options_.enable_auto_commit || positions.empty() || !membership_->stable()) {
    return leave(absl::OkStatus());
  }
  Commit(positions, std::move(leave));
}

}  // namespace eddy::clients
