// What the admin client takes and gives (admin.h): Kafka's AdminClient types, as plain structs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/base/units.h"
#include "core/kafka/wire.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

struct AdminOptions {
  // bootstrap.servers. REQUIRES: not empty.
  std::vector<runtime::Address> bootstrap;
  // client.id
  std::optional<std::string> client_id = "eddy-admin";
  // request.timeout.ms: one attempt's wait for its reply (and the TimeoutMs asked of the broker).
  Duration request_timeout = Duration::Seconds(30);
  // default.api.timeout.ms: how long a call keeps retrying (NOT_CONTROLLER, REQUEST_TIMED_OUT,
  // a lost connection, ...) before it gives up.
  Duration default_api_timeout = Duration::Seconds(60);
  // retry.backoff.ms
  Duration retry_backoff = Duration::Milliseconds(100);
};

struct NewTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1: the broker's default
  int16_t replication_factor = -1;  // -1: the broker's default
  std::map<std::string, std::string> configs;
};

struct CreatedTopic {
  kafka::Uuid topic_id;
  int32_t num_partitions = -1;
  int16_t replication_factor = -1;
};

struct TopicListing {
  std::string name;
  kafka::Uuid topic_id;
  bool internal = false;
};

struct PartitionDescription {
  int32_t partition = 0;
  int32_t leader = -1;  // -1: none
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct TopicDescription {
  std::string name;
  kafka::Uuid topic_id;
  bool internal = false;
  std::vector<PartitionDescription> partitions;  // by partition index
};

struct BrokerNode {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct ClusterDescription {
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerNode> brokers;  // by id
};

// Kafka's ConfigResource.Type values, as the wire carries them.
enum class ConfigResourceType : int8_t { kTopic = 2, kBroker = 4 };

struct ConfigResource {
  ConfigResourceType type = ConfigResourceType::kTopic;
  std::string name;  // a topic's name, or a broker's id in decimal
  friend auto operator<=>(const ConfigResource&, const ConfigResource&) = default;
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool read_only = false;
  bool is_default = false;
  bool is_sensitive = false;
  int8_t source = -1;  // Kafka's ConfigSource
};

// IncrementalAlterConfigs' operations (Kafka's AlterConfigOp.OpType).
enum class AlterConfigOpType : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };

struct AlterConfigOp {
  std::string name;
  AlterConfigOpType op = AlterConfigOpType::kSet;
  std::optional<std::string> value;
};

}  // namespace eddy::clients
