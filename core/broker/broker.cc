#include "core/broker/broker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/delete_topics.h"
#include "core/kafka/generated/metadata.h"

namespace eddy::broker {
namespace {

using controller::MetadataImage;
using kafka::ErrorCode;

// Partition replicas are incarnation 0 of their node (wiping replicas comes later).
raft::NodeId ReplicaOf(controller::BrokerId broker) {
  return raft::driver::ReplicaId(static_cast<uint32_t>(broker), 0);
}

}  // namespace

Broker::Broker(runtime::Runtime& runtime, BrokerOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      incarnation_(runtime.random().Next() | 1),  // never 0: "no incarnation"
      controller_(
          runtime, [this] { return MetadataDriver(); }, options_.topic_defaults) {
  EDDY_CHECK(std::find(options_.controllers.begin(), options_.controllers.end(),
                       runtime_.self()) != options_.controllers.end());
  node_ = std::make_unique<raft::driver::NodeDriver>(runtime_, options_.node, this);
  MakeCoordinator();
}

Broker::~Broker() { *alive_ = false; }

void Broker::Start() {
  std::vector<controller::BrokerId> voters(options_.controllers.begin(),
                                           options_.controllers.end());
  raft::driver::GroupOptions metadata = GroupOptionsFor(MetadataImage::kMetadataGroupId, voters);
  metadata.state_machine = [this] {
    return std::make_unique<controller::MetadataMachine>(this);
  };
  EDDY_CHECK_OK(node_->AddGroup(std::move(metadata)));
  node_->group(MetadataImage::kMetadataGroupId)->SetListener(&metadata_listener_);
  node_->SetOwnerHandler([this](runtime::NodeId from, std::string payload) {
    OnOwnerMessage(from, std::move(payload));
  });
  node_->Start();
  // After the node: it installs placeholder client handlers that the listener replaces.
  listener_ = std::make_unique<KafkaListener>(runtime_, *this);
  Register();
  ScheduleAnnounce(kAnnounceInterval);
}

raft::driver::GroupOptions Broker::GroupOptionsFor(
    raft::driver::GroupId group, const std::vector<controller::BrokerId>& replicas) {
  raft::driver::GroupOptions g = options_.group_template;
  g.group_id = group;
  g.replica_id = ReplicaOf(static_cast<controller::BrokerId>(runtime_.self()));
  g.voters.clear();
  for (controller::BrokerId b : replicas) g.voters.push_back(ReplicaOf(b));
  // The first replica listed is the preferred leader (the planner balances them): it campaigns
  // as soon as a new group opens, so a new topic is writable without an election timeout.
  g.campaign_on_fresh_open =
      !replicas.empty() && replicas.front() == static_cast<controller::BrokerId>(runtime_.self());
  return g;
}

size_t Broker::TransferLeadershipAway() {
  if (node_ == nullptr) return 0;
  size_t still_leading = 0;
  for (const auto& [id, group] : node_->groups()) {
    const raft::RawNode* raft = group->raft();
    if (raft == nullptr || raft->role() != raft::Role::kLeader) continue;
    const std::vector<raft::NodeId>& voters = raft->membership().voters();
    // Rotate from this group's id so the led groups spread over the other voters.
    std::vector<raft::NodeId> others;
    for (raft::NodeId v : voters) {
      if (raft::driver::NodeOfReplica(v) != runtime_.self()) others.push_back(v);
    }
    if (others.empty()) continue;  // a single-replica group has nowhere to go
    ++still_leading;
    static_cast<void>(group->TransferLeadership(others[id % others.size()]));
  }
  return still_leading;
}

raft::driver::GroupDriver* Broker::MetadataDriver() {
  return node_ == nullptr ? nullptr : node_->group(MetadataImage::kMetadataGroupId);
}

runtime::NodeId Broker::MetadataLeader() const {
  auto it = soft_states_.find(MetadataImage::kMetadataGroupId);
  if (it == soft_states_.end() || it->second.leader == raft::kNoNode) return runtime::kNoNode;
  return raft::driver::NodeOfReplica(it->second.leader);
}

bool Broker::leads_metadata() const { return MetadataLeader() == runtime_.self(); }

bool Broker::joined() const {
  const controller::BrokerInfo* me =
      image_.broker(static_cast<controller::BrokerId>(runtime_.self()));
  return me != nullptr && me->incarnation == incarnation_ && !me->fenced;
}

// ---- controller calls ----

void Broker::CallController(ControllerCall call, Duration timeout, CallDone done) {
  const uint64_t id = next_call_id_++;
  // Unique across this broker's incarnations: retries of this call are recognised as one.
  call.set_request_id(absl::StrCat(runtime_.self(), "-", incarnation_, "-", id));
  calls_.emplace(id, PendingCall{std::move(call), runtime_.clock().Now() + timeout,
                                 std::move(done)});
  SendCall(id);
}

void Broker::SendCall(uint64_t call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  if (runtime_.clock().Now() >= it->second.deadline) {
    ++stats_.controller_calls_timed_out;
    return FinishCall(call_id, AnswerWith(ErrorCode::kRequestTimedOut,
                                          "the controller did not answer in time"));
  }
  const runtime::NodeId leader = MetadataLeader();
  ++stats_.controller_calls_sent;
  if (leader == runtime_.self()) {
    controller_.Handle(it->second.call, image_,
                       [this, alive = alive_, call_id](ControllerAnswer answer) {
                         if (!*alive) return;
                         // Off the driver's callback: finishing may call into it.
                         runtime_.clock().Post([this, alive, call_id,
                                                answer = std::move(answer)]() mutable {
                           if (!*alive) return;
                           if (answer.error_code() == kafka::ToWire(ErrorCode::kNotController)) {
                             return;  // the retry below asks again
                           }
                           FinishCall(call_id, std::move(answer));
                         });
                       });
  } else if (leader != runtime::kNoNode) {
    BrokerRpc rpc;
    rpc.set_call_id(call_id);
    *rpc.mutable_call() = it->second.call;
    static_cast<void>(node_->SendOwnerMessage(leader, rpc.SerializeAsString()));
  }
  // Until answered: lost messages and a moving leader are retried.
  runtime_.clock().ScheduleAfter(kCallRetryInterval, [this, alive = alive_, call_id] {
    if (!*alive || !calls_.contains(call_id)) return;
    ++stats_.controller_calls_retried;
    SendCall(call_id);
  });
}

void Broker::OnOwnerMessage(runtime::NodeId from, std::string payload) {
  BrokerRpc rpc;
  if (!rpc.ParseFromString(payload)) {
    ++stats_.rpc_malformed;
    return;
  }
  if (rpc.has_answer()) {
    if (rpc.answer().error_code() == kafka::ToWire(ErrorCode::kNotController)) return;
    return FinishCall(rpc.call_id(), rpc.answer());
  }
  if (rpc.has_hints()) return LearnHints(rpc.hints());
  if (!rpc.has_call()) {
    ++stats_.rpc_malformed;
    return;
  }
  // Handled off the node's delivery: the controller proposes into the metadata group.
  runtime_.clock().Post([this, alive = alive_, from, rpc = std::move(rpc)]() mutable {
    if (!*alive) return;
    controller_.Handle(rpc.call(), image_,
                       [this, alive, from, call_id = rpc.call_id()](ControllerAnswer answer) {
                         if (!*alive) return;
                         Answer(from, call_id, std::move(answer));
                       });
  });
}

void Broker::Answer(runtime::NodeId to, uint64_t call_id, ControllerAnswer answer) {
  BrokerRpc rpc;
  rpc.set_call_id(call_id);
  *rpc.mutable_answer() = std::move(answer);
  static_cast<void>(node_->SendOwnerMessage(to, rpc.SerializeAsString()));
}

void Broker::FinishCall(uint64_t call_id, ControllerAnswer answer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;  // answered already (a duplicate)
  CallDone done = std::move(it->second.done);
  calls_.erase(it);
  std::move(done)(std::move(answer));
}

// ---- joining ----

void Broker::Register() {
  if (registering_) return;
  registering_ = true;
  ControllerCall call;
  controller::RegisterBroker* r = call.mutable_register_broker();
  r->set_broker_id(static_cast<int32_t>(runtime_.self()));
  r->set_incarnation(incarnation_);
  controller::Endpoint* e = r->add_endpoints();
  e->set_listener("PLAINTEXT");
  e->set_host(options_.advertised.host);
  e->set_port(options_.advertised.port);
  r->set_rack(options_.rack);
  ++stats_.registrations;
  CallController(std::move(call), kJoinCallDeadline, [this](ControllerAnswer) {
    registering_ = false;
    // Whatever the answer, the image decides: registered (then unfence), or try again.
    const controller::BrokerInfo* me =
        image_.broker(static_cast<controller::BrokerId>(runtime_.self()));
    if (me == nullptr || me->incarnation != incarnation_) {
      runtime_.clock().ScheduleAfter(kCallRetryInterval, [this, alive = alive_] {
        if (*alive) Register();
      });
    }
    MaybeUnfence();
  });
}

void Broker::MaybeUnfence() {
  const controller::BrokerInfo* me =
      image_.broker(static_cast<controller::BrokerId>(runtime_.self()));
  // Our own replica applied our registration: caught up with the metadata log up to it.
  if (me == nullptr || me->incarnation != incarnation_ || !me->fenced || unfencing_) return;
  unfencing_ = true;
  ControllerCall call;
  controller::SetBrokerFenced* f = call.mutable_set_broker_fenced();
  f->set_broker_id(static_cast<int32_t>(runtime_.self()));
  f->set_incarnation(incarnation_);
  f->set_fenced(false);
  CallController(std::move(call), kJoinCallDeadline, [this](ControllerAnswer) {
    unfencing_ = false;
    const controller::BrokerInfo* now =
        image_.broker(static_cast<controller::BrokerId>(runtime_.self()));
    if (now != nullptr && now->incarnation == incarnation_ && now->fenced) {
      runtime_.clock().ScheduleAfter(kCallRetryInterval, [this, alive = alive_] {
        if (*alive) MaybeUnfence();
      });
    }
  });
}

// ---- the metadata mirror ----

void Broker::OnRecord(const controller::MetadataImage& image, int64_t offset,
                      const controller::MetadataRecord& record, const absl::Status& outcome) {
  controller_.OnRecord(offset, outcome);
  // A reopened replica replays from its snapshot point: what the mirror already holds.
  if (offset <= mirror_offset_) return;
  mirror_offset_ = offset;
  const absl::Status mirrored = image_.Apply(record);
  EDDY_CHECK_MSG(mirrored.code() == outcome.code(),
                 "metadata mirror diverged at " << offset << ": " << mirrored << " vs "
                                                << outcome);
  static_cast<void>(image);
  ScheduleReconcile();
}

void Broker::OnRestored(const controller::MetadataImage& image, int64_t offset) {
  // Only ever forward (a snapshot from the leader beyond the mirror). A reopen of the metadata
  // replica restores its snapshot point — the bootstrap image, or an older one — and replays:
  // the mirror going back with it would remove every partition the older image lacks, with
  // its files, and re-add them empty under the same replica ids (broker simulation seed 19:
  // an acknowledged batch lost).
  if (offset <= mirror_offset_) return;
  absl::StatusOr<MetadataImage> copy = MetadataImage::FromState(image.ToState());
  EDDY_CHECK_MSG(copy.ok(), "metadata image at " << offset << ": " << copy.status());
  image_ = *std::move(copy);
  mirror_offset_ = offset;
  ScheduleReconcile();
}

void Broker::OnSoftState(raft::NodeId, raft::driver::GroupId group, const raft::SoftState& soft) {
  soft_states_[group] = soft;
}

void Broker::ScheduleReconcile() {
  if (reconcile_posted_) return;
  reconcile_posted_ = true;
  // Never from inside the driver's callbacks: adding and removing groups calls into it.
  runtime_.clock().Post([this, alive = alive_] {
    if (!*alive) return;
    reconcile_posted_ = false;
    Reconcile();
  });
}

void Broker::MaybeNameCluster() {
  if (!image_.cluster_id().empty() || naming_cluster_ || !leads_metadata()) return;
  naming_cluster_ = true;
  static constexpr char kBase64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string id;
  uint64_t bits = runtime_.random().Next();
  uint64_t more = runtime_.random().Next();
  for (int i = 0; i < 22; ++i) {
    id.push_back(kBase64Url[bits & 63]);
    bits = (bits >> 6) | ((more & 63) << 58);
    more >>= 6;
  }
  ControllerCall call;
  call.mutable_set_cluster_id()->set_cluster_id(id);
  CallController(std::move(call), Duration::Seconds(10),
                 [this](ControllerAnswer) { naming_cluster_ = false; });
}

void Broker::Reconcile() {
  MaybeUnfence();
  MaybeNameCluster();
  std::set<raft::driver::GroupId> wanted;
  for (const controller::HostedReplica& r :
       image_.ReplicasOn(static_cast<controller::BrokerId>(runtime_.self()))) {
    wanted.insert(r.group_id);
    if (node_->group(r.group_id) != nullptr || removing_.contains(r.group_id)) continue;
    raft::driver::GroupOptions options = GroupOptionsFor(r.group_id, r.replicas);
    const controller::TopicInfo* topic = image_.topic(r.topic_id);
    const bool offsets = topic != nullptr && topic->name == group::kOffsetsTopicName;
    if (offsets) {
      options.state_machine = [this] {
        return std::make_unique<group::GroupStateMachine>(&group_state_stats_);
      };
    } else {
      options.state_machine = [this] {
        return std::make_unique<producer::ProducerStateMachine>(
            options_.producer_id_expiration_ms, &producer_state_stats_);
      };
    }
    if (absl::Status s = node_->AddGroup(std::move(options)); s.ok()) {
      ++stats_.replicas_added;
      if (offsets) offsets_partitions_[r.group_id] = r.partition;
      auto listener = std::make_unique<PartitionListener>(*this, r.group_id);
      listener->offsets = offsets;
      node_->group(r.group_id)->SetListener(listener.get());
      partition_listeners_[r.group_id] = std::move(listener);
    }
  }
  std::vector<raft::driver::GroupId> unwanted;
  for (const auto& [group, driver] : node_->groups()) {
    if (group != MetadataImage::kMetadataGroupId && !wanted.contains(group)) {
      unwanted.push_back(group);
    }
  }
  for (raft::driver::GroupId group : unwanted) {
    removing_.insert(group);
    ++stats_.replicas_removed;
    soft_states_.erase(group);
    node_->group(group)->SetListener(nullptr);
    partition_listeners_.erase(group);
    OnPartitionAdvanced(group);  // waiting fetches answer: the partition is gone
    ForgetIdempotence(group);
    if (auto o = offsets_partitions_.find(group); o != offsets_partitions_.end()) {
      coordinator_->Unload(o->second);
      offsets_partitions_.erase(o);
    }
    node_->RemoveGroup(group, [this, alive = alive_, group](absl::Status) {
      if (!*alive) return;
      removing_.erase(group);
      ScheduleReconcile();  // re-added if the image wants it again meanwhile
    });
  }
}

void Broker::ForgetIdempotence(raft::driver::GroupId group) {
  auto it = idempotence_.find(group);
  if (it == idempotence_.end()) return;
  std::map<uint64_t, std::vector<ProposalDone>> repeats = std::move(it->second.repeats);
  idempotence_.erase(it);
  for (auto& [ticket, waiting] : repeats) {
    for (ProposalDone& done : waiting) {
      std::move(done)(absl::UnavailableError("the partition replica was removed"));
    }
  }
}

const char* BrokerBugName(BrokerBug bug) {
  switch (bug) {
    case BrokerBug::kNone:
      return "none";
    case BrokerBug::kAckBeforeCommit:
      return "ack-before-commit";
    case BrokerBug::kForgetProducerStateOnLeaderChange:
      return "forget-producer-state";
    case BrokerBug::kAcceptStaleCommit:
      return "accept-stale-commit";
    case BrokerBug::kDoubleAssign:
      return "double-assign";
    case BrokerBug::kLoseOffsetsOnFailover:
      return "lose-offsets-on-failover";
  }
  return "unknown";
}

bool ParseBrokerBug(const std::string& name, BrokerBug* bug) {
  for (BrokerBug b : {BrokerBug::kNone, BrokerBug::kAckBeforeCommit,
                      BrokerBug::kForgetProducerStateOnLeaderChange, BrokerBug::kAcceptStaleCommit,
                      BrokerBug::kDoubleAssign, BrokerBug::kLoseOffsetsOnFailover}) {
    if (name == BrokerBugName(b)) {
      *bug = b;
      return true;
    }
  }
  return false;
}

}  // namespace eddy::broker
