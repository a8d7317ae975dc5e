#include "sim/runtime/sim_world.h"

#include <algorithm>
#include <span>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "sim/base/rate.h"
#include "sim/trace/digest.h"

namespace eddy::sim {

using runtime::NodeId;

std::string FormatCoverage(const FaultCoverage& coverage) {
  std::string out;
  for (const auto& [name, count] : coverage) absl::StrAppend(&out, name, "=", count, "\n");
  return out;
}

SimWorld::SimWorld(SimWorldOptions options)
    : options_(std::move(options)),
      seeder_(options_.seed),
      crash_random_(seeder_.Next()),
      buggify_site_random_(seeder_.Next()) {
  EDDY_CHECK(!options_.nodes.empty());
  EDDY_CHECK_LE(options_.nodes.size(), kNodesMax);
  std::sort(options_.nodes.begin(), options_.nodes.end());
  EDDY_CHECK(std::adjacent_find(options_.nodes.begin(), options_.nodes.end()) ==
             options_.nodes.end());
  network_ = std::make_unique<SimNetwork>(loop_, seeder_.Next(), &trace_);
  network_->SetDefaultLinkOptions(options_.link);
  not_started_.insert(options_.started_later.begin(), options_.started_later.end());
  for (NodeId id : options_.nodes) {
    auto node = std::make_unique<SimRuntime>(*this, id, seeder_.Next());
    const bool up = !not_started_.contains(id);
    network_->AddNode(id, node->node_clock(), up);
    if (!up) {
      node->node_clock().SetDown(true);
      node->sim_disk().SetPoweredOn(false);
    }
    nodes_.emplace(id, std::move(node));
    addresses_.emplace(id, runtime::Address{absl::StrCat("node-", id), kDefaultPort});
  }
  EDDY_CHECK_EQ(nodes_.size(), options_.nodes.size());
  for (NodeId id : not_started_) EDDY_CHECK_MSG(nodes_.contains(id), "unknown node " << id);
}

SimWorld::~SimWorld() {
  // Pending world events capture pointers into the network, the nodes and the clients; drop
  // them first.
  for (auto& [id, node] : nodes_) node->node_clock().SetDown(true);
  for (auto& client : clients_) client->node_clock().SetDown(true);
}

SimClient& SimWorld::AddClient() {
  EDDY_CHECK_LT(clients_.size(), kClientsMax);
  const auto index = static_cast<uint32_t>(clients_.size());
  // From the seed and the index alone: no other stream moves (the seeder is not drawn from).
  clients_.push_back(
      std::make_unique<SimClient>(*this, index, MixWord(options_.seed ^ kClientSeedSalt, index)));
  return *clients_.back();
}

SimClient& SimWorld::client(uint32_t index) {
  EDDY_CHECK_LT(index, clients_.size());
  return *clients_[index];
}

const runtime::Address& SimWorld::address(NodeId id) const {
  auto it = addresses_.find(id);
  EDDY_CHECK_MSG(it != addresses_.end(), "unknown node " << id);
  return it->second;
}

void SimWorld::SetAddress(NodeId id, runtime::Address address) {
  EDDY_CHECK(nodes_.contains(id));
  const std::optional<NodeId> holder = Resolve(address);
  EDDY_CHECK_MSG(!holder.has_value() || *holder == id,
                 address.host << ":" << address.port << " is node " << *holder << "'s");
  addresses_[id] = std::move(address);
}

std::optional<NodeId> SimWorld::Resolve(const runtime::Address& address) const {
  for (const auto& [id, listening] : addresses_) {
    if (listening == address) return id;
  }
  return std::nullopt;
}

SimRuntime& SimWorld::node(NodeId id) {
  auto it = nodes_.find(id);
  EDDY_CHECK_MSG(it != nodes_.end(), "unknown node " << id);
  return *it->second;
}

const SimRuntime& SimWorld::node(NodeId id) const {
  auto it = nodes_.find(id);
  EDDY_CHECK_MSG(it != nodes_.end(), "unknown node " << id);
  return *it->second;
}

void SimWorld::SetLifecycleHandlers(absl::AnyInvocable<void(NodeId)> on_crash,
                                    absl::AnyInvocable<void(NodeId)> on_restart) {
  on_crash_ = std::move(on_crash);
  on_restart_ = std::move(on_restart);
}

void SimWorld::CountFault(const std::string& name, NodeId id) {
  ++counters_[name];
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(name.data()), name.size());
  trace_.Fold(loop_.Now(), id, TraceEvent::kFault, Digest64(bytes));
}

void SimWorld::Start(NodeId id) {
  SimRuntime& target = node(id);
  EDDY_CHECK_MSG(not_started_.erase(id) == 1, "node " << id << " was already started");
  EDDY_CHECK(!target.up());
  target.sim_disk().SetPoweredOn(true);
  target.node_clock().SetDown(false);
  network_->SetNodeUp(id, true);
  if (on_restart_) on_restart_(id);
  EDDY_CHECK(target.up());
}

void SimWorld::Crash(NodeId id, const CrashOptions& crash) {
  SimRuntime& target = node(id);
  EDDY_CHECK_MSG(target.up(), "crash of node " << id << " which is down");
  CountFault("process.crash", id);
  if (crash.keep_unsynced_prefix) CountFault("process.crash_keeping_unsynced_tail", id);
  // Order: silence the network first (peers learn, in-flight dies), then destroy everything
  // pending on the node, then take the disk down to its durable state.
  network_->SetNodeUp(id, false);
  target.node_clock().Resume();
  target.node_clock().SetDown(true);
  target.sim_disk().Crash(crash, crash_random_);
  target.sim_disk().SetPoweredOn(false);
  if (on_crash_) on_crash_(id);
  EDDY_CHECK(!target.up());
}

void SimWorld::Restart(NodeId id) {
  SimRuntime& target = node(id);
  EDDY_CHECK_MSG(!target.up(), "restart of node " << id << " which is up");
  EDDY_CHECK_MSG(!not_started_.contains(id), "restart of node " << id << " never started");
  CountFault("process.restart", id);
  target.Reincarnate();
  target.sim_disk().SetPoweredOn(true);
  target.node_clock().SetDown(false);
  network_->SetNodeUp(id, true);
  if (on_restart_) on_restart_(id);
  EDDY_CHECK(target.up());
}

void SimWorld::Pause(NodeId id) {
  SimRuntime& target = node(id);
  EDDY_CHECK(target.up());
  if (target.paused()) return;
  CountFault("process.pause", id);
  target.node_clock().Pause();
}

void SimWorld::Resume(NodeId id) {
  SimRuntime& target = node(id);
  EDDY_CHECK(target.up());
  target.node_clock().Resume();
}

void SimWorld::SetSlow(NodeId id, Duration extra_latency) {
  EDDY_CHECK_GE(extra_latency, Duration::Zero());
  SimRuntime& target = node(id);
  if (extra_latency > Duration::Zero()) CountFault("process.slow", id);
  DiskFaultOptions faults = target.sim_disk().faults();
  faults.extra_latency = extra_latency;
  target.sim_disk().SetFaults(faults);
  network_->SetNodeExtraLatency(id, extra_latency);
}

void SimWorld::SetClockDrift(NodeId id, int64_t drift_ppm) {
  if (drift_ppm != 0) CountFault("process.clock_drift", id);
  node(id).node_clock().SetDriftPpm(drift_ppm);
}

void SimWorld::JumpClock(NodeId id, Duration forward) {
  CountFault("process.clock_jump", id);
  node(id).node_clock().Jump(forward);
}

void SimWorld::StepWallClock(NodeId id, Duration delta) {
  node(id).sim_wall_clock().Step(delta);  // counted by the clock's step hook
}

bool SimWorld::BuggifySiteEnabled(const char* site) {
  // Keyed by the site's text, never its address: addresses differ between builds and runs.
  auto [it, inserted] = buggify_sites_.try_emplace(std::string(site), false);
  if (inserted) {
    EDDY_CHECK_LE(buggify_sites_.size(), kBuggifySitesMax);
    it->second = DrawPpm(buggify_site_random_, options_.buggify_site_ppm);
    if (it->second) ++counters_["buggify.sites_enabled"];
  }
  return it->second;
}

FaultCoverage SimWorld::Coverage() const {
  // Every kind the world itself injects is listed, fired or not, so a report shows what was
  // never exercised.
  FaultCoverage coverage = {
      {"buggify.fired", 0},       {"buggify.sites_enabled", 0},
      {"process.clock_drift", 0}, {"process.clock_jump", 0},
      {"process.crash", 0},       {"process.crash_keeping_unsynced_tail", 0},
      {"process.pause", 0},       {"process.restart", 0},
      {"process.slow", 0},
  };
  for (const auto& [name, count] : counters_) coverage[name] = count;
  const SimNetworkStats& net = network_->stats();
  const std::pair<const char*, uint64_t> network_counters[] = {
      {"net.peer_messages_sent", net.peer_messages_sent},
      {"net.peer_messages_delivered", net.peer_messages_delivered},
      {"net.lost", net.lost},
      {"net.duplicated", net.duplicated},
      {"net.corrupted", net.corrupted},
      {"net.corruption_detected", net.corruption_detected},
      {"net.reordered", net.reordered},
      {"net.latency_spikes", net.latency_spikes},
      {"net.clogged", net.clogged},
      {"net.clogs", net.clogs},
      {"net.partitions", net.partitions},
      {"net.link_cuts", net.link_cuts},
      {"net.flaps", net.flaps},
      {"net.connection_resets", net.connection_resets},
      {"net.dropped_cut", net.dropped_cut},
      {"net.dropped_node_down", net.dropped_node_down},
      {"net.dropped_reset", net.dropped_reset},
      {"net.client_connections_reset", net.client_connections_reset},
  };
  for (const auto& [name, count] : network_counters) coverage[name] = count;
  SimDiskStats disk;
  for (const auto& [id, node] : nodes_) {
    const SimDiskStats& s = node->sim_disk().stats();
    disk.torn_sectors += s.torn_sectors;
    disk.latency_spikes += s.latency_spikes;
    disk.read_corruptions += s.read_corruptions;
    disk.write_corruptions += s.write_corruptions;
    disk.misdirected_writes += s.misdirected_writes;
    disk.latent_sector_errors += s.latent_sector_errors;
    disk.latent_sector_read_failures += s.latent_sector_read_failures;
    disk.injected_no_space += s.injected_no_space;
    disk.sync_failures += s.sync_failures;
  }
  coverage["disk.torn_sectors"] = disk.torn_sectors;
  coverage["disk.latency_spikes"] = disk.latency_spikes;
  coverage["disk.read_corruptions"] = disk.read_corruptions;
  coverage["disk.write_corruptions"] = disk.write_corruptions;
  coverage["disk.misdirected_writes"] = disk.misdirected_writes;
  coverage["disk.latent_sector_errors"] = disk.latent_sector_errors;
  coverage["disk.latent_sector_read_failures"] = disk.latent_sector_read_failures;
  coverage["disk.injected_no_space"] = disk.injected_no_space;
  coverage["disk.sync_failures"] = disk.sync_failures;
  return coverage;
}

}  // namespace eddy::sim
