#include "core/controller/metadata_machine.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"

namespace eddy::controller {

absl::Status MetadataMachine::Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) {
  applied_ = meta.last_offset;
  ++stats_.entries;
  if (meta.type != raft::ENTRY_NORMAL) return absl::OkStatus();  // Raft's own entries
  absl::StatusOr<record::RecordBatchReader> reader = record::RecordBatchReader::Open(batch);
  if (!reader.ok()) {
    // The driver CRC-checked the batch: a bad one here is a proposer's bug. Skip it everywhere.
    ++stats_.undecodable_records;
    return absl::OkStatus();
  }
  record::RecordView view;
  while (reader->Next(&view)) {
    ++stats_.records;
    const int64_t offset = meta.base_offset + view.offset_delta;
    MetadataRecord record;
    if (!view.value.has_value() ||
        !record.ParseFromArray(view.value->data(), static_cast<int>(view.value->size()))) {
      ++stats_.undecodable_records;
      continue;
    }
    const absl::Status outcome = image_.Apply(record);
    if (observer_ != nullptr) observer_->OnRecord(image_, offset, record, outcome);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> MetadataMachine::Snapshot() {
  const std::string bytes = image_.ToState().SerializeAsString();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

absl::Status MetadataMachine::Restore(const raft::SnapshotMeta& meta,
                                      std::span<const uint8_t> state) {
  if (state.empty()) {
    // Only the bootstrap point has no state: every image's state names its counters.
    if (meta.last_offset() != raft::kNoOffset) {
      return absl::DataLossError(
          absl::StrCat("empty metadata snapshot at ", meta.last_offset()));
    }
    image_ = MetadataImage{};
    applied_ = raft::kNoOffset;
    if (observer_ != nullptr) observer_->OnRestored(image_, applied_);
    return absl::OkStatus();
  }
  MetadataImageState parsed;
  if (!parsed.ParseFromArray(state.data(), static_cast<int>(state.size()))) {
    return absl::DataLossError(
        absl::StrCat("metadata snapshot at ", meta.last_offset(), " does not parse"));
  }
  absl::StatusOr<MetadataImage> image = MetadataImage::FromState(parsed);
  if (!image.ok()) return image.status();
  image_ = *std::move(image);
  applied_ = meta.last_offset();
  if (observer_ != nullptr) observer_->OnRestored(image_, applied_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> EncodeMetadataBatch(std::span<const MetadataRecord> records,
                                                         int64_t timestamp_ms) {
  if (records.empty()) return absl::InvalidArgumentError("a metadata batch of no records");
  record::BatchHeader fields;
  fields.magic = 2;
  record::RecordBatchBuilder builder(fields);
  for (const MetadataRecord& r : records) {
    const std::string bytes = r.SerializeAsString();
    const std::span<const uint8_t> value(reinterpret_cast<const uint8_t*>(bytes.data()),
                                         bytes.size());
    absl::Status s = builder.Append(timestamp_ms, std::nullopt, value);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata batch of ", records.size(), " records: ", s.message()));
    }
  }
  return builder.Finish();
}

}  // namespace eddy::controller
