#include "sim/broker/broker_sim.h"

#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/broker_connection.h"
#include "core/base/check.h"
#include "core/broker/broker.h"
#include "core/group/offsets_topic.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/metadata.h"
#include "core/record/record_batch_reader.h"
#include "sim/broker/data_checker.h"
#include "sim/broker/group_checker.h"
#include "sim/broker/sim_groups.h"
#include "sim/broker/sim_admin.h"
#include "sim/broker/sim_producer.h"
#include "sim/broker/topology.h"
#include "sim/faults/fault_injector.h"
#include "sim/faults/fault_profile.h"
#include "sim/faults/fault_schedule.h"

namespace eddy::sim::broker {
namespace {

constexpr uint64_t kFaultSalt = 0xb20c'e55eULL;
constexpr uint64_t kWallClockSalt = 0x3a11'c10cULL;

// The world, its brokers (rebuilt on every restart) and the injector.
class World {
 public:
  explicit World(const BrokerSimOptions& options) : options_(options) {
    std::vector<runtime::NodeId> ids;
    for (int i = 1; i <= options.brokers; ++i) ids.push_back(static_cast<runtime::NodeId>(i));
    Random wall(options.seed ^ kWallClockSalt);
    world_ = std::make_unique<SimWorld>(SimWorldOptions{
        .seed = options.seed,
        .nodes = ids,
        .wall_clock = options.faults ? DrawWallClockFaults(wall) : WallClockOptions{}});
    world_->SetLifecycleHandlers([this](runtime::NodeId id) { Retire(id); },
                                 [this](runtime::NodeId id) { Build(id); });
    for (runtime::NodeId id : ids) Build(id);
    if (options.faults) StartFaults(ids);
  }
  ~World() {
    injector_.reset();
    brokers_.clear();
  }

  SimWorld& world() { return *world_; }
  const std::string& profile() const { return profile_; }
  bool healed() const { return injector_ == nullptr || injector_->healed(); }

  // A broker whose producer tables met a batch out of sequence when applying (counted over
  // every incarnation), or std::nullopt.
  std::optional<std::string> ProducerStateAnomaly() {
    CollectProducerStats();
    for (const auto& [id, s] : producer_stats_) {
      if (s.anomalies() > 0) {
        return absl::StrCat("broker ", id, " applied idempotent batches out of sequence: ",
                            s.duplicates_applied, " duplicates, ", s.out_of_order_applied,
                            " gaps, ", s.stale_epochs_applied, " stale epochs");
      }
    }
    return std::nullopt;
  }
  // An operator's graceful hand-over on one live broker (what eddyd does on SIGTERM).
  void TransferLeadershipAway(Random& random) {
    std::vector<eddy::broker::Broker*> live;
    for (auto& [id, b] : brokers_) {
      if (b != nullptr) live.push_back(b.get());
    }
    if (!live.empty()) live[random.Uniform(live.size())]->TransferLeadershipAway();
  }

  // What keeps the metadata from having converged, or std::nullopt: every broker's image the
  // same, listing none of the deleted topics, and every broker hosting exactly the partition
  // replicas its image places on it (a deleted topic's replicas are gone).
  std::optional<std::string> MetadataDivergence(const Topology& topology) {
    std::optional<std::string> first_state;
    std::string first_view;
    for (auto& [id, b] : brokers_) {
      if (b == nullptr) return absl::StrCat("broker ", id, " is down");
      const controller::MetadataImage& image = b->image();
      const std::string state = image.ToState().SerializeAsString();
      if (!first_state.has_value()) {
        first_state = state;
        raft::driver::GroupDriver* m =
            b->node().group(controller::MetadataImage::kMetadataGroupId);
        first_view = absl::StrCat("broker ", id, ": ", image.records_applied(), " records, at ",
                                  m == nullptr ? -2 : m->applied_offset());
      }
      if (state != *first_state) {
        raft::driver::GroupDriver* m =
            b->node().group(controller::MetadataImage::kMetadataGroupId);
        return absl::StrCat("broker ", id, "'s image differs (", image.records_applied(),
                            " records applied, metadata replica ",
                            m == nullptr ? "absent"
                            : m->halted() ? "halted"
                            : m->raft() == nullptr ? "not running"
                                                   : absl::StrCat("at ", m->applied_offset()),
                            m == nullptr || m->raft() == nullptr
                                ? std::string()
                                : absl::StrCat(" log end ", m->log_last_offset(), " role ",
                                               static_cast<int>(m->raft()->role()), " term ",
                                               m->raft()->term(), " leader ", m->raft()->leader(),
                                               m->fenced() ? " FENCED" : "", " failures ",
                                               m->stats().failures, " opens ", m->stats().opens,
                                               " votes_suppressed ", m->stats().votes_suppressed),
                            "; ", first_view, ")");
      }
      for (const std::string& name : topology.deleted()) {
        if (image.FindTopic(name) != nullptr) {
          return absl::StrCat("deleted topic ", name, " still listed by broker ", id);
        }
      }
      std::set<raft::driver::GroupId> wanted;
      for (const controller::HostedReplica& r :
           image.ReplicasOn(static_cast<controller::BrokerId>(id))) {
        wanted.insert(r.group_id);
      }
      std::set<raft::driver::GroupId> hosted;
      for (const auto& [group, driver] : b->node().groups()) {
        if (group != controller::MetadataImage::kMetadataGroupId) hosted.insert(group);
      }
      if (hosted != wanted) {
        return absl::StrCat("broker ", id, " hosts ", hosted.size(), " partition replicas, its ",
                            "image places ", wanted.size(), " on it");
      }
    }
    return std::nullopt;
  }

  // Each broker's view of one partition, for a liveness violation's message.
  std::string DescribePartition(const PartitionKey& partition) {
    std::string out;
    for (auto& [id, b] : brokers_) {
      absl::StrAppend(&out, " [broker ", id);
      if (b == nullptr) {
        absl::StrAppend(&out, " down]");
        continue;
      }
      const controller::TopicInfo* topic = b->image().FindTopic(partition.first);
      if (topic == nullptr || partition.second >= static_cast<int32_t>(topic->partitions.size())) {
        absl::StrAppend(&out, " unknown]");
        continue;
      }
      const controller::PartitionInfo& p = topic->partitions[partition.second];
      absl::StrAppend(&out, " group ", p.group_id, " replicas ", absl::StrJoin(p.replicas, ","));
      raft::driver::GroupDriver* g = b->node().group(p.group_id);
      if (g == nullptr) {
        absl::StrAppend(&out, " not hosted]");
      } else if (g->raft() == nullptr) {
        absl::StrAppend(&out, g->halted() ? " halted]" : " not running]");
      } else {
        absl::StrAppend(&out, " role ", static_cast<int>(g->raft()->role()), " term ",
                        g->raft()->term(), " leader ", g->raft()->leader(), " hwm ",
                        g->kafka_high_watermark(), "]");
      }
    }
    return out;
  }

  uint64_t IdempotentDuplicates() {
    CollectProducerStats();
    return idempotent_duplicates_;
  }

 private:
  // A crashed broker's counters are kept before it goes.
  void Retire(runtime::NodeId id) {
    if (brokers_[id] != nullptr) Add(id, *brokers_[id]);
    brokers_[id].reset();
  }
  void Add(runtime::NodeId id, const eddy::broker::Broker& b) {
    producer::ProducerStateStats& total = retired_stats_[id];
    const producer::ProducerStateStats& s = b.producer_state_stats();
    total.duplicates_applied += s.duplicates_applied;
    total.out_of_order_applied += s.out_of_order_applied;
    total.stale_epochs_applied += s.stale_epochs_applied;
    retired_duplicates_ += b.stats().idempotent_duplicates;
  }
  void CollectProducerStats() {
    producer_stats_ = retired_stats_;
    idempotent_duplicates_ = retired_duplicates_;
    for (const auto& [id, b] : brokers_) {
      if (b == nullptr) continue;
      const producer::ProducerStateStats& s = b->producer_state_stats();
      producer::ProducerStateStats& total = producer_stats_[id];
      total.duplicates_applied += s.duplicates_applied;
      total.out_of_order_applied += s.out_of_order_applied;
      total.stale_epochs_applied += s.stale_epochs_applied;
      idempotent_duplicates_ += b->stats().idempotent_duplicates;
    }
  }

  void Build(runtime::NodeId id) {
    eddy::broker::BrokerOptions o;
    o.controllers = world_->node_ids();
    o.advertised = world_->address(id);
    o.topic_defaults = {.num_partitions = options_.partitions_per_topic,
                        .replication_factor = static_cast<int16_t>(std::min(3, options_.brokers))};
    o.planted_bug = options_.planted_bug;
    o.group_template.bug = options_.driver_bug;
    o.offsets_topic_partitions = 3;
    o.group_coordinator.initial_rebalance_delay_ms = 300;
    brokers_[id] = std::make_unique<eddy::broker::Broker>(world_->node(id), o);
    brokers_[id]->Start();
  }

  void StartFaults(const std::vector<runtime::NodeId>& ids) {
    Random random(options_.seed ^ kFaultSalt);
    Random profile_random = random.Fork();
    Random schedule_random = random.Fork();
    const FaultProfile profile = DrawFaultProfile(profile_random);
    profile_ = profile.ToString();
    world_->SetBuggifyEnabled(profile.buggify);
    FaultInjectorOptions fo;
    const size_t minority = (ids.size() - 1) / 2;
    // Storage faults on a minority of EVERY Raft group, not just of the brokers: a partition has
    // min(3, brokers) replicas, and with 5 brokers two damaged ones could be two of its three —
    // a damaged majority, which no replication protocol survives (acknowledged data then
    // vanished in 5-broker runs).
    const size_t replicas = std::min<size_t>(ids.size(), 3);
    const size_t damaged = std::min(minority, (replicas - 1) / 2);
    fo.storage_fault_nodes = std::set<runtime::NodeId>(ids.end() - damaged, ids.end());
    fo.unavailable_nodes_max = minority;
    injector_ = std::make_unique<FaultInjector>(
        *world_, profile, DrawFaultSchedule(profile, schedule_random, world_->Now(),
                                            options_.duration),
        fo, random.Next());
    injector_->Start();
  }

  const BrokerSimOptions options_;
  std::unique_ptr<SimWorld> world_;
  std::map<runtime::NodeId, std::unique_ptr<eddy::broker::Broker>> brokers_;
  std::unique_ptr<FaultInjector> injector_;
  std::string profile_;
  std::map<runtime::NodeId, producer::ProducerStateStats> retired_stats_;
  uint64_t retired_duplicates_ = 0;
  std::map<runtime::NodeId, producer::ProducerStateStats> producer_stats_;
  uint64_t idempotent_duplicates_ = 0;
};

template <typename Done>
bool RunUntil(SimWorld& world, Instant deadline, Done done) {
  while (!done() && world.Now() < deadline) world.RunFor(Duration::Milliseconds(50));
  return done();
}

// Sends `request` and runs the world until it is answered (or `bound` passes).
template <typename Request, typename Response>
std::optional<absl::StatusOr<clients::Reply<Response>>> AskAndWait(
    SimWorld& world, clients::BrokerConnection& c, const Request& request, int16_t version,
    Duration bound) {
  auto out = std::make_shared<std::optional<absl::StatusOr<clients::Reply<Response>>>>();
  c.Call<Request, Response>(request, version, [out](auto o) { *out = std::move(o); });
  RunUntil(world, world.Now() + bound, [&] { return out->has_value(); });
  return std::move(*out);
}

bool CreateTopics(SimWorld& world, SimClient& admin, const BrokerSimOptions& options) {
  const Instant deadline = world.Now() + Duration::Seconds(120);
  std::set<std::string> pending;
  for (int t = 0; t < options.topics; ++t) pending.insert(absl::StrCat("topic", t));
  while (!pending.empty() && world.Now() < deadline) {
    const runtime::NodeId via =
        world.node_ids()[admin.random().Uniform(world.node_ids().size())];
    clients::BrokerConnection c(admin, world.address(via));
    kafka::CreateTopicsRequest request;
    request.timeout_ms = 5'000;
    for (const std::string& name : pending) {
      auto& t = request.topics.emplace_back();
      t.name = name;
      t.num_partitions = options.partitions_per_topic;
      t.replication_factor = static_cast<int16_t>(std::min(3, options.brokers));
    }
    auto reply = AskAndWait<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
        world, c, request, 5, Duration::Seconds(10));
    if (reply.has_value() && reply->ok()) {
      for (const auto& t : (*reply)->response.topics) {
        if (t.error_code == 0 ||
            t.error_code == kafka::ToWire(kafka::ErrorCode::kTopicAlreadyExists)) {
          pending.erase(t.name);
        }
      }
    }
    world.RunFor(Duration::Milliseconds(200));
  }
  return pending.empty();
}

// Reads one partition from its leader, from offset 0 to the high watermark. False if it could
// not (no leader known, an error): try again later.
bool ReadPartition(SimWorld& world, SimClient& consumer, const PartitionKey& partition,
                   std::vector<ReadRecord>* out, std::string* violation, std::string* why) {
  // Who leads it.
  const runtime::NodeId via =
      world.node_ids()[consumer.random().Uniform(world.node_ids().size())];
  clients::BrokerConnection meta(consumer, world.address(via));
  kafka::MetadataRequest mr;
  mr.topics->emplace_back().name = partition.first;
  mr.allow_auto_topic_creation = false;
  auto m = AskAndWait<kafka::MetadataRequest, kafka::MetadataResponse>(world, meta, mr, 9,
                                                                      Duration::Seconds(10));
  if (!m.has_value() || !m->ok() || (*m)->response.topics.size() != 1) {
    *why = "no metadata answer";
    return false;
  }
  int32_t leader = -1;
  for (const auto& p : (*m)->response.topics[0].partitions) {
    if (p.partition_index == partition.second && p.error_code == 0) leader = p.leader_id;
  }
  if (leader <= 0) {
    *why = "no leader listed";
    return false;
  }
  clients::BrokerConnection c(consumer, world.address(static_cast<runtime::NodeId>(leader)));
  out->clear();
  int64_t offset = 0;
  for (int rounds = 0; rounds < 100'000; ++rounds) {
    kafka::FetchRequest fr;
    auto& t = fr.topics.emplace_back();
    t.topic = partition.first;
    auto& p = t.partitions.emplace_back();
    p.partition = partition.second;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    auto f = AskAndWait<kafka::FetchRequest, kafka::FetchResponse>(world, c, fr, 12,
                                                                  Duration::Seconds(10));
    if (!f.has_value() || !f->ok()) {
      *why = absl::StrCat("no fetch answer from ", leader);
      return false;
    }
    const auto& pd = (*f)->response.responses.at(0).partitions.at(0);
    if (pd.error_code != 0) {
      *why = absl::StrCat("fetch error ", pd.error_code, " from ", leader, " at ", offset);
      return false;
    }
    const std::string bytes = pd.records.Flatten();
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    while (!rest.empty()) {
      absl::StatusOr<record::BatchHeader> h = record::ParseBatchHeader(rest);
      if (!h.ok() || h->size_bytes() > rest.size()) {
        *violation = absl::StrCat("a fetch returned a cut or bad batch in ", partition.first);
        return false;
      }
      absl::StatusOr<record::RecordBatchReader> reader =
          record::RecordBatchReader::Open(rest.first(h->size_bytes()));
      if (!reader.ok()) {
        *violation = absl::StrCat("a fetch returned a corrupt batch: ", reader.status().ToString());
        return false;
      }
      record::RecordView view;
      while (reader->Next(&view)) {
        const int64_t at = h->base_offset + view.offset_delta;
        if (at >= pd.high_watermark) {
          *violation = absl::StrCat("a record above the high watermark: ", at, " >= ",
                                    pd.high_watermark);
          return false;
        }
        std::string value;
        if (view.value.has_value()) value.assign(view.value->begin(), view.value->end());
        out->push_back(ReadRecord{at, std::move(value)});
      }
      offset = h->base_offset + h->last_offset_delta + 1;
      rest = rest.subspan(h->size_bytes());
    }
    if (offset >= pd.high_watermark) return true;
    if (bytes.empty()) {  // below the high watermark, yet nothing: try again
      *why = absl::StrCat("nothing below the high watermark ", pd.high_watermark, " at ", offset);
      return false;
    }
  }
  return false;
}

}  // namespace

BrokerSimResult RunBrokerSim(const BrokerSimOptions& options) {
  BrokerSimResult result;
  World w(options);
  SimWorld& world = w.world();
  result.profile = options.faults ? w.profile() : "none";
  SimClient& admin = world.AddClient();
  std::optional<std::string> violation;
  if (!CreateTopics(world, admin, options)) violation = "the topics could not be created";
  Topology topology;
  for (int t = 0; t < options.topics; ++t) {
    topology.AddTopic(absl::StrCat("topic", t), options.partitions_per_topic);
  }
  DataChecker checker;
  ProducerStats stats;
  std::vector<std::unique_ptr<SimProducer>> producers;
  const Duration interval =
      Duration::Seconds(1) * options.producers / std::max(1, options.batches_per_second);
  for (int i = 0; i < options.producers && !violation.has_value(); ++i) {
    const bool idempotent = i < options.idempotent_producers;
    producers.push_back(std::make_unique<SimProducer>(world, i, idempotent, topology, interval,
                                                      checker, stats, &violation));
    producers.back()->Start();
  }
  AdminStats admin_stats;
  std::unique_ptr<SimAdmin> operator_client;
  if (options.admin_interval_mean > Duration::Zero() && !violation.has_value()) {
    operator_client = std::make_unique<SimAdmin>(
        world, topology, checker, options.admin_interval_mean,
        [&w](Random& random) { w.TransferLeadershipAway(random); }, admin_stats);
    operator_client->Start();
  }
  GroupChecker group_checker;
  GroupStats group_stats;
  std::unique_ptr<SimGroups> groups;
  if (options.groups > 0 && !violation.has_value()) {
    std::vector<std::string> topics;
    for (int t = 0; t < std::min(2, options.topics); ++t) topics.push_back(absl::StrCat("topic", t));
    groups = std::make_unique<SimGroups>(world, options.groups, std::move(topics), topology,
                                         checker, group_checker, group_stats, &violation);
    groups->Start();
  }
  const Instant end = world.Now() + options.duration;
  RunUntil(world, end, [&] { return violation.has_value(); });
  for (auto& p : producers) p->Stop();
  if (operator_client != nullptr) operator_client->Stop();
  if (groups != nullptr) groups->Stop();
  // Heal, then read everything back within the liveness bound.
  RunUntil(world, world.Now() + Duration::Seconds(120), [&] { return w.healed(); });
  const Instant deadline = world.Now() + options.liveness_bound;
  SimClient& consumer = world.AddClient();
  std::set<PartitionKey> unread(topology.live().begin(), topology.live().end());
  std::map<PartitionKey, std::string> last_why;  // why each unread partition is not done
  while (!violation.has_value() && !unread.empty() && world.Now() < deadline) {
    for (auto it = unread.begin(); it != unread.end() && !violation.has_value();) {
      std::vector<ReadRecord> read;
      std::string bad;
      const bool done = ReadPartition(world, consumer, *it, &read, &bad, &last_why[*it]);
      if (!bad.empty()) violation = bad;
      bool complete = false;
      if (done) {
        if (std::optional<std::string> v = checker.CheckRead(*it, read, &complete)) violation = v;
      }
      if (done && !complete) {
        last_why[*it] = absl::StrCat("read ", read.size(), " records, an acknowledged one missing");
      }
      if (done && complete) {
        result.records_read += read.size();
        it = unread.erase(it);
      } else {
        ++it;
      }
    }
    if (!unread.empty()) world.RunFor(Duration::Milliseconds(500));
  }
  if (!violation.has_value()) {
    if (std::optional<std::string> v = w.ProducerStateAnomaly()) violation = v;
  }
  std::optional<std::string> divergence = w.MetadataDivergence(topology);
  while (!violation.has_value() && divergence.has_value() && world.Now() < deadline) {
    world.RunFor(Duration::Milliseconds(500));
    divergence = w.MetadataDivergence(topology);
  }
  if (!violation.has_value() && divergence.has_value()) {
    violation = absl::StrCat("metadata did not converge ", options.liveness_bound.seconds(),
                             " s after healing: ", *divergence);
  }
  if (!violation.has_value() && groups != nullptr) {
    std::string why;
    if (!RunUntil(world, deadline, [&] { return violation.has_value() || groups->Drained(&why); }) &&
        !violation.has_value()) {
      violation = absl::StrCat("consumer groups did not catch up ",
                               options.liveness_bound.seconds(), " s after healing: ", why);
      for (int32_t p = 0; p < 3; ++p) {
        absl::StrAppend(&*violation, "; offsets partition ", p, ":",
                        w.DescribePartition({std::string(group::kOffsetsTopicName), p}));
      }
    }
    if (!violation.has_value()) {
      if (std::optional<std::string> v = groups->Check(Duration::Seconds(60))) violation = v;
    }
  }
  if (!violation.has_value() && !unread.empty()) {
    violation = absl::StrCat(unread.size(), " partitions not fully readable ",
                             options.liveness_bound.seconds(), " s after healing (first: ",
                             unread.begin()->first, "-", unread.begin()->second, ": ",
                             last_why[*unread.begin()], ";", w.DescribePartition(*unread.begin()),
                             ")");
  }
  result.ok = !violation.has_value();
  result.violation = violation.value_or("");
  result.trace_hash = world.trace().value();
  result.produce_requests = stats.requests;
  result.failed_batches = stats.failed_batches;
  result.retried_batches = stats.retried_batches;
  result.topics_created = admin_stats.topics_created;
  result.topics_deleted = admin_stats.topics_deleted;
  result.partitions_added = admin_stats.partitions_added;
  result.leadership_transfers = admin_stats.leadership_transfers;
  result.group_members_started = group_stats.members_started;
  result.group_records_processed = group_stats.records_processed;
  result.group_commits_acked = group_stats.commits_acked;
  result.group_assignments = group_stats.assignments;
  result.group_fetches_checked = group_stats.fetches_checked;
  for (const auto& [code, n] : stats.idempotent_errors) {
    absl::StrAppend(&result.idempotent_errors, result.idempotent_errors.empty() ? "" : ",", code,
                    ":", n);
  }
  result.idempotent_duplicates = w.IdempotentDuplicates();
  result.acked_batches = checker.acked_batches();
  result.acked_records = checker.acked_records();
  result.simulated_seconds = (world.Now() - Instant()).seconds();
  result.coverage = world.Coverage();
  return result;
}

}  // namespace eddy::sim::broker
