// The consumer's view of the cluster and of offsets: Metadata for the topics it reads, the
// resets (auto.offset.reset, SeekToBeginning/End/Timestamp) and OffsetsForTimes, both by
// ListOffsets to each partition's leader.
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/consumer.h"
#include "clients/kafka_status.h"
#include "core/base/check.h"
#include "core/kafka/errors.h"

namespace eddy::clients {
namespace {

using kafka::ErrorCode;

bool Is(int16_t code, ErrorCode error) { return code == kafka::ToWire(error); }

bool StaleMetadata(int16_t code) {
  return Is(code, ErrorCode::kNotLeaderOrFollower) ||
         Is(code, ErrorCode::kUnknownTopicOrPartition) ||
         Is(code, ErrorCode::kLeaderNotAvailable) || Is(code, ErrorCode::kFencedLeaderEpoch) ||
         Is(code, ErrorCode::kUnknownLeaderEpoch) || Is(code, ErrorCode::kOffsetNotAvailable) ||
         Is(code, ErrorCode::kKafkaStorageError);
}

using PartitionOffsets =
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse::ListOffsetsPartitionResponse;

std::map<TopicPartition, const PartitionOffsets*> Answers(
    const kafka::ListOffsetsResponse& response) {
  std::map<TopicPartition, const PartitionOffsets*> out;
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) out[TopicPartition{t.name, p.partition_index}] = &p;
  }
  return out;
}

}  // namespace

std::set<std::string> Consumer::TopicsWanted() const {
  std::set<std::string> topics;
  for (const TopicPartition& tp : state_.Assignment()) topics.insert(tp.topic);
  if (membership_) {
    topics.insert(membership_->subscription().begin(), membership_->subscription().end());
    topics.insert(group_topics_.begin(), group_topics_.end());
  }
  for (const auto& [id, lookup] : lookups_) {
    for (const auto& [tp, ts] : lookup.timestamps) topics.insert(tp.topic);
  }
  return topics;
}

void Consumer::MaybeRefreshMetadata(Instant now) {
  const std::set<std::string> topics = TopicsWanted();
  if (metadata_in_flight_ || topics.empty()) return;
  const bool stale = !metadata_updated_.has_value() ||
                     now >= *metadata_updated_ + options_.metadata_max_age;
  if (!metadata_wanted_ && !stale) return;
  if (metadata_attempted_.has_value() && now < *metadata_attempted_ + options_.retry_backoff) {
    return;  // ScheduleNext comes back when the backoff ends
  }
  metadata_attempted_ = now;
  metadata_in_flight_ = true;
  metadata_wanted_ = false;
  ++stats_.metadata_requests;
  kafka::MetadataRequest request;
  request.allow_auto_topic_creation = false;  // reading never creates a topic
  request.topics.emplace();
  for (const std::string& topic : topics) request.topics->emplace_back().name = topic;
  pool_.Any(metadata_.BrokerAddresses())
      .Call<kafka::MetadataRequest, kafka::MetadataResponse>(
          request, options_.metadata_version,
          [this, alive = std::weak_ptr<bool>(alive_)](auto reply) {
            if (alive.expired()) return;
            OnMetadataReply(std::move(reply));
          });
}

void Consumer::OnMetadataReply(absl::StatusOr<Reply<kafka::MetadataResponse>> reply) {
  metadata_in_flight_ = false;
  if (closed_) return;
  Wake(Duration::Zero());
  if (!reply.ok()) {
    metadata_wanted_ = true;  // the next attempt goes to the next broker
    pool_.CloseAny();
    return;
  }
  metadata_.Update(reply->response);
  metadata_updated_ = runtime_.clock().Now();
  if (membership_) membership_->OnMetadataChanged();
}

std::map<int32_t, std::vector<TopicPartition>> Consumer::ByLeader(
    const std::vector<TopicPartition>& partitions) {
  std::map<int32_t, std::vector<TopicPartition>> out;
  for (const TopicPartition& tp : partitions) {
    const std::optional<int32_t> leader = metadata_.Leader(tp);
    if (!leader.has_value() || metadata_.BrokerAddress(*leader) == nullptr) {
      metadata_wanted_ = true;
      continue;
    }
    out[*leader].push_back(tp);
  }
  return out;
}

void Consumer::SendListOffsets(int32_t broker,
                               const std::vector<std::pair<TopicPartition, int64_t>>& asked,
                               BrokerConnection::Done<kafka::ListOffsetsResponse> done) {
  EDDY_CHECK(!asked.empty());
  const runtime::Address* address = metadata_.BrokerAddress(broker);
  EDDY_CHECK(address != nullptr);
  kafka::ListOffsetsRequest request;
  request.replica_id = -1;
  request.isolation_level = static_cast<int8_t>(options_.isolation_level);
  for (const auto& [tp, timestamp] : asked) {  // partition order: a topic's are adjacent
    if (request.topics.empty() || request.topics.back().name != tp.topic) {
      request.topics.emplace_back().name = tp.topic;
    }
    auto& p = request.topics.back().partitions.emplace_back();
    p.partition_index = tp.partition;
    p.timestamp = timestamp;
  }
  ++stats_.list_offsets_requests;
  pool_.To(broker, *address)
      .Call<kafka::ListOffsetsRequest, kafka::ListOffsetsResponse>(
          request, options_.list_offsets_version, std::move(done));
}

void Consumer::SendResets(Instant now) {
  std::vector<TopicPartition> wanted;
  for (const TopicPartition& tp : state_.Assignment()) {
    if (state_.NeedsReset(tp, now)) wanted.push_back(tp);
  }
  for (auto& [broker, partitions] : ByLeader(wanted)) {
    std::vector<std::pair<TopicPartition, int64_t>> asked;
    for (const TopicPartition& tp : partitions) {
      asked.emplace_back(tp, *state_.Find(tp)->reset_timestamp);
      state_.OnResetSent(tp);
    }
    SendListOffsets(broker, asked,
                    [this, alive = std::weak_ptr<bool>(alive_), asked](auto reply) mutable {
                      if (alive.expired()) return;
                      OnResetReply(std::move(asked), std::move(reply));
                    });
  }
}

void Consumer::OnResetReply(std::vector<std::pair<TopicPartition, int64_t>> asked,
                            absl::StatusOr<Reply<kafka::ListOffsetsResponse>> reply) {
  if (closed_) return;
  Wake(Duration::Zero());
  const Instant retry_at = runtime_.clock().Now() + options_.retry_backoff;
  std::map<TopicPartition, const PartitionOffsets*> answers;
  if (reply.ok()) answers = Answers(reply->response);
  for (const auto& [tp, timestamp] : asked) {
    auto it = answers.find(tp);
    if (it == answers.end()) {  // lost connection, timeout, or not answered
      metadata_wanted_ = true;
      state_.OnResetFailed(tp, retry_at, absl::OkStatus());
      continue;
    }
    const PartitionOffsets& p = *it->second;
    if (StaleMetadata(p.error_code)) {
      metadata_.ForgetLeader(tp);
      metadata_wanted_ = true;
      state_.OnResetFailed(tp, retry_at, absl::OkStatus());
    } else if (p.error_code != 0) {
      state_.OnResetFailed(
          tp, retry_at,
          KafkaStatus(p.error_code, absl::StrCat("list offsets ", tp.topic, "-", tp.partition)));
    } else if (p.offset < 0 && timestamp >= 0) {
      // No record at or after the timestamp: the end, as Java's seek after offsetsForTimes.
      state_.OnResetDone(tp, timestamp, -1);
      const SubscriptionState::Partition* now = state_.Find(tp);
      if (now != nullptr && now->reset_timestamp == timestamp) {
        EDDY_CHECK_OK(state_.RequestReset(tp, kLatestTimestamp));
      }
    } else {
      state_.OnResetDone(tp, timestamp, p.offset);
    }
  }
}

void Consumer::OffsetsForTimes(std::map<TopicPartition, int64_t> timestamps,
                               OffsetsForTimesCallback done) {
  if (closed_) {
    Post([done = std::move(done)]() mutable {
      std::move(done)(absl::FailedPreconditionError("consumer closed"));
    });
    return;
  }
  if (timestamps.empty()) {
    Post([done = std::move(done)]() mutable { std::move(done)(OffsetsForTimesResult{}); });
    return;
  }
  Lookup lookup;
  for (const auto& [tp, ts] : timestamps) {
    if (tp.topic.empty() || tp.partition < 0 || ts < kEarliestTimestamp) {
      Post([done = std::move(done)]() mutable {
        std::move(done)(absl::InvalidArgumentError("bad partition or timestamp"));
      });
      return;
    }
    lookup.unsent.insert(tp);
  }
  lookup.timestamps = std::move(timestamps);
  lookup.deadline = runtime_.clock().Now() + options_.default_api_timeout;
  lookup.done = std::move(done);
  const std::set<std::string> before = TopicsWanted();
  lookups_.emplace(next_request_id_++, std::move(lookup));
  if (TopicsWanted() != before) metadata_wanted_ = true;
  Wake(Duration::Zero());
}

void Consumer::SendLookups(Instant now) {
  for (auto& [id, lookup] : lookups_) {
    if (now < lookup.retry_at || lookup.unsent.empty()) continue;
    const std::vector<TopicPartition> unsent(lookup.unsent.begin(), lookup.unsent.end());
    for (auto& [broker, partitions] : ByLeader(unsent)) {
      std::vector<std::pair<TopicPartition, int64_t>> asked;
      for (const TopicPartition& tp : partitions) {
        asked.emplace_back(tp, lookup.timestamps.at(tp));
        lookup.unsent.erase(tp);
        lookup.in_flight.insert(tp);
      }
      SendListOffsets(broker, asked,
                      [this, alive = std::weak_ptr<bool>(alive_), id = id, partitions](
                          auto reply) mutable {
                        if (alive.expired()) return;
                        OnLookupReply(id, std::move(partitions), std::move(reply));
                      });
    }
  }
}

void Consumer::OnLookupReply(uint64_t id, std::vector<TopicPartition> asked,
                             absl::StatusOr<Reply<kafka::ListOffsetsResponse>> reply) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;  // expired or cancelled
  Lookup& lookup = it->second;
  Wake(Duration::Zero());
  std::map<TopicPartition, const PartitionOffsets*> answers;
  if (reply.ok()) answers = Answers(reply->response);
  absl::Status failed;
  for (const TopicPartition& tp : asked) {
    lookup.in_flight.erase(tp);
    auto answer = answers.find(tp);
    const int16_t code = answer == answers.end() ? -1 : answer->second->error_code;
    if (answer == answers.end() || StaleMetadata(code)) {
      if (answer != answers.end()) metadata_.ForgetLeader(tp);
      metadata_wanted_ = true;
      lookup.unsent.insert(tp);
      lookup.retry_at = runtime_.clock().Now() + options_.retry_backoff;
    } else if (code != 0) {
      failed = KafkaStatus(code, absl::StrCat("list offsets ", tp.topic, "-", tp.partition));
    } else if (answer->second->offset < 0) {
      lookup.result[tp] = std::nullopt;
    } else {
      lookup.result[tp] = OffsetAndTimestamp{answer->second->offset, answer->second->timestamp,
                                             answer->second->leader_epoch};
    }
  }
  if (failed.ok() && (!lookup.unsent.empty() || !lookup.in_flight.empty())) return;
  OffsetsForTimesCallback done = std::move(lookup.done);
  OffsetsForTimesResult result = std::move(lookup.result);
  lookups_.erase(it);
  if (!failed.ok()) return std::move(done)(failed);
  std::move(done)(std::move(result));
}

void Consumer::ExpireLookups(Instant now) {
  for (auto it = lookups_.begin(); it != lookups_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    OffsetsForTimesCallback done = std::move(it->second.done);
    it = lookups_.erase(it);
    std::move(done)(absl::DeadlineExceededError("offsets for times: default.api.timeout passed"));
  }
}

}  // namespace eddy::clients
