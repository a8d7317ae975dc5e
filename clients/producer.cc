// The producer's API, partitioning and outcomes. Sending lives in producer_sender.cc, Metadata
// and producer ids in producer_metadata.cc.
#include "clients/producer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::clients {
namespace {

std::optional<std::span<const uint8_t>> View(const std::optional<std::vector<uint8_t>>& bytes) {
  if (!bytes.has_value()) return std::nullopt;
  return std::span<const uint8_t>(*bytes);
}

std::vector<record::HeaderView> HeaderViews(const std::vector<record::Header>& headers) {
  std::vector<record::HeaderView> views;
  views.reserve(headers.size());
  for (const record::Header& h : headers) views.push_back({h.key, View(h.value)});
  return views;
}

AccumulatorOptions AccumulatorOptionsOf(const ProducerOptions& o) {
  return AccumulatorOptions{.batch_size_bytes = o.batch_size_bytes,
                            .linger = o.linger,
                            .delivery_timeout = o.delivery_timeout,
                            .buffer_memory_bytes = o.buffer_memory_bytes};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(runtime::ClientRuntime& runtime,
                                                           ProducerOptions options) {
  if (absl::Status s = ValidateProducerOptions(options); !s.ok()) return s;
  return std::unique_ptr<Producer>(new Producer(runtime, std::move(options)));
}

Producer::Producer(runtime::ClientRuntime& runtime, ProducerOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      idempotent_(options_.enable_idempotence),
      accumulator_(AccumulatorOptionsOf(options_)),
      // One batch per partition per request, so a partition never has more batches in flight
      // than its leader's connection has requests.
      sequences_(std::min(options_.max_in_flight_requests_per_connection,
                          idempotent_ ? kIdempotentInFlightMax : INT32_MAX)) {}

Producer::~Producer() {
  alive_.reset();
}

absl::Status Producer::Send(ProducerRecord record, SendCallback callback) {
  if (closed_) return absl::FailedPreconditionError("producer closed");
  if (record.topic.empty()) return absl::InvalidArgumentError("empty topic name");
  if (record.partition.has_value() && *record.partition < 0) {
    return absl::InvalidArgumentError(absl::StrCat("partition ", *record.partition));
  }
  if (!record.timestamp_ms.has_value()) record.timestamp_ms = runtime_.wall_clock().NowMs();
  if (topics_.insert(record.topic).second) RequestMetadata();
  const uint64_t index = next_record_index_;
  const std::optional<int32_t> count = metadata_.PartitionCount(record.topic);
  if (count.has_value() && !TopicWaiting(record.topic)) {
    absl::StatusOr<int32_t> partition = ChoosePartition(record, *count);
    if (!partition.ok()) return partition.status();
    if (absl::Status s = Append(record, *partition, index, callback); !s.ok()) return s;
  } else {
    // Unknown topic, or older records of it still wait: queue behind them (Send() order).
    const size_t size = EstimateRecordSizeBytes(View(record.key), View(record.value),
                                                HeaderViews(record.headers));
    if (absl::Status s = accumulator_.Reserve(size); !s.ok()) return s;
    const Instant deadline = runtime_.clock().Now() + options_.delivery_timeout;
    waiting_.push_back(Waiting{std::move(record), std::move(callback), index, deadline, size});
  }
  ++next_record_index_;
  ++stats_.records_sent;
  Wake(Duration::Zero());
  return absl::OkStatus();
}

absl::StatusOr<int32_t> Producer::ChoosePartition(const ProducerRecord& record, int32_t count) {
  if (record.partition.has_value()) {
    if (*record.partition >= count) {
      return absl::InvalidArgumentError(absl::StrCat("partition ", *record.partition, " of ",
                                                     record.topic, ", which has ", count));
    }
    return *record.partition;
  }
  if (record.key.has_value()) return PartitionForKey(*record.key, count);
  const int32_t sticky = sticky_.Partition(record.topic, count, runtime_.random());
  const size_t size =
      EstimateRecordSizeBytes(View(record.key), View(record.value), HeaderViews(record.headers));
  if (!accumulator_.WouldOpenBatch(TopicPartition{record.topic, sticky}, size)) return sticky;
  // KIP-480: the sticky partition's batch is gone (sent) or full; move on.
  sticky_.OnNewBatch(record.topic, sticky, count, runtime_.random());
  return sticky_.Partition(record.topic, count, runtime_.random());
}

absl::Status Producer::Append(ProducerRecord& record, int32_t partition, uint64_t index,
                              SendCallback& callback) {
  const std::vector<record::HeaderView> headers = HeaderViews(record.headers);
  return accumulator_.Append(TopicPartition{record.topic, partition}, *record.timestamp_ms,
                             View(record.key), View(record.value), headers, index,
                             runtime_.clock().Now(), callback);
}

void Producer::AppendWaiting() {
  std::deque<Waiting> still;
  for (Waiting& w : waiting_) {
    const std::optional<int32_t> count = metadata_.PartitionCount(w.record.topic);
    if (!count.has_value()) {
      still.push_back(std::move(w));
      continue;
    }
    accumulator_.Release(w.reserved_bytes);
    absl::StatusOr<int32_t> partition = ChoosePartition(w.record, *count);
    absl::Status s = partition.status();
    if (s.ok()) s = Append(w.record, *partition, w.index, w.callback);
    if (!s.ok()) {
      ++stats_.records_failed;
      std::move(w.callback)(s);
    }
  }
  waiting_ = std::move(still);
}

bool Producer::TopicWaiting(const std::string& topic) const {
  return std::any_of(waiting_.begin(), waiting_.end(),
                     [&](const Waiting& w) { return w.record.topic == topic; });
}

void Producer::ExpireWaiting(Instant now) {
  while (!waiting_.empty() && waiting_.front().deadline <= now) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    accumulator_.Release(w.reserved_bytes);
    const absl::Status why = metadata_.TopicError(w.record.topic);
    ++stats_.records_failed;
    std::move(w.callback)(absl::DeadlineExceededError(
        absl::StrCat("topic ", w.record.topic, " not in the metadata within the delivery timeout",
                     why.ok() ? "" : ": ", why.message())));
  }
}

void Producer::Complete(std::unique_ptr<ProducerBatch> batch,
                        const absl::StatusOr<int64_t>& offset) {
  sequences_.Resolve(batch->tp(), batch->ordinal());
  accumulator_.Release(batch->size_bytes());
  if (offset.ok()) {
    stats_.records_acked += static_cast<uint64_t>(batch->record_count());
  } else {
    stats_.records_failed += static_cast<uint64_t>(batch->record_count());
  }
  batch->Complete(offset);
}

uint64_t Producer::MinUnresolvedRecordIndex() const {
  uint64_t min = next_record_index_;
  if (!waiting_.empty()) min = std::min(min, waiting_.front().index);
  if (std::optional<uint64_t> queued = accumulator_.MinRecordIndex()) min = std::min(min, *queued);
  for (const auto& [id, request] : in_flight_) {
    for (const auto& b : request.batches) min = std::min(min, b->first_record_index());
  }
  return min;
}

void Producer::Flush(absl::AnyInvocable<void() &&> done) {
  flushes_.push_back(FlushWaiter{next_record_index_, std::move(done)});
  Wake(Duration::Zero());  // also runs CheckFlushes, so an idle producer answers later, not inline
}

void Producer::CheckFlushes() {
  if (flushes_.empty()) return;
  const uint64_t min = MinUnresolvedRecordIndex();
  // Flushes are in record-index order: answer from the front.
  while (!flushes_.empty() && flushes_.front().record_index_end <= min) {
    absl::AnyInvocable<void() &&> done = std::move(flushes_.front().done);
    flushes_.pop_front();
    std::move(done)();
  }
}

void Producer::Close() {
  if (closed_) return;
  closed_ = true;
  wake_.Cancel();
  const absl::Status why = absl::CancelledError("producer closed");
  std::deque<Waiting> waiting = std::move(waiting_);
  waiting_.clear();
  for (Waiting& w : waiting) {
    accumulator_.Release(w.reserved_bytes);
    ++stats_.records_failed;
    std::move(w.callback)(why);
  }
  for (auto& batch : accumulator_.TakeAll()) Complete(std::move(batch), why);
  std::map<uint64_t, InFlight> in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, request] : in_flight) {
    for (auto& batch : request.batches) Complete(std::move(batch), why);
  }
  std::deque<FlushWaiter> flushes = std::move(flushes_);
  flushes_.clear();
  for (FlushWaiter& f : flushes) std::move(f.done)();
  for (auto& [id, connection] : connections_) connection->Close();
  if (any_broker_ != nullptr) any_broker_->Close();
}

}  // namespace eddy::clients
