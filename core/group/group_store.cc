#include "core/group/group_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace eddy::group {
namespace {

template <typename Message>
bool ParseBytes(std::span<const uint8_t> bytes, Message* message) {
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

absl::Status GroupStore::Apply(std::span<const uint8_t> key,
                               std::optional<std::span<const uint8_t>> value) {
  GroupRecordKey parsed;
  if (!ParseBytes(key, &parsed)) return absl::InvalidArgumentError("group record key");
  if (parsed.group_id().size() > kGroupIdSizeBytesMax) {
    return absl::InvalidArgumentError("group id too long");
  }
  switch (parsed.kind()) {
    case GROUP_METADATA:
      return ApplyMetadata(parsed, value);
    case OFFSET:
      return ApplyOffset(parsed, value);
    default:
      return absl::InvalidArgumentError(absl::StrCat("group record kind ", parsed.kind()));
  }
}

absl::Status GroupStore::ApplyMetadata(const GroupRecordKey& key,
                                       std::optional<std::span<const uint8_t>> value) {
  if (!value.has_value()) {
    if (auto it = groups_.find(key.group_id()); it != groups_.end()) {
      it->second.metadata.reset();
      EraseIfEmpty(key.group_id());
    }
    return absl::OkStatus();
  }
  GroupMetadataValue metadata;
  if (!ParseBytes(*value, &metadata)) return absl::InvalidArgumentError("group metadata value");
  if (!groups_.contains(key.group_id()) && groups_.size() >= kGroupsMax) {
    return absl::InvalidArgumentError("too many groups");
  }
  groups_[key.group_id()].metadata = std::move(metadata);
  return absl::OkStatus();
}

absl::Status GroupStore::ApplyOffset(const GroupRecordKey& key,
                                     std::optional<std::span<const uint8_t>> value) {
  const TopicPartition tp{key.topic(), key.partition()};
  if (!value.has_value()) {
    if (auto it = groups_.find(key.group_id()); it != groups_.end()) {
      it->second.offsets.erase(tp);
      EraseIfEmpty(key.group_id());
    }
    return absl::OkStatus();
  }
  OffsetValue offset;
  if (!ParseBytes(*value, &offset)) return absl::InvalidArgumentError("offset value");
  auto it = groups_.find(key.group_id());
  if (it == groups_.end()) {
    if (groups_.size() >= kGroupsMax) return absl::InvalidArgumentError("too many groups");
    it = groups_.emplace(key.group_id(), StoredGroup{}).first;
  }
  if (!it->second.offsets.contains(tp) && it->second.offsets.size() >= kOffsetsPerGroupMax) {
    return absl::InvalidArgumentError("too many offsets in one group");
  }
  it->second.offsets[tp] = std::move(offset);
  return absl::OkStatus();
}

void GroupStore::EraseIfEmpty(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it != groups_.end() && it->second.empty()) groups_.erase(it);
}

const StoredGroup* GroupStore::Find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

GroupStoreState GroupStore::ToState() const {
  GroupStoreState state;
  for (const auto& [id, group] : groups_) {
    EDDY_CHECK(!group.empty());
    StoredGroupState* g = state.add_groups();
    g->set_group_id(id);
    if (group.metadata.has_value()) {
      *g->mutable_metadata() = *group.metadata;
    }
    for (const auto& [tp, value] : group.offsets) {
      StoredOffset* o = g->add_offsets();
      o->set_topic(tp.topic);
      o->set_partition(tp.partition);
      *o->mutable_value() = value;
    }
  }
  return state;
}

absl::StatusOr<GroupStore> GroupStore::FromState(const GroupStoreState& state) {
  GroupStore store;
  if (state.groups_size() > static_cast<int>(kGroupsMax)) {
    return absl::DataLossError("group state holds too many groups");
  }
  for (const StoredGroupState& g : state.groups()) {
    if (!store.groups_.empty() && g.group_id() <= store.groups_.rbegin()->first) {
      return absl::DataLossError(absl::StrCat("group state out of order at ", g.group_id()));
    }
    if (g.group_id().size() > kGroupIdSizeBytesMax ||
        g.offsets_size() > static_cast<int>(kOffsetsPerGroupMax) ||
        (!g.has_metadata() && g.offsets_size() == 0)) {
      return absl::DataLossError(absl::StrCat("group state entry ", g.group_id(), " malformed"));
    }
    StoredGroup group;
    if (g.has_metadata()) group.metadata = g.metadata();
    for (const StoredOffset& o : g.offsets()) {
      TopicPartition tp{o.topic(), o.partition()};
      if (!group.offsets.empty() && tp <= group.offsets.rbegin()->first) {
        return absl::DataLossError(absl::StrCat("offsets of ", g.group_id(), " out of order"));
      }
      group.offsets.emplace(std::move(tp), o.value());
    }
    store.groups_.emplace(g.group_id(), std::move(group));
  }
  return store;
}

}  // namespace eddy::group
