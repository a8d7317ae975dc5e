#include "sim/faults/fault_injector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/base/rate.h"
#include "sim/disk/sim_disk.h"

namespace eddy::sim {

using runtime::NodeId;

FaultInjector::FaultInjector(SimWorld& world, FaultProfile profile,
                             std::vector<FaultPhase> schedule, FaultInjectorOptions options,
                             uint64_t seed)
    : world_(world),
      profile_(std::move(profile)),
      schedule_(std::move(schedule)),
      options_(std::move(options)),
      random_(seed) {
  EDDY_CHECK(!schedule_.empty());
  EDDY_CHECK(schedule_.front().healed);
  EDDY_CHECK(schedule_.back().healed);
  for (size_t i = 1; i < schedule_.size(); ++i) {
    EDDY_CHECK_EQ(schedule_[i].start, schedule_[i - 1].end);
    EDDY_CHECK_NE(schedule_[i].healed, schedule_[i - 1].healed);
  }
  for (NodeId id : options_.storage_fault_nodes) world_.node(id);  // Checks they exist.
}

FaultInjector::~FaultInjector() {
  for (const auto& [token, timer] : pending_) world_.loop().Cancel(timer);
}

void FaultInjector::After(Duration delay, absl::AnyInvocable<void()> work) {
  EDDY_CHECK_LT(pending_.size(), kPendingEventsMax);
  const uint64_t token = next_token_++;
  const runtime::TimerId timer =
      world_.loop().ScheduleAfter(delay, [this, token, work = std::move(work)]() mutable {
        pending_.erase(token);
        work();
      });
  pending_.emplace(token, timer);
}

void FaultInjector::Start() {
  EDDY_CHECK(!started_);
  started_ = true;
  for (size_t i = 0; i < schedule_.size(); ++i) {
    After(schedule_[i].start - world_.Now(), [this, i] { BeginPhase(i); });
  }
}

Instant FaultInjector::healed_since() const {
  EDDY_CHECK(healed_);
  return schedule_[phase_index_].start;
}

void FaultInjector::Log(std::string entry) {
  if (log_.size() == kLogEntriesMax) log_.pop_front();
  log_.push_back(absl::StrCat("@", (world_.Now() - Instant()).milliseconds(), "ms ", entry));
}

void FaultInjector::BeginPhase(size_t index) {
  phase_index_ = index;
  ++epoch_;
  healed_ = schedule_[index].healed;
  world_.Count(healed_ ? "injector.healed_phases" : "injector.fault_phases");
  if (healed_) {
    Log("phase: healed");
    Heal();
  } else {
    Log("phase: FAULTS");
    ApplyFaultConditions();
    if (profile_.AnyActionEnabled()) ScheduleNextAction(epoch_);
  }
  if (phase_handler_) phase_handler_(schedule_[index]);
}

void FaultInjector::ApplyFaultConditions() {
  LinkOptions link = options_.clean_link;
  link.loss_ppm = profile_.loss_ppm;
  link.duplicate_ppm = profile_.duplicate_ppm;
  link.corruption_ppm = profile_.corruption_ppm;
  link.latency_spike_ppm = profile_.latency_spike_ppm;
  link.reorder = profile_.reorder;
  link.duplicate_delay_max = profile_.duplicate_delay_max;
  world_.network().SetDefaultLinkOptions(link);
  if (profile_.per_link_rates) {
    // Ordered pairs in ascending order: the draws happen in the same order every run.
    for (NodeId from : world_.node_ids()) {
      for (NodeId to : world_.node_ids()) {
        if (from == to) continue;
        LinkOptions own = link;
        own.loss_ppm = static_cast<uint32_t>(random_.UniformInRange(0, link.loss_ppm));
        own.duplicate_ppm = static_cast<uint32_t>(random_.UniformInRange(0, link.duplicate_ppm));
        own.corruption_ppm = static_cast<uint32_t>(random_.UniformInRange(0, link.corruption_ppm));
        own.latency_max =
            own.latency_min + Duration::Nanoseconds(random_.UniformInRange(
                                  0, 10 * (link.latency_max - link.latency_min).nanoseconds()));
        world_.network().SetLinkOptions(from, to, own);
      }
    }
  }
  for (NodeId id : world_.node_ids()) {
    SimDisk& disk = world_.node(id).sim_disk();
    DiskFaultOptions faults = disk.faults();  // Keeps a slow node's extra latency.
    faults.latency_spike_ppm = profile_.disk_latency_spike_ppm;
    faults.no_space_ppm = profile_.no_space_ppm;
    faults.sync_failure_ppm = profile_.sync_failure_ppm;
    if (options_.storage_fault_nodes.contains(id)) {
      faults.read_corruption_ppm = profile_.read_corruption_ppm;
      faults.write_corruption_ppm = profile_.write_corruption_ppm;
      faults.misdirected_write_ppm = profile_.misdirection_ppm;
      faults.latent_sector_error_ppm = profile_.latent_sector_error_ppm;
    }
    EDDY_CHECK(!faults.DamagesData() || options_.storage_fault_nodes.contains(id));
    disk.SetFaults(faults);
  }
  world_.SetBuggifyEnabled(profile_.buggify);
}

void FaultInjector::Heal() {
  world_.network().HealAll();
  world_.network().SetDefaultLinkOptions(options_.clean_link);
  world_.SetBuggifyEnabled(false);
  for (NodeId id : world_.node_ids()) {
    SimRuntime& node = world_.node(id);
    node.sim_disk().SetFaults({});
    world_.SetSlow(id, Duration::Zero());
    world_.SetClockDrift(id, 0);
    if (!world_.started(id)) continue;  // Joins later, when the harness says so.
    if (!node.up()) {
      Log(absl::StrCat("restart node ", id));
      world_.Restart(id);
    } else if (node.paused()) {
      Log(absl::StrCat("resume node ", id));
      world_.Resume(id);
    }
  }
}

std::vector<FaultInjector::Action> FaultInjector::EnabledActions() const {
  std::vector<Action> actions;
  if (profile_.crashes) actions.push_back(Action::kCrash);
  if (profile_.pauses) actions.push_back(Action::kPause);
  if (profile_.partitions) actions.push_back(Action::kPartition);
  if (profile_.clogging) actions.push_back(Action::kClog);
  if (profile_.flapping) actions.push_back(Action::kFlap);
  if (profile_.connection_resets) actions.push_back(Action::kReset);
  if (profile_.clock_jumps) actions.push_back(Action::kJump);
  if (profile_.clock_drift_ppm_max != 0) actions.push_back(Action::kDrift);
  if (profile_.slow_nodes) actions.push_back(Action::kSlow);
  if (profile_.power_losses) actions.push_back(Action::kPowerLoss);
  return actions;
}

void FaultInjector::ScheduleNextAction(uint64_t epoch) {
  const int64_t mean = profile_.action_interval_mean.nanoseconds();
  const Duration gap =
      Duration::Nanoseconds(random_.UniformInRange(1, std::max<int64_t>(2 * mean, 1)));
  After(gap, [this, epoch] { TakeAction(epoch); });
}

void FaultInjector::Later(Duration delay, uint64_t epoch, absl::AnyInvocable<void()> undo) {
  After(delay, [this, epoch, undo = std::move(undo)]() mutable {
    if (epoch == epoch_) undo();  // Otherwise the healed phase already undid it.
  });
}

Duration FaultInjector::DrawDowntime() {
  return Duration::Nanoseconds(random_.UniformInRange(options_.downtime_min.nanoseconds(),
                                                      options_.downtime_max.nanoseconds()));
}

NodeId FaultInjector::DrawNode() {
  const std::vector<NodeId>& ids = world_.node_ids();
  return ids[random_.Uniform(ids.size())];
}

size_t FaultInjector::unavailable_count() const {
  size_t count = 0;
  for (NodeId id : world_.node_ids()) {
    const SimRuntime& node = world_.node(id);
    if (world_.started(id) && (!node.up() || node.paused())) ++count;
  }
  return count;
}

NodeId FaultInjector::DrawNodeToTakeDown() {
  if (unavailable_count() >= options_.unavailable_nodes_max) return runtime::kNoNode;
  const NodeId id = DrawNode();
  const SimRuntime& node = world_.node(id);
  return node.up() && !node.paused() ? id : runtime::kNoNode;
}

void FaultInjector::TakeAction(uint64_t epoch) {
  if (epoch != epoch_) return;  // The fault phase ended.
  const std::vector<Action> actions = EnabledActions();
  EDDY_CHECK(!actions.empty());
  ++actions_taken_;
  switch (actions[random_.Uniform(actions.size())]) {
    case Action::kCrash:
      Crash(epoch);
      break;
    case Action::kPause:
      Pause(epoch);
      break;
    case Action::kPartition:
      Partition(epoch);
      break;
    case Action::kClog: {
      const NodeId from = DrawNode();
      const NodeId to = DrawNode();
      if (from == to) break;
      const Duration duration = DrawDowntime();
      Log(absl::StrCat("clog ", from, "->", to, " for ", duration.milliseconds(), "ms"));
      world_.network().Clog(from, to, duration);
      break;
    }
    case Action::kFlap: {
      const NodeId a = DrawNode();
      const NodeId b = DrawNode();
      if (a == b) break;
      const Duration half_period = Duration::Milliseconds(random_.UniformInRange(10, 500));
      const Duration total = DrawDowntime();
      Log(absl::StrCat("flap ", a, "<->", b, " every ", half_period.milliseconds(), "ms for ",
                       total.milliseconds(), "ms"));
      world_.network().Flap(a, b, half_period, total);
      break;
    }
    case Action::kReset:
      Reset();
      break;
    case Action::kJump: {
      const NodeId id = DrawNode();
      const Duration forward = Duration::Milliseconds(random_.UniformInRange(1, 10'000));
      Log(absl::StrCat("clock jump node ", id, " +", forward.milliseconds(), "ms"));
      world_.JumpClock(id, forward);
      break;
    }
    case Action::kDrift: {
      const NodeId id = DrawNode();
      const int64_t drift =
          random_.UniformInRange(-profile_.clock_drift_ppm_max, profile_.clock_drift_ppm_max);
      Log(absl::StrCat("clock drift node ", id, " ", drift, "ppm"));
      world_.SetClockDrift(id, drift);
      break;
    }
    case Action::kSlow: {
      const NodeId id = DrawNode();
      const Duration extra = Duration::Milliseconds(random_.UniformInRange(1, 200));
      Log(absl::StrCat("slow node ", id, " +", extra.milliseconds(), "ms"));
      world_.SetSlow(id, extra);
      Later(DrawDowntime(), epoch, [this, id] { world_.SetSlow(id, Duration::Zero()); });
      break;
    }
    case Action::kPowerLoss:
      // Rarer than the other actions: one draw in four.
      if (random_.OneIn(4)) PowerLoss(epoch);
      break;
  }
  ScheduleNextAction(epoch);
}

void FaultInjector::PowerLoss(uint64_t epoch) {
  // Every running node at the same instant, whatever unavailable_nodes_max says: what a
  // group must survive when no replica is left to vouch for the others' last round.
  Log("power loss");
  world_.Count("process.power_loss");
  for (NodeId id : world_.node_ids()) {
    const SimRuntime& node = world_.node(id);
    if (world_.started(id) && node.up() && !node.paused()) CrashNode(id, epoch);
  }
}

void FaultInjector::Reset() {
  // Half the resets hit a client connection (if any is open), half a broker-to-broker one.
  if (random_.OneIn(2)) {
    std::vector<runtime::ConnectionId> clients;
    for (NodeId id : world_.node_ids()) {
      for (runtime::ConnectionId c : world_.network().client_connections(id)) clients.push_back(c);
    }
    if (!clients.empty()) {
      const runtime::ConnectionId victim = clients[random_.Uniform(clients.size())];
      Log(absl::StrCat("reset client connection ", victim));
      world_.network().ResetClient(victim);
      return;
    }
  }
  const NodeId a = DrawNode();
  const NodeId b = DrawNode();
  if (a == b) return;
  Log(absl::StrCat("reset connection ", a, "<->", b));
  world_.network().ResetConnection(a, b);
}

bool FaultInjector::AimCrash(runtime::NodeId node) {
  return AimCrash(node, profile_.aimed_crash_ppm, Duration::Zero());
}

bool FaultInjector::AimCrash(runtime::NodeId node, uint32_t ppm, Duration delay) {
  EDDY_CHECK_LE(ppm, kPpm);
  EDDY_CHECK_GE(delay.nanoseconds(), 0);
  if (healed_ || !profile_.crashes || profile_.aimed_crash_ppm == 0 || ppm == 0) return false;
  if (!DrawPpm(random_, ppm)) return false;
  if (unavailable_count() >= options_.unavailable_nodes_max) return false;
  if (!world_.node(node).up() || world_.node(node).paused()) return false;
  const uint64_t epoch = epoch_;
  After(delay, [this, node, epoch] {
    if (epoch != epoch_ || !world_.node(node).up() || world_.node(node).paused() ||
        unavailable_count() >= options_.unavailable_nodes_max) {
      return;
    }
    Log(absl::StrCat("aimed crash of node ", node, " in a window between durable steps"));
    CrashNode(node, epoch);
  });
  return true;
}

void FaultInjector::Crash(uint64_t epoch) {
  const NodeId id = DrawNodeToTakeDown();
  if (id == runtime::kNoNode) return;
  CrashNode(id, epoch);
}

void FaultInjector::CrashNode(NodeId id, uint64_t epoch) {
  const bool torn = DrawPpm(random_, profile_.torn_write_ppm);
  Log(absl::StrCat("crash node ", id, torn ? " (torn)" : ""));
  world_.Crash(id, CrashOptions{.keep_unsynced_prefix = torn, .tear_last_sector = torn});
  Later(DrawDowntime(), epoch, [this, id] {
    if (world_.node(id).up()) return;
    Log(absl::StrCat("restart node ", id));
    world_.Restart(id);
  });
}

void FaultInjector::Pause(uint64_t epoch) {
  const NodeId id = DrawNodeToTakeDown();
  if (id == runtime::kNoNode) return;
  Log(absl::StrCat("pause node ", id));
  world_.Pause(id);
  Later(DrawDowntime(), epoch, [this, id] {
    if (!world_.node(id).up() || !world_.node(id).paused()) return;
    Log(absl::StrCat("resume node ", id));
    world_.Resume(id);
  });
}

void FaultInjector::Partition(uint64_t epoch) {
  const std::vector<NodeId>& ids = world_.node_ids();
  if (ids.size() < 2) return;
  std::vector<NodeId> side_a, side_b;
  switch (random_.Uniform(3)) {
    case 0: {  // Isolate one.
      const NodeId id = DrawNode();
      Log(absl::StrCat("isolate node ", id));
      world_.network().Isolate(id);
      break;
    }
    case 1:
    case 2: {
      // A random split with both sides non-empty: rotate a random non-trivial mask.
      const uint64_t mask =
          1 + random_.Uniform((uint64_t{1} << std::min<size_t>(ids.size(), 20)) - 2);
      for (size_t i = 0; i < ids.size(); ++i) {
        ((i < 20 && (mask >> i) & 1) ? side_a : side_b).push_back(ids[i]);
      }
      if (side_a.empty() || side_b.empty()) return;
      const bool one_way = random_.OneIn(2);
      std::string a, b;
      for (NodeId id : side_a) absl::StrAppend(&a, a.empty() ? "" : ",", id);
      for (NodeId id : side_b) absl::StrAppend(&b, b.empty() ? "" : ",", id);
      if (one_way) {
        Log(absl::StrCat("partition one-way {", a, "} -> {", b, "}"));
        world_.network().PartitionOneWay(side_a, side_b);
      } else {
        Log(absl::StrCat("partition {", a, "} | {", b, "}"));
        world_.network().Partition(side_a, side_b);
      }
      break;
    }
  }
  Later(DrawDowntime(), epoch, [this] {
    Log("heal partitions");
    world_.Count("injector.partition_heals");
    world_.network().HealPartitions();
  });
}

}  // namespace eddy::sim
