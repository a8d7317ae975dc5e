#include "core/producer/producer_table.h"

#include <limits>
#include <utility>

#include "core/base/check.h"

namespace eddy::producer {

int32_t NextSequence(int32_t sequence) {
  return sequence == std::numeric_limits<int32_t>::max() ? 0 : sequence + 1;
}

int32_t LastSequence(int32_t first, int32_t record_count) {
  // Kafka: (first + count - 1) wrapping past INT32_MAX to 0.
  const int64_t last = static_cast<int64_t>(first) + record_count - 1;
  const int64_t wrap = static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1;
  return static_cast<int32_t>(last % wrap);
}

SequenceCheck CheckBatch(const ProducerEntry* entry, const BatchIdentity& batch) {
  SequenceCheck check;
  // A producer not known here (new, or expired): any sequence starts it, as in Kafka, where
  // a producer whose state was lost to retention must be able to go on.
  if (entry == nullptr || entry->epoch == kNoEpoch) return check;
  if (batch.epoch < entry->epoch) {
    check.verdict = Verdict::kStaleEpoch;
    return check;
  }
  if (batch.epoch > entry->epoch) {
    if (batch.first_sequence != 0) check.verdict = Verdict::kOutOfOrder;
    return check;
  }
  for (const BatchRecord& b : entry->batches) {
    if (b.first_sequence == batch.first_sequence && b.last_sequence == batch.last_sequence) {
      check.verdict = Verdict::kDuplicate;
      check.duplicate_of = b;
      return check;
    }
  }
  if (!entry->batches.empty() &&
      batch.first_sequence != NextSequence(entry->batches.back().last_sequence)) {
    check.verdict = Verdict::kOutOfOrder;
  }
  return check;
}

const ProducerEntry* ProducerTable::Find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

void ProducerTable::Record(const BatchIdentity& batch, const BatchRecord& record,
                           int64_t timestamp_ms, int64_t raft_offset) {
  EDDY_CHECK_GE(batch.producer_id, 0);
  auto [it, inserted] = producers_.try_emplace(batch.producer_id);
  ProducerEntry& entry = it->second;
  if (!inserted) Unindex(batch.producer_id, entry);
  if (entry.epoch != batch.epoch) entry.batches.clear();
  entry.epoch = batch.epoch;
  entry.batches.push_back(record);
  while (entry.batches.size() > kBatchesPerProducer) entry.batches.pop_front();
  if (timestamp_ms > clock_ms_) clock_ms_ = timestamp_ms;
  // Active now by the partition's clock, whatever the batch's own timestamp says (a producer
  // with a slow clock is not expired while it writes).
  entry.last_timestamp_ms = clock_ms_;
  entry.last_raft_offset = raft_offset;
  Index(batch.producer_id, entry);
  Expire();
  EvictBeyondCap();
}

void ProducerTable::Reset(std::map<int64_t, ProducerEntry> producers, int64_t clock_ms) {
  producers_ = std::move(producers);
  clock_ms_ = clock_ms;
  by_timestamp_.clear();
  by_offset_.clear();
  for (const auto& [id, entry] : producers_) Index(id, entry);
}

void ProducerTable::Expire() {
  // Idle for longer than the expiration, by the partition's clock (guarding the subtraction:
  // timestamps come from clients and may be anything).
  if (clock_ms_ < std::numeric_limits<int64_t>::min() + expiration_ms_) return;
  const int64_t horizon = clock_ms_ - expiration_ms_;
  while (!by_timestamp_.empty() && by_timestamp_.begin()->first < horizon) {
    Erase(by_timestamp_.begin()->second);
    ++expired_;
  }
}

void ProducerTable::EvictBeyondCap() {
  while (producers_.size() > kProducersMax) {
    Erase(by_offset_.begin()->second);
    ++evicted_;
  }
}

void ProducerTable::Erase(int64_t producer_id) {
  auto it = producers_.find(producer_id);
  EDDY_CHECK(it != producers_.end());
  Unindex(producer_id, it->second);
  producers_.erase(it);
}

void ProducerTable::Index(int64_t producer_id, const ProducerEntry& entry) {
  by_timestamp_.emplace(entry.last_timestamp_ms, producer_id);
  by_offset_.emplace(entry.last_raft_offset, producer_id);
}

void ProducerTable::Unindex(int64_t producer_id, const ProducerEntry& entry) {
  by_timestamp_.erase({entry.last_timestamp_ms, producer_id});
  by_offset_.erase({entry.last_raft_offset, producer_id});
}

}  // namespace eddy::producer
