// Broker: consumer groups — where a group's coordinator is, the coordinator's reads and writes
// on this broker's __consumer_offsets replicas, and the membership APIs (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup). core/group/README.md has the protocol; broker.h the routing.
#include <algorithm>
#include <memory>
#include <utility>

#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/group/offsets_topic.h"
#include "core/kafka/generated/find_coordinator.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/join_group.h"
#include "core/kafka/generated/leave_group.h"
#include "core/kafka/generated/sync_group.h"

namespace eddy::broker {

using internal::DecodeBody;
using kafka::ErrorCode;

// A write gets this long to commit before the coordinator is told the partition is not
// available (Kafka answers a timed-out append of group records so).
static constexpr Duration kGroupWriteTimeout = Duration::Seconds(15);

class Broker::GroupLogAdapter final : public group::GroupLog {
 public:
  explicit GroupLogAdapter(Broker& broker) : broker_(broker) {}
  void Write(int32_t partition, uint64_t term, std::vector<uint8_t> batch,
             WriteDone done) override {
    broker_.WriteGroupRecords(partition, term, std::move(batch), std::move(done));
  }
  const group::GroupStore* Store(int32_t partition) override {
    return broker_.GroupStoreOf(partition);
  }
  bool PartitionExists(const std::string& topic, int32_t partition) override {
    const controller::TopicInfo* info = broker_.image_.FindTopic(topic);
    return info != nullptr && partition >= 0 &&
           static_cast<size_t>(partition) < info->partitions.size();
  }

 private:
  Broker& broker_;
};

void Broker::MakeCoordinator() {
  group_log_ = std::make_unique<GroupLogAdapter>(*this);
  group::CoordinatorOptions options = options_.group_coordinator;
  switch (options_.planted_bug) {
    case BrokerBug::kAcceptStaleCommit:
      options.planted_bug = group::GroupBug::kAcceptStaleCommit;
      break;
    case BrokerBug::kDoubleAssign:
      options.planted_bug = group::GroupBug::kDoubleAssign;
      break;
    case BrokerBug::kLoseOffsetsOnFailover:
      options.planted_bug = group::GroupBug::kLoseOffsetsOnFailover;
      break;
    default:
      break;
  }
  coordinator_ = std::make_unique<group::GroupCoordinator>(
      runtime_.clock(), runtime_.wall_clock(), runtime_.random(), *group_log_, options);
}

namespace {

const controller::TopicInfo* OffsetsTopic(const controller::MetadataImage& image) {
  const controller::TopicInfo* info = image.FindTopic(std::string(group::kOffsetsTopicName));
  return info == nullptr || info->partitions.empty() ? nullptr : info;
}

}  // namespace

void Broker::WriteGroupRecords(int32_t partition, uint64_t term, std::vector<uint8_t> batch,
                               group::GroupLog::WriteDone done) {
  // Answered once, always later on the loop: by the outcome or by the timeout.
  struct Once {
    group::GroupLog::WriteDone done;
    runtime::TimerId timer = runtime::kNoTimer;
  };
  auto once = std::make_shared<Once>(Once{std::move(done)});
  auto finish = [this, once](ErrorCode error) {
    if (!once->done) return;
    if (once->timer != runtime::kNoTimer) runtime_.clock().Cancel(once->timer);
    runtime_.clock().Post([done = std::move(once->done), error]() mutable {
      std::move(done)(error);
    });
    once->done = nullptr;
  };
  const controller::TopicInfo* info = OffsetsTopic(image_);
  raft::driver::GroupDriver* g = nullptr;
  raft::driver::GroupId group = 0;
  if (info != nullptr && partition >= 0 &&
      static_cast<size_t>(partition) < info->partitions.size()) {
    group = info->partitions[partition].group_id;
    g = node_->group(group);
  }
  if (g == nullptr || g->raft() == nullptr || g->raft()->role() != raft::Role::kLeader ||
      g->raft()->term() != term) {
    return finish(ErrorCode::kNotCoordinator);
  }
  once->timer = runtime_.clock().ScheduleAfter(kGroupWriteTimeout, [finish]() mutable {
    finish(ErrorCode::kCoordinatorNotAvailable);
  });
  ProduceBatch(group, g, std::move(batch), [finish](BatchOutcome outcome) mutable {
    if (outcome.error == ErrorCode::kNone) return finish(ErrorCode::kNone);
    finish(outcome.error == ErrorCode::kNotLeaderOrFollower ? ErrorCode::kNotCoordinator
                                                            : ErrorCode::kCoordinatorNotAvailable);
  });
}

const group::GroupStore* Broker::GroupStoreOf(int32_t partition) {
  const controller::TopicInfo* info = OffsetsTopic(image_);
  if (info == nullptr || partition < 0 ||
      static_cast<size_t>(partition) >= info->partitions.size()) {
    return nullptr;
  }
  raft::driver::GroupDriver* g = node_->group(info->partitions[partition].group_id);
  if (g == nullptr) return nullptr;
  auto* machine = dynamic_cast<group::GroupStateMachine*>(g->state_machine());
  return machine == nullptr ? nullptr : &machine->store();
}

void Broker::SyncCoordinatorShard(raft::driver::GroupId group) {
  runtime_.clock().Post([this, alive = alive_, group] {
    if (!*alive) return;
    auto o = offsets_partitions_.find(group);
    if (o == offsets_partitions_.end()) return;
    raft::driver::GroupDriver* g = node_->group(group);
    const bool leads = g != nullptr && g->raft() != nullptr &&
                       g->raft()->role() == raft::Role::kLeader;
    auto ready = idempotence_.find(group);
    const bool serving = leads && ready != idempotence_.end() &&
                         ready->second.ready_term == g->raft()->term();
    const std::optional<uint64_t> loaded = coordinator_->LoadedTerm(o->second);
    if (serving && loaded != g->raft()->term()) {
      coordinator_->Load(o->second, g->raft()->term());
    } else if (!serving && loaded.has_value()) {
      coordinator_->Unload(o->second);
    }
  });
}

ErrorCode Broker::Coordinates(const std::string& group_id, int32_t* partition) {
  const controller::TopicInfo* info = OffsetsTopic(image_);
  if (info == nullptr) {
    CreateOffsetsTopic();
    return ErrorCode::kCoordinatorNotAvailable;
  }
  *partition = group::OffsetsPartitionFor(group_id, static_cast<int32_t>(info->partitions.size()));
  const raft::driver::GroupId group = info->partitions[*partition].group_id;
  raft::driver::GroupDriver* g = node_->group(group);
  const std::optional<uint64_t> loaded = coordinator_->LoadedTerm(*partition);
  if (g == nullptr || g->raft() == nullptr || g->raft()->role() != raft::Role::kLeader) {
    if (loaded.has_value()) coordinator_->Unload(*partition);
    return ErrorCode::kNotCoordinator;
  }
  const uint64_t term = g->raft()->term();
  if (loaded == term) return ErrorCode::kNone;
  auto ready = idempotence_.find(group);
  if (ready == idempotence_.end() || ready->second.ready_term != term) {
    // Elected, but its store may still lack what earlier coordinators committed.
    if (loaded.has_value()) coordinator_->Unload(*partition);
    return ErrorCode::kCoordinatorLoadInProgress;
  }
  coordinator_->Load(*partition, term);
  return ErrorCode::kNone;
}

ErrorCode Broker::FindCoordinatorOf(const std::string& group_id, int32_t* node) {
  const controller::TopicInfo* info = OffsetsTopic(image_);
  if (info == nullptr) {
    CreateOffsetsTopic();
    return ErrorCode::kCoordinatorNotAvailable;
  }
  const int32_t partition =
      group::OffsetsPartitionFor(group_id, static_cast<int32_t>(info->partitions.size()));
  const std::optional<Leadership> leadership = LeadershipOf(info->partitions[partition].group_id);
  if (!leadership.has_value() || leadership->leader < 0) return ErrorCode::kCoordinatorNotAvailable;
  const controller::BrokerInfo* broker = image_.broker(leadership->leader);
  if (broker == nullptr || broker->fenced || broker->endpoints.empty()) {
    return ErrorCode::kCoordinatorNotAvailable;
  }
  *node = leadership->leader;
  return ErrorCode::kNone;
}

void Broker::CreateOffsetsTopic() {
  if (creating_offsets_topic_) return;
  creating_offsets_topic_ = true;
  ControllerCall call;
  CreateTopicCall* create = call.mutable_create_topic();
  create->set_name(std::string(group::kOffsetsTopicName));
  create->set_num_partitions(options_.offsets_topic_partitions);
  create->set_replication_factor(std::min<int32_t>(
      options_.offsets_topic_replication_factor, static_cast<int32_t>(options_.controllers.size())));
  CallController(std::move(call), Duration::Seconds(30),
                 [this](ControllerAnswer) { creating_offsets_topic_ = false; });
}

void Broker::HandleFindCoordinator(const kafka::RequestFrame& frame, Respond respond) {
  kafka::FindCoordinatorRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  std::vector<std::string> keys = version >= 4 ? request.coordinator_keys
                                               : std::vector<std::string>{request.key};
  kafka::FindCoordinatorResponse response;
  for (const std::string& key : keys) {
    kafka::FindCoordinatorResponse::Coordinator c;
    c.key = key;
    c.node_id = -1;
    c.host = "";
    c.port = -1;
    ErrorCode error = ErrorCode::kNone;
    int32_t node = -1;
    if (request.key_type != 0) {
      error = ErrorCode::kInvalidRequest;  // transaction coordinators: no transactions yet
      c.error_message = "transactions are not supported";
    } else {
      error = FindCoordinatorOf(key, &node);
    }
    if (error == ErrorCode::kNone) {
      const controller::BrokerInfo* broker = image_.broker(node);
      c.node_id = node;
      c.host = broker->endpoints.front().host();
      c.port = broker->endpoints.front().port();
    }
    c.error_code = kafka::ToWire(error);
    response.coordinators.push_back(std::move(c));
  }
  if (version < 4) {
    const auto& c = response.coordinators.front();
    response.error_code = c.error_code;
    if (version >= 1) response.error_message = c.error_message;
    response.node_id = c.node_id;
    response.host = c.host;
    response.port = c.port;
    response.coordinators.clear();
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

namespace {

kafka::JoinGroupResponse ToJoinResponse(int16_t version, const group::JoinOutcome& o) {
  kafka::JoinGroupResponse r;
  r.error_code = kafka::ToWire(o.error);
  r.generation_id = o.generation;
  const bool ok = o.error == ErrorCode::kNone;
  if (version >= 7) {
    r.protocol_type = ok ? std::optional<std::string>(o.protocol_type) : std::nullopt;
    r.protocol_name = ok ? o.protocol : std::nullopt;
  } else {
    r.protocol_name = o.protocol.value_or("");
  }
  r.leader = o.leader;
  r.member_id = o.member_id;
  for (const group::JoinOutcome::Member& m : o.members) {
    kafka::JoinGroupResponse::JoinGroupResponseMember member;
    member.member_id = m.member_id;
    member.group_instance_id = m.group_instance_id;
    member.metadata = m.metadata;
    r.members.push_back(std::move(member));
  }
  return r;
}

}  // namespace

void Broker::HandleJoinGroup(const kafka::RequestFrame& frame, Respond respond) {
  kafka::JoinGroupRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  auto reply = [header = frame.header, version, respond = std::move(respond)](
                   group::JoinOutcome outcome) mutable {
    std::move(respond)(EncodeResponse(header, ToJoinResponse(version, outcome)));
  };
  int32_t partition = 0;
  if (ErrorCode e = Coordinates(request.group_id, &partition); e != ErrorCode::kNone) {
    return reply(group::JoinOutcome::Error(e, request.member_id));
  }
  group::JoinRequest join;
  join.group_id = request.group_id;
  join.member_id = request.member_id;
  join.group_instance_id = request.group_instance_id;
  join.session_timeout_ms = request.session_timeout_ms;
  join.rebalance_timeout_ms = version >= 1 ? request.rebalance_timeout_ms : -1;
  join.protocol_type = request.protocol_type;
  for (auto& p : request.protocols) join.protocols.emplace_back(p.name, p.metadata);
  join.client_id = frame.header.client_id.value_or("");
  join.require_known_member_id = version >= 4;
  coordinator_->JoinGroup(partition, std::move(join), std::move(reply));
}

void Broker::HandleSyncGroup(const kafka::RequestFrame& frame, Respond respond) {
  kafka::SyncGroupRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  auto reply = [header = frame.header, respond = std::move(respond)](
                   group::SyncOutcome outcome) mutable {
    kafka::SyncGroupResponse r;
    r.error_code = kafka::ToWire(outcome.error);
    if (outcome.error == ErrorCode::kNone) {
      r.protocol_type = outcome.protocol_type;
      r.protocol_name = outcome.protocol;
      r.assignment = std::move(outcome.assignment);
    }
    std::move(respond)(EncodeResponse(header, r));
  };
  int32_t partition = 0;
  if (ErrorCode e = Coordinates(request.group_id, &partition); e != ErrorCode::kNone) {
    return reply(group::SyncOutcome::Error(e));
  }
  group::SyncRequest sync;
  sync.group_id = request.group_id;
  sync.generation = request.generation_id;
  sync.member_id = request.member_id;
  sync.group_instance_id = request.group_instance_id;
  sync.protocol_type = request.protocol_type;
  sync.protocol = request.protocol_name;
  for (auto& a : request.assignments) sync.assignments[a.member_id] = a.assignment;
  coordinator_->SyncGroup(partition, std::move(sync), std::move(reply));
}

void Broker::HandleHeartbeat(const kafka::RequestFrame& frame, Respond respond) {
  kafka::HeartbeatRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  kafka::HeartbeatResponse response;
  int32_t partition = 0;
  ErrorCode error = Coordinates(request.group_id, &partition);
  if (error == ErrorCode::kNone) {
    error = coordinator_->Heartbeat(partition, {request.group_id, request.generation_id,
                                                request.member_id, request.group_instance_id});
  }
  response.error_code = kafka::ToWire(error);
  std::move(respond)(EncodeResponse(frame.header, response));
}

void Broker::HandleLeaveGroup(const kafka::RequestFrame& frame, Respond respond) {
  kafka::LeaveGroupRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  std::vector<group::LeavingMember> leaving;
  if (version < 3) {
    leaving.push_back({request.member_id, std::nullopt});
  } else {
    for (const auto& m : request.members) leaving.push_back({m.member_id, m.group_instance_id});
  }
  kafka::LeaveGroupResponse response;
  int32_t partition = 0;
  ErrorCode top = Coordinates(request.group_id, &partition);
  std::vector<ErrorCode> errors(leaving.size(), top);
  if (top == ErrorCode::kNone) {
    std::tie(top, errors) = coordinator_->LeaveGroup(partition, request.group_id, leaving);
  }
  if (version < 3) {
    // One member: its error is the response's.
    response.error_code = kafka::ToWire(top != ErrorCode::kNone ? top : errors.front());
  } else {
    response.error_code = kafka::ToWire(top);
    for (size_t i = 0; i < leaving.size(); ++i) {
      kafka::LeaveGroupResponse::MemberResponse m;
      m.member_id = leaving[i].member_id;
      m.group_instance_id = leaving[i].group_instance_id;
      m.error_code = kafka::ToWire(errors[i]);
      response.members.push_back(std::move(m));
    }
  }
  std::move(respond)(EncodeResponse(frame.header, response));
}

}  // namespace eddy::broker
