// MetadataMachine: the metadata Raft group's state machine (raft/driver/state_machine.h). Each
// data entry of the group is a RecordBatch v2 whose records' values are MetadataRecords
// (EncodeMetadataBatch); applying the entry applies them, in order, to the machine's
// MetadataImage. Its snapshot is the image's state, so the metadata log is truncated like any
// other; a follower that installs a snapshot gets the whole image.
//
// Refused records (metadata_image.h) and records that do not parse are counted and skipped,
// never an error: every replica skips the same ones, and a non-OK Apply would stop the replica
// and replay the same entry on reopen for ever.
//
// The image is the machine's; the owner (the controller, a broker) hears every change through
// a MetadataObserver that outlives the machine — the machine is destroyed whenever the replica
// stops, and a new one is restored from the snapshot and replayed on reopen.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/controller/metadata_image.h"
#include "raft/driver/state_machine.h"

namespace eddy::controller {

class MetadataObserver {
 public:
  virtual ~MetadataObserver() = default;
  // A record at Raft offset `offset` was applied (outcome OK) or refused (its status).
  virtual void OnRecord(const MetadataImage& image, int64_t offset, const MetadataRecord& record,
                        const absl::Status& outcome) = 0;
  // The image was replaced: by a snapshot (a restart, or one installed from the leader) or by
  // the empty bootstrap image, as of `offset`.
  virtual void OnRestored(const MetadataImage& image, int64_t offset) = 0;
};

struct MetadataMachineStats {
  uint64_t entries = 0;
  uint64_t records = 0;
  uint64_t undecodable_records = 0;  // a record whose value is not a MetadataRecord
};

class MetadataMachine final : public raft::driver::StateMachine {
 public:
  // `observer` may be null; it outlives the machine.
  explicit MetadataMachine(MetadataObserver* observer) : observer_(observer) {}

  absl::Status Apply(const raft::EntryMeta& meta, std::span<const uint8_t> batch) override;
  // It keeps no storage of its own: its state comes from snapshots and the log.
  int64_t DurableOffset() const override { return raft::kNoOffset; }
  absl::StatusOr<std::vector<uint8_t>> Snapshot() override;
  absl::Status Restore(const raft::SnapshotMeta& meta, std::span<const uint8_t> state) override;

  const MetadataImage& image() const { return image_; }
  int64_t applied_offset() const { return applied_; }
  const MetadataMachineStats& stats() const { return stats_; }

 private:
  MetadataObserver* const observer_;
  MetadataImage image_;
  int64_t applied_ = raft::kNoOffset;
  MetadataMachineStats stats_;
};

// One batch of metadata records for the metadata group, stamped `timestamp_ms`. Errors:
// kInvalidArgument for no records or a batch beyond the record batch limits.
absl::StatusOr<std::vector<uint8_t>> EncodeMetadataBatch(std::span<const MetadataRecord> records,
                                                         int64_t timestamp_ms);

}  // namespace eddy::controller
