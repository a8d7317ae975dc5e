// AssignReplicas: leaders balanced within one per broker, replicas spread evenly, every
// partition across as many racks as it can span, fenced brokers left out, the existing load
// taken into account, deterministic, and Kafka's replication-factor errors.
#include "core/controller/assignment.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace eddy::controller {
namespace {

MetadataImage Cluster(const std::vector<std::string>& racks, std::set<BrokerId> fenced = {}) {
  MetadataImage image;
  for (size_t i = 0; i < racks.size(); ++i) {
    const BrokerId id = static_cast<BrokerId>(i + 1);
    MetadataRecord r;
    RegisterBroker* b = r.mutable_register_broker();
    b->set_broker_id(id);
    b->set_incarnation(1);
    Endpoint* e = b->add_endpoints();
    e->set_host("h");
    e->set_port(9092);
    b->set_rack(racks[i]);
    EXPECT_TRUE(image.Apply(r).ok());
    if (!fenced.contains(id)) {
      MetadataRecord u;
      u.mutable_set_broker_fenced()->set_broker_id(id);
      u.mutable_set_broker_fenced()->set_incarnation(1);
      u.mutable_set_broker_fenced()->set_fenced(false);
      EXPECT_TRUE(image.Apply(u).ok());
    }
  }
  return image;
}

void ExpectBalanced(const std::vector<std::vector<BrokerId>>& a, size_t brokers) {
  std::map<BrokerId, size_t> leaders, replicas;
  for (const auto& p : a) {
    ++leaders[p[0]];
    for (BrokerId b : p) ++replicas[b];
    EXPECT_EQ(std::set<BrokerId>(p.begin(), p.end()).size(), p.size());
  }
  EXPECT_EQ(leaders.size(), std::min(brokers, a.size()));
  size_t lmin = SIZE_MAX, lmax = 0, rmin = SIZE_MAX, rmax = 0;
  for (const auto& [b, n] : leaders) {
    lmin = std::min(lmin, n);
    lmax = std::max(lmax, n);
  }
  for (const auto& [b, n] : replicas) {
    rmin = std::min(rmin, n);
    rmax = std::max(rmax, n);
  }
  if (a.size() >= brokers) {
    EXPECT_LE(lmax - lmin, 1u);
  }
  EXPECT_LE(rmax - rmin, 1u);
}

TEST(AssignmentTest, LeadersAndReplicasAreBalanced) {
  const MetadataImage image = Cluster({"", "", "", "", ""});
  for (size_t partitions : {1u, 4u, 5u, 12u, 101u}) {
    auto a = AssignReplicas(image, {.partitions = partitions, .replication_factor = 3});
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_EQ(a->size(), partitions);
    ExpectBalanced(*a, 5);
  }
}

TEST(AssignmentTest, APartitionSpansAsManyRacksAsItCan) {
  const MetadataImage image = Cluster({"a", "a", "b", "b", "c", "c"});
  auto a = AssignReplicas(image, {.partitions = 30, .replication_factor = 3});
  ASSERT_TRUE(a.ok());
  for (const auto& p : *a) {
    std::set<std::string> racks;
    for (BrokerId b : p) racks.insert(image.broker(b)->rack);
    EXPECT_EQ(racks.size(), 3u);
  }
  ExpectBalanced(*a, 6);
}

TEST(AssignmentTest, FencedBrokersGetNothingAndExistingLoadCounts) {
  MetadataImage image = Cluster({"", "", "", ""}, /*fenced=*/{4});
  auto first = AssignReplicas(image, {.partitions = 2, .replication_factor = 1});
  ASSERT_TRUE(first.ok());
  MetadataRecord create;
  create.mutable_create_topic()->set_name("t");
  create.mutable_create_topic()->set_topic_id(std::string(15, '\0') + "\x01");
  for (const auto& p : *first) {
    PartitionReplicas* pr = create.mutable_create_topic()->add_partitions();
    for (BrokerId b : p) pr->add_replicas(b);
  }
  ASSERT_TRUE(image.Apply(create).ok());
  auto next = AssignReplicas(image, {.partitions = 1, .replication_factor = 1});
  ASSERT_TRUE(next.ok());
  // The one broker of 1..3 without a partition yet leads the next one.
  std::set<BrokerId> used{(*first)[0][0], (*first)[1][0]};
  EXPECT_FALSE(used.contains((*next)[0][0]));
  EXPECT_NE((*next)[0][0], 4);
  for (const auto& p : *first) EXPECT_NE(p[0], 4);
}

TEST(AssignmentTest, TheRotationMovesTiesAndTheSameInputsGiveTheSameAnswer) {
  const MetadataImage image = Cluster({"", "", ""});
  auto a = AssignReplicas(image, {.partitions = 1, .replication_factor = 1, .rotation = 0});
  auto b = AssignReplicas(image, {.partitions = 1, .replication_factor = 1, .rotation = 1});
  auto c = AssignReplicas(image, {.partitions = 1, .replication_factor = 1, .rotation = 1});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE((*a)[0][0], (*b)[0][0]);
  EXPECT_EQ(*b, *c);
}

TEST(AssignmentTest, AReplicationFactorBeyondTheBrokersIsRefused) {
  const MetadataImage image = Cluster({"", "", ""}, /*fenced=*/{3});
  EXPECT_EQ(AssignReplicas(image, {.partitions = 1, .replication_factor = 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(AssignReplicas(image, {.partitions = 1, .replication_factor = 0}).ok());
  EXPECT_FALSE(AssignReplicas(image, {.partitions = 0, .replication_factor = 1}).ok());
  EXPECT_TRUE(AssignReplicas(image, {.partitions = 1, .replication_factor = 2}).ok());
}

}  // namespace
}  // namespace eddy::controller
