// The controller's side of CreateTopics, DeleteTopics, CreatePartitions and (Incremental)
// AlterConfigs: each request checked against the current image, answered with Kafka's error
// code and message, or turned into the one MetadataRecord that carries it out.
//
// The controller leader plans against its image and proposes the record; the image applies it
// later and may still refuse it (another proposal in flight took the name): the proposer then
// answers with the refusal (metadata_image.h). Planning draws topic ids (random, never zero)
// and the assignment rotation from the caller's Random.
//
// Kafka's errors, as its controller gives them:
//   INVALID_TOPIC_EXCEPTION     a bad name;     TOPIC_ALREADY_EXISTS     the name is taken;
//   INVALID_PARTITIONS          a count <= 0, above the limits, or not above the current one;
//   INVALID_REPLICATION_FACTOR  <= 0, or more than the available (unfenced) brokers;
//   INVALID_REPLICA_ASSIGNMENT  a manual assignment naming unknown brokers, a broker twice, or
//                               partitions of different sizes;
//   INVALID_REQUEST             a manual assignment together with a count or factor;
//   INVALID_CONFIG              an unknown config or a bad value (the message names the key);
//   UNKNOWN_TOPIC_OR_PARTITION  no such topic.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/base/random.h"
#include "core/controller/metadata_image.h"
#include "core/kafka/errors.h"

namespace eddy::controller {

struct TopicDefaults {
  int32_t num_partitions = 1;       // num.partitions
  int16_t replication_factor = 3;   // default.replication.factor
};

struct CreateTopicRequest {
  std::string name = {};
  int32_t num_partitions = -1;     // -1: the default
  int16_t replication_factor = -1; // -1: the default
  // Manual assignment: partition i's replicas (then both numbers above must be -1).
  std::vector<std::vector<BrokerId>> assignments = {};
  std::map<std::string, std::string> configs = {};
};

struct Plan {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  std::string message;    // for the client, when error != kNone
  MetadataRecord record;  // when error == kNone
  bool ok() const { return error == kafka::ErrorCode::kNone; }
};

Plan PlanCreateTopic(const MetadataImage& image, const CreateTopicRequest& request,
                     const TopicDefaults& defaults, Random& random);

Plan PlanDeleteTopic(const MetadataImage& image, const std::string& name);

// Grows `name` to `total` partitions; `assignments` (optional) places the new ones.
Plan PlanCreatePartitions(const MetadataImage& image, const std::string& name, int32_t total,
                          const std::vector<std::vector<BrokerId>>& assignments, Random& random);

// AlterConfigs (incremental = false: `set` replaces every topic config) or
// IncrementalAlterConfigs (SET the `set` entries, DELETE the `remove` keys).
Plan PlanAlterConfigs(const MetadataImage& image, const std::string& name,
                      const std::map<std::string, std::string>& set,
                      const std::vector<std::string>& remove, bool incremental);

}  // namespace eddy::controller
