// The broker simulation: without faults every acknowledged record reads back; a sweep of seeds
// under the swarm fault set finds no violation; the same seed gives the same run.
#include "sim/broker/broker_sim.h"

#include <cstdlib>
#include <iostream>

#include "gtest/gtest.h"

namespace eddy::sim::broker {
namespace {

TEST(BrokerSimTest, WithoutFaultsEverythingAcknowledgedReadsBack) {
  BrokerSimResult r = RunBrokerSim({.seed = 1, .faults = false});
  EXPECT_TRUE(r.ok) << r.violation;
  EXPECT_GT(r.acked_batches, 100u);
  EXPECT_GE(r.records_read, r.acked_records);
}

// Five brokers: partitions on three of them, so Metadata from the other two names leaders
// from the leaders' announcements, and the metadata group has five voters.
TEST(BrokerSimTest, FiveBrokersUnderFaultsFindNoViolation) {
  int failed = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const BrokerSimResult r = RunBrokerSim({.seed = seed, .brokers = 5});
    if (!r.ok) {
      ++failed;
      ADD_FAILURE() << "seed " << seed << ": " << r.violation << " [" << r.profile << "]";
    }
  }
  EXPECT_EQ(failed, 0);
}

TEST(BrokerSimTest, TheSameSeedGivesTheSameRun) {
  const BrokerSimResult a = RunBrokerSim({.seed = 7, .duration = Duration::Seconds(10)});
  const BrokerSimResult b = RunBrokerSim({.seed = 7, .duration = Duration::Seconds(10)});
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.acked_records, b.acked_records);
  EXPECT_NE(a.trace_hash, RunBrokerSim({.seed = 8, .duration = Duration::Seconds(10)}).trace_hash);
}

TEST(BrokerSimTest, ASweepUnderFaultsFindsNoViolation) {
  const char* env = std::getenv("EDDY_BROKER_SEEDS");
  const char* first_env = std::getenv("EDDY_BROKER_FIRST_SEED");
  const int seeds = env != nullptr ? std::atoi(env) : 20;
  const int first = first_env != nullptr ? std::atoi(first_env) : 1;
  int failed = 0;
  for (int seed = first; seed < first + seeds; ++seed) {
    const BrokerSimResult r = RunBrokerSim({.seed = static_cast<uint64_t>(seed)});
    if (!r.ok) {
      ++failed;
      ADD_FAILURE() << "seed " << seed << ": " << r.violation << " [" << r.profile << "]";
    }
    std::cout << "seed " << seed << (r.ok ? " ok" : " FAILED") << " acked=" << r.acked_records
              << " failed_batches=" << r.failed_batches << " read=" << r.records_read
              << " sim=" << r.simulated_seconds << "s trace=" << std::hex << r.trace_hash
              << std::dec << "\n";
  }
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace eddy::sim::broker
