// eddyd's configuration: the dev defaults, properties parsing, the layering of file,
// environment and overrides, and a clear refusal naming the key for every bad input.
#include "eddyd/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eddy::eddyd {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, NoLayersIsTheDevNode) {
  absl::StatusOr<Config> c = BuildConfig({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node_id, 1u);
  EXPECT_EQ(c->client_listener.host, "127.0.0.1");
  EXPECT_EQ(c->client_listener.port, 9092);
  EXPECT_EQ(c->peer_listener.port, 9093);
  EXPECT_EQ(c->advertised_listener.port, 9092);
  EXPECT_EQ(c->voters.size(), 1u);
  EXPECT_EQ(c->data_directory, "/tmp/eddy-data");
  EXPECT_EQ(c->num_partitions, 1);
  EXPECT_EQ(c->default_replication_factor, 1);
  EXPECT_TRUE(c->auto_create_topics);
}

TEST(ConfigTest, ParsesPropertiesWithCommentsAndBothSeparators) {
  auto p = ParseProperties(
      "# a comment\n! another\n\n  node.id = 3 \nlog.dirs: /var/lib/eddy\nbroker.rack=r1=x\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->at("node.id"), "3");
  EXPECT_EQ(p->at("log.dirs"), "/var/lib/eddy");
  EXPECT_EQ(p->at("broker.rack"), "r1=x");
  EXPECT_EQ(p->size(), 3u);
  auto bad = ParseProperties("node.id=1\njust words\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("line 2"));
}

TEST(ConfigTest, AThreeNodeClusterFromAFile) {
  auto file = ParseProperties(
      "node.id=2\n"
      "controller.quorum.voters=1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093\n"
      "listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093\n"
      "advertised.listeners=PLAINTEXT://10.0.0.2:9092\n"
      "default.replication.factor=3\nnum.partitions=6\nbroker.rack=a\n");
  ASSERT_TRUE(file.ok());
  absl::StatusOr<Config> c = BuildConfig({*file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node_id, 2u);
  EXPECT_EQ(c->voters.size(), 3u);
  EXPECT_EQ(c->voters.at(3).host, "10.0.0.3");
  EXPECT_EQ(c->advertised_listener.host, "10.0.0.2");
  EXPECT_EQ(c->client_listener.host, "0.0.0.0");
  EXPECT_EQ(c->default_replication_factor, 3);
  EXPECT_EQ(c->num_partitions, 6);
  EXPECT_EQ(c->rack, "a");
}

TEST(ConfigTest, LaterLayersWin) {
  absl::StatusOr<Config> c = BuildConfig({{{"num.partitions", "2"}},
                                          PropertiesFromEnvironment({"EDDY_NUM_PARTITIONS=4",
                                                                     "EDDY_BROKERS=x:1",
                                                                     "PATH=/bin"}),
                                          {{"auto.create.topics.enable", "false"}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_partitions, 4);
  EXPECT_FALSE(c->auto_create_topics);
  EXPECT_EQ(c->producer_id_expiration_ms, 86'400'000);
}

TEST(ConfigTest, ProducerIdExpirationIsKafkasKey) {
  absl::StatusOr<Config> c = BuildConfig({{{"producer.id.expiration.ms", "60000"}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->producer_id_expiration_ms, 60'000);
}

TEST(ConfigTest, ConsumerGroupKeysAreKafkas) {
  absl::StatusOr<Config> dev = BuildConfig({});
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_EQ(dev->group_coordinator.initial_rebalance_delay_ms, 0);
  EXPECT_EQ(dev->offsets_topic_partitions, 50);
  absl::StatusOr<Config> c = BuildConfig({{{"group.initial.rebalance.delay.ms", "3000"},
                                           {"offsets.retention.minutes", "2"},
                                           {"offsets.topic.num.partitions", "7"},
                                           {"group.min.session.timeout.ms", "100"}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->group_coordinator.initial_rebalance_delay_ms, 3000);
  EXPECT_EQ(c->group_coordinator.offsets_retention_ms, 120'000);
  EXPECT_EQ(c->group_coordinator.min_session_timeout_ms, 100);
  EXPECT_EQ(c->offsets_topic_partitions, 7);
  absl::StatusOr<Config> bad = BuildConfig({{{"group.min.session.timeout.ms", "9000000"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("group.min.session.timeout.ms"), std::string::npos);
}

TEST(ConfigTest, TopicConfigDefaultsAreCheckedAndKept) {
  absl::StatusOr<Config> c =
      BuildConfig({{{"log.retention.ms", "60000"}, {"message.max.bytes", "2000000"}},
                   PropertiesFromEnvironment({"EDDY_LOG_SEGMENT_BYTES=1048576"})});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->topic_config_defaults,
            (std::map<std::string, std::string>{{"log.retention.ms", "60000"},
                                                {"log.segment.bytes", "1048576"},
                                                {"message.max.bytes", "2000000"}}));
}

TEST(ConfigTest, EnvironmentNamesMapToKeys) {
  auto p = PropertiesFromEnvironment(
      {"EDDY_NODE_ID=7", "EDDY_LOG_DIRS=/d", "EDDY_BROKERS=a:1", "HOME=/root", "EDDY_NOVALUE"});
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p.at("node.id"), "7");
  EXPECT_EQ(p.at("log.dirs"), "/d");
}

// Each bad input is refused with a message naming the key.
TEST(ConfigTest, BadInputNamesTheKey) {
  struct Case {
    std::string key, value, expect;
  };
  const Case cases[] = {
      {"no.such.key", "1", "unknown key no.such.key"},
      {"node.id", "zero", "node.id"},
      {"node.id", "0", "node.id"},
      {"node.id", "2", "controller.quorum.voters"},  // not among the dev voters
      {"num.partitions", "0", "num.partitions"},
      {"default.replication.factor", "x", "default.replication.factor"},
      {"auto.create.topics.enable", "yes", "auto.create.topics.enable"},
      {"producer.id.expiration.ms", "0", "producer.id.expiration.ms"},
      {"process.roles", "broker", "process.roles"},
      {"listeners", "PLAINTEXT://127.0.0.1:9092", "listeners"},
      {"listeners", "SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093", "listeners"},
      {"listeners", "PLAINTEXT://127.0.0.1:99999,CONTROLLER://127.0.0.1:9093", "listeners"},
      {"listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9094", "listeners"},
      {"controller.quorum.voters", "1@127.0.0.1", "controller.quorum.voters"},
      {"controller.quorum.voters", "1@h:9093,1@h:9094", "controller.quorum.voters"},
      {"advertised.listeners", "CONTROLLER://h:1", "advertised.listeners"},
      {"log.dirs", "/a,/b", "log.dirs"},
      {"log.dirs", "", "log.dirs"},
      {"log.retention.ms", "soon", "log.retention.ms"},
      {"message.max.bytes", "-5", "message.max.bytes"},
      {"retention.ms", "1000", "unknown key retention.ms"},  // a topic name, not a broker one
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> config = BuildConfig({{{c.key, c.value}}});
    ASSERT_FALSE(config.ok()) << c.key << "=" << c.value;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(config.status().message(), HasSubstr(c.expect)) << c.key << "=" << c.value;
  }
}

}  // namespace
}  // namespace eddy::eddyd
