// The RapidCheck generator of Raft scenarios shared by the property test and the planted-bug
// test (testonly).
#pragma once

#include <tuple>
#include <vector>

#include "rapidcheck.h"
#include "raft/testing/schedule.h"

namespace eddy::raft::testing {

// Base weights of the action kinds (index = Action::Kind).
inline constexpr int kBaseWeights[Action::kKindCount] = {
    /*kDeliver=*/20, /*kReady=*/12,     /*kTick=*/4,       /*kTickAll=*/10,
    /*kPropose=*/8,  /*kDrop=*/3,       /*kDuplicate=*/2,  /*kCampaign=*/5,
    /*kPartition=*/2, /*kHeal=*/3,      /*kCrash=*/2,      /*kRestart=*/3,
    /*kConfChange=*/2, /*kTransfer=*/1, /*kCompact=*/5,    /*kReadIndex=*/1,
    /*kFlush=*/18, /*kArmCrashOnCommit=*/2};

// Swarm testing (Groce et al., 2012): each scenario scales every fault kind by 0, 1 or 4, so
// some runs hammer one fault and omit others; this finds far more bugs than one fixed mix.
inline rc::Gen<std::vector<int>> GenWeights() {
  return rc::gen::exec([] {
    std::vector<int> weights(kBaseWeights, kBaseWeights + Action::kKindCount);
    for (int kind = 0; kind < Action::kKindCount; ++kind) {
      const bool essential = kind == Action::kDeliver || kind == Action::kReady ||
                             kind == Action::kFlush || kind == Action::kTickAll ||
                             kind == Action::kRestart;
      if (!essential) weights[kind] *= *rc::gen::element(0, 1, 4);
    }
    return weights;
  });
}

inline rc::Gen<Action> GenAction(const std::vector<int>& weights) {
  int total = 0;
  for (int w : weights) total += w;
  return rc::gen::map(
      rc::gen::tuple(rc::gen::inRange(0, total), rc::gen::arbitrary<uint8_t>(),
                     rc::gen::arbitrary<uint8_t>()),
      [weights](const std::tuple<int, uint8_t, uint8_t>& t) {
        Action a;
        int pick = std::get<0>(t);
        int kind = 0;
        while (pick >= weights[kind]) pick -= weights[kind++];
        a.kind = static_cast<Action::Kind>(kind);
        a.a = std::get<1>(t);
        a.b = std::get<2>(t);
        return a;
      });
}

inline rc::Gen<Scenario> GenScenario(PlantedBug bug) {
  return rc::gen::exec([bug] {
    Scenario s;
    // All sizes 1..7, weighted towards 3-5 where most interleavings live.
    s.node_count = *rc::gen::weightedElement<int>(
        {{1, 1}, {2, 2}, {4, 3}, {3, 4}, {3, 5}, {1, 6}, {1, 7}});
    s.pre_vote = *rc::gen::arbitrary<bool>();
    s.check_quorum = *rc::gen::arbitrary<bool>();
    s.append_entries_count_max = *rc::gen::element(1, 2, 64);
    s.inflight_messages_max = *rc::gen::element(1, 2, 8);
    s.snapshot_state_size_bytes = *rc::gen::element<uint64_t>(0, 100);
    s.seed = *rc::gen::arbitrary<uint64_t>();
    // Half the scenarios quiesce idle groups. Taken from the seed (hashed) rather than drawn,
    // so the generator's stream (and the planted-bug test's fixed-seed verdicts) stay as they
    // were.
    s.quiesce = ((s.seed * 0x9e37'79b9'7f4a'7c15ULL) >> 63) != 0;
    s.planted_bug = bug;
    const std::vector<int> weights = *GenWeights();
    // Every case draws its length from the full range (RapidCheck would otherwise spend its
    // first cases on tiny schedules); shrinking still shortens failing ones.
    s.actions = *rc::gen::resize(
        100, rc::gen::scale(6.0, rc::gen::container<std::vector<Action>>(GenAction(weights))));
    return s;
  });
}

}  // namespace eddy::raft::testing

