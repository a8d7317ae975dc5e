// The broker simulation's checks catch bugs planted in the broker, its group coordinator and
// its replication driver (BrokerBug, DriverBug): each is caught within 200 seeds (in practice
// within a few).
#include <cstdint>
#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "sim/broker/broker_sim.h"

namespace eddy::sim::broker {
namespace {

constexpr uint64_t kSeedsMax = 200;

// The first seed whose run reports a violation, and the violation; 0 if none within kSeedsMax.
uint64_t FirstCaught(BrokerSimOptions options, std::string* violation) {
  for (uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    options.seed = seed;
    const BrokerSimResult r = RunBrokerSim(options);
    if (!r.ok) {
      *violation = r.violation;
      return seed;
    }
  }
  return 0;
}

TEST(BrokerPlantedBugTest, AcksBeforeCommitAreCaught) {
  std::string violation;
  const uint64_t seed = FirstCaught(
      {.planted_bug = eddy::broker::BrokerBug::kAckBeforeCommit},
      &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

TEST(BrokerPlantedBugTest, ProducerStateForgottenOnLeaderChangeIsCaught) {
  std::string violation;
  const uint64_t seed = FirstCaught(
      {
       .planted_bug = eddy::broker::BrokerBug::kForgetProducerStateOnLeaderChange},
      &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

TEST(BrokerPlantedBugTest, AcknowledgingBeforeTheFsyncIsCaught) {
  std::string violation;
  const uint64_t seed = FirstCaught(
      {.driver_bug = raft::driver::DriverBug::kAckBeforeFsync},
      &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

TEST(BrokerPlantedBugTest, AStaleGenerationsCommitIsCaught) {
  std::string violation;
  const uint64_t seed = FirstCaught(
      {.planted_bug = eddy::broker::BrokerBug::kAcceptStaleCommit}, &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

TEST(BrokerPlantedBugTest, APartitionAssignedToTwoMembersIsCaught) {
  std::string violation;
  const uint64_t seed =
      FirstCaught({.planted_bug = eddy::broker::BrokerBug::kDoubleAssign}, &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

TEST(BrokerPlantedBugTest, OffsetsLostOnACoordinatorFailoverAreCaught) {
  std::string violation;
  const uint64_t seed = FirstCaught(
      {.planted_bug = eddy::broker::BrokerBug::kLoseOffsetsOnFailover}, &violation);
  EXPECT_GT(seed, 0u);
  std::cout << "caught at seed " << seed << ": " << violation << "\n";
}

}  // namespace
}  // namespace eddy::sim::broker
