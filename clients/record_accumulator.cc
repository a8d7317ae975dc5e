#include "clients/record_accumulator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/batch_header.h"

namespace eddy::clients {
namespace {

// Worst case of a varint length or count (5 bytes for an int32, Kafka's ByteUtils).
constexpr size_t kVarintSizeBytesMax = 5;
// attributes (1) + timestamp delta (varlong, 10) + offset delta (varint, 5) + length (5).
constexpr size_t kRecordOverheadSizeBytesMax = 1 + 10 + 5 + kVarintSizeBytesMax;

size_t FieldSize(std::optional<std::span<const uint8_t>> field) {
  return kVarintSizeBytesMax + (field.has_value() ? field->size() : 0);
}

}  // namespace

size_t EstimateRecordSizeBytes(std::optional<std::span<const uint8_t>> key,
                               std::optional<std::span<const uint8_t>> value,
                               std::span<const record::HeaderView> headers) {
  size_t size = kRecordOverheadSizeBytesMax + FieldSize(key) + FieldSize(value) +
                kVarintSizeBytesMax;  // header count
  for (const record::HeaderView& h : headers) {
    size += kVarintSizeBytesMax + h.key.size() + FieldSize(h.value);
  }
  return size;
}

RecordAccumulator::RecordAccumulator(AccumulatorOptions options) : options_(options) {
  EDDY_CHECK_GE(options_.batch_size_bytes, record::kBatchHeaderSizeBytes);
  EDDY_CHECK_GE(options_.buffer_memory_bytes, options_.batch_size_bytes);
}

absl::Status RecordAccumulator::Append(const TopicPartition& tp, int64_t timestamp_ms,
                                       std::optional<std::span<const uint8_t>> key,
                                       std::optional<std::span<const uint8_t>> value,
                                       std::span<const record::HeaderView> headers,
                                       uint64_t record_index, Instant now,
                                       SendCallback& callback) {
  const size_t estimate = EstimateRecordSizeBytes(key, value, headers);
  const bool opens = WouldOpenBatch(tp, estimate);
  const size_t needed = estimate + (opens ? record::kBatchHeaderSizeBytes : 0);
  if (buffered_bytes_ + needed > options_.buffer_memory_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("buffer memory full: ", buffered_bytes_, " of ",
                     options_.buffer_memory_bytes, " bytes held, a record needs ", needed));
  }
  Queue& queue = queues_[tp];
  if (!queue.empty() && !queue.back()->sealed() && !queue.back()->full) {
    ProducerBatch& open = *queue.back();
    const size_t before = open.size_bytes();
    const absl::Status s = open.Append(timestamp_ms, key, value, headers, callback);
    if (s.ok()) {
      buffered_bytes_ += open.size_bytes() - before;
      return s;
    }
    if (!absl::IsResourceExhausted(s)) return s;
    open.full = true;  // the record goes to a new batch behind it
  }
  ProducerBatch& batch = OpenBatch(tp, record_index, now);
  const absl::Status s = batch.Append(timestamp_ms, key, value, headers, callback);
  if (!s.ok()) {
    queue.pop_back();  // a lone record that can never fit: no empty batch stays behind
    if (queue.empty()) queues_.erase(tp);
    return s;
  }
  buffered_bytes_ += batch.size_bytes();
  return absl::OkStatus();
}

ProducerBatch& RecordAccumulator::OpenBatch(const TopicPartition& tp, uint64_t record_index,
                                            Instant now) {
  const uint64_t ordinal = next_ordinal_[tp]++;
  queues_[tp].push_back(std::make_unique<ProducerBatch>(
      tp, ordinal, record_index, now, now + options_.delivery_timeout, options_.batch_size_bytes));
  return *queues_[tp].back();
}

bool RecordAccumulator::WouldOpenBatch(const TopicPartition& tp, size_t size_bytes) const {
  auto it = queues_.find(tp);
  if (it == queues_.end() || it->second.empty()) return true;
  const ProducerBatch& last = *it->second.back();
  if (last.sealed() || last.full) return true;
  return last.size_bytes() + size_bytes > options_.batch_size_bytes;
}

bool RecordAccumulator::HeadReady(const ProducerBatch& head, const Queue& queue, Instant now,
                                  bool flushing) const {
  if (head.retry_at > now) return false;
  if (flushing || head.sealed() || head.full || queue.size() > 1) return true;
  if (head.size_bytes() >= options_.batch_size_bytes) return true;
  return now >= head.created() + options_.linger;
}

std::vector<TopicPartition> RecordAccumulator::Ready(Instant now, bool flushing) const {
  std::vector<TopicPartition> ready;
  for (const auto& [tp, queue] : queues_) {
    if (!queue.empty() && HeadReady(*queue.front(), queue, now, flushing)) ready.push_back(tp);
  }
  return ready;
}

std::optional<Instant> RecordAccumulator::NextWakeup(Instant now, bool flushing) const {
  std::optional<Instant> next;
  auto consider = [&](Instant t) {
    if (t > now && (!next.has_value() || t < *next)) next = t;
  };
  for (const auto& [tp, queue] : queues_) {
    if (queue.empty()) continue;
    const ProducerBatch& head = *queue.front();
    consider(head.deadline());
    const bool full = flushing || head.sealed() || head.full || queue.size() > 1 ||
                      head.size_bytes() >= options_.batch_size_bytes;
    consider(full ? head.retry_at : std::max(head.retry_at, head.created() + options_.linger));
  }
  return next;
}

std::unique_ptr<ProducerBatch> RecordAccumulator::TakeHead(const TopicPartition& tp) {
  auto it = queues_.find(tp);
  EDDY_CHECK(it != queues_.end() && !it->second.empty());
  std::unique_ptr<ProducerBatch> head = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) queues_.erase(it);
  head->Seal();
  return head;
}

void RecordAccumulator::Reenqueue(std::unique_ptr<ProducerBatch> batch) {
  EDDY_CHECK(batch->sealed());
  Queue& queue = queues_[batch->tp()];
  auto at = std::find_if(queue.begin(), queue.end(), [&](const auto& b) {
    return b->ordinal() > batch->ordinal();
  });
  EDDY_CHECK(at == queue.end() || (*at)->ordinal() != batch->ordinal());
  queue.insert(at, std::move(batch));
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::Expire(Instant now) {
  std::vector<std::unique_ptr<ProducerBatch>> expired;
  for (auto it = queues_.begin(); it != queues_.end();) {
    Queue& queue = it->second;
    while (!queue.empty() && queue.front()->deadline() <= now) {
      expired.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    it = queue.empty() ? queues_.erase(it) : std::next(it);
  }
  return expired;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::TakeAll() {
  std::vector<std::unique_ptr<ProducerBatch>> all;
  for (auto& [tp, queue] : queues_) {
    for (auto& b : queue) all.push_back(std::move(b));
  }
  queues_.clear();
  return all;
}

void RecordAccumulator::ForEachBatch(const TopicPartition& tp,
                                     absl::FunctionRef<void(ProducerBatch&)> visit) {
  auto it = queues_.find(tp);
  if (it == queues_.end()) return;
  for (auto& b : it->second) visit(*b);
}

std::optional<uint64_t> RecordAccumulator::MinRecordIndex() const {
  std::optional<uint64_t> min;
  for (const auto& [tp, queue] : queues_) {
    for (const auto& b : queue) {
      if (!min.has_value() || b->first_record_index() < *min) min = b->first_record_index();
    }
  }
  return min;
}

void RecordAccumulator::Release(size_t bytes) {
  EDDY_CHECK_LE(bytes, buffered_bytes_);
  buffered_bytes_ -= bytes;
}

absl::Status RecordAccumulator::Reserve(size_t bytes) {
  if (buffered_bytes_ + bytes > options_.buffer_memory_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("buffer memory full: ", buffered_bytes_,
                                                     " of ", options_.buffer_memory_bytes));
  }
  buffered_bytes_ += bytes;
  return absl::OkStatus();
}

size_t RecordAccumulator::batch_count() const {
  size_t count = 0;
  for (const auto& [tp, queue] : queues_) count += queue.size();
  return count;
}

void RecordAccumulator::CheckInvariants() const {
  size_t queued_bytes = 0;
  for (const auto& [tp, queue] : queues_) {
    EDDY_CHECK(!queue.empty());
    for (size_t i = 0; i < queue.size(); ++i) {
      EDDY_CHECK(queue[i]->tp() == tp);
      EDDY_CHECK_GT(queue[i]->record_count(), 0);
      if (i > 0) EDDY_CHECK_LT(queue[i - 1]->ordinal(), queue[i]->ordinal());
      // Only the last batch may still be open.
      if (i + 1 < queue.size()) EDDY_CHECK(queue[i]->sealed() || queue[i]->full);
      queued_bytes += queue[i]->size_bytes();
    }
  }
  EDDY_CHECK_LE(queued_bytes, buffered_bytes_);
}

}  // namespace eddy::clients
