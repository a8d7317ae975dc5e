// Proves the world's node views and process faults: each node's Random is derived from the world
// seed (same seed -> same streams; nodes and incarnations differ); a crash destroys the node's
// pending timers, disk completions and undelivered messages, keeps only durable disk state, and
// ignores whatever the dead broker's leftovers submit until the restart; a pause holds timers,
// disk completions and messages until resume; a slow node is slower on disk and network; clock
// drift and jumps reach the node's clock; buggify is off by default, deterministic per seed and
// keyed by site text; lifecycle hooks and coverage counters see every fault.
#include "sim/runtime/sim_world.h"

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/base/status_matchers.h"
#include "gtest/gtest.h"
#include "sim/loop/await.h"

namespace eddy::sim {
namespace {

using ::eddy::testing::IsOk;
using runtime::FileHandle;
using runtime::NodeId;

FileHandle OpenSynced(SimWorld& world, NodeId id, const std::string& path) {
  runtime::Disk& disk = world.node(id).disk();
  FileHandle file = AwaitValue<FileHandle>(world.loop(), [&](auto done) {
                      disk.Open(path, runtime::OpenMode::kCreateNew, std::move(done));
                    }).value();
  EXPECT_THAT(
      AwaitStatus(world.loop(), [&](auto done) { disk.SyncDirectory("", std::move(done)); }),
      IsOk());
  return file;
}

TEST(SimWorldTest, NodeRandomsDeriveFromTheSeed) {
  SimWorld a({.seed = 5});
  SimWorld b({.seed = 5});
  SimWorld c({.seed = 6});
  const uint64_t a1 = a.node(1).random().Next();
  EXPECT_EQ(a1, b.node(1).random().Next());
  EXPECT_NE(a1, a.node(2).random().Next());
  EXPECT_NE(a1, c.node(1).random().Next());
  EXPECT_EQ(a.node(3).self(), 3u);
}

TEST(SimWorldTest, RestartStartsANewIncarnationWithAFreshDeterministicRandom) {
  SimWorld a({.seed = 5});
  SimWorld b({.seed = 5});
  for (SimWorld* world : {&a, &b}) {
    world->node(1).random().Next();  // Draws in the first life do not shift the second's.
    world->Crash(1);
    world->Restart(1);
  }
  a.node(1).random().Next();
  SimWorld fresh({.seed = 5});
  EXPECT_EQ(a.node(1).incarnation(), 1u);
  const uint64_t second_life_b = b.node(1).random().Next();
  EXPECT_NE(second_life_b, fresh.node(1).random().Next());
  SimWorld c({.seed = 5});
  c.Crash(1);
  c.Restart(1);
  EXPECT_EQ(second_life_b, c.node(1).random().Next());
}

TEST(SimWorldTest, CrashDestroysPendingWorkAndKeepsOnlyDurableBytes) {
  SimWorld world({.seed = 1});
  SimRuntime& node = world.node(1);
  const FileHandle file = OpenSynced(world, 1, "log");
  ASSERT_THAT(AwaitValue<uint64_t>(world.loop(),
                                   [&](auto done) {
                                     node.disk().Append(file, std::vector<uint8_t>(100, 1),
                                                        std::move(done));
                                   }),
              IsOk());
  ASSERT_THAT(
      AwaitStatus(world.loop(), [&](auto done) { node.disk().Sync(file, std::move(done)); }),
      IsOk());
  int ran = 0;
  node.clock().ScheduleAfter(Duration::Seconds(1), [&] { ++ran; });
  node.disk().Append(file, std::vector<uint8_t>(50, 2), [&](absl::StatusOr<uint64_t>) { ++ran; });
  std::vector<NodeId> crashed;
  world.SetLifecycleHandlers([&](NodeId id) { crashed.push_back(id); }, nullptr);
  world.Crash(1);
  EXPECT_EQ(crashed, std::vector<NodeId>{1});
  // The dead broker's leftovers: nothing they submit may run or land.
  node.clock().Post([&] { ++ran; });
  node.disk().Remove("log", [&](absl::Status) { ++ran; });
  world.loop().RunUntilIdle();
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(node.up());
  EXPECT_EQ(node.sim_disk().FileContents("log"), std::vector<uint8_t>(100, 1));
  world.Restart(1);
  EXPECT_TRUE(node.up());
  auto reopened = AwaitValue<FileHandle>(world.loop(), [&](auto done) {
    node.disk().Open("log", runtime::OpenMode::kExisting, std::move(done));
  });
  EXPECT_THAT(reopened, IsOk());
  const FaultCoverage coverage = world.Coverage();
  EXPECT_EQ(coverage.at("process.crash"), 1u);
  EXPECT_EQ(coverage.at("process.restart"), 1u);
}

TEST(SimWorldTest, CrashDropsMessagesAlreadyQueuedOnThePausedNode) {
  SimWorld world({.seed = 1});
  int delivered = 0;
  world.node(2).transport().SetPeerHandler([&](NodeId, std::vector<uint8_t>) { ++delivered; });
  world.Pause(2);
  world.node(1).transport().SendToPeer(2, {1, 2, 3});
  world.RunFor(Duration::Seconds(1));  // Arrived, queued on the paused node.
  EXPECT_EQ(world.node(2).node_clock().pending_count(), 1u);
  world.Crash(2);
  world.Restart(2);
  world.loop().RunUntilIdle();
  EXPECT_EQ(delivered, 0);
}

TEST(SimWorldTest, PauseHoldsTimersDiskAndMessagesUntilResume) {
  SimWorld world({.seed = 1});
  SimRuntime& node = world.node(2);
  std::vector<std::string> events;
  node.transport().SetPeerHandler([&](NodeId, std::vector<uint8_t>) { events.push_back("msg"); });
  world.Pause(2);
  node.clock().ScheduleAfter(Duration::Milliseconds(1), [&] { events.push_back("timer"); });
  node.disk().CreateDirectories("d", [&](absl::Status) { events.push_back("disk"); });
  world.node(1).transport().SendToPeer(2, {9});
  world.RunFor(Duration::Seconds(5));
  EXPECT_TRUE(events.empty());
  world.Resume(2);
  const Instant resumed = world.Now();
  Instant first_event;
  node.clock().Post([&] { first_event = world.Now(); });
  world.loop().RunUntilIdle();
  EXPECT_EQ(events.size(), 3u);
  EXPECT_EQ(first_event, resumed);
  EXPECT_EQ(world.Coverage().at("process.pause"), 1u);
}

TEST(SimWorldTest, SlowNodeIsSlowerOnDiskAndNetwork) {
  SimWorld world({.seed = 1,
                  .link = {.latency_min = Duration::Milliseconds(1),
                           .latency_max = Duration::Milliseconds(1)}});
  world.SetSlow(2, Duration::Milliseconds(40));
  Instant arrived;
  world.node(2).transport().SetPeerHandler(
      [&](NodeId, std::vector<uint8_t>) { arrived = world.Now(); });
  world.node(1).transport().SendToPeer(2, {1});
  world.loop().RunUntilIdle();
  EXPECT_EQ(arrived - Instant(), Duration::Milliseconds(41));
  const Instant before = world.Now();
  ASSERT_THAT(
      AwaitStatus(world.loop(),
                  [&](auto done) { world.node(2).disk().CreateDirectories("x", std::move(done)); }),
      IsOk());
  EXPECT_EQ(world.Now() - before, Duration::Milliseconds(40) + SimDiskOptions{}.operation_latency);
}

TEST(SimWorldTest, DriftAndJumpReachTheNodeClockOnly) {
  SimWorld world({.seed = 1});
  world.SetClockDrift(1, 100'000);
  world.JumpClock(3, Duration::Seconds(60));
  world.RunFor(Duration::Seconds(10));
  EXPECT_EQ(world.node(1).clock().Now() - Instant(), Duration::Seconds(11));
  EXPECT_EQ(world.node(2).clock().Now() - Instant(), Duration::Seconds(10));
  EXPECT_EQ(world.node(3).clock().Now() - Instant(), Duration::Seconds(70));
  EXPECT_EQ(world.Coverage().at("process.clock_jump"), 1u);
}

TEST(SimWorldTest, ClockOffsetsGiveEachNodeItsOwnEpoch) {
  SimWorld world({.seed = 1, .clock_offset_max = Duration::Seconds(3600)});
  std::set<int64_t> starts;
  for (NodeId id : world.node_ids()) {
    const Instant start = world.node(id).clock().Now();
    EXPECT_LE(start - Instant(), Duration::Seconds(3600));
    starts.insert(start.nanoseconds());
  }
  EXPECT_EQ(starts.size(), 3u);
  // Timers still fire after their delay in world time.
  Instant fired;
  world.node(2).clock().ScheduleAfter(Duration::Seconds(2), [&] { fired = world.Now(); });
  world.loop().RunUntilIdle();
  EXPECT_EQ(fired, Instant() + Duration::Seconds(2));
}

TEST(SimWorldTest, WallClocksAreSkewedPerNodeAndSteppedApartFromTheMonotonicClock) {
  const WallClockOptions wall{.skew_max = Duration::Seconds(2)};
  SimWorld world({.seed = 1, .clock_offset_max = Duration::Seconds(3600), .wall_clock = wall});
  std::set<int64_t> readings;
  for (NodeId id : world.node_ids()) {
    // The monotonic clock's random start does not move the wall clock: only the skew does.
    const int64_t skew = world.node(id).wall_clock().NowMs() - wall.epoch_ms;
    EXPECT_LE(std::abs(skew), 2000);
    readings.insert(skew);
  }
  EXPECT_EQ(readings.size(), 3u);
  const int64_t before = world.node(2).wall_clock().NowMs();
  const Instant local = world.node(2).clock().Now();
  world.StepWallClock(2, Duration::Seconds(-30));
  EXPECT_EQ(world.node(2).wall_clock().NowMs(), before - 30'000);
  EXPECT_EQ(world.node(2).clock().Now(), local);
  EXPECT_EQ(world.Coverage().at("process.wall_clock_step"), 1u);
  // A crash and restart keep the host's wall clock.
  world.Crash(2);
  world.Restart(2);
  EXPECT_EQ(world.node(2).wall_clock().NowMs(), before - 30'000);
  world.RunFor(Duration::Seconds(5));
  EXPECT_EQ(world.node(2).wall_clock().NowMs(), before - 25'000);
}

TEST(SimWorldTest, NodesStartedLaterAreUnreachableUntilStarted) {
  SimWorld world({.seed = 1, .started_later = {3}});
  EXPECT_TRUE(world.node(1).up());
  EXPECT_FALSE(world.node(3).up());
  std::vector<std::string> seen;
  world.node(1).transport().SetPeerStateHandler([&](NodeId peer, bool reachable) {
    seen.push_back(std::to_string(peer) + (reachable ? "+" : "-"));
  });
  int delivered = 0;
  world.node(1).transport().SendToPeer(3, {1});
  world.loop().RunUntilIdle();
  std::vector<NodeId> started;
  world.SetLifecycleHandlers(nullptr, [&](NodeId id) { started.push_back(id); });
  world.Start(3);
  EXPECT_EQ(started, std::vector<NodeId>{3});
  world.node(3).transport().SetPeerHandler([&](NodeId, std::vector<uint8_t>) { ++delivered; });
  world.node(1).transport().SendToPeer(3, {2});
  world.loop().RunUntilIdle();
  EXPECT_EQ(delivered, 1);  // Only the message sent after the start.
  EXPECT_EQ(seen, std::vector<std::string>{"3+"});
  EXPECT_EQ(world.node(3).incarnation(), 0u);
  EXPECT_EQ(world.Coverage().at("process.restart"), 0u);  // A start is not a fault.
}

// A runtime that is not the simulator's: Buggify must default to false.
class RealishRuntime : public runtime::Runtime {
 public:
  runtime::NodeId self() const override { return 1; }
  runtime::Clock& clock() override { std::abort(); }
  runtime::WallClock& wall_clock() override { std::abort(); }
  runtime::Disk& disk() override { std::abort(); }
  runtime::Transport& transport() override { std::abort(); }
  Random& random() override { return random_; }

 private:
  Random random_{1};
};

std::vector<bool> BuggifyPattern(SimWorld& world, NodeId id) {
  std::vector<bool> fired;
  for (int call = 0; call < 200; ++call) {
    // Eight call sites, each named by its text as EDDY_BUGGIFY would.
    const std::string site = "file.cc:" + std::to_string(call % 8);
    fired.push_back(world.node(id).Buggify(site.c_str()));
  }
  return fired;
}

TEST(SimWorldTest, BuggifyIsOffByDefaultAndDeterministicPerSeedWhenOn) {
  RealishRuntime real;
  EXPECT_FALSE(EDDY_BUGGIFY(real));
  SimWorld off({.seed = 3});
  for (bool fired : BuggifyPattern(off, 1)) EXPECT_FALSE(fired);

  SimWorld a({.seed = 3, .buggify = true, .buggify_site_ppm = 500'000});
  SimWorld b({.seed = 3, .buggify = true, .buggify_site_ppm = 500'000});
  const std::vector<bool> pattern = BuggifyPattern(a, 1);
  EXPECT_EQ(pattern, BuggifyPattern(b, 1));
  // Sites are all-or-nothing for the run: a disabled site never fires.
  std::vector<int> fired_per_site(8, 0);
  for (size_t call = 0; call < pattern.size(); ++call) fired_per_site[call % 8] += pattern[call];
  const uint64_t enabled = a.Coverage().at("buggify.sites_enabled");
  EXPECT_GT(enabled, 0u);
  EXPECT_LT(enabled, 8u);
  int sites_that_fired = 0;
  for (int count : fired_per_site) sites_that_fired += count > 0;
  EXPECT_LE(static_cast<uint64_t>(sites_that_fired), enabled);
  EXPECT_GT(sites_that_fired, 0);
  EXPECT_EQ(a.Coverage().at("buggify.fired"), a.node(1).buggify_fired());
}

TEST(SimWorldTest, FaultCoverageFormatsInNameOrder) {
  SimWorld world({.seed = 1});
  world.Pause(1);
  const std::string text = FormatCoverage(world.Coverage());
  EXPECT_NE(text.find("process.pause=1\n"), std::string::npos);
  EXPECT_LT(text.find("disk."), text.find("net."));
}

}  // namespace
}  // namespace eddy::sim
