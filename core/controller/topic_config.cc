#include "core/controller/topic_config.h"

#include <algorithm>
#include <array>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace eddy::controller {
namespace {

constexpr std::array<ConfigSpec, 8> kSpecs = {{
    {"cleanup.policy", "log.cleanup.policy", "delete",
     "What happens to old segments: delete (compact is not supported yet)."},
    {"max.message.bytes", "message.max.bytes", "1048588",
     "The largest record batch the topic accepts, in bytes."},
    {"message.timestamp.type", "log.message.timestamp.type", "CreateTime",
     "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches on append."},
    {"min.insync.replicas", "min.insync.replicas", "1",
     "acks=all produces are refused while fewer replicas are caught up; the Raft quorum is "
     "never lowered."},
    {"retention.bytes", "log.retention.bytes", "-1",
     "Per-partition size above which the oldest segments are deleted (-1: no limit)."},
    {"retention.ms", "log.retention.ms", "604800000",
     "Age (by wall-clock timestamps) after which segments are deleted (-1: no limit)."},
    {"segment.bytes", "log.segment.bytes", "1073741824", "Size at which a segment is rolled."},
    {"segment.ms", "log.roll.ms", "604800000", "Age at which a segment is rolled."},
}};

absl::Status Bad(const std::string& name, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", value.substr(0, 64), "' for config ", name, ": ", why));
}

absl::StatusOr<int64_t> ParseLong(const std::string& name, const std::string& value,
                                  int64_t min, int64_t max) {
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed)) return Bad(name, value, "not an integer");
  if (parsed < min || parsed > max) {
    return Bad(name, value, absl::StrCat("must be in [", min, ", ", max, "]"));
  }
  return parsed;
}

// Parses `value` of `name` into `config` (when given). REQUIRES: name is supported.
absl::Status Parse(const std::string& name, const std::string& value, TopicConfig* config) {
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
  TopicConfig scratch;
  TopicConfig& c = config != nullptr ? *config : scratch;
  auto set_long = [&](int64_t min, int64_t max, auto& field) -> absl::Status {
    absl::StatusOr<int64_t> v = ParseLong(name, value, min, max);
    if (!v.ok()) return v.status();
    field = static_cast<std::remove_reference_t<decltype(field)>>(*v);
    return absl::OkStatus();
  };
  if (name == "retention.ms") return set_long(-1, kLongMax, c.retention_ms);
  if (name == "retention.bytes") return set_long(-1, kLongMax, c.retention_bytes);
  if (name == "segment.bytes") return set_long(14, kIntMax, c.segment_bytes);
  if (name == "segment.ms") return set_long(1, kLongMax, c.segment_ms);
  if (name == "max.message.bytes") return set_long(0, kIntMax, c.max_message_bytes);
  if (name == "min.insync.replicas") return set_long(1, kIntMax, c.min_insync_replicas);
  if (name == "cleanup.policy") {
    if (value == "delete") {
      c.cleanup_policy = CleanupPolicy::kDelete;
      return absl::OkStatus();
    }
    if (value == "compact" || value == "compact,delete" || value == "delete,compact") {
      return Bad(name, value, "compaction is not supported yet");
    }
    return Bad(name, value, "must be delete");
  }
  if (name == "message.timestamp.type") {
    if (value == "CreateTime") {
      c.timestamp_type = TimestampType::kCreateTime;
    } else if (value == "LogAppendTime") {
      c.timestamp_type = TimestampType::kLogAppendTime;
    } else {
      return Bad(name, value, "must be CreateTime or LogAppendTime");
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown config ", name));
}

}  // namespace

std::span<const ConfigSpec> TopicConfigSpecs() { return kSpecs; }

const ConfigSpec* FindTopicConfig(const std::string& name) {
  for (const ConfigSpec& spec : kSpecs) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

absl::Status ValidateTopicConfig(const std::string& name, const std::string& value) {
  if (FindTopicConfig(name) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown config ", name.substr(0, 64)));
  }
  return Parse(name, value, nullptr);
}

absl::Status ValidateBrokerConfig(const std::string& broker_name, const std::string& value) {
  for (const ConfigSpec& spec : kSpecs) {
    if (broker_name != spec.broker_name) continue;
    if (absl::Status s = Parse(spec.name, value, nullptr); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("broker setting ", broker_name, ": ", s.message()));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown broker setting ", broker_name.substr(0, 64)));
}

absl::StatusOr<TopicConfig> ResolveTopicConfig(
    const std::map<std::string, std::string>& topic_configs,
    const std::map<std::string, std::string>& broker_configs) {
  TopicConfig config;
  for (const ConfigSpec& spec : kSpecs) {
    if (auto it = broker_configs.find(spec.broker_name); it != broker_configs.end()) {
      if (absl::Status s = Parse(spec.name, it->second, &config); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("broker setting ", spec.broker_name, ": ", s.message()));
      }
    }
  }
  for (const auto& [name, value] : topic_configs) {
    if (FindTopicConfig(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown config ", name));
    }
    if (absl::Status s = Parse(name, value, &config); !s.ok()) return s;
  }
  return config;
}

std::vector<DescribedConfig> DescribeTopicConfig(
    const std::map<std::string, std::string>& topic_configs,
    const std::map<std::string, std::string>& broker_configs) {
  std::vector<DescribedConfig> described;
  for (const ConfigSpec& spec : kSpecs) {
    DescribedConfig d{spec.name, spec.default_value, ConfigSource::kDefault, spec.documentation};
    if (auto it = broker_configs.find(spec.broker_name); it != broker_configs.end()) {
      d.value = it->second;
      d.source = ConfigSource::kBroker;
    }
    if (auto it = topic_configs.find(spec.name); it != topic_configs.end()) {
      d.value = it->second;
      d.source = ConfigSource::kTopic;
    }
    described.push_back(std::move(d));
  }
  return described;
}

}  // namespace eddy::controller
