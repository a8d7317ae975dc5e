// Proves the fault injector drives a live world the way its contract says, using TrafficNodes as
// brokers (rebuilt by the world's lifecycle handlers after every restart). A monitor samples the
// world every few milliseconds of simulated time and checks: never more nodes unavailable
// (crashed or paused) than allowed; inside a healed phase, every node up and running and every
// link whole; data-damaging disk faults only on the allowed nodes; every crash followed by a
// restart by the end; the same seed yields the same action log.
#include "sim/faults/fault_injector.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/base/rate.h"
#include "sim/faults/fault_profile.h"
#include "sim/faults/fault_schedule.h"
#include "sim/runtime/sim_world.h"
#include "sim/workload/traffic_node.h"

namespace eddy::sim {
namespace {

using runtime::NodeId;

Instant At(int64_t ms) { return Instant() + Duration::Milliseconds(ms); }

// healed [0,1s) FAULTS [1s,11s) healed [11s,16s)
std::vector<FaultPhase> ThreePhases() {
  return {{.start = At(0), .end = At(1000), .healed = true},
          {.start = At(1000), .end = At(11000), .healed = false},
          {.start = At(11000), .end = At(16000), .healed = true}};
}

FaultProfile EveryActionOften() {
  FaultProfile p;
  p.loss_ppm = 300'000;
  p.duplicate_ppm = 100'000;
  p.corruption_ppm = 100'000;
  p.reorder = true;
  p.partitions = p.clogging = p.flapping = p.connection_resets = true;
  p.crashes = true;
  p.torn_write_ppm = kPpm;
  p.pauses = p.clock_jumps = p.slow_nodes = true;
  p.clock_drift_ppm_max = 100'000;
  p.write_corruption_ppm = 200'000;
  p.misdirection_ppm = 100'000;
  p.latent_sector_error_ppm = 50'000;
  p.read_corruption_ppm = 100'000;
  p.action_interval_mean = Duration::Milliseconds(100);
  return p;
}

class Harness {
 public:
  Harness(uint64_t seed, FaultProfile profile, std::set<NodeId> storage_fault_nodes)
      : world_({.seed = seed}) {
    world_.SetLifecycleHandlers(
        [this](NodeId id) {
          ++crashes_seen_;
          apps_[id].reset();
        },
        [this](NodeId id) {
          ++restarts_seen_;
          Start(id);
        });
    for (NodeId id : world_.node_ids()) Start(id);
    injector_ = std::make_unique<FaultInjector>(
        world_, profile, ThreePhases(),
        FaultInjectorOptions{.storage_fault_nodes = std::move(storage_fault_nodes),
                             .downtime_max = Duration::Seconds(1)},
        seed * 31);
  }
  ~Harness() { apps_.clear(); }

  void Start(NodeId id) {
    std::vector<NodeId> peers;
    for (NodeId other : world_.node_ids()) {
      if (other != id) peers.push_back(other);
    }
    apps_[id] = std::make_unique<TrafficNode>(world_.node(id), peers);
  }

  // Runs the whole schedule, checking the contract every 5 ms.
  void RunChecked() {
    injector_->Start();
    for (int64_t ms = 0; ms < 16000; ms += 5) {
      world_.RunUntil(At(ms));
      size_t unavailable = 0;
      for (NodeId id : world_.node_ids()) {
        const SimRuntime& node = world_.node(id);
        unavailable += !node.up() || node.paused();
        EXPECT_EQ(node.up(), apps_[id] != nullptr) << "node " << id << " at " << ms;
      }
      EXPECT_LE(unavailable, 1u) << "at " << ms;
      max_unavailable_ = std::max(max_unavailable_, unavailable);
      if (injector_->healed() && ms > 0) {
        EXPECT_EQ(unavailable, 0u) << "healed phase at " << ms;
        for (NodeId a : world_.node_ids()) {
          for (NodeId b : world_.node_ids()) {
            if (a != b) {
              EXPECT_FALSE(world_.network().link_cut(a, b)) << a << "->" << b;
            }
          }
          EXPECT_EQ(world_.node(a).node_clock().drift_ppm(), 0);
          EXPECT_FALSE(world_.node(a).sim_disk().faults().DamagesData());
        }
        EXPECT_EQ(world_.network().link_options(1, 2).loss_ppm, 0u);
      }
    }
  }

  SimWorld world_;
  std::map<NodeId, std::unique_ptr<TrafficNode>> apps_;
  std::unique_ptr<FaultInjector> injector_;
  int crashes_seen_ = 0;
  int restarts_seen_ = 0;
  size_t max_unavailable_ = 0;
};

std::string JoinLog(const FaultInjector& injector) {
  std::string out;
  for (const std::string& line : injector.log()) out += line + "\n";
  return out;
}

TEST(FaultInjectorTest, EveryActionFiresWithinBudgetAndHealedPhasesAreClean) {
  Harness harness(5, EveryActionOften(), {2, 3});
  std::vector<std::pair<int64_t, bool>> phases;
  harness.injector_->SetPhaseHandler([&](const FaultPhase& phase) {
    phases.push_back({(harness.world_.Now() - Instant()).milliseconds(), phase.healed});
  });
  harness.RunChecked();
  EXPECT_EQ(phases,
            (std::vector<std::pair<int64_t, bool>>{{0, true}, {1000, false}, {11000, true}}));
  const FaultCoverage coverage = harness.world_.Coverage();
  const std::string log = JoinLog(*harness.injector_);
  SCOPED_TRACE(log);
  EXPECT_GT(harness.injector_->actions_taken(), 40u);
  EXPECT_GT(harness.crashes_seen_, 0);
  EXPECT_EQ(harness.crashes_seen_, harness.restarts_seen_);  // All back up by the end.
  EXPECT_EQ(harness.max_unavailable_, 1u);
  for (const char* action : {"crash node", "pause node", "partition", "isolate", "clog", "flap",
                             "reset connection", "clock jump", "clock drift", "slow node"}) {
    EXPECT_NE(log.find(action), std::string::npos) << action;
  }
  EXPECT_GT(coverage.at("process.crash_keeping_unsynced_tail"), 0u);  // Torn at 100 %.
  EXPECT_GT(coverage.at("net.lost"), 0u);
  EXPECT_EQ(coverage.at("injector.fault_phases"), 1u);
  EXPECT_EQ(coverage.at("injector.healed_phases"), 2u);
  EXPECT_GT(coverage.at("net.corruption_detected"), 0u);
  // Some corrupted frames die before decoding (cut link, crashed receiver); none is delivered.
  EXPECT_LE(coverage.at("net.corruption_detected"), coverage.at("net.corrupted"));
  EXPECT_GT(coverage.at("disk.write_corruptions"), 0u);
  EXPECT_GT(coverage.at("disk.misdirected_writes"), 0u);
}

TEST(FaultInjectorTest, DataDamagingDiskFaultsOnlyReachAllowedNodes) {
  Harness harness(9, EveryActionOften(), {3});
  harness.RunChecked();
  for (NodeId id : {1u, 2u}) {
    const SimDiskStats& stats = harness.world_.node(id).sim_disk().stats();
    EXPECT_EQ(stats.write_corruptions, 0u) << id;
    EXPECT_EQ(stats.read_corruptions, 0u) << id;
    EXPECT_EQ(stats.misdirected_writes, 0u) << id;
    EXPECT_EQ(stats.latent_sector_errors, 0u) << id;
  }
  const SimDiskStats& damaged = harness.world_.node(3).sim_disk().stats();
  EXPECT_GT(damaged.write_corruptions + damaged.misdirected_writes, 0u);
}

TEST(FaultInjectorTest, NetworkWorksAgainAfterTheFaultsHeal) {
  Harness harness(13, EveryActionOften(), {});
  harness.RunChecked();
  // In the closing healed phase, a burst from every node to every other arrives in full.
  std::map<std::pair<NodeId, NodeId>, int> got;
  harness.apps_.clear();  // Replace the traffic brokers with counting handlers...
  harness.world_.RunFor(Duration::Seconds(1));  // ...once their last messages have landed.
  for (NodeId id : harness.world_.node_ids()) {
    harness.world_.node(id).transport().SetPeerHandler(
        [&got, id](NodeId from, std::vector<uint8_t>) {
          ++got[{from, id}];
        });
  }
  for (NodeId a : harness.world_.node_ids()) {
    for (NodeId b : harness.world_.node_ids()) {
      for (int i = 0; a != b && i < 50; ++i) {
        harness.world_.node(a).transport().SendToPeer(b, {1});
      }
    }
  }
  harness.world_.RunFor(Duration::Seconds(1));
  EXPECT_EQ(got.size(), 6u);
  for (const auto& [link, count] : got) EXPECT_EQ(count, 50) << link.first << "->" << link.second;
}

TEST(FaultInjectorTest, PerLinkRatesGiveEachLinkItsOwnFaultsUntilHealed) {
  FaultProfile profile;
  profile.loss_ppm = 300'000;
  profile.duplicate_ppm = 200'000;
  profile.duplicate_delay_max = Duration::Seconds(2);
  profile.per_link_rates = true;
  Harness harness(3, profile, {});
  harness.injector_->Start();
  harness.world_.RunUntil(At(2000));  // Inside the fault phase.
  std::set<uint32_t> loss_rates;
  for (NodeId a : harness.world_.node_ids()) {
    for (NodeId b : harness.world_.node_ids()) {
      if (a == b) continue;
      const LinkOptions& options = harness.world_.network().link_options(a, b);
      EXPECT_LE(options.loss_ppm, 300'000u);
      EXPECT_LE(options.duplicate_ppm, 200'000u);
      EXPECT_EQ(options.duplicate_delay_max, Duration::Seconds(2));
      loss_rates.insert(options.loss_ppm);
    }
  }
  EXPECT_GT(loss_rates.size(), 3u);
  harness.world_.RunUntil(At(12000));  // Healed.
  EXPECT_EQ(harness.world_.network().link_options(2, 3).loss_ppm, 0u);
  EXPECT_EQ(harness.world_.network().link_options(2, 3).duplicate_ppm, 0u);
}

TEST(FaultInjectorTest, NodesNotStartedYetAreLeftAloneAndDoNotSpendTheBudget) {
  SimWorld world({.seed = 8, .nodes = {1, 2, 3, 4}, .started_later = {4}});
  FaultProfile profile = EveryActionOften();
  FaultInjector injector(world, profile, ThreePhases(), FaultInjectorOptions{}, 99);
  injector.Start();
  size_t max_unavailable = 0;
  for (int64_t ms = 0; ms < 16000; ms += 5) {
    world.RunUntil(At(ms));
    size_t unavailable = 0;
    for (NodeId id : {1u, 2u, 3u}) {
      unavailable += !world.node(id).up() || world.node(id).paused();
    }
    max_unavailable = std::max(max_unavailable, unavailable);
    EXPECT_FALSE(world.node(4).up()) << ms;
  }
  EXPECT_EQ(max_unavailable, 1u);  // The budget went to started nodes.
  EXPECT_FALSE(world.started(4));
  world.Start(4);
  EXPECT_TRUE(world.node(4).up());
}

TEST(FaultInjectorTest, SameSeedSameActions) {
  Harness a(21, EveryActionOften(), {2});
  Harness b(21, EveryActionOften(), {2});
  a.RunChecked();
  b.RunChecked();
  EXPECT_EQ(JoinLog(*a.injector_), JoinLog(*b.injector_));
  EXPECT_EQ(a.world_.trace().value(), b.world_.trace().value());
}

}  // namespace
}  // namespace eddy::sim
