// MetadataImage: every record kind applies as documented and refuses what does not fit (leaving
// the image unchanged); group ids and producer ids are handed out densely and never reused; the
// snapshot state round-trips byte for byte and a corrupt one is refused; and a RapidCheck
// property drives random record sequences against a simple model of topics and brokers.
#include "core/controller/metadata_image.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::controller {
namespace {

TopicId Id(uint8_t n) {
  TopicId id{};
  id[15] = n;
  return id;
}

MetadataRecord Register(BrokerId id, uint64_t incarnation, std::string rack = "") {
  MetadataRecord r;
  RegisterBroker* b = r.mutable_register_broker();
  b->set_broker_id(id);
  b->set_incarnation(incarnation);
  Endpoint* e = b->add_endpoints();
  e->set_listener("PLAINTEXT");
  e->set_host("node-" + std::to_string(id));
  e->set_port(9092);
  b->set_rack(std::move(rack));
  return r;
}

MetadataRecord Fence(BrokerId id, uint64_t incarnation, bool fenced) {
  MetadataRecord r;
  r.mutable_set_broker_fenced()->set_broker_id(id);
  r.mutable_set_broker_fenced()->set_incarnation(incarnation);
  r.mutable_set_broker_fenced()->set_fenced(fenced);
  return r;
}

MetadataRecord Create(const std::string& name, uint8_t id,
                      const std::vector<std::vector<BrokerId>>& partitions,
                      const std::map<std::string, std::string>& configs = {}) {
  MetadataRecord r;
  CreateTopic* t = r.mutable_create_topic();
  t->set_name(name);
  t->set_topic_id(TopicIdBytes(Id(id)));
  for (const auto& replicas : partitions) {
    PartitionReplicas* p = t->add_partitions();
    for (BrokerId b : replicas) p->add_replicas(b);
  }
  for (const auto& [k, v] : configs) {
    ConfigEntry* c = t->add_configs();
    c->set_key(k);
    c->set_value(v);
  }
  return r;
}

MetadataRecord Delete(uint8_t id) {
  MetadataRecord r;
  r.mutable_delete_topic()->set_topic_id(TopicIdBytes(Id(id)));
  return r;
}

MetadataRecord AddPartitions(uint8_t id, const std::vector<std::vector<BrokerId>>& partitions) {
  MetadataRecord r;
  CreatePartitions* c = r.mutable_create_partitions();
  c->set_topic_id(TopicIdBytes(Id(id)));
  for (const auto& replicas : partitions) {
    PartitionReplicas* p = c->add_partitions();
    for (BrokerId b : replicas) p->add_replicas(b);
  }
  return r;
}

MetadataImage ThreeBrokers() {
  MetadataImage image;
  for (BrokerId b : {1, 2, 3}) EXPECT_TRUE(image.Apply(Register(b, 1)).ok());
  return image;
}

std::string Bytes(const MetadataImage& image) { return image.ToState().SerializeAsString(); }

TEST(MetadataImageTest, BrokersRegisterFencedAndOnlyTheCurrentIncarnationIsUnfenced) {
  MetadataImage image = ThreeBrokers();
  EXPECT_TRUE(image.broker(2)->fenced);
  EXPECT_TRUE(image.Apply(Fence(2, 1, false)).ok());
  EXPECT_FALSE(image.broker(2)->fenced);
  EXPECT_EQ(image.Apply(Register(2, 1)).code(), absl::StatusCode::kAlreadyExists);  // duplicate
  EXPECT_TRUE(image.Apply(Register(2, 2, "rack-b")).ok());  // restarted: fenced again
  EXPECT_EQ(image.Apply(Register(2, 1)).code(), absl::StatusCode::kFailedPrecondition);  // late
  EXPECT_TRUE(image.broker(2)->fenced);
  EXPECT_EQ(image.broker(2)->rack, "rack-b");
  EXPECT_FALSE(image.Apply(Fence(2, 1, false)).ok());  // the old incarnation's
  EXPECT_TRUE(image.broker(2)->fenced);
  EXPECT_FALSE(image.Apply(Fence(7, 1, false)).ok());
  MetadataRecord no_endpoint = Register(4, 1);
  no_endpoint.mutable_register_broker()->clear_endpoints();
  EXPECT_EQ(image.Apply(no_endpoint).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(image.Apply(MetadataRecord{}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(image.records_refused(), 6u);
}

TEST(MetadataImageTest, TopicsGetDenseGroupIdsThatAreNeverReused) {
  MetadataImage image = ThreeBrokers();
  ASSERT_TRUE(image.Apply(Create("orders", 1, {{1, 2, 3}, {2, 3, 1}})).ok());
  const TopicInfo* orders = image.FindTopic("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->partitions[0].group_id, MetadataImage::kFirstPartitionGroupId);
  EXPECT_EQ(orders->partitions[1].group_id, MetadataImage::kFirstPartitionGroupId + 1);
  EXPECT_EQ(orders->partitions[1].replicas, (std::vector<BrokerId>{2, 3, 1}));
  ASSERT_TRUE(image.Apply(Delete(1)).ok());
  EXPECT_EQ(image.FindTopic("orders"), nullptr);
  EXPECT_EQ(image.partition_count(), 0u);
  ASSERT_TRUE(image.Apply(Create("orders", 2, {{3}})).ok());
  EXPECT_EQ(image.FindTopic("orders")->partitions[0].group_id,
            MetadataImage::kFirstPartitionGroupId + 2);
  ASSERT_TRUE(image.Apply(AddPartitions(2, {{1}, {2}})).ok());
  EXPECT_EQ(image.FindTopic("orders")->partitions.size(), 3u);
  EXPECT_EQ(image.next_group_id(), MetadataImage::kFirstPartitionGroupId + 5);
  const std::vector<HostedReplica> on1 = image.ReplicasOn(1);
  ASSERT_EQ(on1.size(), 1u);
  EXPECT_EQ(on1[0].partition, 1);
  EXPECT_EQ(on1[0].group_id, MetadataImage::kFirstPartitionGroupId + 3);
}

TEST(MetadataImageTest, CreatesThatDoNotFitAreRefusedAndChangeNothing) {
  MetadataImage image = ThreeBrokers();
  ASSERT_TRUE(image.Apply(Create("t", 1, {{1}})).ok());
  const std::string before = Bytes(image);
  struct Case {
    MetadataRecord record;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {Create("t", 2, {{1}}), absl::StatusCode::kAlreadyExists},      // the name
      {Create("u", 1, {{1}}), absl::StatusCode::kAlreadyExists},      // the id
      {Create("u", 0, {{1}}), absl::StatusCode::kInvalidArgument},    // a zero id
      {Create("u", 2, {{1, 9}}), absl::StatusCode::kFailedPrecondition},  // unknown broker
      {Create("u", 2, {{1, 1}}), absl::StatusCode::kInvalidArgument},     // a replica twice
      {Create("u", 2, {{}}), absl::StatusCode::kInvalidArgument},         // no replica
      {Create("u", 2, {}), absl::StatusCode::kInvalidArgument},           // no partition
      {Create("bad name", 2, {{1}}), absl::StatusCode::kInvalidArgument},
      {Create("..", 2, {{1}}), absl::StatusCode::kInvalidArgument},
      {Create(std::string(250, 'x'), 2, {{1}}), absl::StatusCode::kInvalidArgument},
      {AddPartitions(9, {{1}}), absl::StatusCode::kNotFound},
      {AddPartitions(1, {{4}}), absl::StatusCode::kFailedPrecondition},
      {Delete(9), absl::StatusCode::kNotFound},
  };
  MetadataRecord twice = Create("u", 2, {{1}});
  for (int i = 0; i < 2; ++i) {
    ConfigEntry* c = twice.mutable_create_topic()->add_configs();
    c->set_key("retention.ms");
    c->set_value("1");
  }
  cases.push_back({twice, absl::StatusCode::kInvalidArgument});
  uint64_t refused = image.records_refused();
  for (const Case& c : cases) {
    EXPECT_EQ(image.Apply(c.record).code(), c.code) << c.record.ShortDebugString();
    EXPECT_EQ(image.records_refused(), ++refused);
  }
  // Nothing but the refusal count moved.
  MetadataImageState state = image.ToState();
  state.set_records_refused(0);
  MetadataImageState was;
  ASSERT_TRUE(was.ParseFromString(before));
  was.set_records_refused(0);
  EXPECT_EQ(state.SerializeAsString(), was.SerializeAsString());
  EXPECT_TRUE(MetadataImage::ValidateTopicName("a.b_c-D9").ok());
  EXPECT_TRUE(MetadataImage::ValidateTopicName(std::string(249, 'x')).ok());
}

TEST(MetadataImageTest, ConfigsAreSetRemovedOrReplaced) {
  MetadataImage image = ThreeBrokers();
  ASSERT_TRUE(
      image.Apply(Create("t", 1, {{1}}, {{"retention.ms", "1000"}, {"segment.bytes", "4096"}}))
          .ok());
  MetadataRecord alter;
  AlterTopicConfigs* a = alter.mutable_alter_topic_configs();
  a->set_topic_id(TopicIdBytes(Id(1)));
  ConfigEntry* c = a->add_set();
  c->set_key("cleanup.policy");
  c->set_value("delete");
  a->add_remove("segment.bytes");
  ASSERT_TRUE(image.Apply(alter).ok());
  EXPECT_EQ(image.FindTopic("t")->configs,
            (std::map<std::string, std::string>{{"cleanup.policy", "delete"},
                                                {"retention.ms", "1000"}}));
  a->clear_remove();
  a->set_replace_all(true);
  a->mutable_set(0)->set_value("compact");
  ASSERT_TRUE(image.Apply(alter).ok());
  EXPECT_EQ(image.FindTopic("t")->configs,
            (std::map<std::string, std::string>{{"cleanup.policy", "compact"}}));
}

TEST(MetadataImageTest, ProducerIdBlocksAreDenseAndTheClusterIdIsSetOnce) {
  MetadataImage image = ThreeBrokers();
  auto allocate = [&](BrokerId b, int64_t size) {
    MetadataRecord r;
    r.mutable_allocate_producer_ids()->set_broker_id(b);
    r.mutable_allocate_producer_ids()->set_block_size(size);
    return image.Apply(r);
  };
  ASSERT_TRUE(allocate(1, 1000).ok());
  ASSERT_TRUE(allocate(2, 1000).ok());
  ASSERT_TRUE(allocate(1, 500).ok());
  EXPECT_EQ(image.producer_ids_of(1)->first, 2000);
  EXPECT_EQ(image.producer_ids_of(1)->size, 500);
  EXPECT_EQ(image.producer_ids_of(2)->first, 1000);
  EXPECT_FALSE(image.producer_ids_of(3).has_value());
  EXPECT_FALSE(allocate(9, 10).ok());
  EXPECT_FALSE(allocate(1, 0).ok());
  EXPECT_EQ(image.next_producer_id(), 2500);
  MetadataRecord id;
  id.mutable_set_cluster_id()->set_cluster_id("eddy-dev");
  ASSERT_TRUE(image.Apply(id).ok());
  id.mutable_set_cluster_id()->set_cluster_id("other");
  EXPECT_FALSE(image.Apply(id).ok());
  EXPECT_EQ(image.cluster_id(), "eddy-dev");
}

TEST(MetadataImageTest, TheSnapshotRoundTripsAndACorruptOneIsRefused) {
  MetadataImage image = ThreeBrokers();
  ASSERT_TRUE(image.Apply(Create("a", 1, {{1, 2}, {2, 3}}, {{"retention.ms", "5"}})).ok());
  ASSERT_TRUE(image.Apply(Create("b", 2, {{3}})).ok());
  ASSERT_TRUE(image.Apply(Fence(3, 1, false)).ok());
  absl::StatusOr<MetadataImage> copy = MetadataImage::FromState(image.ToState());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(Bytes(*copy), Bytes(image));
  // The copy goes on exactly as the original does.
  ASSERT_TRUE(copy->Apply(Create("c", 3, {{1}})).ok());
  ASSERT_TRUE(image.Apply(Create("c", 3, {{1}})).ok());
  EXPECT_EQ(Bytes(*copy), Bytes(image));

  std::vector<MetadataImageState> corrupt(6, image.ToState());
  corrupt[0].mutable_topics(1)->set_name("a");                      // a name twice
  corrupt[1].mutable_topics(0)->mutable_partitions(0)->add_replicas(8);  // unknown broker
  corrupt[2].set_next_group_id(MetadataImage::kFirstPartitionGroupId);  // ids beyond it
  corrupt[3].mutable_topics(0)->mutable_partitions(1)->set_group_id(
      corrupt[3].topics(0).partitions(0).group_id());               // a group twice
  corrupt[4].mutable_brokers(1)->set_broker_id(1);                  // a broker twice
  corrupt[5].mutable_topics(0)->set_topic_id("short");
  for (const MetadataImageState& state : corrupt) {
    EXPECT_EQ(MetadataImage::FromState(state).status().code(), absl::StatusCode::kDataLoss)
        << state.ShortDebugString();
  }
}

TEST(MetadataImageTest, ARequestIdIsAppliedOnceAndRemembered) {
  MetadataImage image = ThreeBrokers();
  ASSERT_TRUE(image.Apply(Create("t", 1, {{1}})).ok());
  MetadataRecord grow = AddPartitions(1, {{2}});
  grow.set_request_id("b2-7-41");
  ASSERT_TRUE(image.Apply(grow).ok());
  EXPECT_TRUE(image.Applied("b2-7-41"));
  EXPECT_FALSE(image.Applied(""));
  // The retried call's second record: refused, the topic does not grow twice.
  EXPECT_EQ(image.Apply(grow).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(image.FindTopic("t")->partitions.size(), 2u);
  // Kept by the snapshot.
  absl::StatusOr<MetadataImage> copy = MetadataImage::FromState(image.ToState());
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(copy->Applied("b2-7-41"));
  // Only the newest kRecentRequestsMax are remembered.
  for (size_t i = 0; i < MetadataImage::kRecentRequestsMax; ++i) {
    MetadataRecord fence = Fence(1, 1, i % 2 == 0);
    fence.set_request_id("r" + std::to_string(i));
    ASSERT_TRUE(image.Apply(fence).ok());
  }
  EXPECT_FALSE(image.Applied("b2-7-41"));
  EXPECT_TRUE(image.Applied("r0"));
  MetadataRecord long_id = Fence(1, 1, true);
  long_id.set_request_id(std::string(MetadataImage::kRequestIdLengthMax + 1, 'x'));
  EXPECT_EQ(image.Apply(long_id).code(), absl::StatusCode::kInvalidArgument);
}

// ---- the property: random records against a model ----

struct Model {
  std::map<BrokerId, uint64_t> brokers;  // id -> incarnation
  std::map<BrokerId, std::set<uint64_t>> retired;
  std::map<std::string, std::pair<uint8_t, size_t>> topics;  // name -> (id, partitions)
  uint64_t next_group = MetadataImage::kFirstPartitionGroupId;
};

RC_GTEST_PROP(MetadataImageProperty, RandomRecordsMatchTheModelAndSnapshotsAgree, ()) {
  MetadataImage image;
  Model model;
  const int steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    const int kind = *rc::gen::inRange(0, 5);
    const BrokerId broker = *rc::gen::inRange(0, 5);
    const uint8_t id = static_cast<uint8_t>(*rc::gen::inRange(1, 8));
    const std::string name = "t" + std::to_string(*rc::gen::inRange(0, 6));
    if (kind == 0) {
      const uint64_t incarnation = *rc::gen::inRange<uint64_t>(0, 4);
      const bool known = model.brokers.contains(broker);
      const bool fits = !known || (incarnation != model.brokers[broker] &&
                                   !model.retired[broker].contains(incarnation));
      RC_ASSERT(image.Apply(Register(broker, incarnation)).ok() == fits);
      if (fits && known) model.retired[broker].insert(model.brokers[broker]);
      if (fits) model.brokers[broker] = incarnation;
    } else if (kind <= 2) {
      const size_t count = *rc::gen::inRange<size_t>(1, 4);
      std::vector<std::vector<BrokerId>> partitions(count, std::vector<BrokerId>{broker});
      bool id_taken = false;
      for (const auto& [n, t] : model.topics) id_taken |= t.first == id;
      const bool fits = !model.topics.contains(name) && !id_taken &&
                        model.brokers.contains(broker);
      RC_ASSERT(image.Apply(Create(name, id, partitions)).ok() == fits);
      if (fits) {
        model.topics[name] = {id, count};
        model.next_group += count;
      }
    } else if (kind == 3) {
      std::string owner;
      for (const auto& [n, t] : model.topics) {
        if (t.first == id) owner = n;
      }
      RC_ASSERT(image.Apply(Delete(id)).ok() == !owner.empty());
      if (!owner.empty()) model.topics.erase(owner);
    } else {
      std::string owner;
      for (const auto& [n, t] : model.topics) {
        if (t.first == id) owner = n;
      }
      const bool fits = !owner.empty() && model.brokers.contains(broker);
      RC_ASSERT(image.Apply(AddPartitions(id, {{broker}})).ok() == fits);
      if (fits) {
        ++model.topics[owner].second;
        ++model.next_group;
      }
    }
  }
  RC_ASSERT(image.brokers().size() == model.brokers.size());
  RC_ASSERT(image.topics().size() == model.topics.size());
  size_t partitions = 0;
  std::set<GroupId> groups;
  for (const auto& [name, t] : model.topics) {
    const TopicInfo* topic = image.FindTopic(name);
    RC_ASSERT(topic != nullptr);
    RC_ASSERT(topic->id == Id(t.first));
    RC_ASSERT(topic->partitions.size() == t.second);
    partitions += t.second;
    for (const PartitionInfo& p : topic->partitions) RC_ASSERT(groups.insert(p.group_id).second);
  }
  RC_ASSERT(image.partition_count() == partitions);
  RC_ASSERT(image.next_group_id() == model.next_group);
  for (GroupId g : groups) RC_ASSERT(g < model.next_group);
  absl::StatusOr<MetadataImage> copy = MetadataImage::FromState(image.ToState());
  RC_ASSERT(copy.ok());
  RC_ASSERT(Bytes(*copy) == Bytes(image));
}

}  // namespace
}  // namespace eddy::controller
