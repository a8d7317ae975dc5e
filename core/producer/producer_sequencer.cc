#include "core/producer/producer_sequencer.h"

#include "core/base/check.h"

namespace eddy::producer {

void ProducerSequencer::StartTerm(uint64_t term) {
  // Any other term (a lower one only if a replica came back with an older hard state, which
  // its fence handles) starts afresh: batches in flight belong to one leadership.
  if (term == term_) return;
  term_ = term;
  in_flight_.clear();
  producer_of_ticket_.clear();
}

ProducerSequencer::Decision ProducerSequencer::Decide(const ProducerTable& applied,
                                                      uint64_t term,
                                                      const BatchIdentity& batch) {
  StartTerm(term);
  Decision decision;
  auto flying = in_flight_.find(batch.producer_id);
  const ProducerEntry* committed = applied.Find(batch.producer_id);
  if (flying == in_flight_.end()) {
    const SequenceCheck check = CheckBatch(committed, batch);
    decision.verdict = check.verdict;
    decision.committed_duplicate = check.duplicate_of;
    return decision;
  }
  // The producer as it will be once its batches in flight are applied (their offsets unknown).
  ProducerEntry view = committed != nullptr ? *committed : ProducerEntry{};
  for (const InFlight& f : flying->second) {
    if (view.epoch != f.batch.epoch) view.batches.clear();
    view.epoch = f.batch.epoch;
    view.batches.push_back(BatchRecord{f.batch.first_sequence, f.batch.last_sequence, -1, -1});
    while (view.batches.size() > ProducerTable::kBatchesPerProducer) view.batches.pop_front();
  }
  const SequenceCheck check = CheckBatch(&view, batch);
  decision.verdict = check.verdict;
  if (check.verdict == Verdict::kAppend &&
      flying->second.size() >= kInFlightPerProducerMax) {
    decision.verdict = Verdict::kOutOfOrder;
  }
  if (check.verdict != Verdict::kDuplicate) return decision;
  for (const InFlight& f : flying->second) {
    if (f.batch.epoch == batch.epoch && f.batch.first_sequence == batch.first_sequence &&
        f.batch.last_sequence == batch.last_sequence) {
      decision.in_flight_duplicate = f.ticket;
      return decision;
    }
  }
  decision.committed_duplicate = check.duplicate_of;
  // A batch in flight has no offsets (-1) and was matched above; a committed one has them.
  EDDY_CHECK_GE(decision.committed_duplicate->kafka_base_offset, 0);
  return decision;
}

uint64_t ProducerSequencer::Add(uint64_t term, const BatchIdentity& batch) {
  StartTerm(term);
  const uint64_t ticket = next_ticket_++;
  in_flight_[batch.producer_id].push_back(InFlight{ticket, batch});
  producer_of_ticket_[ticket] = batch.producer_id;
  return ticket;
}

void ProducerSequencer::Settle(uint64_t ticket) {
  auto owner = producer_of_ticket_.find(ticket);
  if (owner == producer_of_ticket_.end()) return;
  auto flying = in_flight_.find(owner->second);
  producer_of_ticket_.erase(owner);
  EDDY_CHECK(flying != in_flight_.end());
  std::deque<InFlight>& list = flying->second;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->ticket == ticket) {
      list.erase(it);
      break;
    }
  }
  if (list.empty()) in_flight_.erase(flying);
}

size_t ProducerSequencer::in_flight() const { return producer_of_ticket_.size(); }

}  // namespace eddy::producer
