#include "core/producer/producer_state_machine.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/producer/producer_state.pb.h"
#include "core/record/batch_header.h"

namespace eddy::producer {

ProducerStateMachine::ProducerStateMachine(int64_t expiration_ms, ProducerStateStats* stats)
    : table_(expiration_ms), stats_(stats != nullptr ? stats : &local_stats_) {}

absl::Status ProducerStateMachine::Apply(const raft::EntryMeta& meta,
                                         std::span<const uint8_t> batch) {
  // The driver restores (at least the bootstrap point) before the first Apply of every open;
  // without it the Kafka offsets below would be wrong.
  if (!restored_) return absl::FailedPreconditionError("producer state applied before restore");
  if (meta.type != raft::ENTRY_NORMAL) {
    hidden_ += meta.record_count();
  } else {
    ApplyData(meta, batch);
  }
  applied_ = meta.last_offset;
  return absl::OkStatus();
}

void ProducerStateMachine::ApplyData(const raft::EntryMeta& meta,
                                     std::span<const uint8_t> batch) {
  absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(batch);
  if (!header.ok()) {
    ++stats_->undecodable_batches;
    return;
  }
  if (header->producer_id < 0) return;
  ++stats_->idempotent_batches;
  const BatchIdentity identity{header->producer_id, header->producer_epoch, header->base_sequence,
                               LastSequence(header->base_sequence, header->record_count)};
  switch (table_.CheckBatch(identity).verdict) {
    case Verdict::kDuplicate:
      ++stats_->duplicates_applied;
      return;
    case Verdict::kStaleEpoch:
      ++stats_->stale_epochs_applied;
      return;
    case Verdict::kOutOfOrder:
      ++stats_->out_of_order_applied;
      break;  // the log holds it: the producer goes on from it
    case Verdict::kAppend:
      break;
  }
  const BatchRecord record{identity.first_sequence, identity.last_sequence,
                           meta.base_offset - hidden_, meta.last_offset - hidden_};
  table_.Record(identity, record, header->max_timestamp, meta.base_offset);
}

absl::StatusOr<std::vector<uint8_t>> ProducerStateMachine::Snapshot() {
  ProducerTableState state;
  state.set_clock_ms(table_.clock_ms());
  for (const auto& [id, entry] : table_.producers()) {
    ProducerEntryState* p = state.add_producers();
    p->set_producer_id(id);
    p->set_epoch(entry.epoch);
    p->set_last_timestamp_ms(entry.last_timestamp_ms);
    p->set_last_raft_offset(entry.last_raft_offset);
    for (const BatchRecord& b : entry.batches) {
      BatchRecordState* s = p->add_batches();
      s->set_first_sequence(b.first_sequence);
      s->set_last_sequence(b.last_sequence);
      s->set_kafka_base_offset(b.kafka_base_offset);
      s->set_kafka_last_offset(b.kafka_last_offset);
    }
  }
  const std::string bytes = state.SerializeAsString();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

absl::Status ProducerStateMachine::Restore(const raft::SnapshotMeta& meta,
                                           std::span<const uint8_t> state) {
  ProducerTableState parsed;
  if (!parsed.ParseFromArray(state.data(), static_cast<int>(state.size()))) {
    return absl::DataLossError("producer state does not parse");
  }
  if (parsed.producers_size() > static_cast<int>(ProducerTable::kProducersMax)) {
    return absl::DataLossError(
        absl::StrCat("producer state holds ", parsed.producers_size(), " producers"));
  }
  std::map<int64_t, ProducerEntry> producers;
  for (const ProducerEntryState& p : parsed.producers()) {
    if (p.producer_id() < 0 || p.epoch() < 0 || p.epoch() > INT16_MAX ||
        p.batches_size() > static_cast<int>(ProducerTable::kBatchesPerProducer) ||
        (!producers.empty() && p.producer_id() <= producers.rbegin()->first)) {
      return absl::DataLossError(
          absl::StrCat("producer state entry for ", p.producer_id(), " is malformed"));
    }
    ProducerEntry entry;
    entry.epoch = static_cast<int16_t>(p.epoch());
    entry.last_timestamp_ms = p.last_timestamp_ms();
    entry.last_raft_offset = p.last_raft_offset();
    for (const BatchRecordState& b : p.batches()) {
      // The bytes come from disk or from the leader: offsets a batch could never have had
      // would later be handed to a retrying client (and trip the sequencer's checks).
      if (b.first_sequence() < 0 || b.last_sequence() < 0 || b.kafka_base_offset() < 0 ||
          b.kafka_last_offset() < b.kafka_base_offset()) {
        return absl::DataLossError(
            absl::StrCat("producer state batch of ", p.producer_id(), " is malformed"));
      }
      entry.batches.push_back(BatchRecord{b.first_sequence(), b.last_sequence(),
                                          b.kafka_base_offset(), b.kafka_last_offset()});
    }
    producers.emplace(p.producer_id(), std::move(entry));
  }
  table_.Reset(std::move(producers), parsed.clock_ms());
  hidden_ = meta.hidden_count();
  applied_ = meta.last_offset();
  restored_ = true;
  ++stats_->snapshots_restored;
  return absl::OkStatus();
}

}  // namespace eddy::producer
