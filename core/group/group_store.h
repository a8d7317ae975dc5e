// GroupStore: the committed state of the consumer groups one __consumer_offsets partition holds
// — each group's metadata (generation, protocol, members and their assignments) and committed
// offsets — as its records (group_records.proto) leave it when applied in log order. Pure: the
// GroupStateMachine feeds it, the coordinator reads it when it takes over the partition.
//
// Records from the log are trusted for nothing: a key or value that does not parse, or a
// record beyond the named limits, is refused with kInvalidArgument and changes nothing (the
// machine counts it and goes on, the same way on every replica).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/group/group_records.pb.h"

namespace eddy::group {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct StoredGroup {
  std::optional<GroupMetadataValue> metadata;
  std::map<TopicPartition, OffsetValue> offsets;
  bool empty() const { return !metadata.has_value() && offsets.empty(); }
};

class GroupStore {
 public:
  static constexpr size_t kGroupIdSizeBytesMax = 32 * 1024;
  static constexpr size_t kGroupsMax = 1'000'000;
  static constexpr size_t kOffsetsPerGroupMax = 1'000'000;

  // Applies one record: `value` null deletes the key's state (a tombstone).
  absl::Status Apply(std::span<const uint8_t> key, std::optional<std::span<const uint8_t>> value);

  const std::map<std::string, StoredGroup>& groups() const { return groups_; }
  // nullptr if the store holds nothing for `group_id`.
  const StoredGroup* Find(const std::string& group_id) const;

  GroupStoreState ToState() const;
  // Refuses (kDataLoss) state that breaks the limits or the order ToState writes.
  static absl::StatusOr<GroupStore> FromState(const GroupStoreState& state);

 private:
  absl::Status ApplyMetadata(const GroupRecordKey& key,
                             std::optional<std::span<const uint8_t>> value);
  absl::Status ApplyOffset(const GroupRecordKey& key,
                           std::optional<std::span<const uint8_t>> value);
  void EraseIfEmpty(const std::string& group_id);

  std::map<std::string, StoredGroup> groups_;
};

}  // namespace eddy::group
