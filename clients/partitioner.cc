#include "clients/partitioner.h"

#include "core/base/check.h"

namespace eddy::clients {

int32_t Murmur2(std::span<const uint8_t> bytes) {
  // Unsigned arithmetic throughout: Java's int multiplication wraps exactly like uint32_t, and
  // its >>> is our >> on unsigned.
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const size_t length = bytes.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t words = length / 4;
  for (size_t i = 0; i < words; ++i) {
    const size_t at = i * 4;
    uint32_t k = static_cast<uint32_t>(bytes[at]) | (static_cast<uint32_t>(bytes[at + 1]) << 8) |
                 (static_cast<uint32_t>(bytes[at + 2]) << 16) |
                 (static_cast<uint32_t>(bytes[at + 3]) << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const size_t tail = words * 4;
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(bytes[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(bytes[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(bytes[tail]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t PartitionForKey(std::span<const uint8_t> key, int32_t num_partitions) {
  EDDY_CHECK_GT(num_partitions, 0);
  const int32_t partition = ToPositive(Murmur2(key)) % num_partitions;
  EDDY_CHECK(partition >= 0 && partition < num_partitions);
  return partition;
}

int32_t StickyPartitioner::Partition(const std::string& topic, int32_t num_partitions,
                                     Random& random) {
  EDDY_CHECK_GT(num_partitions, 0);
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second < num_partitions) return it->second;
  const auto chosen = static_cast<int32_t>(random.Uniform(static_cast<uint64_t>(num_partitions)));
  sticky_[topic] = chosen;
  return chosen;
}

void StickyPartitioner::OnNewBatch(const std::string& topic, int32_t previous,
                                   int32_t num_partitions, Random& random) {
  EDDY_CHECK_GT(num_partitions, 0);
  auto it = sticky_.find(topic);
  // Another record already moved the topic on (Java checks the same: compareAndSet).
  if (it != sticky_.end() && it->second != previous) return;
  int32_t chosen = 0;
  if (num_partitions > 1) {
    // Uniform over the other num_partitions - 1 partitions.
    chosen = static_cast<int32_t>(random.Uniform(static_cast<uint64_t>(num_partitions - 1)));
    if (chosen >= previous) ++chosen;
  }
  EDDY_CHECK(chosen >= 0 && chosen < num_partitions);
  sticky_[topic] = chosen;
}

}  // namespace eddy::clients
