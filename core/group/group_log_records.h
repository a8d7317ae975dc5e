// The records a coordinator writes to its __consumer_offsets partition (FORMAT.md): one Kafka
// record per key, in one uncompressed RecordBatch v2 per write, so the partition stays a Kafka
// topic any consumer can read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/group/group_records.pb.h"
#include "core/group/group_store.h"

namespace eddy::group {

struct GroupLogRecord {
  GroupRecordKey key;
  std::optional<std::string> value;  // a serialized value; nullopt: a tombstone
};

GroupLogRecord OffsetRecord(const std::string& group_id, const TopicPartition& tp,
                            const OffsetValue& value);
GroupLogRecord OffsetTombstone(const std::string& group_id, const TopicPartition& tp);
GroupLogRecord MetadataRecord(const std::string& group_id, const GroupMetadataValue& value);
GroupLogRecord MetadataTombstone(const std::string& group_id);

// One batch of `records` (REQUIRES: not empty), every record stamped `timestamp_ms`.
// kInvalidArgument if they do not fit in one batch (limits::kBatchSizeBytesMax).
absl::StatusOr<std::vector<uint8_t>> EncodeGroupBatch(std::span<const GroupLogRecord> records,
                                                      int64_t timestamp_ms);

}  // namespace eddy::group
