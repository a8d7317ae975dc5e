// MetadataCache: what the producer knows of the cluster from its last Metadata replies — the
// brokers' addresses, and per topic its partition count and each partition's leader.
//
// A reply replaces what it names (brokers, and each topic it carries); topics it does not carry
// keep their entries. A topic the reply reports with an error keeps no partitions (its records
// wait), and the error is remembered for the records that time out waiting.
//
// Pure; ordered containers only. LOOP AFFINITY: the producer's loop.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "clients/producer_batch.h"
#include "core/kafka/generated/metadata.h"
#include "core/runtime/connector.h"

namespace eddy::clients {

class MetadataCache {
 public:
  void Update(const kafka::MetadataResponse& response);
  // Forgets `tp`'s leader (it answered NOT_LEADER_OR_FOLLOWER) until the next reply.
  void ForgetLeader(const TopicPartition& tp);

  // nullopt while the topic is unknown or reported with an error.
  std::optional<int32_t> PartitionCount(const std::string& topic) const;
  // The leader's broker id, if known and alive in the reply.
  std::optional<int32_t> Leader(const TopicPartition& tp) const;
  const runtime::Address* BrokerAddress(int32_t broker_id) const;
  // Brokers in id order.
  std::vector<runtime::Address> BrokerAddresses() const;
  // Why the topic is unknown (OK if it is known or was never asked about).
  absl::Status TopicError(const std::string& topic) const;

 private:
  struct Topic {
    std::vector<int32_t> leaders;  // by partition index; -1: none
    absl::Status error;
  };
  std::map<int32_t, runtime::Address> brokers_;
  std::map<std::string, Topic> topics_;
};

}  // namespace eddy::clients
