// Broker: the Kafka APIs it answers itself (broker.h, KAFKA APIS).
#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/broker/broker.h"
#include "core/broker/handler_support.h"
#include "core/controller/topic_config.h"
#include "core/kafka/generated/alter_configs.h"
#include "core/kafka/generated/create_partitions.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/describe_configs.h"
#include "core/kafka/generated/incremental_alter_configs.h"
#include "core/kafka/generated/delete_groups.h"
#include "core/kafka/generated/delete_topics.h"
#include "core/kafka/generated/describe_groups.h"
#include "core/kafka/generated/find_coordinator.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/join_group.h"
#include "core/kafka/generated/leave_group.h"
#include "core/kafka/generated/list_groups.h"
#include "core/kafka/generated/offset_commit.h"
#include "core/kafka/generated/offset_delete.h"
#include "core/kafka/generated/offset_fetch.h"
#include "core/kafka/generated/sync_group.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/list_offsets.h"
#include "core/kafka/generated/init_producer_id.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/offset_for_leader_epoch.h"
#include "core/kafka/generated/produce.h"

namespace eddy::broker {
namespace {

using controller::MetadataImage;
using internal::DecodeBody;
using internal::Gather;
using kafka::ErrorCode;

kafka::Uuid ToUuid(const controller::TopicId& id) {
  kafka::Uuid uuid;
  std::copy(id.begin(), id.end(), uuid.bytes.begin());
  return uuid;
}

controller::TopicId FromUuid(const kafka::Uuid& uuid) {
  controller::TopicId id{};
  std::copy(uuid.bytes.begin(), uuid.bytes.end(), id.begin());
  return id;
}

bool IsGroupApi(int16_t api_key) {
  return api_key == kafka::FindCoordinatorRequest::kApiKey ||
         api_key == kafka::JoinGroupRequest::kApiKey ||
         api_key == kafka::SyncGroupRequest::kApiKey ||
         api_key == kafka::HeartbeatRequest::kApiKey ||
         api_key == kafka::LeaveGroupRequest::kApiKey ||
         api_key == kafka::OffsetCommitRequest::kApiKey ||
         api_key == kafka::OffsetFetchRequest::kApiKey ||
         api_key == kafka::DescribeGroupsRequest::kApiKey ||
         api_key == kafka::ListGroupsRequest::kApiKey ||
         api_key == kafka::DeleteGroupsRequest::kApiKey ||
         api_key == kafka::OffsetDeleteRequest::kApiKey;
}

}  // namespace

bool Broker::Implements(int16_t api_key) const {
  return api_key == kafka::MetadataRequest::kApiKey ||
         api_key == kafka::CreateTopicsRequest::kApiKey ||
         api_key == kafka::DeleteTopicsRequest::kApiKey ||
         api_key == kafka::ProduceRequest::kApiKey || api_key == kafka::FetchRequest::kApiKey ||
         api_key == kafka::ListOffsetsRequest::kApiKey ||
         api_key == kafka::CreatePartitionsRequest::kApiKey ||
         api_key == kafka::DescribeConfigsRequest::kApiKey ||
         api_key == kafka::AlterConfigsRequest::kApiKey ||
         api_key == kafka::IncrementalAlterConfigsRequest::kApiKey ||
         api_key == kafka::OffsetForLeaderEpochRequest::kApiKey ||
         api_key == kafka::InitProducerIdRequest::kApiKey || IsGroupApi(api_key);
}

int16_t Broker::MaxVersion(int16_t api_key) const {
  // ListOffsets v7 adds MAX_TIMESTAMP (-3), v8-9 tiered storage's: not served yet.
  if (api_key == kafka::ListOffsetsRequest::kApiKey) return 6;
  // FindCoordinator v6 adds share groups' keys (KIP-932); ListGroups v5 filters by group type
  // (KIP-848: only classic groups exist here, and v5 is served for that); OffsetFetch v9 and
  // OffsetCommit v9 carry the new protocol's member epochs.
  if (api_key == kafka::FindCoordinatorRequest::kApiKey) return 5;
  if (api_key == kafka::OffsetFetchRequest::kApiKey) return 8;
  if (api_key == kafka::OffsetCommitRequest::kApiKey) return 8;
  return INT16_MAX;
}

int16_t Broker::MinVersion(int16_t api_key) const {
  // RecordBatch v2 only: Produce v3+ carries it; Fetch v4+ is what v2-format clients send (no
  // down-conversion to message sets v0/v1).
  if (api_key == kafka::ProduceRequest::kApiKey) return 3;
  if (api_key == kafka::FetchRequest::kApiKey) return 4;
  if (api_key == kafka::ListOffsetsRequest::kApiKey) return 1;  // v0's offset lists are gone
  return 0;
}

void Broker::Handle(runtime::ConnectionId, const kafka::RequestFrame& frame, Respond respond) {
  switch (frame.header.api_key) {
    case kafka::MetadataRequest::kApiKey:
      return HandleMetadata(frame, std::move(respond));
    case kafka::CreateTopicsRequest::kApiKey:
      return HandleCreateTopics(frame, std::move(respond));
    case kafka::DeleteTopicsRequest::kApiKey:
      return HandleDeleteTopics(frame, std::move(respond));
    case kafka::ProduceRequest::kApiKey:
      return HandleProduce(frame, std::move(respond));
    case kafka::FetchRequest::kApiKey:
      return HandleFetch(frame, std::move(respond));
    case kafka::ListOffsetsRequest::kApiKey:
      return HandleListOffsets(frame, std::move(respond));
    case kafka::OffsetForLeaderEpochRequest::kApiKey:
      return HandleOffsetForLeaderEpoch(frame, std::move(respond));
    case kafka::CreatePartitionsRequest::kApiKey:
      return HandleCreatePartitions(frame, std::move(respond));
    case kafka::DescribeConfigsRequest::kApiKey:
      return HandleDescribeConfigs(frame, std::move(respond));
    case kafka::AlterConfigsRequest::kApiKey:
      return HandleAlterConfigs(frame, std::move(respond));
    case kafka::IncrementalAlterConfigsRequest::kApiKey:
      return HandleIncrementalAlterConfigs(frame, std::move(respond));
    case kafka::InitProducerIdRequest::kApiKey:
      return HandleInitProducerId(frame, std::move(respond));
    case kafka::FindCoordinatorRequest::kApiKey:
      return HandleFindCoordinator(frame, std::move(respond));
    case kafka::JoinGroupRequest::kApiKey:
      return HandleJoinGroup(frame, std::move(respond));
    case kafka::SyncGroupRequest::kApiKey:
      return HandleSyncGroup(frame, std::move(respond));
    case kafka::HeartbeatRequest::kApiKey:
      return HandleHeartbeat(frame, std::move(respond));
    case kafka::LeaveGroupRequest::kApiKey:
      return HandleLeaveGroup(frame, std::move(respond));
    case kafka::OffsetCommitRequest::kApiKey:
      return HandleOffsetCommit(frame, std::move(respond));
    case kafka::OffsetFetchRequest::kApiKey:
      return HandleOffsetFetch(frame, std::move(respond));
    case kafka::DescribeGroupsRequest::kApiKey:
      return HandleDescribeGroups(frame, std::move(respond));
    case kafka::ListGroupsRequest::kApiKey:
      return HandleListGroups(frame, std::move(respond));
    case kafka::DeleteGroupsRequest::kApiKey:
      return HandleDeleteGroups(frame, std::move(respond));
    case kafka::OffsetDeleteRequest::kApiKey:
      return HandleOffsetDelete(frame, std::move(respond));
    default:
      return std::move(respond)(absl::InvalidArgumentError("not implemented"));
  }
}

void Broker::HandleMetadata(const kafka::RequestFrame& frame, Respond respond) {
  kafka::MetadataRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  kafka::MetadataResponse response;
  for (const auto& [id, broker] : image_.brokers()) {
    if (broker.fenced || broker.endpoints.empty()) continue;
    kafka::MetadataResponse::Broker b;
    b.node_id = id;
    b.host = broker.endpoints.front().host();
    b.port = broker.endpoints.front().port();
    if (!broker.rack.empty()) b.rack = broker.rack;
    response.brokers.push_back(std::move(b));
  }
  if (!image_.cluster_id().empty()) response.cluster_id = image_.cluster_id();
  const runtime::NodeId leader = MetadataLeader();
  response.controller_id = leader == runtime::kNoNode ? -1 : static_cast<int32_t>(leader);

  // Which topics: all (v0: an empty list; v1+: null), or the ones named (by name or, v10+, id).
  std::vector<const controller::TopicInfo*> topics;
  std::vector<kafka::MetadataResponse::Topic> unknown;
  const bool all = !request.topics.has_value() || (version == 0 && request.topics->empty());
  if (all) {
    for (const auto& [id, topic] : image_.topics()) topics.push_back(&topic);
  } else {
    for (const auto& wanted : *request.topics) {
      const controller::TopicInfo* topic =
          wanted.name.has_value() ? image_.FindTopic(*wanted.name)
                                  : image_.topic(FromUuid(wanted.topic_id));
      if (topic != nullptr) {
        topics.push_back(topic);
        continue;
      }
      kafka::MetadataResponse::Topic t;
      t.name = wanted.name;
      t.topic_id = wanted.topic_id;
      t.error_code = kafka::ToWire(wanted.name.has_value() ? ErrorCode::kUnknownTopicOrPartition
                                                           : ErrorCode::kUnknownTopicId);
      // v0-3 always ask for auto-creation; v4+ say whether they want it.
      const bool auto_create = options_.auto_create_topics && wanted.name.has_value() &&
                               (version < 4 || request.allow_auto_topic_creation) &&
                               MetadataImage::ValidateTopicName(*wanted.name).ok();
      if (auto_create && *wanted.name == group::kOffsetsTopicName) {
        CreateOffsetsTopic();  // with the offsets topic's own shape
        t.error_code = kafka::ToWire(ErrorCode::kLeaderNotAvailable);
      } else if (auto_create) {
        AutoCreate(*wanted.name);
        t.error_code = kafka::ToWire(ErrorCode::kLeaderNotAvailable);  // being created
      } else if (wanted.name.has_value() &&
                 !MetadataImage::ValidateTopicName(*wanted.name).ok()) {
        t.error_code = kafka::ToWire(ErrorCode::kInvalidTopicException);
      }
      unknown.push_back(std::move(t));
    }
  }
  for (const controller::TopicInfo* topic : topics) {
    kafka::MetadataResponse::Topic t;
    t.name = topic->name;
    t.topic_id = ToUuid(topic->id);
    t.is_internal = topic->name == group::kOffsetsTopicName;
    for (size_t p = 0; p < topic->partitions.size(); ++p) {
      const controller::PartitionInfo& info = topic->partitions[p];
      kafka::MetadataResponse::Topic::Partition part;
      part.partition_index = static_cast<int32_t>(p);
      part.replica_nodes.assign(info.replicas.begin(), info.replicas.end());
      for (controller::BrokerId b : info.replicas) {
        const controller::BrokerInfo* broker = image_.broker(b);
        if (broker == nullptr || broker->fenced) part.offline_replicas.push_back(b);
      }
      // Hosted here: this replica knows the leader; else the leader's announcement does.
      if (std::optional<Leadership> leadership = LeadershipOf(info.group_id)) {
        part.leader_id = leadership->leader;
        part.leader_epoch = internal::LeaderEpochOf(leadership->term);
        // In sync as the leader measures it; not known yet: every replica.
        part.isr_nodes = leadership->isr.empty() ? part.replica_nodes : leadership->isr;
      } else {
        part.isr_nodes = part.replica_nodes;
        // Not known here (no replica on this broker, or no leader yet): never a guess.
        part.leader_id = -1;
        part.leader_epoch = -1;
        part.error_code = kafka::ToWire(ErrorCode::kLeaderNotAvailable);
      }
      t.partitions.push_back(std::move(part));
    }
    response.topics.push_back(std::move(t));
  }
  for (auto& t : unknown) response.topics.push_back(std::move(t));
  std::move(respond)(EncodeResponse(frame.header, response));
}

void Broker::AutoCreate(const std::string& name) {
  if (!auto_creating_.insert(name).second) return;
  ControllerCall call;
  CreateTopicCall* create = call.mutable_create_topic();
  create->set_name(name);
  create->set_num_partitions(-1);
  create->set_replication_factor(-1);
  CallController(std::move(call), Duration::Seconds(30),
                 [this, name](ControllerAnswer) { auto_creating_.erase(name); });
}

void Broker::HandleCreateTopics(const kafka::RequestFrame& frame, Respond respond) {
  kafka::CreateTopicsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  auto gather = std::make_shared<Gather<kafka::CreateTopicsResponse>>();
  gather->header = frame.header;
  gather->respond = std::move(respond);
  gather->outstanding = request.topics.size() + 1;  // + 1 until every call is made
  std::map<std::string, int> seen;
  for (const auto& t : request.topics) ++seen[t.name];
  const Duration timeout =
      std::max(kCallRetryInterval, Duration::Milliseconds(std::max(request.timeout_ms, 0)));
  gather->response.topics.resize(request.topics.size());
  for (size_t i = 0; i < request.topics.size(); ++i) {
    const auto& topic = request.topics[i];
    kafka::CreateTopicsResponse::CreatableTopicResult& result = gather->response.topics[i];
    result.name = topic.name;
    if (version < 5) result.configs = std::nullopt;
    auto fail = [&](ErrorCode code, std::string message) {
      result.error_code = kafka::ToWire(code);
      if (version >= 1) result.error_message = std::move(message);
      gather->Done();
    };
    if (seen[topic.name] > 1) {
      fail(ErrorCode::kInvalidRequest, "Create topics request from client contains a duplicate");
      continue;
    }
    // -1 takes the broker's default at every version, as Kafka's broker does: KIP-464 only
    // stopped the Java client from refusing it below v4, and kafkajs (v3) sends -1 by default.
    ControllerCall call;
    CreateTopicCall* create = call.mutable_create_topic();
    create->set_name(topic.name);
    create->set_num_partitions(topic.num_partitions);
    create->set_replication_factor(topic.replication_factor);
    create->set_validate_only(request.validate_only);
    std::vector<const kafka::CreateTopicsRequest::CreatableTopic::CreatableReplicaAssignment*>
        assignments;
    for (const auto& a : topic.assignments) assignments.push_back(&a);
    std::sort(assignments.begin(), assignments.end(),
              [](auto* a, auto* b) { return a->partition_index < b->partition_index; });
    bool dense = true;
    for (size_t p = 0; p < assignments.size(); ++p) {
      dense &= assignments[p]->partition_index == static_cast<int32_t>(p);
      create->add_assignments()->mutable_replicas()->Add(assignments[p]->broker_ids.begin(),
                                                         assignments[p]->broker_ids.end());
    }
    if (!dense) {
      fail(ErrorCode::kInvalidReplicaAssignment, "partitions must be numbered from 0 densely");
      continue;
    }
    if (!assignments.empty() && (topic.num_partitions == -1 || topic.replication_factor == -1)) {
      create->set_num_partitions(-1);
      create->set_replication_factor(-1);
    }
    std::map<std::string, std::string> configs;
    bool null_value = false;
    for (const auto& c : topic.configs) {
      null_value |= !c.value.has_value();
      if (c.value.has_value()) configs[c.name] = *c.value;
    }
    if (null_value) {
      fail(ErrorCode::kInvalidConfig, "a config with a null value");
      continue;
    }
    for (const auto& [key, value] : configs) {
      controller::ConfigEntry* entry = create->add_configs();
      entry->set_key(key);
      entry->set_value(value);
    }
    CallController(std::move(call), timeout,
                   [this, gather, i, version, configs](ControllerAnswer answer) {
                     auto& r = gather->response.topics[i];
                     r.error_code = static_cast<int16_t>(answer.error_code());
                     if (version >= 1 && answer.error_code() != 0) {
                       r.error_message = answer.message();
                     }
                     if (answer.error_code() == 0) {
                       if (version >= 5 && answer.num_partitions() > 0) {
                         r.num_partitions = answer.num_partitions();
                         r.replication_factor =
                             static_cast<int16_t>(answer.replication_factor());
                       }
                       if (const std::optional<controller::TopicId> id =
                               controller::TopicIdFromBytes(answer.topic_id())) {
                         r.topic_id = ToUuid(*id);
                       }
                       if (version >= 5) {
                         r.configs.emplace();
                         for (const controller::DescribedConfig& d :
                              controller::DescribeTopicConfig(configs, options_.topic_config_defaults)) {
                           kafka::CreateTopicsResponse::CreatableTopicResult::CreatableTopicConfigs
                               c;
                           c.name = d.name;
                           c.value = d.value;
                           c.config_source = static_cast<int8_t>(d.source);
                           r.configs->push_back(std::move(c));
                         }
                       }
                     }
                     gather->Done();
                   });
  }
  gather->Done();
}

void Broker::HandleDeleteTopics(const kafka::RequestFrame& frame, Respond respond) {
  kafka::DeleteTopicsRequest request;
  if (!DecodeBody(frame, request, respond)) return;
  const int16_t version = frame.header.api_version;
  // v0-5 name topics; v6 names or ids.
  std::vector<std::pair<std::optional<std::string>, kafka::Uuid>> wanted;
  for (const std::string& name : request.topic_names) wanted.emplace_back(name, kafka::Uuid{});
  for (const auto& t : request.topics) wanted.emplace_back(t.name, t.topic_id);
  auto gather = std::make_shared<Gather<kafka::DeleteTopicsResponse>>();
  gather->header = frame.header;
  gather->respond = std::move(respond);
  gather->outstanding = wanted.size() + 1;
  gather->response.responses.resize(wanted.size());
  const Duration timeout =
      std::max(kCallRetryInterval, Duration::Milliseconds(std::max(request.timeout_ms, 0)));
  for (size_t i = 0; i < wanted.size(); ++i) {
    auto& result = gather->response.responses[i];
    result.name = wanted[i].first;
    result.topic_id = wanted[i].second;
    std::string name;
    if (wanted[i].first.has_value()) {
      name = *wanted[i].first;
    } else if (const controller::TopicInfo* t = image_.topic(FromUuid(wanted[i].second))) {
      name = t->name;
    } else {
      result.error_code = kafka::ToWire(ErrorCode::kUnknownTopicId);
      gather->Done();
      continue;
    }
    ControllerCall call;
    call.set_delete_topic(name);
    CallController(std::move(call), timeout, [gather, i, version](ControllerAnswer answer) {
      auto& r = gather->response.responses[i];
      r.error_code = static_cast<int16_t>(answer.error_code());
      if (version >= 5 && answer.error_code() != 0) r.error_message = answer.message();
      gather->Done();
    });
  }
  gather->Done();
}

}  // namespace eddy::broker
