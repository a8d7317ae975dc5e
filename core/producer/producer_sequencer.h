// ProducerSequencer: a partition leader's admission of idempotent batches. The applied table
// (ProducerStateMachine) knows every committed batch; this adds the batches the leader proposed
// in its current term that are not yet applied, so the next batch of a producer with five in
// flight is checked against the sixth-to-last it sent, not the last one committed. README.md.
//
// RULES. Decide asks only once the leader has applied its term's no-op (everything earlier
// leaders committed is in the table). The in-flight batches are one term's: a new term starts
// with none, since the batches of an old term are either in the new leader's log (and applied
// before it serves) or gone. A batch is in flight from Add, before it is proposed, until
// Settle, when its proposal is acknowledged (then the table has it: the driver applies before
// it acknowledges) or fails (then no batch after it in the same term can commit either, or was
// even proposed: a synchronous refusal settles before the next Decide).
//
// BOUNDS: kInFlightPerProducerMax batches per producer (Kafka clients keep at most 5 in
// flight); beyond that a batch is refused as out of order until some settle.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "core/producer/producer_table.h"

namespace eddy::producer {

class ProducerSequencer {
 public:
  static constexpr size_t kInFlightPerProducerMax = 32;

  struct Decision {
    Verdict verdict = Verdict::kAppend;
    // kDuplicate of a committed batch: its offsets. Of a batch in flight: its ticket.
    std::optional<BatchRecord> committed_duplicate;
    uint64_t in_flight_duplicate = 0;
  };

  // The verdict on `batch` for the leader of `term`, given the applied table.
  Decision Decide(const ProducerTable& applied, uint64_t term, const BatchIdentity& batch);
  // `batch` (admitted by Decide for `term`) is about to be proposed: it is in flight until
  // Settle(ticket). Returns its ticket, never 0.
  uint64_t Add(uint64_t term, const BatchIdentity& batch);
  // The proposal of `ticket` was acknowledged or failed. A ticket of an older term, or settled
  // already, is ignored.
  void Settle(uint64_t ticket);

  size_t in_flight() const;

 private:
  struct InFlight {
    uint64_t ticket = 0;
    BatchIdentity batch;
  };
  void StartTerm(uint64_t term);

  uint64_t term_ = 0;
  std::map<int64_t, std::deque<InFlight>> in_flight_;  // by producer id, in proposal order
  std::map<uint64_t, int64_t> producer_of_ticket_;
  uint64_t next_ticket_ = 1;
};

}  // namespace eddy::producer
