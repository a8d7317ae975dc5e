// AssignReplicas: where the replicas of new partitions go.
//
// Greedy over the new partitions, in order, against the load the cluster already carries:
//   * the LEADER (first replica) is the eligible broker leading the fewest partitions, then
//     holding the fewest replicas;
//   * each FOLLOWER is the eligible broker not yet in the partition whose rack the partition
//     uses least, then holding the fewest replicas;
// ties go to the broker that comes first in a rotation of the broker ids starting at `rotation`
// (the proposer draws it, so that equal clusters do not all pile their first partition on the
// lowest id). So leaders stay balanced within one per broker, replicas within one per broker
// when all start equal, and a partition spans min(RF, racks) racks.
//
// Pure: the same inputs give the same assignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/controller/metadata_image.h"

namespace eddy::controller {

struct AssignmentRequest {
  size_t partitions = 0;
  size_t replication_factor = 0;
  uint64_t rotation = 0;
};

// Eligible brokers are the image's unfenced ones. Errors: kInvalidArgument when the replication
// factor is 0, above MetadataImage::kReplicationFactorMax or above the eligible brokers (Kafka's
// INVALID_REPLICATION_FACTOR), or partitions is 0 or above MetadataImage::kPartitionsPerTopicMax.
absl::StatusOr<std::vector<std::vector<BrokerId>>> AssignReplicas(
    const MetadataImage& image, const AssignmentRequest& request);

}  // namespace eddy::controller
