// SimProducer: a plain (non-idempotent) Kafka producer of the broker simulation, written
// directly on BrokerConnection: it learns leaders from Metadata, sends each batch once (never
// retried: a failed batch's values may or may not be in the log), and reports to the checker.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/base/random.h"
#include "sim/broker/data_checker.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::broker {

struct ProducerStats {
  uint64_t requests = 0;
  uint64_t failed_batches = 0;
  uint64_t metadata_requests = 0;
};

class SimProducer {
 public:
  static constexpr size_t kInFlightMax = 5;

  SimProducer(SimWorld& world, int id, std::vector<PartitionKey> partitions,
              Duration interval_mean, DataChecker& checker, ProducerStats& stats,
              std::optional<std::string>* violation);
  void Start();
  void Stop() { stopped_ = true; }

 private:
  void Tick();
  void RefreshMetadata();
  void Send(const PartitionKey& partition, runtime::NodeId leader);
  clients::BrokerConnection& ConnectionTo(runtime::NodeId broker);

  SimWorld& world_;
  SimClient& client_;
  const int id_;
  const std::vector<PartitionKey> partitions_;
  const Duration interval_mean_;
  DataChecker& checker_;
  ProducerStats& stats_;
  std::optional<std::string>* violation_;
  std::map<PartitionKey, runtime::NodeId> leaders_;
  std::map<runtime::NodeId, std::unique_ptr<clients::BrokerConnection>> connections_;
  uint64_t next_value_ = 0;
  size_t in_flight_ = 0;
  bool refreshing_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::broker
