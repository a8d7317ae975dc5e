// eddyd's configuration: a server.properties-style file with Kafka's key names where the meaning
// is the same, then EDDY_* environment variables, then --override key=value, each overriding the
// one before. With no file, the dev defaults: one node on 127.0.0.1:9092 (KNOWN KEYS below).
//
// Every key is checked: an unknown key, a bad value or an inconsistent combination is an
// kInvalidArgument naming the key, so eddyd refuses to start instead of guessing.
//
// KNOWN KEYS (default in dev mode):
//   node.id                     1
//   process.roles               broker,controller (every Eddy broker is a metadata voter for now)
//   controller.quorum.voters    1@127.0.0.1:9093 — id@host:port of every node's peer listener
//   listeners                   PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
//   advertised.listeners        the PLAINTEXT listener
//   log.dirs                    /tmp/eddy-data (one directory)
//   broker.rack                 (none)
//   num.partitions              1
//   default.replication.factor  1
//   auto.create.topics.enable   true
//   producer.id.expiration.ms   86400000 — an idle idempotent producer is forgotten after it
//   consumer groups (core/group/README.md), Kafka's meanings:
//     group.initial.rebalance.delay.ms     0 (Kafka's code default is 3000; its shipped
//                                          server.properties sets 0 for development, as here)
//     group.min.session.timeout.ms         6000
//     group.max.session.timeout.ms         1800000
//     group.max.size                       10000 (Kafka: unbounded; here a named bound)
//     offsets.topic.num.partitions         50
//     offsets.topic.replication.factor     3 (capped at the number of voters)
//     offsets.retention.minutes            10080
//     offsets.retention.check.interval.ms  600000
//     offset.metadata.max.bytes            4096
//   and the broker-level defaults of topic configs, under each topic's own values (unset: Kafka's
//   defaults): log.retention.ms, log.retention.bytes, log.segment.bytes, log.roll.ms,
//   log.cleanup.policy, message.max.bytes, log.message.timestamp.type, min.insync.replicas.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/group/group_coordinator.h"
#include "core/runtime/connector.h"
#include "core/runtime/transport.h"

namespace eddy::eddyd {

struct Config {
  runtime::NodeId node_id = 1;
  // The metadata group's voters and where each one's peer listener is.
  std::map<runtime::NodeId, runtime::Address> voters;
  runtime::Address client_listener;      // PLAINTEXT in `listeners`
  runtime::Address peer_listener;        // CONTROLLER in `listeners`
  runtime::Address advertised_listener;  // PLAINTEXT in `advertised.listeners`
  std::string data_directory;
  std::string rack;
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics = true;
  int64_t producer_id_expiration_ms = 86'400'000;
  group::CoordinatorOptions group_coordinator;
  int32_t offsets_topic_partitions = 50;
  int32_t offsets_topic_replication_factor = 3;
  // Broker-level topic config defaults that were set, by broker name (log.retention.ms, ...).
  std::map<std::string, std::string> topic_config_defaults;
};

// Key/value pairs of a properties file: `key=value` (or `key: value`) lines; `#` and `!` start
// comments; surrounding spaces are trimmed. kInvalidArgument names the line that is neither.
absl::StatusOr<std::map<std::string, std::string>> ParseProperties(const std::string& text);

// The keys eddyd knows and their dev-mode defaults.
const std::map<std::string, std::string>& DefaultProperties();

// EDDY_NODE_ID=2 means node.id=2: strip EDDY_, lower-case, '_' to '.'. Every EDDY_* variable in
// `environment` ("NAME=value" strings) becomes a property; EDDY_BROKERS (the CLI's) is skipped.
std::map<std::string, std::string> PropertiesFromEnvironment(
    const std::vector<std::string>& environment);

// The defaults overlaid with each layer in turn, checked and converted.
absl::StatusOr<Config> BuildConfig(
    const std::vector<std::map<std::string, std::string>>& layers);

}  // namespace eddy::eddyd
