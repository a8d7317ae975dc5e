// The producer's sender: which batches leave when, the Produce requests, their replies, retries
// and delivery timeouts. One wake-up timer drives it (Wake): every event that may let something
// move (a Send, a reply, a backoff or linger ending) asks for a run, and each run schedules the
// next one it knows of.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/producer.h"
#include "core/base/check.h"
#include "core/kafka/errors.h"

namespace eddy::clients {
namespace {

using kafka::ErrorCode;
using PartitionResponse = kafka::ProduceResponse::TopicProduceResponse::PartitionProduceResponse;

bool Is(int16_t code, ErrorCode error) { return code == kafka::ToWire(error); }

// A partition's error as a status whose code says what the caller may do (STYLE.md).
absl::Status ProduceErrorStatus(int16_t code, const TopicPartition& tp,
                                const std::optional<std::string>& message) {
  const kafka::ErrorInfo* info = kafka::FindError(code);
  const std::string text =
      absl::StrCat("produce to ", tp.topic, "-", tp.partition, ": ",
                   info != nullptr ? info->name : absl::StrCat("error ", code),
                   message.has_value() ? absl::StrCat(" (", *message, ")") : "");
  if (Is(code, ErrorCode::kRequestTimedOut)) return absl::DeadlineExceededError(text);
  if (Is(code, ErrorCode::kUnknownTopicOrPartition)) return absl::NotFoundError(text);
  if (info != nullptr && info->retriable) return absl::UnavailableError(text);
  if (Is(code, ErrorCode::kMessageTooLarge) || Is(code, ErrorCode::kInvalidRecord) ||
      Is(code, ErrorCode::kRecordListTooLarge) || Is(code, ErrorCode::kInvalidTimestamp) ||
      Is(code, ErrorCode::kInvalidRequiredAcks) || Is(code, ErrorCode::kInvalidRequest)) {
    return absl::InvalidArgumentError(text);
  }
  if (Is(code, ErrorCode::kTopicAuthorizationFailed) ||
      Is(code, ErrorCode::kClusterAuthorizationFailed)) {
    return absl::PermissionDeniedError(text);
  }
  // Fencing and sequence errors: the producer's state, not the request, is wrong.
  return absl::FailedPreconditionError(text);
}

// Errors after which the partition's leader may have moved.
bool StaleMetadata(int16_t code) {
  return Is(code, ErrorCode::kNotLeaderOrFollower) ||
         Is(code, ErrorCode::kUnknownTopicOrPartition) ||
         Is(code, ErrorCode::kLeaderNotAvailable) || Is(code, ErrorCode::kFencedLeaderEpoch) ||
         Is(code, ErrorCode::kUnknownLeaderEpoch) || Is(code, ErrorCode::kKafkaStorageError);
}

}  // namespace

void Producer::Wake(Duration delay) {
  if (!closed_) wake_.After(delay);
}

void Producer::RunSender() {
  if (closed_) return;
  retired_.clear();  // safe: no connection callback is on the stack here
  const Instant now = runtime_.clock().Now();
  for (auto& batch : accumulator_.Expire(now)) {
    Complete(std::move(batch), absl::DeadlineExceededError("delivery timeout before sending"));
  }
  ExpireWaiting(now);
  MaybeRefreshMetadata(now);
  if (idempotent_) MaybeInitProducerId(now);
  if (!idempotent_ || sequences_.producer_id().valid()) Drain(now);
  CheckFlushes();
  sequences_.CheckInvariants();
  ScheduleNext();
}

void Producer::ScheduleNext() {
  const Instant now = runtime_.clock().Now();
  std::optional<Instant> next = accumulator_.NextWakeup(now, !flushes_.empty());
  auto consider = [&](Instant t) {
    if (t > now && (!next.has_value() || t < *next)) next = t;
  };
  if (!waiting_.empty()) consider(waiting_.front().deadline);
  if (!metadata_in_flight_ && !topics_.empty()) {
    if (metadata_wanted_ && metadata_attempted_.has_value()) {
      consider(*metadata_attempted_ + options_.retry_backoff);
    }
    if (metadata_updated_.has_value()) consider(*metadata_updated_ + options_.metadata_max_age);
  }
  if (idempotent_ && !init_in_flight_ && NeedProducerId() && init_attempted_.has_value()) {
    consider(*init_attempted_ + options_.retry_backoff);
  }
  if (next.has_value()) Wake(*next - now);
}

void Producer::Drain(Instant now) {
  std::map<int32_t, std::vector<std::unique_ptr<ProducerBatch>>> by_broker;
  for (const TopicPartition& tp : accumulator_.Ready(now, !flushes_.empty())) {
    const std::optional<int32_t> leader = metadata_.Leader(tp);
    if (!leader.has_value()) {
      RequestMetadata();
      continue;
    }
    if (!by_broker.contains(*leader) &&
        requests_in_flight_[*leader] >= options_.max_in_flight_requests_per_connection) {
      continue;
    }
    if (!sequences_.CanSend(tp)) continue;
    std::unique_ptr<ProducerBatch> batch = accumulator_.TakeHead(tp);
    StampForSend(*batch);
    by_broker[*leader].push_back(std::move(batch));
  }
  for (auto& [broker, batches] : by_broker) SendProduce(broker, std::move(batches));
  // Each run sends one batch per partition: go again for the batches behind the heads.
  if (!by_broker.empty()) Wake(Duration::Zero());
}

void Producer::StampForSend(ProducerBatch& batch) {
  if (batch.stamped()) return;  // a retry keeps its sequence
  if (!idempotent_) return batch.Stamp(-1, -1, -1);
  const ProducerIdAndEpoch id = sequences_.IdOf(batch.tp());
  EDDY_CHECK(id.valid());
  const int32_t sequence = sequences_.Assign(batch.tp(), batch.ordinal(), batch.record_count());
  batch.Stamp(id.id, id.epoch, sequence);
}

BrokerConnection* Producer::ConnectionTo(int32_t broker) {
  auto it = connections_.find(broker);
  if (it != connections_.end() && it->second->open()) return it->second.get();
  if (it != connections_.end()) {
    retired_.push_back(std::move(it->second));
    connections_.erase(it);
  }
  const runtime::Address* address = metadata_.BrokerAddress(broker);
  if (address == nullptr) return nullptr;
  auto connection = std::make_unique<BrokerConnection>(
      runtime_, *address,
      ConnectionOptions{.client_id = options_.client_id,
                        .request_timeout = options_.request_timeout});
  return connections_.emplace(broker, std::move(connection)).first->second.get();
}

void Producer::SendProduce(int32_t broker, std::vector<std::unique_ptr<ProducerBatch>> batches) {
  EDDY_CHECK(!batches.empty());
  BrokerConnection* connection = ConnectionTo(broker);
  if (connection == nullptr) {
    RequestMetadata();
    for (auto& b : batches) RetryOrFail(std::move(b), absl::UnavailableError("no broker address"));
    return;
  }
  kafka::ProduceRequest request;
  request.acks = options_.acks;
  request.timeout_ms = static_cast<int32_t>(options_.request_timeout.milliseconds());
  for (auto& b : batches) {  // partition order, so a topic's partitions are adjacent
    if (request.topic_data.empty() || request.topic_data.back().name != b->tp().topic) {
      request.topic_data.emplace_back().name = b->tp().topic;
    }
    auto& partition = request.topic_data.back().partition_data.emplace_back();
    partition.index = b->tp().partition;
    partition.records = kafka::Records::Of(b->bytes());
    ++b->attempts;
    sequences_.OnSent(b->tp());
  }
  stats_.batches_sent += batches.size();
  ++stats_.produce_requests;
  if (options_.acks == 0) {
    const absl::Status sent = connection->SendOneWay(request, options_.produce_version);
    for (auto& b : batches) {
      sequences_.OnReturned(b->tp());
      if (sent.ok()) Complete(std::move(b), int64_t{-1});
      else RetryOrFail(std::move(b), sent);
    }
    return;
  }
  const uint64_t id = next_request_id_++;
  in_flight_[id] = InFlight{broker, std::move(batches)};
  ++requests_in_flight_[broker];
  connection->Call<kafka::ProduceRequest, kafka::ProduceResponse>(
      request, options_.produce_version,
      [this, alive = std::weak_ptr<bool>(alive_), id](auto reply) {
        if (alive.expired()) return;
        OnProduceReply(id, std::move(reply));
      });
}

void Producer::OnProduceReply(uint64_t request_id,
                              absl::StatusOr<Reply<kafka::ProduceResponse>> reply) {
  auto it = in_flight_.find(request_id);
  if (it == in_flight_.end()) return;  // failed at Close()
  InFlight request = std::move(it->second);
  in_flight_.erase(it);
  EDDY_CHECK_GT(requests_in_flight_[request.broker], 0);
  --requests_in_flight_[request.broker];
  for (auto& b : request.batches) sequences_.OnReturned(b->tp());
  if (!reply.ok()) {
    // Lost, timed out or garbled: each batch may or may not be in the log. Resending is safe
    // with idempotence (the broker answers a duplicate with its original offset).
    RequestMetadata();
    for (auto& b : request.batches) RetryOrFail(std::move(b), reply.status());
  } else {
    for (auto& b : request.batches) {
      const PartitionResponse* found = nullptr;
      for (const auto& t : reply->response.responses) {
        if (t.name != b->tp().topic) continue;
        for (const auto& p : t.partition_responses) {
          if (p.index == b->tp().partition) found = &p;
        }
      }
      if (found == nullptr) {
        RetryOrFail(std::move(b), absl::DataLossError("no answer for the partition"));
      } else {
        HandlePartitionReply(std::move(b), *found);
      }
    }
  }
  Wake(Duration::Zero());
}

void Producer::HandlePartitionReply(std::unique_ptr<ProducerBatch> batch,
                                    const PartitionResponse& p) {
  const int16_t code = p.error_code;
  if (code == 0 || Is(code, ErrorCode::kDuplicateSequenceNumber)) {
    return Complete(std::move(batch), p.base_offset);
  }
  const TopicPartition tp = batch->tp();
  const absl::Status why = ProduceErrorStatus(code, tp, p.error_message);
  if (StaleMetadata(code)) {
    metadata_.ForgetLeader(tp);
    RequestMetadata();
  }
  if (idempotent_ && (Is(code, ErrorCode::kOutOfOrderSequenceNumber) ||
                      Is(code, ErrorCode::kUnknownProducerId))) {
    // With an earlier batch unresolved, this one was refused only because that one is not in
    // the log yet: resend in order. Without, the hole is permanent: RESET (sequence_tracker.h).
    if (!sequences_.HasUnresolvedBefore(tp, batch->ordinal())) sequences_.NeedReset(tp);
    return RetryOrFail(std::move(batch), why);
  }
  const kafka::ErrorInfo* info = kafka::FindError(code);
  if (info != nullptr && info->retriable) return RetryOrFail(std::move(batch), why);
  Complete(std::move(batch), why);  // INVALID_PRODUCER_EPOCH, MESSAGE_TOO_LARGE, ...
}

void Producer::RetryOrFail(std::unique_ptr<ProducerBatch> batch, absl::Status why) {
  const Instant now = runtime_.clock().Now();
  if (now >= batch->deadline()) {
    return Complete(std::move(batch),
                    absl::DeadlineExceededError(absl::StrCat(
                        "delivery timeout after ", batch->attempts, " attempts; last: ",
                        why.message())));
  }
  if (batch->attempts > options_.retries) return Complete(std::move(batch), why);
  batch->retry_at = now + options_.retry_backoff;
  stats_.records_retried += static_cast<uint64_t>(batch->record_count());
  sequences_.Rewind(batch->tp());
  accumulator_.Reenqueue(std::move(batch));
}

}  // namespace eddy::clients
