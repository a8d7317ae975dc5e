// SequenceTracker: the idempotent producer's bookkeeping per partition — which producer id and
// epoch its batches carry, the next base sequence, which batches are unresolved (sequenced but
// without an outcome), how many are in flight, and the two pauses that keep ORDER ACROSS
// RETRIES:
//
//   REWIND: a batch failed retriably. Batches sent after it are still in flight and will fail
//   too (the broker refuses a sequence after a gap), or succeed if it was written after all.
//   Nothing more is sent for the partition until none is in flight; then the queue, in sequence
//   order, is resent from its head. A retried batch keeps its sequence.
//
//   RESET: the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID for a batch
//   with no unresolved batch before it: a batch before it failed for good (delivery timeout, a
//   fatal error) without reaching the log, so the sequence has a hole the broker will never see
//   filled. Nothing of that sequence after the hole can be in the log (the broker admits
//   sequences in order), so the partition takes a NEW producer id (InitProducerId; Eddy's broker
//   hands out a fresh id at epoch 0, like KIP-360's bump without the transaction coordinator)
//   and its queued batches are re-stamped with sequences from 0, in order. Other partitions keep
//   their id: a batch carries its producer id, and the broker keeps state per (id, partition).
//
// Sequences wrap from INT32_MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence).
//
// Pure. LOOP AFFINITY: the producer's loop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "clients/producer_batch.h"

namespace eddy::clients {

struct ProducerIdAndEpoch {
  int64_t id = -1;
  int16_t epoch = -1;

  bool valid() const { return id >= 0; }
  friend bool operator==(const ProducerIdAndEpoch&, const ProducerIdAndEpoch&) = default;
};

// `sequence` advanced by `count` records, wrapping past INT32_MAX to 0.
// REQUIRES: 0 <= sequence, 0 <= count.
int32_t IncrementSequence(int32_t sequence, int32_t count);

class SequenceTracker {
 public:
  // `in_flight_max`: batches of one partition in flight at most.
  explicit SequenceTracker(int32_t in_flight_max);

  // The id InitProducerId gave the producer: every partition without its own uses it.
  void SetProducerId(ProducerIdAndEpoch id) { default_id_ = id; }
  ProducerIdAndEpoch producer_id() const { return default_id_; }
  ProducerIdAndEpoch IdOf(const TopicPartition& tp) const;

  // A batch is sent for the first time: its base sequence (the partition's next; which then
  // advances by `record_count`), and it is unresolved from now on.
  // REQUIRES: `ordinal` larger than every ordinal assigned before for `tp`.
  int32_t Assign(const TopicPartition& tp, uint64_t ordinal, int32_t record_count);
  // The batch's outcome is known (acknowledged, or failed for good).
  void Resolve(const TopicPartition& tp, uint64_t ordinal);
  // Is some batch created before `ordinal` still unresolved?
  bool HasUnresolvedBefore(const TopicPartition& tp, uint64_t ordinal) const;

  // A batch of `tp` leaves / returns (reply or failure of its request).
  void OnSent(const TopicPartition& tp);
  void OnReturned(const TopicPartition& tp);
  int32_t in_flight(const TopicPartition& tp) const;

  // REWIND (see above).
  void Rewind(const TopicPartition& tp);
  // RESET (see above): the partition waits for a new producer id.
  void NeedReset(const TopicPartition& tp);
  bool needs_reset(const TopicPartition& tp) const;
  // Partitions waiting for a new id with nothing in flight, in partition order.
  std::vector<TopicPartition> ResettableNow() const;
  // Gives `tp` the new id and restarts its sequence at 0. REQUIRES: needs_reset, none in flight.
  void Reset(const TopicPartition& tp, ProducerIdAndEpoch id);

  // After Reset: a new base sequence for an already-assigned (still unresolved) batch, re-stamped
  // in order, head first.
  int32_t Reassign(const TopicPartition& tp, uint64_t ordinal, int32_t record_count);

  // May another batch of `tp` be sent now? Clears a finished rewind.
  bool CanSend(const TopicPartition& tp);

  void CheckInvariants() const;

 private:
  struct Partition {
    std::optional<ProducerIdAndEpoch> id;  // own id, after a reset
    int32_t next_sequence = 0;
    std::set<uint64_t> unresolved;  // ordinals
    uint64_t last_assigned_ordinal = 0;
    bool assigned_any = false;
    int32_t in_flight = 0;
    bool rewinding = false;
    bool needs_reset = false;
  };
  const Partition* Find(const TopicPartition& tp) const;

  const int32_t in_flight_max_;
  ProducerIdAndEpoch default_id_;
  std::map<TopicPartition, Partition> partitions_;
};

}  // namespace eddy::clients
