// The consumer's fetcher: one Fetch in flight per broker for the fetchable partitions it leads,
// and what each partition's answer does to its state (consumer.h, FETCHING and ERRORS).
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/consumer.h"
#include "clients/fetch_decoder.h"
#include "clients/kafka_status.h"
#include "core/base/check.h"
#include "core/kafka/errors.h"

namespace eddy::clients {
namespace {

using kafka::ErrorCode;

bool Is(int16_t code, ErrorCode error) { return code == kafka::ToWire(error); }

// Errors after which the partition's leader may have moved: refresh metadata and retry.
bool StaleMetadata(int16_t code) {
  return Is(code, ErrorCode::kNotLeaderOrFollower) ||
         Is(code, ErrorCode::kUnknownTopicOrPartition) ||
         Is(code, ErrorCode::kLeaderNotAvailable) || Is(code, ErrorCode::kFencedLeaderEpoch) ||
         Is(code, ErrorCode::kUnknownLeaderEpoch) || Is(code, ErrorCode::kKafkaStorageError) ||
         Is(code, ErrorCode::kReplicaNotAvailable) || Is(code, ErrorCode::kNotEnoughReplicas);
}

// The answer's records as one span; a decoded reply holds one piece viewing its frame.
std::span<const uint8_t> RecordBytes(const kafka::Records& records, std::string& scratch) {
  if (records.pieces().empty()) return {};
  if (records.pieces().size() == 1) return records.pieces()[0];
  scratch = records.Flatten();
  return {reinterpret_cast<const uint8_t*>(scratch.data()), scratch.size()};
}

}  // namespace

void Consumer::SendFetches(Instant now) {
  std::vector<TopicPartition> fetchable;
  for (const TopicPartition& tp : state_.Assignment()) {
    if (state_.Fetchable(tp, now)) fetchable.push_back(tp);
  }
  for (auto& [broker, partitions] : ByLeader(fetchable)) {
    if (fetching_brokers_.contains(broker)) continue;  // one fetch in flight per broker
    SendFetch(broker, std::move(partitions));
  }
}

void Consumer::SendFetch(int32_t broker, std::vector<TopicPartition> partitions) {
  EDDY_CHECK(!partitions.empty());
  const runtime::Address* address = metadata_.BrokerAddress(broker);
  EDDY_CHECK(address != nullptr);  // ByLeader only names brokers the metadata has
  kafka::FetchRequest request;
  request.replica_id = -1;
  request.max_wait_ms = static_cast<int32_t>(options_.fetch_max_wait.milliseconds());
  request.min_bytes = options_.fetch_min_bytes;
  request.max_bytes = options_.fetch_max_bytes;
  request.isolation_level = static_cast<int8_t>(options_.isolation_level);
  request.session_id = 0;  // sessionless (KIP-227's full fetch every time)
  request.session_epoch = -1;
  InFlightFetch in_flight;
  in_flight.broker = broker;
  for (const TopicPartition& tp : partitions) {  // partition order: a topic's are adjacent
    if (request.topics.empty() || request.topics.back().topic != tp.topic) {
      request.topics.emplace_back().topic = tp.topic;
    }
    auto& p = request.topics.back().partitions.emplace_back();
    p.partition = tp.partition;
    p.fetch_offset = *state_.Position(tp);
    p.partition_max_bytes = options_.max_partition_fetch_bytes;
    state_.OnFetchSent(tp);
    in_flight.partitions.emplace_back(tp, p.fetch_offset);
  }
  const uint64_t id = next_request_id_++;
  fetches_.emplace(id, std::move(in_flight));
  fetching_brokers_.insert(broker);
  ++stats_.fetch_requests;
  pool_.To(broker, *address)
      .Call<kafka::FetchRequest, kafka::FetchResponse>(
          request, options_.fetch_version,
          [this, alive = std::weak_ptr<bool>(alive_), id](auto reply) {
            if (alive.expired()) return;
            OnFetchReply(id, std::move(reply));
          });
}

void Consumer::OnFetchReply(uint64_t id, absl::StatusOr<Reply<kafka::FetchResponse>> reply) {
  auto it = fetches_.find(id);
  if (it == fetches_.end()) return;  // dropped at Close()
  InFlightFetch fetch = std::move(it->second);
  fetches_.erase(it);
  fetching_brokers_.erase(fetch.broker);
  Wake(Duration::Zero());
  if (!reply.ok() || reply->response.error_code != 0) {
    // A lost connection, a timeout or a whole-request error: every partition retries.
    if (!reply.ok()) pool_.Close(fetch.broker);
    for (const auto& [tp, offset] : fetch.partitions) FailFetch(tp, absl::OkStatus(), true);
    return;
  }
  std::map<TopicPartition, const PartitionData*> answers;
  for (const auto& topic : reply->response.responses) {
    for (const PartitionData& p : topic.partitions) {
      answers[TopicPartition{topic.topic, p.partition_index}] = &p;
    }
  }
  for (const auto& [tp, offset] : fetch.partitions) {
    auto answer = answers.find(tp);
    if (answer == answers.end()) {
      FailFetch(tp, absl::OkStatus(), false);  // not answered: ask again after the backoff
      continue;
    }
    HandlePartition(tp, offset, *answer->second);
  }
}

void Consumer::HandlePartition(const TopicPartition& tp, int64_t fetch_offset,
                               const PartitionData& data) {
  const int16_t code = data.error_code;
  if (Is(code, ErrorCode::kOffsetOutOfRange)) return HandleOutOfRange(tp, fetch_offset);
  if (StaleMetadata(code)) {
    metadata_.ForgetLeader(tp);
    return FailFetch(tp, absl::OkStatus(), true);
  }
  if (code != 0) {
    return FailFetch(tp, KafkaStatus(code, absl::StrCat("fetch ", tp.topic, "-", tp.partition)),
                     false);
  }
  std::string scratch;
  absl::StatusOr<DecodedFetch> decoded =
      DecodeFetchedRecords(RecordBytes(data.records, scratch), tp.topic, tp.partition,
                           fetch_offset);
  if (!decoded.ok()) return FailFetch(tp, decoded.status(), false);
  if (!state_.OnFetched(tp, fetch_offset, *std::move(decoded), data.high_watermark)) {
    ++stats_.stale_fetches;
  }
}

void Consumer::HandleOutOfRange(const TopicPartition& tp, int64_t fetch_offset) {
  const std::optional<int64_t> position = state_.Position(tp);
  if (position != fetch_offset) {  // the application moved meanwhile: nothing to reset
    return FailFetch(tp, absl::OkStatus(), false);
  }
  if (options_.auto_offset_reset == OffsetResetPolicy::kNone) {
    return FailFetch(tp,
                     absl::OutOfRangeError(absl::StrCat("offset ", fetch_offset, " of ", tp.topic,
                                                        "-", tp.partition,
                                                        " is out of range: OFFSET_OUT_OF_RANGE")),
                     false);
  }
  state_.OnFetchFailed(tp, runtime_.clock().Now(), absl::OkStatus());
  EDDY_CHECK_OK(state_.RequestReset(tp, ResetTimestamp()));
}

void Consumer::FailFetch(const TopicPartition& tp, absl::Status why, bool refresh) {
  ++stats_.fetch_failures;
  if (refresh) metadata_wanted_ = true;
  state_.OnFetchFailed(tp, runtime_.clock().Now() + options_.retry_backoff, std::move(why));
}

}  // namespace eddy::clients
