#include "core/group/group_state_machine.h"

#include <string>
#include <utility>

#include "core/record/record_batch_reader.h"

namespace eddy::group {

GroupStateMachine::GroupStateMachine(GroupStateStats* stats)
    : stats_(stats != nullptr ? stats : &local_stats_) {}

absl::Status GroupStateMachine::Apply(const raft::EntryMeta& meta,
                                      std::span<const uint8_t> batch) {
  if (meta.type == raft::ENTRY_NORMAL) ApplyData(batch);
  applied_ = meta.last_offset;
  return absl::OkStatus();
}

void GroupStateMachine::ApplyData(std::span<const uint8_t> batch) {
  absl::StatusOr<record::RecordBatchReader> reader = record::RecordBatchReader::Open(batch);
  if (!reader.ok()) {
    ++stats_->batches_undecodable;
    return;
  }
  record::RecordView record;
  while (reader->Next(&record)) {
    if (!record.key.has_value() || !store_.Apply(*record.key, record.value).ok()) {
      ++stats_->records_refused;
      continue;
    }
    ++stats_->records_applied;
  }
}

absl::StatusOr<std::vector<uint8_t>> GroupStateMachine::Snapshot() {
  const std::string bytes = store_.ToState().SerializeAsString();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

absl::Status GroupStateMachine::Restore(const raft::SnapshotMeta& meta,
                                        std::span<const uint8_t> state) {
  GroupStoreState parsed;
  if (!parsed.ParseFromArray(state.data(), static_cast<int>(state.size()))) {
    return absl::DataLossError("group state does not parse");
  }
  absl::StatusOr<GroupStore> store = GroupStore::FromState(parsed);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  applied_ = meta.last_offset();
  ++stats_->snapshots_restored;
  return absl::OkStatus();
}

}  // namespace eddy::group
