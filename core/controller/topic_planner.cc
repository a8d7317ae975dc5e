#include "core/controller/topic_planner.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/controller/assignment.h"
#include "core/controller/topic_config.h"

namespace eddy::controller {
namespace {

using kafka::ErrorCode;

Plan Fail(ErrorCode code, std::string message) {
  Plan plan;
  plan.error = code;
  plan.message = std::move(message);
  return plan;
}

std::string NewTopicId(const MetadataImage& image, Random& random) {
  for (;;) {
    TopicId id{};
    for (size_t i = 0; i < id.size(); i += 8) {
      const uint64_t word = random.Next();
      for (size_t b = 0; b < 8; ++b) id[i + b] = static_cast<uint8_t>(word >> (8 * b));
    }
    if (id != TopicId{} && image.topic(id) == nullptr) return TopicIdBytes(id);
  }
}

size_t AvailableBrokers(const MetadataImage& image) {
  size_t n = 0;
  for (const auto& [id, broker] : image.brokers()) n += broker.fenced ? 0 : 1;
  return n;
}

// A manual assignment: every partition the same size, distinct known brokers.
Plan CheckAssignments(const MetadataImage& image,
                      const std::vector<std::vector<BrokerId>>& assignments) {
  for (const std::vector<BrokerId>& replicas : assignments) {
    if (replicas.empty() || replicas.size() != assignments.front().size() ||
        replicas.size() > MetadataImage::kReplicationFactorMax) {
      return Fail(ErrorCode::kInvalidReplicaAssignment,
                  "every partition needs the same number of replicas, at least one");
    }
    std::set<BrokerId> seen;
    for (BrokerId b : replicas) {
      if (image.broker(b) == nullptr) {
        return Fail(ErrorCode::kInvalidReplicaAssignment, absl::StrCat("unknown broker ", b));
      }
      if (!seen.insert(b).second) {
        return Fail(ErrorCode::kInvalidReplicaAssignment,
                    absl::StrCat("broker ", b, " twice in one partition"));
      }
    }
  }
  return Plan{};
}

// Fills `out` with the replicas of `count` new partitions of factor `rf`.
Plan Assign(const MetadataImage& image, size_t count, size_t rf, Random& random,
            google::protobuf::RepeatedPtrField<PartitionReplicas>* out) {
  if (rf > AvailableBrokers(image) || rf > MetadataImage::kReplicationFactorMax) {
    return Fail(ErrorCode::kInvalidReplicationFactor,
                absl::StrCat("replication factor ", rf, " is larger than the ",
                             AvailableBrokers(image), " available brokers"));
  }
  absl::StatusOr<std::vector<std::vector<BrokerId>>> assigned = AssignReplicas(
      image, AssignmentRequest{.partitions = count, .replication_factor = rf,
                               .rotation = random.Next()});
  if (!assigned.ok()) {
    return Fail(ErrorCode::kInvalidReplicationFactor, std::string(assigned.status().message()));
  }
  for (const std::vector<BrokerId>& replicas : *assigned) {
    out->Add()->mutable_replicas()->Add(replicas.begin(), replicas.end());
  }
  return Plan{};
}

Plan CheckConfigs(const std::map<std::string, std::string>& configs) {
  for (const auto& [key, value] : configs) {
    if (absl::Status s = ValidateTopicConfig(key, value); !s.ok()) {
      return Fail(ErrorCode::kInvalidConfig, std::string(s.message()));
    }
  }
  return Plan{};
}

Plan CheckCount(size_t existing, int64_t added) {
  if (added <= 0 || existing + static_cast<size_t>(added) > MetadataImage::kPartitionsPerTopicMax) {
    return Fail(ErrorCode::kInvalidPartitions,
                absl::StrCat("number of partitions must be in [1, ",
                             MetadataImage::kPartitionsPerTopicMax, "]"));
  }
  return Plan{};
}

}  // namespace

Plan PlanCreateTopic(const MetadataImage& image, const CreateTopicRequest& request,
                     const TopicDefaults& defaults, Random& random) {
  if (absl::Status s = MetadataImage::ValidateTopicName(request.name); !s.ok()) {
    return Fail(ErrorCode::kInvalidTopicException, std::string(s.message()));
  }
  if (image.FindTopic(request.name) != nullptr) {
    return Fail(ErrorCode::kTopicAlreadyExists,
                absl::StrCat("Topic '", request.name, "' already exists."));
  }
  if (Plan p = CheckConfigs(request.configs); !p.ok()) return p;
  Plan plan;
  CreateTopic* create = plan.record.mutable_create_topic();
  create->set_name(request.name);
  create->set_topic_id(NewTopicId(image, random));
  for (const auto& [key, value] : request.configs) {
    ConfigEntry* c = create->add_configs();
    c->set_key(key);
    c->set_value(value);
  }
  if (!request.assignments.empty()) {
    if (request.num_partitions != -1 || request.replication_factor != -1) {
      return Fail(ErrorCode::kInvalidRequest,
                  "both a replica assignment and a partition count or replication factor");
    }
    if (Plan p = CheckCount(0, static_cast<int64_t>(request.assignments.size())); !p.ok()) {
      return p;
    }
    if (Plan p = CheckAssignments(image, request.assignments); !p.ok()) return p;
    for (const std::vector<BrokerId>& replicas : request.assignments) {
      create->add_partitions()->mutable_replicas()->Add(replicas.begin(), replicas.end());
    }
    return plan;
  }
  const int64_t count =
      request.num_partitions == -1 ? defaults.num_partitions : request.num_partitions;
  const int64_t rf =
      request.replication_factor == -1 ? defaults.replication_factor : request.replication_factor;
  if (Plan p = CheckCount(0, count); !p.ok()) return p;
  if (rf <= 0) {
    return Fail(ErrorCode::kInvalidReplicationFactor, "replication factor must be larger than 0");
  }
  if (Plan p = Assign(image, static_cast<size_t>(count), static_cast<size_t>(rf), random,
                      create->mutable_partitions());
      !p.ok()) {
    return p;
  }
  return plan;
}

Plan PlanDeleteTopic(const MetadataImage& image, const std::string& name) {
  const TopicInfo* topic = image.FindTopic(name);
  if (topic == nullptr) {
    return Fail(ErrorCode::kUnknownTopicOrPartition,
                absl::StrCat("This server does not host topic '", name.substr(0, 255), "'."));
  }
  Plan plan;
  plan.record.mutable_delete_topic()->set_topic_id(TopicIdBytes(topic->id));
  return plan;
}

Plan PlanCreatePartitions(const MetadataImage& image, const std::string& name, int32_t total,
                          const std::vector<std::vector<BrokerId>>& assignments, Random& random) {
  const TopicInfo* topic = image.FindTopic(name);
  if (topic == nullptr) {
    return Fail(ErrorCode::kUnknownTopicOrPartition,
                absl::StrCat("This server does not host topic '", name.substr(0, 255), "'."));
  }
  const int64_t existing = static_cast<int64_t>(topic->partitions.size());
  if (total <= existing) {
    return Fail(ErrorCode::kInvalidPartitions,
                absl::StrCat("Topic currently has ", existing,
                             " partitions, which is higher than or equal to the requested ",
                             total, "."));
  }
  if (Plan p = CheckCount(topic->partitions.size(), total - existing); !p.ok()) return p;
  Plan plan;
  CreatePartitions* grow = plan.record.mutable_create_partitions();
  grow->set_topic_id(TopicIdBytes(topic->id));
  if (!assignments.empty()) {
    if (static_cast<int64_t>(assignments.size()) != total - existing) {
      return Fail(ErrorCode::kInvalidReplicaAssignment,
                  absl::StrCat(assignments.size(), " assignments for ", total - existing,
                               " new partitions"));
    }
    if (Plan p = CheckAssignments(image, assignments); !p.ok()) return p;
    for (const std::vector<BrokerId>& replicas : assignments) {
      grow->add_partitions()->mutable_replicas()->Add(replicas.begin(), replicas.end());
    }
    return plan;
  }
  const size_t rf = topic->partitions.front().replicas.size();
  if (Plan p = Assign(image, static_cast<size_t>(total - existing), rf, random,
                      grow->mutable_partitions());
      !p.ok()) {
    return p;
  }
  return plan;
}

Plan PlanAlterConfigs(const MetadataImage& image, const std::string& name,
                      const std::map<std::string, std::string>& set,
                      const std::vector<std::string>& remove, bool incremental) {
  const TopicInfo* topic = image.FindTopic(name);
  if (topic == nullptr) {
    return Fail(ErrorCode::kUnknownTopicOrPartition,
                absl::StrCat("This server does not host topic '", name.substr(0, 255), "'."));
  }
  if (Plan p = CheckConfigs(set); !p.ok()) return p;
  for (const std::string& key : remove) {
    if (FindTopicConfig(key) == nullptr) {
      return Fail(ErrorCode::kInvalidConfig, absl::StrCat("unknown config ", key.substr(0, 64)));
    }
  }
  Plan plan;
  AlterTopicConfigs* alter = plan.record.mutable_alter_topic_configs();
  alter->set_topic_id(TopicIdBytes(topic->id));
  alter->set_replace_all(!incremental);
  for (const auto& [key, value] : set) {
    ConfigEntry* c = alter->add_set();
    c->set_key(key);
    c->set_value(value);
  }
  for (const std::string& key : remove) alter->add_remove(key);
  return plan;
}

}  // namespace eddy::controller
