// Choosing a partition for a record, exactly as Kafka's Java client does, so that a key lands on
// the same partition whichever client wrote it.
//
// KEYED records: Utils.toPositive(Utils.murmur2(key)) % numPartitions (Java's
// BuiltInPartitioner.partitionForKey; librdkafka's "murmur2" partitioner). An empty key is a
// key (it hashes); only a null key is not.
//
// NULL-KEY records: the sticky partitioner (KIP-480). All null-key records of a topic go to one
// partition until a new batch would have to be created for it (its open batch was sent or is
// full); then the producer calls OnNewBatch, which picks another partition at random from the
// runtime's Random (never the one just left, when there is a choice). Large batches, few
// requests, and over time an even spread.
//
// Pure: the only randomness is the Random passed in. LOOP AFFINITY: the producer's loop.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "core/base/random.h"

namespace eddy::clients {

// Java's Utils.murmur2: MurmurHash2 with seed 0x9747b28c, little-endian 4-byte words, the
// result as a signed 32-bit int.
int32_t Murmur2(std::span<const uint8_t> bytes);
// Java's Utils.toPositive: clears the sign bit (not abs(), which overflows on INT32_MIN).
constexpr int32_t ToPositive(int32_t n) { return n & 0x7fffffff; }
// The partition of a keyed record. REQUIRES: num_partitions > 0.
int32_t PartitionForKey(std::span<const uint8_t> key, int32_t num_partitions);

class StickyPartitioner {
 public:
  // The topic's sticky partition, choosing one at random if it has none yet or the one it had
  // is beyond `num_partitions` (the topic shrank in the metadata: it cannot, but be safe).
  // REQUIRES: num_partitions > 0.
  int32_t Partition(const std::string& topic, int32_t num_partitions, Random& random);
  // A new batch is needed for `previous` (the sticky partition of `topic` when the record
  // arrived): moves the topic to another partition, unless someone already moved it.
  // REQUIRES: num_partitions > 0.
  void OnNewBatch(const std::string& topic, int32_t previous, int32_t num_partitions,
                  Random& random);

 private:
  std::map<std::string, int32_t> sticky_;  // topic -> partition
};

}  // namespace eddy::clients
