#include "clients/sequence_tracker.h"

#include "core/base/check.h"

namespace eddy::clients {

int32_t IncrementSequence(int32_t sequence, int32_t count) {
  EDDY_CHECK_GE(sequence, 0);
  EDDY_CHECK_GE(count, 0);
  if (sequence > INT32_MAX - count) return count - (INT32_MAX - sequence) - 1;
  return sequence + count;
}

SequenceTracker::SequenceTracker(int32_t in_flight_max) : in_flight_max_(in_flight_max) {
  EDDY_CHECK_GE(in_flight_max_, 1);
}

const SequenceTracker::Partition* SequenceTracker::Find(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

ProducerIdAndEpoch SequenceTracker::IdOf(const TopicPartition& tp) const {
  const Partition* p = Find(tp);
  return p != nullptr && p->id.has_value() ? *p->id : default_id_;
}

int32_t SequenceTracker::Assign(const TopicPartition& tp, uint64_t ordinal,
                                int32_t record_count) {
  EDDY_CHECK_GT(record_count, 0);
  Partition& p = partitions_[tp];
  EDDY_CHECK(!p.assigned_any || ordinal > p.last_assigned_ordinal);
  p.assigned_any = true;
  p.last_assigned_ordinal = ordinal;
  const int32_t base = p.next_sequence;
  p.next_sequence = IncrementSequence(base, record_count);
  p.unresolved.insert(ordinal);
  return base;
}

void SequenceTracker::Resolve(const TopicPartition& tp, uint64_t ordinal) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return;  // never sequenced (not idempotent, or never sent)
  it->second.unresolved.erase(ordinal);
}

bool SequenceTracker::HasUnresolvedBefore(const TopicPartition& tp, uint64_t ordinal) const {
  const Partition* p = Find(tp);
  return p != nullptr && !p->unresolved.empty() && *p->unresolved.begin() < ordinal;
}

void SequenceTracker::OnSent(const TopicPartition& tp) {
  Partition& p = partitions_[tp];
  EDDY_CHECK_LT(p.in_flight, in_flight_max_);
  ++p.in_flight;
}

void SequenceTracker::OnReturned(const TopicPartition& tp) {
  Partition& p = partitions_[tp];
  EDDY_CHECK_GT(p.in_flight, 0);
  --p.in_flight;
}

int32_t SequenceTracker::in_flight(const TopicPartition& tp) const {
  const Partition* p = Find(tp);
  return p == nullptr ? 0 : p->in_flight;
}

void SequenceTracker::Rewind(const TopicPartition& tp) { partitions_[tp].rewinding = true; }

void SequenceTracker::NeedReset(const TopicPartition& tp) { partitions_[tp].needs_reset = true; }

bool SequenceTracker::needs_reset(const TopicPartition& tp) const {
  const Partition* p = Find(tp);
  return p != nullptr && p->needs_reset;
}

std::vector<TopicPartition> SequenceTracker::ResettableNow() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : partitions_) {
    if (p.needs_reset && p.in_flight == 0) out.push_back(tp);
  }
  return out;
}

void SequenceTracker::Reset(const TopicPartition& tp, ProducerIdAndEpoch id) {
  Partition& p = partitions_[tp];
  EDDY_CHECK(p.needs_reset);
  EDDY_CHECK_EQ(p.in_flight, 0);
  EDDY_CHECK(id.valid());
  p.id = id;
  p.next_sequence = 0;
  p.needs_reset = false;
  p.rewinding = false;
}

int32_t SequenceTracker::Reassign(const TopicPartition& tp, uint64_t ordinal,
                                  int32_t record_count) {
  Partition& p = partitions_[tp];
  EDDY_CHECK(p.unresolved.contains(ordinal));
  EDDY_CHECK_EQ(p.in_flight, 0);
  const int32_t base = p.next_sequence;
  p.next_sequence = IncrementSequence(base, record_count);
  return base;
}

bool SequenceTracker::CanSend(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return true;
  Partition& p = it->second;
  if (p.needs_reset) return false;
  if (p.rewinding) {
    if (p.in_flight > 0) return false;
    p.rewinding = false;  // everything came back: resend from the head, in order
  }
  return p.in_flight < in_flight_max_;
}

void SequenceTracker::CheckInvariants() const {
  for (const auto& [tp, p] : partitions_) {
    EDDY_CHECK(p.in_flight >= 0 && p.in_flight <= in_flight_max_);
    EDDY_CHECK_GE(p.next_sequence, 0);
    if (!p.unresolved.empty()) EDDY_CHECK_LE(*p.unresolved.rbegin(), p.last_assigned_ordinal);
  }
}

}  // namespace eddy::clients
