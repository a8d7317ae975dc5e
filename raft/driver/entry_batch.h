// EntryBatch: how a Raft entry is stored as one RecordBatch v2 in the partition log (FORMAT.md).
//
// A normal entry IS the client's record batch: the leader's log stamps its base offset and the
// term (partitionLeaderEpoch), neither covered by the CRC. A NOOP or CONF_CHANGE entry is a
// one-record control batch (attributes control bit, invisible to consumers, as Kafka's control
// batches are) whose header carries the entry type in producerEpoch, the conf-change type in
// baseSequence and the conf-change node in producerId, so the type is recoverable from the
// 61-byte header alone.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/record/batch_header.h"
#include "raft/raft.pb.h"
#include "raft/types.h"

namespace eddy::raft::driver {

// The control batch for a NOOP or CONF_CHANGE entry at meta's offsets and term.
// REQUIRES: meta.type != ENTRY_NORMAL; meta.record_count() == 1.
std::vector<uint8_t> EncodeControlEntry(const EntryMeta& meta);

// Raft's own entries (no-op, membership change: control batches with producerEpoch 1 or 2):
// hidden from Kafka clients, one Raft offset and no Kafka offset each. The partition log's
// classifier (LogOptions::is_hidden); a pure function of CRC-covered header fields.
bool IsRaftInternalBatch(const record::BatchHeader& header);

// The entry metadata a stored batch stands for (type, offsets, term, size). kDataLoss for a
// malformed header or a control batch that is not one of ours.
absl::StatusOr<EntryMeta> DecodeEntryMeta(std::span<const uint8_t> batch);

// Checks that a client batch may be proposed: one whole, CRC-valid, non-control batch whose
// record count matches its header. kInvalidArgument otherwise.
absl::Status ValidateClientBatch(std::span<const uint8_t> batch);

// A 64-bit digest of a stored batch's bytes (every byte, including offsets and term): equal
// digests mean byte-identical batches, for the checkers.
uint64_t BatchDigest(std::span<const uint8_t> batch);

}  // namespace eddy::raft::driver
