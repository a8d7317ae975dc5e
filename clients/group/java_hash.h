// INTERNAL to clients/group: the iteration order of Java's java.util.HashMap and HashSet, where
// Kafka's Java sticky assignor lets it decide an assignment (which member keeps maxQuota
// partitions, which claim of a partition is seen first, which earlier move is undone).
//
// A HashMap built with `new HashMap<>()` and put() iterates its buckets in index order; the
// index of a key is (h ^ (h >>> 16)) & (capacity - 1), h its hashCode(); the capacity starts at
// 16 and doubles whenever the size exceeds 3/4 of it (it never shrinks). Within one bucket Java
// keeps insertion order, which for the group's members is the broker's JoinGroup order; these
// functions break such ties by member id (or by the caller's insertion counter) instead, so the
// answer never depends on the order the members came in. Not emulated: a bucket holding 8 or
// more keys (Java then resizes early or turns the bucket into a tree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clients/group/consumer_protocol.h"

namespace eddy::clients::group::internal {

// java.lang.String.hashCode of the UTF-16 form of `utf8` (each invalid byte read as U+FFFD).
int32_t JavaStringHash(std::string_view utf8);
// org.apache.kafka.common.TopicPartition.hashCode: 31 * (31 + partition) + topic.hashCode().
int32_t JavaTopicPartitionHash(const TopicPartition& tp);
// The table capacity of a default-constructed HashMap/HashSet that has held `size_max` keys.
size_t JavaHashCapacity(size_t size_max);
// The bucket of a key with hashCode `hash` in a table of `capacity` buckets.
size_t JavaBucket(int32_t hash, size_t capacity);
// `keys` in the order a default-constructed HashMap<String, ?> holding exactly them iterates,
// ties within a bucket by key.
std::vector<std::string> JavaHashMapOrder(std::vector<std::string> keys);

}  // namespace eddy::clients::group::internal
