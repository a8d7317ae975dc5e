// SimProducer: a Kafka producer of the broker simulation, written directly on BrokerConnection:
// it learns leaders from Metadata and reports to the checker. Two kinds:
//   PLAIN: sends each batch once (never retried: a failed batch's values may or may not be in
//     the log), acks=all or acks=1;
//   IDEMPOTENT: takes a producer id (InitProducerId), numbers each partition's batches, keeps up
//     to kInFlightPerPartitionMax of them in flight and retries every failed one with the same
//     sequence, in order, until it is acknowledged — what Kafka's idempotent producers do, and
//     what the broker's deduplication must turn into exactly one copy in the log.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/kafka/generated/produce.h"
#include "core/record/batch_header.h"
#include "core/base/random.h"
#include "sim/broker/data_checker.h"
#include "sim/broker/topology.h"
#include "sim/runtime/sim_world.h"

namespace eddy::sim::broker {

struct ProducerStats {
  uint64_t requests = 0;
  uint64_t failed_batches = 0;
  uint64_t metadata_requests = 0;
  uint64_t retried_batches = 0;      // idempotent resends
  uint64_t out_of_order_answers = 0; // OUT_OF_ORDER_SEQUENCE_NUMBER (a resend follows)
  uint64_t producer_ids = 0;
  std::map<int16_t, uint64_t> idempotent_errors;  // by Kafka error code (-100: no reply)
};

class SimProducer {
 public:
  static constexpr size_t kInFlightMax = 5;
  static constexpr size_t kInFlightPerPartitionMax = 3;
  static constexpr size_t kQueuedPerPartitionMax = 4;
  // Kafka's retry.backoff.ms default.
  static constexpr Duration kRetryBackoff = Duration::Milliseconds(100);

  // `topology` (the partitions to write to, as the admin changes them) outlives the producer.
  SimProducer(SimWorld& world, int id, bool idempotent, const Topology& topology,
              Duration interval_mean, DataChecker& checker, ProducerStats& stats,
              std::optional<std::string>* violation);
  void Start();
  void Stop() { stopped_ = true; }

 private:
  void Tick();
  void RefreshMetadata();
  void Send(const PartitionKey& partition, runtime::NodeId leader);
  clients::BrokerConnection& ConnectionTo(runtime::NodeId broker);
  // One batch of fresh values (`fields` give the producer id, epoch and sequence).
  std::vector<uint8_t> NewBatch(const record::BatchHeader& fields,
                                std::vector<std::string>* values);
  kafka::ProduceRequest RequestFor(const PartitionKey& partition,
                                   const std::vector<uint8_t>& batch, int16_t acks) const;

  // Idempotent mode.
  struct Outgoing {
    int32_t sequence = 0;
    std::vector<std::string> values;
    std::vector<uint8_t> batch;
    bool in_flight = false;
  };
  struct PartitionQueue {
    std::deque<Outgoing> batches;  // unacknowledged, by sequence
    int32_t next_sequence = 0;
    uint64_t generation = 0;       // moves on every failure: older replies only count if OK
    Instant retry_at;              // nothing is sent before (retry.backoff.ms after a failure)
  };
  void TickIdempotent(const PartitionKey& partition);
  void InitProducerId();
  void Pump(const PartitionKey& partition);
  void OnIdempotentReply(const PartitionKey& partition, int32_t sequence, uint64_t generation,
                         const kafka::ProduceResponse::TopicProduceResponse::PartitionProduceResponse* pr);

  SimWorld& world_;
  SimClient& client_;
  const int id_;
  const Topology& topology_;
  const Duration interval_mean_;
  DataChecker& checker_;
  ProducerStats& stats_;
  std::optional<std::string>* violation_;
  std::map<PartitionKey, runtime::NodeId> leaders_;
  std::map<runtime::NodeId, std::unique_ptr<clients::BrokerConnection>> connections_;
  const bool idempotent_;
  int64_t producer_id_ = -1;
  bool initializing_ = false;
  std::map<PartitionKey, PartitionQueue> queues_;
  uint64_t next_value_ = 0;
  size_t in_flight_ = 0;
  bool refreshing_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace eddy::sim::broker
