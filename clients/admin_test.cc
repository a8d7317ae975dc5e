// The admin client end to end against three real Eddy brokers in the simulator: it creates a
// topic with 3 partitions and configs (and refuses a second of the same name with
// TOPIC_ALREADY_EXISTS, and one with validate_only creates nothing), describes it (partitions,
// leaders, replicas, ISR, id), describes, alters and incrementally alters its configs, grows it
// to 5 partitions, lists topics, describes the cluster and deletes the topic. Also the
// Kafka-error-to-status mapping, and Close cancelling what is pending.
#include "clients/admin.h"

#include <optional>
#include <string>

#include "clients/kafka_status.h"
#include "core/broker/testing/broker_cluster.h"
#include "core/kafka/errors.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::clients {
namespace {

using broker::test_support::Cluster;

template <typename T>
absl::StatusOr<T> Wait(Cluster& c, std::optional<absl::StatusOr<T>>& out) {
  c.RunUntil(Duration::Seconds(90), [&] { return out.has_value(); });
  if (!out.has_value()) return absl::DeadlineExceededError("no answer");
  return *std::move(out);
}

#define ADMIN_CALL(T, c, call)                               \
  [&]() {                                                    \
    std::optional<absl::StatusOr<T>> out_;                   \
    call([&](absl::StatusOr<T> r) { out_ = std::move(r); }); \
    EXPECT_FALSE(out_.has_value()) << "never inline";        \
    return Wait<T>(c, out_);                                 \
  }()

std::unique_ptr<Admin> MakeAdmin(Cluster& c, sim::SimClient& client) {
  AdminOptions o;
  for (runtime::NodeId id : c.world.node_ids()) o.bootstrap.push_back(c.world.address(id));
  auto admin = Admin::Create(client, o);
  EXPECT_TRUE(admin.ok()) << admin.status();
  return *std::move(admin);
}

std::optional<std::string> ConfigValue(const std::vector<ConfigEntry>& entries,
                                       const std::string& name) {
  for (const ConfigEntry& e : entries) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

TEST(KafkaStatusTest, MapsCodesAndCarriesTheName) {
  using kafka::ErrorCode;
  EXPECT_TRUE(KafkaStatus(0, "x").ok());
  absl::Status exists = KafkaStatus(kafka::ToWire(ErrorCode::kTopicAlreadyExists), "create t",
                                    std::string("already"));
  EXPECT_EQ(exists.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(exists.message().find("TOPIC_ALREADY_EXISTS"), std::string::npos) << exists;
  EXPECT_NE(exists.message().find("already"), std::string::npos);
  EXPECT_EQ(KafkaErrorCodeOf(exists), kafka::ToWire(ErrorCode::kTopicAlreadyExists));
  EXPECT_EQ(KafkaErrorCodeOf(absl::InternalError("x")), std::nullopt);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kNotController), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kRequestTimedOut), "x").code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kUnknownTopicOrPartition), "x").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kInvalidPartitions), "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kInvalidConfig), "x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kOffsetOutOfRange), "x").code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(KafkaStatus(kafka::ToWire(ErrorCode::kTopicDeletionDisabled), "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(KafkaErrorName(12345), "error 12345");
}

TEST(AdminTest, TopicLifecycleAndConfigs) {
  Cluster c(61);
  sim::SimClient& client = c.world.AddClient();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  auto admin = MakeAdmin(c, client);
  using Created = std::map<std::string, absl::StatusOr<CreatedTopic>>;

  // validate_only creates nothing.
  NewTopic topic{.name = "orders", .num_partitions = 3, .replication_factor = 3,
                 .configs = {{"retention.ms", "3600000"}, {"cleanup.policy", "delete"}}};
  auto validated = ADMIN_CALL(Created, c,
                              [&](auto done) { admin->CreateTopics({topic}, true, std::move(done)); });
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_TRUE(validated->at("orders").ok()) << validated->at("orders").status();
  auto listed = ADMIN_CALL(std::vector<TopicListing>, c,
                           [&](auto done) { admin->ListTopics(std::move(done)); });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  auto created = ADMIN_CALL(Created, c,
                            [&](auto done) { admin->CreateTopics({topic}, false, std::move(done)); });
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(created->at("orders").ok()) << created->at("orders").status();
  // (Eddy's broker leaves NumPartitions/ReplicationFactor at -1 in the reply: not checked.)
  EXPECT_NE(created->at("orders")->topic_id, kafka::Uuid{});
  // Again: TOPIC_ALREADY_EXISTS, per topic.
  auto again = ADMIN_CALL(Created, c,
                          [&](auto done) { admin->CreateTopics({topic}, false, std::move(done)); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("orders").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again->at("orders").status().message().find("TOPIC_ALREADY_EXISTS"),
            std::string::npos);

  // Describe: three partitions, each led, three replicas in sync.
  using Described = std::map<std::string, absl::StatusOr<TopicDescription>>;
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto d = ADMIN_CALL(Described, c, [&](auto done) {
      admin->DescribeTopics({"orders"}, std::move(done));
    });
    if (!d.ok() || !d->at("orders").ok()) return false;
    for (const PartitionDescription& p : d->at("orders")->partitions) {
      if (p.leader < 1) return false;
    }
    return true;
  }));
  auto described = ADMIN_CALL(Described, c, [&](auto done) {
    admin->DescribeTopics({"orders", "missing"}, std::move(done));
  });
  ASSERT_TRUE(described.ok());
  ASSERT_TRUE(described->at("orders").ok());
  const TopicDescription& d = *described->at("orders");
  EXPECT_EQ(d.topic_id, created->at("orders")->topic_id);
  ASSERT_EQ(d.partitions.size(), 3u);
  for (size_t i = 0; i < d.partitions.size(); ++i) {
    EXPECT_EQ(d.partitions[i].partition, static_cast<int32_t>(i));
    EXPECT_EQ(d.partitions[i].replicas.size(), 3u);
    EXPECT_FALSE(d.partitions[i].isr.empty());
  }
  EXPECT_EQ(described->at("missing").status().code(), absl::StatusCode::kNotFound);

  // Configs: what was set at creation; then altered both ways.
  using Configs = std::map<ConfigResource, absl::StatusOr<std::vector<ConfigEntry>>>;
  const ConfigResource resource{ConfigResourceType::kTopic, "orders"};
  auto configs = ADMIN_CALL(Configs, c, [&](auto done) {
    admin->DescribeConfigs({resource, {ConfigResourceType::kBroker, "1"}}, std::move(done));
  });
  ASSERT_TRUE(configs.ok());
  ASSERT_TRUE(configs->at(resource).ok()) << configs->at(resource).status();
  EXPECT_EQ(ConfigValue(*configs->at(resource), "retention.ms"), "3600000");
  EXPECT_TRUE(configs->at({ConfigResourceType::kBroker, "1"}).ok());
  using Statuses = Admin::ResourceStatuses;
  auto incremental = ADMIN_CALL(Statuses, c, [&](auto done) {
    admin->IncrementalAlterConfigs(
        {{resource,
          {AlterConfigOp{"retention.ms", AlterConfigOpType::kSet, "7200000"},
           AlterConfigOp{"cleanup.policy", AlterConfigOpType::kDelete, std::nullopt}}}},
        false, std::move(done));
  });
  ASSERT_TRUE(incremental.ok());
  EXPECT_TRUE(incremental->at(resource).ok()) << incremental->at(resource);
  auto bad = ADMIN_CALL(Statuses, c, [&](auto done) {
    admin->AlterConfigs({{resource, {{"retention.ms", "not a number"}}}}, false, std::move(done));
  });
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->at(resource).code(), absl::StatusCode::kInvalidArgument) << bad->at(resource);
  auto after = ADMIN_CALL(Configs, c,
                          [&](auto done) { admin->DescribeConfigs({resource}, std::move(done)); });
  ASSERT_TRUE(after.ok() && after->at(resource).ok());
  EXPECT_EQ(ConfigValue(*after->at(resource), "retention.ms"), "7200000");
  auto replaced = ADMIN_CALL(Statuses, c, [&](auto done) {
    admin->AlterConfigs({{resource, {{"segment.ms", "60000"}}}}, false, std::move(done));
  });
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(replaced->at(resource).ok()) << replaced->at(resource);
  auto whole = ADMIN_CALL(Configs, c,
                          [&](auto done) { admin->DescribeConfigs({resource}, std::move(done)); });
  ASSERT_TRUE(whole.ok() && whole->at(resource).ok());
  EXPECT_EQ(ConfigValue(*whole->at(resource), "segment.ms"), "60000");
  EXPECT_EQ(ConfigValue(*whole->at(resource), "retention.ms"), "604800000")
      << "AlterConfigs replaces the whole set: retention.ms back to its default";

  // Grow to five partitions; shrinking is refused.
  auto grown = ADMIN_CALL(Admin::TopicStatuses, c, [&](auto done) {
    admin->CreatePartitions({{"orders", 5}}, false, std::move(done));
  });
  ASSERT_TRUE(grown.ok());
  EXPECT_TRUE(grown->at("orders").ok()) << grown->at("orders");
  auto shrink = ADMIN_CALL(Admin::TopicStatuses, c, [&](auto done) {
    admin->CreatePartitions({{"orders", 2}}, false, std::move(done));
  });
  ASSERT_TRUE(shrink.ok());
  EXPECT_FALSE(shrink->at("orders").ok());
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto d5 = ADMIN_CALL(Described, c,
                         [&](auto done) { admin->DescribeTopics({"orders"}, std::move(done)); });
    return d5.ok() && d5->at("orders").ok() && d5->at("orders")->partitions.size() == 5u;
  }));

  // The cluster: three brokers, a controller, an id.
  auto cluster = ADMIN_CALL(ClusterDescription, c,
                            [&](auto done) { admin->DescribeCluster(std::move(done)); });
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_EQ(cluster->brokers.size(), 3u);
  EXPECT_EQ(cluster->brokers[0].id, 1);
  EXPECT_GE(cluster->controller_id, 1);

  // Delete: gone from the list; deleting again is UNKNOWN_TOPIC_OR_PARTITION.
  auto deleted = ADMIN_CALL(Admin::TopicStatuses, c,
                            [&](auto done) { admin->DeleteTopics({"orders"}, std::move(done)); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->at("orders").ok()) << deleted->at("orders");
  EXPECT_TRUE(c.RunUntil(Duration::Seconds(30), [&] {
    auto l = ADMIN_CALL(std::vector<TopicListing>, c,
                        [&](auto done) { admin->ListTopics(std::move(done)); });
    return l.ok() && l->empty();
  }));
  auto twice = ADMIN_CALL(Admin::TopicStatuses, c,
                          [&](auto done) { admin->DeleteTopics({"orders"}, std::move(done)); });
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->at("orders").code(), absl::StatusCode::kNotFound) << twice->at("orders");
}

TEST(AdminTest, RetriesThroughABrokerCrashAndCloseCancels) {
  Cluster c(62);
  sim::SimClient& client = c.world.AddClient();
  ASSERT_TRUE(c.RunUntil(Duration::Seconds(30), [&] { return c.AllJoined(); }));
  auto admin = MakeAdmin(c, client);  // bootstrap lists broker 1 first
  c.world.Crash(1);
  using Created = std::map<std::string, absl::StatusOr<CreatedTopic>>;
  auto created = ADMIN_CALL(Created, c, [&](auto done) {
    admin->CreateTopics({NewTopic{.name = "t", .num_partitions = 1, .replication_factor = 2, .configs = {}}},
                        false, std::move(done));
  });
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->at("t").ok()) << created->at("t").status();

  std::optional<absl::StatusOr<ClusterDescription>> pending;
  c.world.Crash(2);
  c.world.Crash(3);  // nobody answers now
  admin->DescribeCluster([&](auto r) { pending = std::move(r); });
  c.world.RunFor(Duration::Seconds(1));
  EXPECT_FALSE(pending.has_value());
  admin->Close();
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->status().code(), absl::StatusCode::kCancelled);
  std::optional<absl::StatusOr<ClusterDescription>> late;
  admin->DescribeCluster([&](auto r) { late = std::move(r); });
  c.world.RunFor(Duration::Milliseconds(10));
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eddy::clients
