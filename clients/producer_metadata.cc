// The producer's view of the cluster: Metadata refreshes, the producer id (InitProducerId), and
// new producer ids for partitions whose sequence has a permanent hole (RESET,
// sequence_tracker.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/producer.h"
#include "core/base/check.h"
#include "core/kafka/errors.h"

namespace eddy::clients {

BrokerConnection& Producer::AnyBrokerConnection() {
  if (any_broker_ != nullptr && any_broker_->open()) return *any_broker_;
  if (any_broker_ != nullptr) retired_.push_back(std::move(any_broker_));
  // Bootstrap addresses, then every broker the metadata named, in turn: a dead bootstrap broker
  // costs one failed attempt, not the producer.
  std::vector<runtime::Address> targets = options_.bootstrap;
  for (runtime::Address& a : metadata_.BrokerAddresses()) targets.push_back(std::move(a));
  EDDY_CHECK(!targets.empty());
  const runtime::Address& address = targets[any_broker_turn_++ % targets.size()];
  any_broker_ = std::make_unique<BrokerConnection>(
      runtime_, address,
      ConnectionOptions{.client_id = options_.client_id,
                        .request_timeout = options_.request_timeout});
  return *any_broker_;
}

void Producer::MaybeRefreshMetadata(Instant now) {
  if (metadata_in_flight_ || topics_.empty()) return;
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
  request.allow_auto_topic_creation = options_.allow_auto_topic_creation;
  request.topics.emplace();
  for (const std::string& topic : topics_) request.topics->emplace_back().name = topic;
  AnyBrokerConnection().Call<kafka::MetadataRequest, kafka::MetadataResponse>(
      request, options_.metadata_version,
      [this, alive = std::weak_ptr<bool>(alive_)](auto reply) {
        if (alive.expired()) return;
        OnMetadataReply(std::move(reply));
      });
}

void Producer::OnMetadataReply(absl::StatusOr<Reply<kafka::MetadataResponse>> reply) {
  metadata_in_flight_ = false;
  if (closed_) return;
  if (!reply.ok()) {
    metadata_wanted_ = true;  // the next attempt goes to the next broker (AnyBrokerConnection)
    if (any_broker_ != nullptr) any_broker_->Close();
    Wake(options_.retry_backoff);
    return;
  }
  metadata_.Update(reply->response);
  metadata_updated_ = runtime_.clock().Now();
  AppendWaiting();
  // A topic not there yet, or a partition without a leader: ask again after the backoff.
  for (const std::string& topic : topics_) {
    const std::optional<int32_t> count = metadata_.PartitionCount(topic);
    if (!count.has_value()) metadata_wanted_ = true;
    for (int32_t p = 0; count.has_value() && p < *count; ++p) {
      if (!metadata_.Leader(TopicPartition{topic, p}).has_value()) metadata_wanted_ = true;
    }
  }
  Wake(Duration::Zero());
}

bool Producer::NeedProducerId() const {
  return !sequences_.producer_id().valid() || !sequences_.ResettableNow().empty();
}

void Producer::MaybeInitProducerId(Instant now) {
  if (init_in_flight_ || !NeedProducerId()) return;
  if (init_attempted_.has_value() && now < *init_attempted_ + options_.retry_backoff) return;
  init_attempted_ = now;
  init_in_flight_ = true;
  ++stats_.init_producer_id_requests;
  kafka::InitProducerIdRequest request;
  request.transactional_id = std::nullopt;  // idempotent only
  request.transaction_timeout_ms = 60'000;
  // producer_id/epoch stay -1: a fresh id (Eddy's broker does not bump non-transactional ids).
  AnyBrokerConnection().Call<kafka::InitProducerIdRequest, kafka::InitProducerIdResponse>(
      request, options_.init_producer_id_version,
      [this, alive = std::weak_ptr<bool>(alive_)](auto reply) {
        if (alive.expired()) return;
        OnInitProducerIdReply(std::move(reply));
      });
}

void Producer::OnInitProducerIdReply(absl::StatusOr<Reply<kafka::InitProducerIdResponse>> reply) {
  init_in_flight_ = false;
  if (closed_) return;
  // Every failure is retried after the backoff; the records' delivery timeout bounds the wait.
  if (!reply.ok() || reply->response.error_code != 0 || reply->response.producer_id < 0) {
    if (!reply.ok() && any_broker_ != nullptr) any_broker_->Close();
    Wake(options_.retry_backoff);
    return;
  }
  ApplyProducerId(ProducerIdAndEpoch{reply->response.producer_id, reply->response.producer_epoch});
  Wake(Duration::Zero());
}

void Producer::ApplyProducerId(ProducerIdAndEpoch id) {
  EDDY_CHECK(id.valid());
  if (!sequences_.producer_id().valid()) {
    sequences_.SetProducerId(id);
    return;
  }
  for (const TopicPartition& tp : sequences_.ResettableNow()) {
    sequences_.Reset(tp, id);
    ++stats_.producer_id_resets;
    // Every queued batch that was sent before carries the old id: re-stamp in order, head first.
    accumulator_.ForEachBatch(tp, [&](ProducerBatch& batch) {
      if (!batch.sealed()) return;
      batch.Stamp(id.id, id.epoch, sequences_.Reassign(tp, batch.ordinal(), batch.record_count()));
    });
  }
}

}  // namespace eddy::clients
