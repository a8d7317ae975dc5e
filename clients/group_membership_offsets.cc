// GroupMembership: OffsetCommit and OffsetFetch (group_membership.h). Each request is retried
// through coordinator changes until its deadline (default.api.timeout).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/group_membership.h"
#include "clients/kafka_status.h"
#include "core/base/check.h"

namespace eddy::clients {

using kafka::ErrorCode;

namespace {

constexpr int16_t kOffsetCommitVersion = 8;
constexpr int16_t kOffsetFetchVersion = 7;

bool CoordinatorError(ErrorCode e) {
  return e == ErrorCode::kNotCoordinator || e == ErrorCode::kCoordinatorNotAvailable ||
         e == ErrorCode::kRequestTimedOut;
}

}  // namespace

void GroupMembership::Commit(std::map<TopicPartition, CommitOffset> offsets, CommitDone done) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
    runtime_.clock().Post([done = std::move(done)]() mutable {
      std::move(done)(absl::FailedPreconditionError("the group membership has stopped"));
    });
    return;
  }
  if (offsets.empty()) {
    runtime_.clock().Post([done = std::move(done)]() mutable { std::move(done)(absl::OkStatus()); });
    return;
  }
  ++stats_.commits;
  for (const auto& [tp, o] : offsets) newest_commit_[tp] = next_request_id_;
  PendingCommit commit;
  commit.offsets = std::move(offsets);
  commit.generation = generation_;
  commit.member_id = member_id_;
  commit.deadline = runtime_.clock().Now() + options_.default_api_timeout;
  commit.done = std::move(done);
  commits_[next_request_id_++] = std::move(commit);
  Wake(Duration::Zero());
}

void GroupMembership::FetchCommitted(std::vector<TopicPartition> partitions, FetchDone done) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
    runtime_.clock().Post([done = std::move(done)]() mutable {
      std::move(done)(absl::FailedPreconditionError("the group membership has stopped"));
    });
    return;
  }
  fetches_[next_request_id_++] = PendingFetch{
      std::move(partitions), runtime_.clock().Now() + options_.default_api_timeout, false,
      std::move(done)};
  Wake(Duration::Zero());
}

void GroupMembership::SendCommits(Instant) {
  std::vector<CommitDone> superseded;
  for (auto it = commits_.begin(); it != commits_.end();) {
    const uint64_t id = it->first;
    const bool stale = !it->second.in_flight &&
                       std::any_of(it->second.offsets.begin(), it->second.offsets.end(),
                                   [&](const auto& e) { return newest_commit_.at(e.first) != id; });
    if (!stale) {
      ++it;
      continue;
    }
    // Sent again after a later commit, it would move a partition's offset back.
    superseded.push_back(std::move(it->second.done));
    it = commits_.erase(it);
  }
  for (CommitDone& done : superseded) {
    ++stats_.commits_failed;
    std::move(done)(absl::AbortedError("commit superseded by a later one of the same partitions"));
  }
  for (auto& [id, c] : commits_) {
    if (c.in_flight) continue;
    c.in_flight = true;
    kafka::OffsetCommitRequest r;
    r.group_id = options_.group_id;
    r.generation_id = c.generation;
    r.member_id = c.member_id;
    r.group_instance_id = options_.group_instance_id;
    for (const auto& [tp, o] : c.offsets) {
      if (r.topics.empty() || r.topics.back().name != tp.topic) r.topics.emplace_back().name = tp.topic;
      auto& p = r.topics.back().partitions.emplace_back();
      p.partition_index = tp.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch;
      p.committed_metadata = o.metadata;
    }
    coordinator_->Call<kafka::OffsetCommitRequest, kafka::OffsetCommitResponse>(
        r, kOffsetCommitVersion,
        [this, alive = std::weak_ptr<bool>(alive_), id = id](auto reply) {
          if (!alive.expired()) OnCommitReply(id, std::move(reply));
        });
  }
}

void GroupMembership::OnCommitReply(uint64_t id,
                                    absl::StatusOr<Reply<kafka::OffsetCommitResponse>> reply) {
  auto it = commits_.find(id);
  if (it == commits_.end() || !it->second.in_flight) return;  // made stale by a lost coordinator
  Wake(Duration::Zero());
  if (!reply.ok()) return CoordinatorLost();
  ErrorCode first = ErrorCode::kNone;
  for (const auto& t : reply->response.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0 && first == ErrorCode::kNone) first = static_cast<ErrorCode>(p.error_code);
    }
  }
  if (CoordinatorError(first) || first == ErrorCode::kCoordinatorLoadInProgress) {
    it->second.in_flight = false;
    if (first != ErrorCode::kCoordinatorLoadInProgress) CoordinatorLost();
    return;
  }
  CommitDone done = std::move(it->second.done);
  // A refusal says something about this member only if the commit carried its current
  // generation (an older one is refused by design).
  const bool current = it->second.generation == generation_ && it->second.member_id == member_id_;
  commits_.erase(it);
  if (first == ErrorCode::kNone) return std::move(done)(absl::OkStatus());
  ++stats_.commits_failed;
  const bool rebalanced = first == ErrorCode::kRebalanceInProgress ||
                          first == ErrorCode::kIllegalGeneration ||
                          first == ErrorCode::kUnknownMemberId;
  if (!current) {
    return std::move(done)(absl::AbortedError(absl::StrCat(
        "commit refused: it was made in an earlier generation than ", generation_, " (",
        KafkaErrorName(kafka::ToWire(first)), ")")));
  }
  if (first == ErrorCode::kIllegalGeneration || first == ErrorCode::kUnknownMemberId) {
    // This member's generation is gone: its partitions may be another's already.
    if (phase_ == Phase::kStable) LoseAssignment();
    if (first == ErrorCode::kUnknownMemberId) member_id_.clear();
    RequestRejoin();
  } else if (first == ErrorCode::kRebalanceInProgress && phase_ == Phase::kStable) {
    RequestRejoin();
  }
  if (first == ErrorCode::kFencedInstanceId) {
    Fail(KafkaStatus(kafka::ToWire(first), absl::StrCat("group ", options_.group_id)));
  }
  std::move(done)(rebalanced ? absl::AbortedError(absl::StrCat(
                                   "commit refused: group ", options_.group_id, " rebalanced (",
                                   KafkaErrorName(kafka::ToWire(first)), ")"))
                             : KafkaStatus(kafka::ToWire(first), "OffsetCommit"));
}

void GroupMembership::SendFetches(Instant) {
  for (auto& [id, f] : fetches_) {
    if (f.in_flight) continue;
    f.in_flight = true;
    kafka::OffsetFetchRequest r;
    r.group_id = options_.group_id;
    r.topics.emplace();
    for (const TopicPartition& tp : f.partitions) {
      if (r.topics->empty() || r.topics->back().name != tp.topic) {
        r.topics->emplace_back().name = tp.topic;
      }
      r.topics->back().partition_indexes.push_back(tp.partition);
    }
    coordinator_->Call<kafka::OffsetFetchRequest, kafka::OffsetFetchResponse>(
        r, kOffsetFetchVersion, [this, alive = std::weak_ptr<bool>(alive_), id = id](auto reply) {
          if (!alive.expired()) OnFetchReply(id, std::move(reply));
        });
  }
}

void GroupMembership::OnFetchReply(uint64_t id,
                                   absl::StatusOr<Reply<kafka::OffsetFetchResponse>> reply) {
  auto it = fetches_.find(id);
  if (it == fetches_.end() || !it->second.in_flight) return;
  Wake(Duration::Zero());
  if (!reply.ok()) return CoordinatorLost();
  const kafka::OffsetFetchResponse& r = reply->response;
  const ErrorCode error = static_cast<ErrorCode>(r.error_code);
  if (CoordinatorError(error) || error == ErrorCode::kCoordinatorLoadInProgress) {
    it->second.in_flight = false;
    if (error != ErrorCode::kCoordinatorLoadInProgress) CoordinatorLost();
    return;
  }
  FetchDone done = std::move(it->second.done);
  fetches_.erase(it);
  if (error != ErrorCode::kNone) return std::move(done)(KafkaStatus(r.error_code, "OffsetFetch"));
  std::map<TopicPartition, CommittedOffset> out;
  for (const auto& t : r.topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0) return std::move(done)(KafkaStatus(p.error_code, "OffsetFetch"));
      out[TopicPartition{t.name, p.partition_index}] =
          CommittedOffset{p.committed_offset, p.committed_leader_epoch, p.metadata};
    }
  }
  std::move(done)(std::move(out));
}

void GroupMembership::ExpireRequests(Instant now) {
  std::vector<CommitDone> commits;
  for (auto it = commits_.begin(); it != commits_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    commits.push_back(std::move(it->second.done));
    it = commits_.erase(it);
  }
  std::vector<FetchDone> fetches;
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    fetches.push_back(std::move(it->second.done));
    it = fetches_.erase(it);
  }
  for (CommitDone& d : commits) std::move(d)(absl::DeadlineExceededError("OffsetCommit"));
  for (FetchDone& d : fetches) std::move(d)(absl::DeadlineExceededError("OffsetFetch"));
}

}  // namespace eddy::clients
