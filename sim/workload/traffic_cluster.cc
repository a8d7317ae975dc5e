#include "sim/workload/traffic_cluster.h"

#include <algorithm>
#include <set>

#include "core/base/check.h"
#include "sim/faults/fault_schedule.h"

namespace eddy::sim {

using runtime::NodeId;

TrafficCluster::TrafficCluster(TrafficClusterOptions options)
    : options_(std::move(options)), client_random_(options_.seed ^ 0xc11e47) {
  world_ = std::make_unique<SimWorld>(SimWorldOptions{
      .seed = options_.seed, .nodes = options_.nodes, .clock_offset_max = Duration::Seconds(3600)});
  world_->SetLifecycleHandlers([this](NodeId id) { StopNode(id); },
                               [this](NodeId id) { StartNode(id); });
  profile_text_ = NoFaults().ToString();
  if (options_.faults) {
    Random fault_random(options_.seed ^ kFaultSeedSalt);
    Random profile_random = fault_random.Fork();
    Random schedule_random = fault_random.Fork();
    const FaultProfile profile = DrawFaultProfile(profile_random);
    std::vector<FaultPhase> schedule =
        DrawFaultSchedule(profile, schedule_random, world_->Now(), options_.run_duration);
    profile_text_ = profile.ToString();
    schedule_text_ = FormatSchedule(schedule);
    FaultInjectorOptions injector_options;
    std::vector<NodeId> storage = options_.storage_fault_nodes;
    if (options_.default_storage_fault_nodes) {
      storage = world_->node_ids();
      storage.erase(storage.begin());  // Keep the lowest id's disk clean.
    }
    injector_options.storage_fault_nodes = std::set<NodeId>(storage.begin(), storage.end());
    injector_ = std::make_unique<FaultInjector>(*world_, profile, std::move(schedule),
                                                std::move(injector_options), fault_random.Next());
  }
  for (NodeId id : world_->node_ids()) StartNode(id);
}

TrafficCluster::~TrafficCluster() {
  // Brokers go before the world, as the world requires.
  nodes_.clear();
  injector_.reset();
}

void TrafficCluster::StartNode(NodeId id) {
  std::vector<NodeId> peers;
  for (NodeId other : world_->node_ids()) {
    if (other != id) peers.push_back(other);
  }
  EDDY_CHECK(nodes_[id] == nullptr);
  nodes_[id] = std::make_unique<TrafficNode>(world_->node(id), std::move(peers));
}

void TrafficCluster::StopNode(NodeId id) {
  auto it = nodes_.find(id);
  EDDY_CHECK(it != nodes_.end() && it->second != nullptr);
  Accumulate(it->second->stats());
  it->second.reset();
}

void TrafficCluster::Accumulate(const TrafficNodeStats& s) {
  totals_.ticks += s.ticks;
  totals_.messages_sent += s.messages_sent;
  totals_.messages_received += s.messages_received;
  totals_.replies_received += s.replies_received;
  totals_.client_requests += s.client_requests;
  totals_.appends += s.appends;
  totals_.syncs += s.syncs;
  totals_.reads += s.reads;
  totals_.disk_errors += s.disk_errors;
  totals_.peer_state_changes += s.peer_state_changes;
  totals_.buggify_taken += s.buggify_taken;
}

void TrafficCluster::ConnectClient() {
  const std::vector<NodeId>& ids = world_->node_ids();
  const NodeId broker = ids[client_random_.Uniform(ids.size())];
  ++client_connections_;
  connected_ = true;
  client_in_flight_ = 0;
  connection_ =
      world_->network().ConnectClient(broker, {.on_message =
                                                   [this](std::vector<uint8_t>) {
                                                     ++client_replies_;
                                                     if (client_in_flight_ > 0) --client_in_flight_;
                                                   },
                                               .on_closed = [this] { connected_ = false; }});
}

void TrafficCluster::ClientStep() {
  if (!connected_) {
    ConnectClient();
  } else if (client_random_.OneIn(50)) {
    world_->network().CloseClient(connection_);
    connected_ = false;
  } else if (client_in_flight_ < kClientRequestsInFlightMax) {
    ++client_in_flight_;
    std::vector<uint8_t> request(1 + client_random_.Uniform(64));
    for (uint8_t& byte : request) byte = static_cast<uint8_t>(client_random_.Next());
    world_->network().SendFromClient(connection_, std::move(request));
  }
  const Duration gap = Duration::Milliseconds(1 + static_cast<int64_t>(client_random_.Uniform(50)));
  client_timer_ = world_->loop().ScheduleAfter(gap, [this] { ClientStep(); });
}

TrafficRunResult TrafficCluster::Run() {
  const Instant end = world_->Now() + options_.run_duration;
  if (injector_ != nullptr) injector_->Start();
  client_timer_ = world_->loop().ScheduleAfter(Duration::Zero(), [this] { ClientStep(); });
  world_->RunUntil(end);
  world_->loop().Cancel(client_timer_);
  TrafficRunResult result;
  const TrafficNodeStats finished = totals_;  // Incarnations that already ended.
  for (const auto& [id, node] : nodes_) {
    if (node != nullptr) Accumulate(node->stats());
  }
  result.totals = totals_;
  totals_ = finished;  // So a second Run() call would not count live nodes twice.
  result.trace_hash = world_->trace().value();
  result.events = world_->trace().events_folded();
  result.end = world_->Now();
  result.profile = profile_text_;
  result.schedule = schedule_text_;
  result.coverage = world_->Coverage();
  result.client_replies = client_replies_;
  result.client_connections = client_connections_;
  return result;
}

}  // namespace eddy::sim
