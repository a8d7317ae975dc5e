// Kafka's "consumer" group protocol metadata: the bytes a consumer puts in JoinGroup's protocol
// metadata (ConsumerProtocolSubscription) and the leader puts in SyncGroup's assignments
// (ConsumerProtocolAssignment), exactly as Kafka's Java client writes and reads them
// (org.apache.kafka.clients.consumer.internals.ConsumerProtocol, schemas
// clients/src/main/resources/common/message/ConsumerProtocol{Subscription,Assignment}.json).
// FORMAT.md beside this file has the byte layout of every version.
//
// Both messages are an int16 version followed by the fields of that version in the
// NON-FLEXIBLE encoding (int32 array counts, int16 string lengths, int32 byte lengths; no tagged
// fields). Versions 0..3 exist.
//
// ENCODING writes the requested version; fields the version does not have are dropped silently
// (they are "ignorable" in the schema, as Java's generated writer treats them). Like Java's
// serializeSubscription, topics are written sorted and owned partitions sorted by (topic,
// partition), grouped one entry per topic; like serializeAssignment, assigned partitions are
// grouped by topic in order of the topic's first appearance, partitions in the order given.
//
// DECODING reads the version, then the fields that version has. A version above 3 is read as
// version 3 and whatever follows is ignored (the schemas promise new versions only append
// fields); bytes after the known fields are ignored at every version, as Java's ByteBuffer reader
// does. A negative version, a truncated field, a negative length other than -1, a null where the
// schema forbids it, or a count larger than the bytes left is kInvalidArgument. Decoding never
// crashes, and what it allocates is bounded by the input's size (and kDecodedTopicBytesMax).
//
// Semantics kept from Java's Subscription: generation_id < 0 means "no generation" (v0/v1 carry
// none, and Java writes -1 for it); an empty rack id reads as no rack.
//
// Pure: no I/O, clock, thread or randomness.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace eddy::clients::group {

// The protocol type that JoinGroup carries for these messages.
inline constexpr std::string_view kConsumerProtocolType = "consumer";
// Versions this code knows (both messages share them, as Java insists).
inline constexpr int16_t kConsumerProtocolVersionMin = 0;
inline constexpr int16_t kConsumerProtocolVersionMax = 3;
// Decoded partitions each hold a copy of their topic's name; the copies of one message are
// bounded so that a small input cannot decode into a huge value (kInvalidArgument beyond).
inline constexpr size_t kDecodedTopicBytesMax = 64 * 1024 * 1024;
// Java's AbstractStickyAssignor.DEFAULT_GENERATION: "no generation known".
inline constexpr int32_t kNoGeneration = -1;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

// ConsumerPartitionAssignor.Subscription as it travels (the group instance id does not: it is a
// JoinGroup field, see assignor.h).
struct Subscription {
  std::vector<std::string> topics;
  std::optional<std::string> user_data;          // nullable bytes; assignor-specific
  std::vector<TopicPartition> owned_partitions;  // v1+; what the member owns right now
  int32_t generation_id = kNoGeneration;         // v2+; < 0 = none
  std::optional<std::string> rack_id;            // v3+; client.rack

  friend bool operator==(const Subscription&, const Subscription&) = default;
};

// ConsumerPartitionAssignor.Assignment as it travels.
struct Assignment {
  std::vector<TopicPartition> partitions;
  std::optional<std::string> user_data;  // nullable bytes; assignor-specific

  friend bool operator==(const Assignment&, const Assignment&) = default;
};

// kInvalidArgument when `version` is outside [kConsumerProtocolVersionMin,
// kConsumerProtocolVersionMax], a topic (or the rack id) is longer than 32767 bytes, user data is
// longer than kafka::kBytesSizeBytesMax, or a partition array would be longer than
// kafka::kArrayCountMax.
absl::StatusOr<std::string> EncodeSubscription(const Subscription& subscription,
                                               int16_t version = kConsumerProtocolVersionMax);
absl::StatusOr<std::string> EncodeAssignment(const Assignment& assignment,
                                             int16_t version = kConsumerProtocolVersionMax);

// The version prefix alone (Java's deserializeVersion). kInvalidArgument when under 2 bytes.
absl::StatusOr<int16_t> DecodeConsumerProtocolVersion(std::span<const uint8_t> bytes);

absl::StatusOr<Subscription> DecodeSubscription(std::span<const uint8_t> bytes);
absl::StatusOr<Assignment> DecodeAssignment(std::span<const uint8_t> bytes);

// Convenience for bytes held in a std::string (protocol metadata usually is).
inline std::span<const uint8_t> AsBytes(std::string_view bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace eddy::clients::group
