#include "core/group/group_log_records.h"

#include <utility>

#include "core/base/check.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"

namespace eddy::group {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

GroupRecordKey OffsetKey(const std::string& group_id, const TopicPartition& tp) {
  GroupRecordKey key;
  key.set_kind(OFFSET);
  key.set_group_id(group_id);
  key.set_topic(tp.topic);
  key.set_partition(tp.partition);
  return key;
}

GroupRecordKey MetadataKey(const std::string& group_id) {
  GroupRecordKey key;
  key.set_kind(GROUP_METADATA);
  key.set_group_id(group_id);
  return key;
}

}  // namespace

GroupLogRecord OffsetRecord(const std::string& group_id, const TopicPartition& tp,
                            const OffsetValue& value) {
  return GroupLogRecord{OffsetKey(group_id, tp), value.SerializeAsString()};
}

GroupLogRecord OffsetTombstone(const std::string& group_id, const TopicPartition& tp) {
  return GroupLogRecord{OffsetKey(group_id, tp), std::nullopt};
}

GroupLogRecord MetadataRecord(const std::string& group_id, const GroupMetadataValue& value) {
  return GroupLogRecord{MetadataKey(group_id), value.SerializeAsString()};
}

GroupLogRecord MetadataTombstone(const std::string& group_id) {
  return GroupLogRecord{MetadataKey(group_id), std::nullopt};
}

absl::StatusOr<std::vector<uint8_t>> EncodeGroupBatch(std::span<const GroupLogRecord> records,
                                                      int64_t timestamp_ms) {
  EDDY_CHECK(!records.empty());
  record::BatchHeader fields;
  fields.magic = 2;
  fields.base_offset = 0;
  fields.producer_id = -1;
  fields.producer_epoch = -1;
  fields.base_sequence = -1;
  record::RecordBatchBuilder builder(fields);
  for (const GroupLogRecord& r : records) {
    const std::string key = r.key.SerializeAsString();
    std::optional<std::span<const uint8_t>> value;
    if (r.value.has_value()) value = Bytes(*r.value);
    if (absl::Status s = builder.Append(timestamp_ms, Bytes(key), value); !s.ok()) {
      return absl::InvalidArgumentError("group records do not fit in one batch");
    }
  }
  return builder.Finish();
}

}  // namespace eddy::group
