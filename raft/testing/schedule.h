// Random schedules for the Raft property test: a cluster shape plus a sequence of actions
// (ticks, Ready processing, message delivery/drop/duplication in any order, partitions,
// crashes that lose unsynced state, restarts, proposals, membership changes, leadership
// transfers, compaction, reads), run against testing::Cluster with the safety checker after
// every action and a liveness check once the schedule heals.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raft/config.h"

namespace eddy::raft::testing {

struct Action {
  enum Kind : uint8_t {
    kDeliver, kReady, kTick, kTickAll, kPropose, kDrop, kDuplicate, kCampaign, kPartition,
    kHeal, kCrash, kRestart, kConfChange, kTransfer, kCompact, kReadIndex, kFlush,
    kArmCrashOnCommit, kKindCount
  };
  Kind kind = kDeliver;
  uint8_t a = 0;
  uint8_t b = 0;
};

struct Scenario {
  int node_count = 3;  // initial voters, 1..7
  bool pre_vote = true;
  bool check_quorum = true;
  // Config::quiesce. The runner then plays the driver's node liveness: after every tick, a
  // quiesced node that cannot reach a peer it depends on (its leader; a leader's followers) is
  // unquiesced, as raft/driver's NodeDriver does when that peer's node goes silent.
  bool quiesce = false;
  int append_entries_count_max = 64;
  int inflight_messages_max = 8;
  uint64_t snapshot_state_size_bytes = 0;
  uint64_t seed = 1;
  PlantedBug planted_bug = PlantedBug::kNone;
  std::vector<Action> actions;
};

std::ostream& operator<<(std::ostream& out, const Action& action);
std::ostream& operator<<(std::ostream& out, const Scenario& scenario);

// What a run exercised (to show the generator reaches the interesting states).
struct ScenarioStats {
  int64_t committed_offset_max = -1;  // highest commit offset reached during the schedule
  int leaders = 0;                    // distinct (term, leader) pairs seen
  int snapshots_installed = 0;
  int membership_changes = 0;         // committed conf changes seen on the final leader
  uint64_t quiesces = 0;              // replicas that went quiet (RawNode counters)
  uint64_t messages_delivered = 0;
};

// Runs the scenario; returns the first safety or liveness violation. Upper bound on nodes: 7.
absl::Status RunScenario(const Scenario& scenario, ScenarioStats* stats = nullptr);

// Ticks allowed, after healing, for a leader to be elected and a proposal to commit.
inline constexpr int kLivenessTicksMax = 600;
inline constexpr int kNodeCountMax = 7;

}  // namespace eddy::raft::testing
