// ProducerTable: a partition's idempotent-producer state, as Kafka keeps it
// (ProducerStateManager): per producer id, its epoch and the metadata of its last
// kBatchesPerProducer batches, enough to recognise a retried batch and to tell the next
// sequence from a gap. README.md.
//
// The table is a pure value: given the same calls in the same order it holds the same state on
// every replica. It is the partition's applied state (ProducerStateMachine) and the leader's
// base for admitting batches (ProducerSequencer).
//
// SEQUENCES (Kafka's rules): a producer's first batch may carry any sequence; afterwards, within
// an epoch, a batch must start right after the last one (sequences wrap from INT32_MAX to 0); a
// higher epoch must start at 0; a lower epoch is stale. A batch equal (epoch, first and last
// sequence) to one of the last kBatchesPerProducer is a duplicate: its original offsets answer
// it.
//
// BOUNDS: at most kProducersMax producers per partition; the one written least recently (by
// Raft offset) makes room. A producer idle for longer than the expiration is dropped; "now" is
// the partition's own clock, the highest batch timestamp applied (a pure function of the log,
// so every replica drops the same producers at the same entry). Kafka uses each broker's wall
// clock instead; a producer whose clock runs far ahead can thus expire the others early (their
// retries may then be written twice, never lost), as a skewed broker clock would in Kafka.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace eddy::producer {

// Kafka's NO_SEQUENCE / NO_PRODUCER_EPOCH.
inline constexpr int32_t kNoSequence = -1;
inline constexpr int16_t kNoEpoch = -1;

// One batch a producer wrote, with the Kafka offsets it was given.
struct BatchRecord {
  int32_t first_sequence = 0;
  int32_t last_sequence = 0;
  int64_t kafka_base_offset = 0;
  int64_t kafka_last_offset = 0;

  friend bool operator==(const BatchRecord&, const BatchRecord&) = default;
};

// A batch as a producer sent it.
struct BatchIdentity {
  int64_t producer_id = -1;
  int16_t epoch = kNoEpoch;
  int32_t first_sequence = kNoSequence;
  int32_t last_sequence = kNoSequence;
};

struct ProducerEntry {
  int16_t epoch = kNoEpoch;
  std::deque<BatchRecord> batches;  // oldest first, at most kBatchesPerProducer
  int64_t last_timestamp_ms = 0;    // the partition's clock at its last batch
  int64_t last_raft_offset = -1;    // where its last batch was applied (eviction order)

  friend bool operator==(const ProducerEntry&, const ProducerEntry&) = default;
};

enum class Verdict {
  kAppend,      // in sequence: write it
  kDuplicate,   // one of the last batches again: answer with its offsets
  kOutOfOrder,  // a gap, or a batch older than those remembered: OUT_OF_ORDER_SEQUENCE_NUMBER
  kStaleEpoch,  // an epoch below the producer's: INVALID_PRODUCER_EPOCH
};

struct SequenceCheck {
  Verdict verdict = Verdict::kAppend;
  std::optional<BatchRecord> duplicate_of;  // kDuplicate only
};

// The sequence after `sequence`, wrapping as Kafka does.
int32_t NextSequence(int32_t sequence);
// The last sequence of a batch of `record_count` records starting at `first`.
int32_t LastSequence(int32_t first, int32_t record_count);

// Kafka's verdict on `batch` given the producer's entry (nullptr: a producer not known here).
SequenceCheck CheckBatch(const ProducerEntry* entry, const BatchIdentity& batch);

class ProducerTable {
 public:
  static constexpr size_t kBatchesPerProducer = 5;
  static constexpr size_t kProducersMax = 10'000;
  // Kafka's producer.id.expiration.ms default: one day.
  static constexpr int64_t kDefaultExpirationMs = 86'400'000;

  explicit ProducerTable(int64_t expiration_ms = kDefaultExpirationMs)
      : expiration_ms_(expiration_ms) {}

  const ProducerEntry* Find(int64_t producer_id) const;
  SequenceCheck CheckBatch(const BatchIdentity& batch) const {
    return producer::CheckBatch(Find(batch.producer_id), batch);
  }

  // Records a batch the log now holds at `raft_offset` (its first Raft offset) with `record`'s
  // Kafka offsets; a new epoch starts the producer's batches afresh. Advances the clock to
  // `timestamp_ms` (if later), then drops expired producers and, beyond kProducersMax, the
  // least recently written.
  void Record(const BatchIdentity& batch, const BatchRecord& record, int64_t timestamp_ms,
              int64_t raft_offset);

  size_t size() const { return producers_.size(); }
  int64_t clock_ms() const { return clock_ms_; }
  int64_t expiration_ms() const { return expiration_ms_; }
  const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }
  uint64_t expired() const { return expired_; }
  uint64_t evicted() const { return evicted_; }

  // For restoring a snapshot: replaces the whole state. The producer entries' invariants (at
  // most kBatchesPerProducer batches each, at most kProducersMax producers) are the caller's.
  void Reset(std::map<int64_t, ProducerEntry> producers, int64_t clock_ms);

  friend bool operator==(const ProducerTable& a, const ProducerTable& b) {
    return a.producers_ == b.producers_ && a.clock_ms_ == b.clock_ms_;
  }

 private:
  void Expire();
  void EvictBeyondCap();
  void Erase(int64_t producer_id);
  void Index(int64_t producer_id, const ProducerEntry& entry);
  void Unindex(int64_t producer_id, const ProducerEntry& entry);

  int64_t expiration_ms_;
  std::map<int64_t, ProducerEntry> producers_;
  // (last_timestamp_ms, id) and (last_raft_offset, id) of every producer: expiry and eviction
  // without a scan.
  std::set<std::pair<int64_t, int64_t>> by_timestamp_;
  std::set<std::pair<int64_t, int64_t>> by_offset_;
  int64_t clock_ms_ = 0;
  uint64_t expired_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace eddy::producer
