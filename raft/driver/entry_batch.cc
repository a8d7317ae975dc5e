#include "raft/driver/entry_batch.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"

namespace eddy::raft::driver {
namespace {

// The one record of a control batch: key "eddy.raft", value empty. Consumers skip control
// batches; the key only helps a human reading a dump.
constexpr uint8_t kControlKey[] = {'e', 'd', 'd', 'y', '.', 'r', 'a', 'f', 't'};

}  // namespace

std::vector<uint8_t> EncodeControlEntry(const EntryMeta& meta) {
  EDDY_CHECK_NE(meta.type, ENTRY_NORMAL);
  EDDY_CHECK_EQ(meta.record_count(), 1);
  EDDY_CHECK_GE(meta.base_offset, 0);
  record::BatchHeader fields;
  fields.base_offset = meta.base_offset;
  fields.partition_leader_epoch = static_cast<int32_t>(meta.term);
  fields.attributes = record::kAttributesControlBit;
  fields.producer_epoch = static_cast<int16_t>(meta.type);
  fields.base_sequence =
      meta.type == ENTRY_CONF_CHANGE ? static_cast<int32_t>(meta.conf_change_type) : -1;
  // A no-op carries its term again inside the CRC (producerId): the header's term is outside
  // it, and every term's entries start with its no-op, so the no-ops vouch for every batch's
  // term on open (FORMAT.md §1).
  fields.producer_id = meta.type == ENTRY_CONF_CHANGE ? static_cast<int64_t>(meta.conf_change_node)
                                                      : static_cast<int64_t>(meta.term);
  record::RecordBatchBuilder builder(fields);
  EDDY_CHECK_OK(builder.Append(0, std::span<const uint8_t>(kControlKey), std::nullopt));
  std::vector<uint8_t> batch = builder.Finish();
  EDDY_CHECK_OK(record::VerifyBatchCrc(batch));
  return batch;
}

bool IsRaftInternalBatch(const record::BatchHeader& header) {
  return header.is_control() &&
         (header.producer_epoch == ENTRY_NOOP || header.producer_epoch == ENTRY_CONF_CHANGE);
}

absl::StatusOr<EntryMeta> DecodeEntryMeta(std::span<const uint8_t> batch) {
  absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(batch);
  if (!header.ok()) return absl::DataLossError(header.status().message());
  EntryMeta meta;
  meta.term = static_cast<Term>(header->partition_leader_epoch);
  meta.base_offset = header->base_offset;
  meta.last_offset = header->last_offset();
  meta.size_bytes = header->size_bytes();
  if (!header->is_control()) return meta;
  const int16_t type = header->producer_epoch;
  if (type == ENTRY_NOOP && header->last_offset_delta == 0) {
    if (header->producer_id != header->partition_leader_epoch) {
      return absl::DataLossError(absl::StrCat("no-op at offset ", meta.base_offset, " has term ",
                                              header->partition_leader_epoch, " in its header and ",
                                              header->producer_id, " under its CRC"));
    }
    meta.type = ENTRY_NOOP;
    return meta;
  }
  if (type == ENTRY_CONF_CHANGE && header->last_offset_delta == 0 && header->producer_id > 0 &&
      ConfChangeType_IsValid(header->base_sequence)) {
    meta.type = ENTRY_CONF_CHANGE;
    meta.conf_change_type = static_cast<ConfChangeType>(header->base_sequence);
    meta.conf_change_node = static_cast<NodeId>(header->producer_id);
    return meta;
  }
  return absl::DataLossError(absl::StrCat("unknown control batch at offset ", meta.base_offset,
                                          " (type field ", type, ")"));
}

absl::Status ValidateClientBatch(std::span<const uint8_t> batch) {
  absl::StatusOr<record::BatchHeader> header = record::ParseBatchHeader(batch);
  if (!header.ok()) return absl::InvalidArgumentError(header.status().message());
  if (header->size_bytes() != batch.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch is ", batch.size(), " bytes, header says ", header->size_bytes()));
  }
  if (header->is_control()) return absl::InvalidArgumentError("clients may not send control batches");
  if (header->record_count != header->last_offset_delta + 1) {
    return absl::InvalidArgumentError("record count does not match last offset delta");
  }
  absl::Status valid = record::ValidateRecordBatch(batch);
  if (!valid.ok()) return absl::InvalidArgumentError(valid.message());
  return absl::OkStatus();
}

uint64_t BatchDigest(std::span<const uint8_t> batch) {
  // Eight bytes per step (little-endian words, the tail zero-padded, the length mixed in last):
  // xor, multiply by an odd constant, xorshift — each a bijection, so batches of equal length
  // that differ in one byte never share a digest. Stable across platforms.
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto step = [&hash](uint64_t word) {
    hash = (hash ^ word) * 0x9e3779b97f4a7c15ULL;
    hash ^= hash >> 29;
  };
  size_t at = 0;
  for (; at + 8 <= batch.size(); at += 8) {
    uint64_t word = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&word, batch.data() + at, sizeof(word));  // one load
    } else {
      for (size_t i = 0; i < 8; ++i) word |= uint64_t{batch[at + i]} << (8 * i);
    }
    step(word);
  }
  if (at < batch.size()) {
    uint64_t word = 0;
    for (size_t i = 0; at + i < batch.size(); ++i) word |= uint64_t{batch[at + i]} << (8 * i);
    step(word);
  }
  step(batch.size());
  return hash;
}

}  // namespace eddy::raft::driver
