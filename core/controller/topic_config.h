// Topic configs: the Kafka names Eddy supports, their types, ranges, defaults and broker-level
// names, validation (INVALID_CONFIG naming the key), and resolution of a topic's effective
// values with each value's source (DescribeConfigs).
//
// Supported (Kafka's names and meanings):
//   retention.ms              log.retention.ms            long >= -1 (-1: no limit), 7 days
//   retention.bytes           log.retention.bytes         long >= -1 (-1: no limit), -1
//   segment.bytes             log.segment.bytes           int >= 14, 1 GiB
//   segment.ms                log.roll.ms                 long >= 1, 7 days
//   cleanup.policy            log.cleanup.policy          "delete" ("compact" comes with the
//                                                         compaction issue: refused until then)
//   max.message.bytes         message.max.bytes           int >= 0, 1048588
//   message.timestamp.type    log.message.timestamp.type  CreateTime | LogAppendTime
//   min.insync.replicas       min.insync.replicas         int >= 1, 1
// MIN.INSYNC.REPLICAS UNDER RAFT: acks=all is answered once a quorum of the partition's voters
// has the batch durable, whatever this setting says; a Raft quorum is the in-sync set. Eddy
// additionally refuses acks=all produces (NOT_ENOUGH_REPLICAS) while fewer than
// min.insync.replicas replicas are caught up, as Kafka does, so a topic can ask for more copies
// than a quorum before it accepts writes. It never lowers the quorum.
//
// Pure logic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eddy::controller {

enum class CleanupPolicy { kDelete };
enum class TimestampType { kCreateTime, kLogAppendTime };

struct TopicConfig {
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t retention_bytes = -1;
  int32_t segment_bytes = 1 << 30;
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;
  CleanupPolicy cleanup_policy = CleanupPolicy::kDelete;
  int32_t max_message_bytes = 1'048'588;
  TimestampType timestamp_type = TimestampType::kCreateTime;
  int32_t min_insync_replicas = 1;
};

// Where a value comes from, with DescribeConfigs' source codes.
enum class ConfigSource : int8_t {
  kTopic = 1,    // DYNAMIC_TOPIC_CONFIG
  kBroker = 4,   // STATIC_BROKER_CONFIG
  kDefault = 5,  // DEFAULT_CONFIG
};

struct ConfigSpec {
  const char* name;         // the topic config's name
  const char* broker_name;  // the broker setting that gives its default
  const char* default_value;
  const char* documentation;
};

// Every supported topic config, sorted by name.
std::span<const ConfigSpec> TopicConfigSpecs();
const ConfigSpec* FindTopicConfig(const std::string& name);

// kInvalidArgument naming the key for an unknown name or a bad value.
absl::Status ValidateTopicConfig(const std::string& name, const std::string& value);

// kInvalidArgument naming the key for a broker setting that is no topic config's default
// (`broker_name`) or a bad value for it.
absl::Status ValidateBrokerConfig(const std::string& broker_name, const std::string& value);

// The effective config of a topic: its own values over the broker's (keyed by broker_name),
// over the defaults. Errors: a bad value at either level (kInvalidArgument naming the key).
absl::StatusOr<TopicConfig> ResolveTopicConfig(
    const std::map<std::string, std::string>& topic_configs,
    const std::map<std::string, std::string>& broker_configs);

struct DescribedConfig {
  std::string name;
  std::string value;
  ConfigSource source;
  std::string documentation;
};
// Every supported config of a topic with its value and source, sorted by name.
std::vector<DescribedConfig> DescribeTopicConfig(
    const std::map<std::string, std::string>& topic_configs,
    const std::map<std::string, std::string>& broker_configs);

}  // namespace eddy::controller
