// Planted bugs: proves the property test (raft_property_test) can fail. For each classic Raft
// bug behind Config::planted_bug, it runs the very same generator and checker with the bug
// switched on, within RapidCheck's normal budget (RC_PARAMS / 100 cases by default), and fails
// if the bug goes undetected. Each bug breaks a different guarantee:
//   kCountStaleVotes    -> two leaders in one term (Election Safety, §5.2)
//   kForgetPersistVote  -> a node votes twice in a term after a crash (Figure 2, persistence)
//   kGrantVoteWithoutLogCheck -> a leader lacking committed entries (Leader Completeness, §5.4.1)
// kCommitPreviousTerm needs a long chain of crashes (Figure 8) that random schedules do not
// reach within the budget; testdata/figure8_planted_bug.txt replays that chain by hand and
// shows the checker flags it.
#include "gtest/gtest.h"
#include "raft/raft_property_test_lib.h"
#include "rapidcheck.h"

namespace eddy::raft::testing {
namespace {

bool PropertyHolds(PlantedBug bug) {
  return rc::check("raft safety with a planted bug", [bug] {
    const Scenario scenario = *GenScenario(bug);
    const absl::Status status = RunScenario(scenario);
    if (!status.ok()) RC_FAIL(std::string(status.message()));
  });
}

TEST(PlantedBugTest, CountingStaleVotesIsCaught) {
  EXPECT_FALSE(PropertyHolds(PlantedBug::kCountStaleVotes));
}

TEST(PlantedBugTest, GrantingVotesWithoutTheLogCheckIsCaught) {
  EXPECT_FALSE(PropertyHolds(PlantedBug::kGrantVoteWithoutLogCheck));
}

TEST(PlantedBugTest, ForgettingToPersistTheVoteIsCaught) {
  EXPECT_FALSE(PropertyHolds(PlantedBug::kForgetPersistVote));
}

}  // namespace
}  // namespace eddy::raft::testing
