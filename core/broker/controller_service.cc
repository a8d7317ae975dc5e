#include "core/broker/controller_service.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/controller/metadata_machine.h"

namespace eddy::broker {
namespace {

using kafka::ErrorCode;

// Outcomes kept for proposals still waiting for their acknowledgement.
constexpr size_t kOutcomesMax = 4096;

controller::CreateTopicRequest FromCall(const CreateTopicCall& call) {
  controller::CreateTopicRequest request;
  request.name = call.name();
  request.num_partitions = call.num_partitions();
  request.replication_factor = static_cast<int16_t>(call.replication_factor());
  for (const controller::PartitionReplicas& p : call.assignments()) {
    request.assignments.emplace_back(p.replicas().begin(), p.replicas().end());
  }
  for (const controller::ConfigEntry& c : call.configs()) request.configs[c.key()] = c.value();
  return request;
}

ErrorCode ErrorOfRefusal(const absl::Status& refusal) {
  switch (refusal.code()) {
    case absl::StatusCode::kAlreadyExists:
      return ErrorCode::kTopicAlreadyExists;
    case absl::StatusCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    case absl::StatusCode::kInvalidArgument:
      return ErrorCode::kInvalidRequest;
    default:
      return ErrorCode::kInvalidReplicaAssignment;  // a broker gone since the plan
  }
}

}  // namespace

ControllerAnswer AnswerWith(ErrorCode code, std::string message) {
  ControllerAnswer answer;
  answer.set_error_code(kafka::ToWire(code));
  answer.set_message(std::move(message));
  return answer;
}

ControllerService::ControllerService(runtime::Runtime& runtime, DriverFn metadata_driver,
                                     controller::TopicDefaults defaults)
    : runtime_(runtime), metadata_driver_(std::move(metadata_driver)), defaults_(defaults) {}

ControllerService::~ControllerService() { *alive_ = false; }

void ControllerService::Handle(const ControllerCall& call, const controller::MetadataImage& image,
                               Answer answer) {
  ++stats_.calls;
  raft::driver::GroupDriver* driver = metadata_driver_();
  if (!ready_ || driver == nullptr || driver->raft() == nullptr ||
      driver->raft()->role() != raft::Role::kLeader) {
    ++stats_.not_controller;
    return std::move(answer)(AnswerWith(ErrorCode::kNotController, "not the controller"));
  }
  if (std::optional<ControllerAnswer> done = Done(image, call)) {
    return std::move(answer)(*std::move(done));  // a retry of a call carried out already
  }
  controller::MetadataRecord record;
  std::string topic_id;
  // A plan refused, or only validated, is answered here; else its record is taken.
  auto take = [&](controller::Plan& plan, bool validate_only) {
    if (!plan.ok()) {
      ++stats_.refused_by_plan;
      std::move(answer)(AnswerWith(plan.error, plan.message));
      return false;
    }
    if (validate_only) {
      ControllerAnswer validated = AnswerWith(ErrorCode::kNone, "");
      if (plan.record.has_create_topic()) AddTopicShape(plan.record.create_topic(), &validated);
      std::move(answer)(std::move(validated));
      return false;
    }
    record = std::move(plan.record);
    return true;
  };
  switch (call.body_case()) {
    case ControllerCall::kRegisterBroker:
      *record.mutable_register_broker() = call.register_broker();
      break;
    case ControllerCall::kSetBrokerFenced:
      *record.mutable_set_broker_fenced() = call.set_broker_fenced();
      break;
    case ControllerCall::kSetClusterId:
      *record.mutable_set_cluster_id() = call.set_cluster_id();
      break;
    case ControllerCall::kAllocateProducerIds:
      *record.mutable_allocate_producer_ids() = call.allocate_producer_ids();
      break;
    case ControllerCall::kCreateTopic: {
      controller::Plan plan = controller::PlanCreateTopic(image, FromCall(call.create_topic()),
                                                          defaults_, runtime_.random());
      if (plan.ok()) topic_id = plan.record.create_topic().topic_id();
      if (!take(plan, call.create_topic().validate_only())) return;
      break;
    }
    case ControllerCall::kDeleteTopic: {
      controller::Plan plan = controller::PlanDeleteTopic(image, call.delete_topic());
      if (!take(plan, false)) return;
      break;
    }
    case ControllerCall::kCreatePartitions: {
      const CreatePartitionsCall& c = call.create_partitions();
      std::vector<std::vector<controller::BrokerId>> assignments;
      for (const controller::PartitionReplicas& p : c.assignments()) {
        assignments.emplace_back(p.replicas().begin(), p.replicas().end());
      }
      controller::Plan plan = controller::PlanCreatePartitions(image, c.name(), c.total(),
                                                               assignments, runtime_.random());
      if (!take(plan, c.validate_only())) return;
      break;
    }
    case ControllerCall::kAlterConfigs: {
      const AlterConfigsCall& c = call.alter_configs();
      std::map<std::string, std::string> set;
      for (const controller::ConfigEntry& e : c.set()) set[e.key()] = e.value();
      const std::vector<std::string> remove(c.remove().begin(), c.remove().end());
      controller::Plan plan =
          controller::PlanAlterConfigs(image, c.name(), set, remove, c.incremental());
      if (!take(plan, c.validate_only())) return;
      break;
    }
    case ControllerCall::BODY_NOT_SET:
      return std::move(answer)(AnswerWith(ErrorCode::kInvalidRequest, "empty controller call"));
  }
  record.set_request_id(call.request_id());
  // A duplicate of this call proposed meanwhile may be the one applied: then this is done too.
  Propose(record, std::move(topic_id),
          [this, alive = alive_, &image, call, answer = std::move(answer)](
              ControllerAnswer a) mutable {
            if (*alive && a.error_code() != 0) {
              if (std::optional<ControllerAnswer> done = Done(image, call)) a = *std::move(done);
            }
            // The image (this broker's mirror) applied the record before the acknowledgement.
            if (*alive && a.error_code() == 0) {
              AddProducerIds(image, call, &a);
              AddCreatedTopicShape(image, call, &a);
            }
            std::move(answer)(std::move(a));
          });
}

void ControllerService::Propose(const controller::MetadataRecord& record, std::string topic_id,
                                Answer answer) {
  const std::vector<controller::MetadataRecord> records = {record};
  absl::StatusOr<std::vector<uint8_t>> batch =
      controller::EncodeMetadataBatch(records, runtime_.wall_clock().NowMs());
  if (!batch.ok()) {
    return std::move(answer)(AnswerWith(ErrorCode::kInvalidRequest,
                                        std::string(batch.status().message())));
  }
  ++stats_.proposed;
  metadata_driver_()->Propose(
      *std::move(batch),
      [this, alive = alive_, topic_id = std::move(topic_id),
       answer = std::move(answer)](absl::StatusOr<raft::EntryMeta> meta) mutable {
        if (!*alive) return;
        if (!meta.ok()) {
          // Not leader, overwritten, too many in flight: definitely not written, ask again.
          // Stopped or replaced by a snapshot: unknown; a retry is planned afresh either way.
          const bool unknown = absl::IsUnavailable(meta.status());
          if (unknown) ++stats_.outcome_unknown;
          return std::move(answer)(AnswerWith(
              unknown ? ErrorCode::kRequestTimedOut : ErrorCode::kNotController,
              std::string(meta.status().message())));
        }
        auto it = outcomes_.find(meta->base_offset);
        const absl::Status outcome =
            it == outcomes_.end() ? absl::UnknownError("no outcome recorded") : it->second;
        if (it != outcomes_.end()) outcomes_.erase(it);
        if (!outcome.ok()) {
          ++stats_.refused_by_image;
          return std::move(answer)(
              AnswerWith(ErrorOfRefusal(outcome), std::string(outcome.message())));
        }
        ControllerAnswer done = AnswerWith(ErrorCode::kNone, "");
        done.set_topic_id(topic_id);
        std::move(answer)(std::move(done));
      });
}

std::optional<ControllerAnswer> ControllerService::Done(const controller::MetadataImage& image,
                                                       const ControllerCall& call) {
  if (!image.Applied(call.request_id())) return std::nullopt;
  ControllerAnswer done = AnswerWith(ErrorCode::kNone, "");
  if (call.has_create_topic()) {
    if (const controller::TopicInfo* topic = image.FindTopic(call.create_topic().name())) {
      done.set_topic_id(controller::TopicIdBytes(topic->id));
    }
  }
  AddProducerIds(image, call, &done);
  AddCreatedTopicShape(image, call, &done);
  return done;
}

void ControllerService::AddTopicShape(const controller::CreateTopic& topic,
                                      ControllerAnswer* answer) {
  answer->set_num_partitions(topic.partitions_size());
  answer->set_replication_factor(
      topic.partitions().empty() ? 0 : topic.partitions(0).replicas_size());
}

void ControllerService::AddCreatedTopicShape(const controller::MetadataImage& image,
                                             const ControllerCall& call,
                                             ControllerAnswer* answer) {
  if (!call.has_create_topic()) return;
  const controller::TopicInfo* topic = image.FindTopic(call.create_topic().name());
  if (topic == nullptr) return;
  answer->set_num_partitions(static_cast<int32_t>(topic->partitions.size()));
  answer->set_replication_factor(
      topic->partitions.empty() ? 0 : static_cast<int32_t>(topic->partitions[0].replicas.size()));
}

void ControllerService::AddProducerIds(const controller::MetadataImage& image,
                                       const ControllerCall& call, ControllerAnswer* answer) {
  if (!call.has_allocate_producer_ids()) return;
  // The newest block of the calling broker: this call's, as a broker asks for one at a time.
  const std::optional<controller::ProducerIdRange> block =
      image.producer_ids_of(call.allocate_producer_ids().broker_id());
  if (!block.has_value()) {
    *answer = AnswerWith(ErrorCode::kUnknownServerError, "no producer id block recorded");
    return;
  }
  answer->set_producer_id_first(block->first);
  answer->set_producer_id_count(block->size);
}

void ControllerService::OnRecord(int64_t offset, const absl::Status& outcome) {
  outcomes_[offset] = outcome;
  while (outcomes_.size() > kOutcomesMax) outcomes_.erase(outcomes_.begin());
}

}  // namespace eddy::broker
