// Seeds that once violated a safety property in a long local sweep, pinned in the exact shape
// that found them, so the bug they exposed stays fixed. Each entry names what went wrong.
//
// Trace hashes change whenever the simulated code changes, so a pinned seed may stop reaching
// the same corner; the mechanism each one exposed is also pinned by a targeted unit test (named
// below), which does not depend on the schedule.
#include <string>

#include "gtest/gtest.h"
#include "sim/cluster/cluster.h"
#include "tests/sim/sweep/sweep_options.h"

namespace eddy::sim::cluster {
namespace {

struct PinnedSeed {
  uint64_t seed;
  const char* what_went_wrong;
};

// Both: a latent sector error made a whole 4 KiB chunk of each hard-state copy read as zeros,
// hiding the newest record in both, so the replica reopened with an older term ("term-monotonic":
// "node 3 group 1 reopened at term 2 after persisting term 4"; "term 4 after persisting term 7").
// Unit tests: NodeStateStoreTest.BadSectorCostsItsSectorNotTheWholeChunk and
// BadSectorAfterTheNewestValidRecordInBothCopiesIsUncertain (raft/driver; the per-group store of
// the time had the same tests).
// 3289, 7550: a follower cut a conflicting suffix it had declared durable, then stopped (a
// failed fsync, a full disk) before the hard-state save that lowers its durable mark; it reopened
// fenced for entries that no longer existed anywhere, and with a second (really damaged) replica
// fenced too, no candidate could ever win ("liveness: not converged"). The driver now lowers the
// mark before such a cut; the checker's "fence-only-after-media-damage" property catches a false
// fence directly (3 of seeds 1..300 in this shape without the fix).
constexpr PinnedSeed kPinnedSeeds[] = {
    {1581, "hard state lost to a latent sector error in both copies"},
    {1638, "hard state lost to a latent sector error in both copies"},
    {3289, "false repair fence after a conflict truncation outran the durable mark"},
    {7550, "false repair fence after a conflict truncation outran the durable mark"},
    // The first sweep with buggify sites in the driver: a short read made the scan on open stop
    // after its first read (it also stopped whenever the replica was not yet running), so the
    // replica lost the control entries and term starts of the rest of its log, and later cut
    // entries it had declared durable ("durable-entries-kept"; 16 of seeds 1..200 in this shape).
    // Story test: ScenarioTest.ReplicaWhoseLogSpansManyReadsRestartsWithAllOfIt.
    {39, "open-time log scan stopped after its first read"},
    {65, "open-time log scan stopped after its first read"},
    {94, "open-time log scan stopped after its first read"},
};

// In FiveNodeSweepOptions, with back-to-back membership changes: a replica that reopened
// holding two changes above its saved commit offset raised its commit (the earlier change is
// committed, RawNode::CommitKnownConfChanges) and then reported that commit as saved on disk,
// so the checker saw the next reopen go back ("commit-monotonic": "node 4 group 2 reopened with
// commit offset 734 after persisting 798"). The driver now reports what is on disk.
// With the pending mark (one durability round): seed 5172, three of five voters fenced — one
// below its pending mark, two by media damage — each waited on the others' reports, which named
// the reporters' own marks: nobody was ever electable ("liveness"); reports now name durable
// logs only. Seed 5562: a fenced replica cut a conflicting suffix below what it had surely
// declared and stopped before saving again; it reopened "below its durable mark" on an
// undamaged disk ("fence-only-after-media-damage"); it now lowers that first. Seed 1580: a
// replica reopened after media damage with a saved commit beyond its log; the clamp reached the
// core but not the record it copies its hard state from, so a fenced save wrote the old commit
// again and the next save went back below it ("commit-monotonic"). Seed 5202: a membership
// cycle wiped a replica on a node whose state store then loaded uncertain (read-only, waiting for
// an operator's rebuild); the wipe could never happen and convergence waited for it forever
// ("liveness"); a wipe waiting for an operator is now left out, as a halted replica is; seed
// 4332 likewise, a cycle promoting a learner halted by its node's uncertain store. Seeds 259
// and 5601 guard the fence-report rule: lowering a fence with one voter of five still silent
// (tried for seed 3884) let a replica vote for a candidate lacking a committed entry whose last
// holder was the silent voter, two other holders having lost it to media damage
// ("one-value-per-offset"). Seed 3884: a replica's removal committed only on a leader that then
// lost it; the replica was wiped and a fenced voter waited for good for the report of its
// retired id ("liveness"); the node now answers for a replica it holds nothing of
// (raft/driver/node_driver.h, ANSWERS FOR ABSENT REPLICAS).
constexpr PinnedSeed kFiveNodePinnedSeeds[] = {
    {36, "a commit offset derived on open reported as saved"},
    {91, "a commit offset derived on open reported as saved"},
    {5172, "fence reports naming the reporters' own marks held every fence up"},
    {5562, "a fenced replica's conflict truncation cut below what it had surely declared"},
    {1580, "a saved commit beyond a damaged log written again by a fenced save"},
    {5202, "a wipe on a node with an uncertain state store awaited forever"},
    {4332, "a promotion of a learner halted by an uncertain state store awaited forever"},
    {259, "a fence lowered while the last holder of a committed entry was silent"},
    {5601, "a fence lowered while the last holder of a committed entry was silent"},
    {3884, "a fenced voter waited for good on the report of a wiped replica's retired id"},
};

// In eddy-sim's default shape (3 nodes, 1 group, ClusterOptions' defaults), with the node-wide
// state store: both state files had taken misdirected writes; compacting one (truncated in
// place) hit a full disk after the truncation, and the store, reopening in the same process,
// found only the other, damaged copy: "delta lost in both copies", so every replica of the node
// halted and a membership cycle waiting for one never finished ("liveness"). Compaction now
// writes beside the file and renames over it.
constexpr PinnedSeed kDefaultShapePinnedSeeds[] = {
    {81, "a compaction truncated in place lost the only intact copy to a full disk"},
};

// In the CI sweep's shape (SweepOptions), during the node-wide state store's development: the
// durable mark was saved one round after the flush it covered (in parallel with the next), so a
// leader counted itself for an entry its saved mark did not cover; media damage then cut its
// log, it reopened fenced below that entry, and voted for a candidate lacking it, which won and
// overwrote the committed entry ("one-value-per-offset"). The mark is saved before the entries
// are declared durable.
// Seed 8: misdirected writes (9 % of writes) hit both state files' checkpoints; a record that
// never read back failed the round, and the store, reopening by reading its files, found no
// complete checkpoint: every replica of the node halted and a membership cycle waiting for one
// never finished ("liveness"). A store that was open now rewrites its files from memory.
// With the pending mark: seed 172, a fenced replica refused the report of a voter that was only
// behind (its configuration looked different); seed 197, one holding an uncommitted learner
// change never asked; seed 52, a save requested while an uncertain store opened held every
// attach behind a round that never starts (all "liveness").
constexpr PinnedSeed kCiShapePinnedSeeds[] = {
    {34, "a durable mark saved a round late let a fenced replica elect a leader lacking its entry"},
    {8, "a state store reopened from damaged files instead of rewriting them from memory"},
    {172, "a fence report from a voter that was behind was refused"},
    {197, "a fenced replica with an uncommitted change in its log never asked for reports"},
    {52, "a save requested while an uncertain store opened held every attach up"},
};

void ExpectSafe(const ClusterOptions& options, const PinnedSeed& pinned) {
  Cluster cluster(options);
  const RunResult result = cluster.Run();
  std::string trace;
  for (const std::string& line : result.trace) trace += "\n  " + line;
  EXPECT_FALSE(result.violation.has_value())
      << "seed " << pinned.seed << " (" << pinned.what_went_wrong << "): "
      << result.violation->property << ": " << result.violation->detail << trace
      << "\n  replay: " << result.replay_command;
  EXPECT_GT(result.acked, 0u) << "seed " << pinned.seed;
}

TEST(RegressionSeedsTest, FiveNodePinnedSeedsStaySafe) {
  for (const PinnedSeed& pinned : kFiveNodePinnedSeeds) {
    ExpectSafe(FiveNodeSweepOptions(pinned.seed), pinned);
  }
}

TEST(RegressionSeedsTest, DefaultShapePinnedSeedsStaySafe) {
  for (const PinnedSeed& pinned : kDefaultShapePinnedSeeds) {
    ClusterOptions options;
    options.seed = pinned.seed;
    ExpectSafe(options, pinned);
  }
}

TEST(RegressionSeedsTest, CiShapePinnedSeedsStaySafe) {
  for (const PinnedSeed& pinned : kCiShapePinnedSeeds) ExpectSafe(SweepOptions(pinned.seed), pinned);
}

TEST(RegressionSeedsTest, PinnedSeedsStaySafe) {
  for (const PinnedSeed& pinned : kPinnedSeeds) ExpectSafe(LongSweepOptions(pinned.seed), pinned);
}

}  // namespace
}  // namespace eddy::sim::cluster
