// DataChecker: what the clients of a BrokerSim saw, and the checks on it (broker_sim.h, THE
// CHECKS). History-based: it knows every value produced, every acknowledgement, and what the
// final read found.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace eddy::sim::broker {

using PartitionKey = std::pair<std::string, int32_t>;  // topic, partition

struct ReadRecord {
  int64_t offset = 0;
  std::string value;
};

class DataChecker {
 public:
  // A batch was sent (it may or may not be written).
  void Produced(const std::vector<std::string>& values);
  // An idempotent producer's batch for `partition`, in the order it produced them: the read
  // must keep that order (Kafka's per-partition ordering, across retries and leader changes).
  void ProducedInOrder(int producer, const PartitionKey& partition,
                       const std::vector<std::string>& values);
  // A batch was acknowledged at `base_offset`. Returns a violation if that contradicts an
  // earlier acknowledgement (two batches acknowledged at one offset).
  std::optional<std::string> Acked(const PartitionKey& partition, int64_t base_offset,
                                   const std::vector<std::string>& values);

  // The topic was deleted: its records are no longer expected, and acknowledgements still
  // arriving for it are ignored.
  void Deleted(const std::string& topic);

  // Checks one partition's final read (every record from the log start to the high
  // watermark, in order). A definitive violation, or std::nullopt; `complete` is set when
  // every acknowledged record of the partition is in the read.
  std::optional<std::string> CheckRead(const PartitionKey& partition,
                                       const std::vector<ReadRecord>& read, bool* complete);

  uint64_t acked_batches() const { return acked_batches_; }
  uint64_t acked_records() const { return acked_.size(); }
  const std::map<PartitionKey, std::map<int64_t, std::string>>& acked_by_partition() const {
    return by_partition_;
  }

 private:
  std::set<std::string> produced_;
  std::set<std::string> deleted_topics_;
  // value -> (producer, its place in that producer's sequence for its partition)
  std::map<std::string, std::pair<int, uint64_t>> ordered_;
  std::map<std::pair<int, PartitionKey>, uint64_t> next_place_;
  std::map<std::string, std::pair<PartitionKey, int64_t>> acked_;  // value -> where
  std::map<PartitionKey, std::map<int64_t, std::string>> by_partition_;  // offset -> value
  uint64_t acked_batches_ = 0;
};

}  // namespace eddy::sim::broker
