// Topic configs: every supported name validates its range and rejects the rest naming the key;
// the defaults parse to the documented values; a topic's values override the broker's, which
// override the defaults, and DescribeTopicConfig says which is which.
#include "core/controller/topic_config.h"

#include <string>

#include "gtest/gtest.h"

namespace eddy::controller {
namespace {

TEST(TopicConfigTest, SpecsAreSortedAndTheirDefaultsParseToTheStructsDefaults) {
  const auto specs = TopicConfigSpecs();
  for (size_t i = 1; i < specs.size(); ++i) {
    EXPECT_LT(std::string(specs[i - 1].name), std::string(specs[i].name));
  }
  std::map<std::string, std::string> defaults;
  for (const ConfigSpec& spec : specs) {
    EXPECT_TRUE(ValidateTopicConfig(spec.name, spec.default_value).ok()) << spec.name;
    defaults[spec.name] = spec.default_value;
  }
  const TopicConfig resolved = *ResolveTopicConfig(defaults, {});
  const TopicConfig fresh;
  EXPECT_EQ(resolved.retention_ms, fresh.retention_ms);
  EXPECT_EQ(resolved.retention_bytes, fresh.retention_bytes);
  EXPECT_EQ(resolved.segment_bytes, fresh.segment_bytes);
  EXPECT_EQ(resolved.segment_ms, fresh.segment_ms);
  EXPECT_EQ(resolved.max_message_bytes, fresh.max_message_bytes);
  EXPECT_EQ(resolved.min_insync_replicas, fresh.min_insync_replicas);
  EXPECT_EQ(resolved.timestamp_type, fresh.timestamp_type);
}

TEST(TopicConfigTest, BadNamesAndValuesAreRefusedNamingTheKey) {
  struct Case {
    const char* name;
    const char* value;
    bool ok;
  };
  const Case cases[] = {
      {"retention.ms", "-1", true},        {"retention.ms", "-2", false},
      {"retention.ms", "12x", false},      {"retention.ms", "", false},
      {"retention.bytes", "1048576", true}, {"segment.bytes", "14", true},
      {"segment.bytes", "13", false},      {"segment.bytes", "2147483648", false},
      {"segment.ms", "0", false},          {"cleanup.policy", "delete", true},
      {"cleanup.policy", "compact", false}, {"cleanup.policy", "shred", false},
      {"max.message.bytes", "0", true},    {"message.timestamp.type", "LogAppendTime", true},
      {"message.timestamp.type", "logappendtime", false},
      {"min.insync.replicas", "0", false}, {"min.insync.replicas", "2", true},
      {"retention.hours", "1", false},     {"compression.type", "gzip", false},
  };
  for (const Case& c : cases) {
    const absl::Status s = ValidateTopicConfig(c.name, c.value);
    EXPECT_EQ(s.ok(), c.ok) << c.name << "=" << c.value << ": " << s;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(s.message().find(c.name), std::string::npos) << s;
    }
  }
}

TEST(TopicConfigTest, TopicOverridesBrokerOverridesDefault) {
  const std::map<std::string, std::string> broker = {{"log.retention.ms", "3600000"},
                                                     {"log.segment.bytes", "65536"}};
  const std::map<std::string, std::string> topic = {{"retention.ms", "60000"}};
  const TopicConfig c = *ResolveTopicConfig(topic, broker);
  EXPECT_EQ(c.retention_ms, 60'000);
  EXPECT_EQ(c.segment_bytes, 65'536);
  EXPECT_EQ(c.retention_bytes, -1);
  std::map<std::string, ConfigSource> sources;
  for (const DescribedConfig& d : DescribeTopicConfig(topic, broker)) sources[d.name] = d.source;
  EXPECT_EQ(sources.at("retention.ms"), ConfigSource::kTopic);
  EXPECT_EQ(sources.at("segment.bytes"), ConfigSource::kBroker);
  EXPECT_EQ(sources.at("retention.bytes"), ConfigSource::kDefault);
  EXPECT_EQ(sources.size(), TopicConfigSpecs().size());
  EXPECT_FALSE(ResolveTopicConfig({{"retention.ms", "x"}}, {}).ok());
  EXPECT_FALSE(ResolveTopicConfig({}, {{"log.roll.ms", "0"}}).ok());
}

}  // namespace
}  // namespace eddy::controller
