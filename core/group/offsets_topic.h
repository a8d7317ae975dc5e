// __consumer_offsets: the internal topic whose partitions hold every group's state, and the
// rule that picks a group's partition — Kafka's, so a group's coordinator is found the same
// way by every broker: abs(Java String.hashCode(group id)) % partition count, the hash taken
// over the id's UTF-16 code units as Java decodes the id's bytes (malformed UTF-8 becomes one
// U+FFFD per maximal subpart, as Java's decoder replaces it), abs(INT32_MIN) taken as 0
// (Kafka's Utils.abs).
#pragma once

#include <cstdint>
#include <string_view>

namespace eddy::group {

inline constexpr std::string_view kOffsetsTopicName = "__consumer_offsets";

// Java's String.hashCode of `text` read as UTF-8.
int32_t JavaStringHash(std::string_view text);

// REQUIRES: partition_count > 0.
int32_t OffsetsPartitionFor(std::string_view group_id, int32_t partition_count);

}  // namespace eddy::group
