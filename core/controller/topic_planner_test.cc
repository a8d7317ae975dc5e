// The controller's planning of topic requests: each Kafka error where Kafka's controller gives
// it, and records that the image then applies as asked (defaults, manual assignments, growth,
// config changes); random topic ids that are never zero.
#include "core/controller/topic_planner.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace eddy::controller {
namespace {

using kafka::ErrorCode;

MetadataImage Brokers(int n) {
  MetadataImage image;
  for (BrokerId id = 1; id <= n; ++id) {
    MetadataRecord r;
    r.mutable_register_broker()->set_broker_id(id);
    r.mutable_register_broker()->set_incarnation(1);
    Endpoint* e = r.mutable_register_broker()->add_endpoints();
    e->set_host("h");
    e->set_port(9092);
    EXPECT_TRUE(image.Apply(r).ok());
    MetadataRecord u;
    u.mutable_set_broker_fenced()->set_broker_id(id);
    u.mutable_set_broker_fenced()->set_incarnation(1);
    EXPECT_TRUE(image.Apply(u).ok());
  }
  return image;
}

TEST(TopicPlannerTest, ACreateWithDefaultsAppliesAsPlanned) {
  MetadataImage image = Brokers(3);
  Random random(1);
  const Plan plan = PlanCreateTopic(image, {.name = "orders", .configs = {{"retention.ms", "1"}}},
                                    {.num_partitions = 6, .replication_factor = 3}, random);
  ASSERT_TRUE(plan.ok()) << plan.message;
  ASSERT_TRUE(image.Apply(plan.record).ok());
  const TopicInfo* t = image.FindTopic("orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->partitions.size(), 6u);
  for (const PartitionInfo& p : t->partitions) EXPECT_EQ(p.replicas.size(), 3u);
  EXPECT_EQ(t->configs.at("retention.ms"), "1");
  EXPECT_NE(t->id, TopicId{});
  // Exists now.
  EXPECT_EQ(PlanCreateTopic(image, {.name = "orders"}, {}, random).error,
            ErrorCode::kTopicAlreadyExists);
}

TEST(TopicPlannerTest, KafkasErrorsForBadCreates) {
  const MetadataImage image = Brokers(3);
  Random random(2);
  const TopicDefaults defaults{.num_partitions = 1, .replication_factor = 3};
  struct Case {
    CreateTopicRequest request;
    ErrorCode error;
  };
  const Case cases[] = {
      {{.name = "bad/name"}, ErrorCode::kInvalidTopicException},
      {{.name = ""}, ErrorCode::kInvalidTopicException},
      {{.name = "t", .num_partitions = 0}, ErrorCode::kInvalidPartitions},
      {{.name = "t", .num_partitions = 10'001}, ErrorCode::kInvalidPartitions},
      {{.name = "t", .replication_factor = 0}, ErrorCode::kInvalidReplicationFactor},
      {{.name = "t", .replication_factor = 4}, ErrorCode::kInvalidReplicationFactor},
      {{.name = "t", .assignments = {{1, 2}, {3}}}, ErrorCode::kInvalidReplicaAssignment},
      {{.name = "t", .assignments = {{1, 9}}}, ErrorCode::kInvalidReplicaAssignment},
      {{.name = "t", .assignments = {{2, 2}}}, ErrorCode::kInvalidReplicaAssignment},
      {{.name = "t", .num_partitions = 1, .assignments = {{1}}}, ErrorCode::kInvalidRequest},
      {{.name = "t", .configs = {{"retention.ms", "soon"}}}, ErrorCode::kInvalidConfig},
      {{.name = "t", .configs = {{"flush.messages", "1"}}}, ErrorCode::kInvalidConfig},
  };
  for (const Case& c : cases) {
    const Plan plan = PlanCreateTopic(image, c.request, defaults, random);
    EXPECT_EQ(plan.error, c.error) << c.request.name << ": " << plan.message;
    EXPECT_FALSE(plan.message.empty());
  }
  EXPECT_EQ(PlanCreateTopic(image, {.name = "t", .configs = {{"retention.ms", "soon"}}},
                            defaults, random)
                .message.find("retention.ms") != std::string::npos,
            true);
}

TEST(TopicPlannerTest, AManualAssignmentIsTakenAsGiven) {
  MetadataImage image = Brokers(3);
  Random random(3);
  const Plan plan =
      PlanCreateTopic(image, {.name = "m", .assignments = {{3, 1}, {2, 3}}}, {}, random);
  ASSERT_TRUE(plan.ok()) << plan.message;
  ASSERT_TRUE(image.Apply(plan.record).ok());
  EXPECT_EQ(image.FindTopic("m")->partitions[0].replicas, (std::vector<BrokerId>{3, 1}));
  EXPECT_EQ(image.FindTopic("m")->partitions[1].replicas, (std::vector<BrokerId>{2, 3}));
}

TEST(TopicPlannerTest, PartitionsGrowButNeverShrink) {
  MetadataImage image = Brokers(3);
  Random random(4);
  ASSERT_TRUE(image.Apply(PlanCreateTopic(image, {.name = "g", .num_partitions = 2,
                                                  .replication_factor = 2},
                                          {}, random)
                              .record)
                  .ok());
  EXPECT_EQ(PlanCreatePartitions(image, "g", 2, {}, random).error,
            ErrorCode::kInvalidPartitions);
  EXPECT_EQ(PlanCreatePartitions(image, "nope", 3, {}, random).error,
            ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(PlanCreatePartitions(image, "g", 4, {{1, 2}}, random).error,
            ErrorCode::kInvalidReplicaAssignment);
  const Plan grow = PlanCreatePartitions(image, "g", 5, {}, random);
  ASSERT_TRUE(grow.ok()) << grow.message;
  ASSERT_TRUE(image.Apply(grow.record).ok());
  EXPECT_EQ(image.FindTopic("g")->partitions.size(), 5u);
  for (const PartitionInfo& p : image.FindTopic("g")->partitions) {
    EXPECT_EQ(p.replicas.size(), 2u);  // the topic's factor
  }
}

TEST(TopicPlannerTest, DeletesAndConfigChanges) {
  MetadataImage image = Brokers(1);
  Random random(5);
  ASSERT_TRUE(image.Apply(PlanCreateTopic(image, {.name = "c", .replication_factor = 1}, {},
                                          random)
                              .record)
                  .ok());
  const Plan alter =
      PlanAlterConfigs(image, "c", {{"segment.ms", "1000"}}, {"retention.ms"}, true);
  ASSERT_TRUE(alter.ok()) << alter.message;
  ASSERT_TRUE(image.Apply(alter.record).ok());
  EXPECT_EQ(image.FindTopic("c")->configs.at("segment.ms"), "1000");
  EXPECT_EQ(PlanAlterConfigs(image, "c", {{"segment.ms", "0"}}, {}, true).error,
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(PlanAlterConfigs(image, "c", {}, {"no.such"}, true).error, ErrorCode::kInvalidConfig);
  EXPECT_EQ(PlanAlterConfigs(image, "x", {}, {}, false).error,
            ErrorCode::kUnknownTopicOrPartition);
  const Plan replace = PlanAlterConfigs(image, "c", {}, {}, false);
  ASSERT_TRUE(image.Apply(replace.record).ok());
  EXPECT_TRUE(image.FindTopic("c")->configs.empty());
  EXPECT_EQ(PlanDeleteTopic(image, "x").error, ErrorCode::kUnknownTopicOrPartition);
  ASSERT_TRUE(image.Apply(PlanDeleteTopic(image, "c").record).ok());
  EXPECT_EQ(image.FindTopic("c"), nullptr);
}

TEST(TopicPlannerTest, TopicIdsAreRandomAndDistinct) {
  MetadataImage image = Brokers(1);
  Random random(6);
  std::set<TopicId> ids;
  for (int i = 0; i < 50; ++i) {
    const Plan plan = PlanCreateTopic(image, {.name = "t" + std::to_string(i),
                                              .replication_factor = 1},
                                      {}, random);
    ASSERT_TRUE(plan.ok());
    ASSERT_TRUE(image.Apply(plan.record).ok());
    ids.insert(image.FindTopic("t" + std::to_string(i))->id);
  }
  EXPECT_EQ(ids.size(), 50u);
}

}  // namespace
}  // namespace eddy::controller
