#include "core/controller/assignment.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace eddy::controller {
namespace {

struct Load {
  size_t leaders = 0;
  size_t replicas = 0;
};

}  // namespace

absl::StatusOr<std::vector<std::vector<BrokerId>>> AssignReplicas(
    const MetadataImage& image, const AssignmentRequest& request) {
  std::vector<BrokerId> eligible;
  for (const auto& [id, broker] : image.brokers()) {
    if (!broker.fenced) eligible.push_back(id);
  }
  const size_t rf = request.replication_factor;
  if (rf == 0 || rf > MetadataImage::kReplicationFactorMax || rf > eligible.size()) {
    return absl::InvalidArgumentError(absl::StrCat("replication factor ", rf, " with ",
                                                   eligible.size(), " available brokers"));
  }
  if (request.partitions == 0 || request.partitions > MetadataImage::kPartitionsPerTopicMax) {
    return absl::InvalidArgumentError(absl::StrCat(request.partitions, " partitions"));
  }
  std::map<BrokerId, Load> load;
  for (BrokerId b : eligible) load[b] = Load{};
  for (const auto& [id, topic] : image.topics()) {
    for (const PartitionInfo& p : topic.partitions) {
      for (size_t i = 0; i < p.replicas.size(); ++i) {
        auto it = load.find(p.replicas[i]);
        if (it == load.end()) continue;
        ++it->second.replicas;
        if (i == 0) ++it->second.leaders;
      }
    }
  }
  // Position of each broker in the rotation: the tie-break.
  std::map<BrokerId, size_t> order;
  for (size_t i = 0; i < eligible.size(); ++i) {
    order[eligible[(i + request.rotation) % eligible.size()]] = i;
  }
  auto rack_of = [&image](BrokerId b) { return image.broker(b)->rack; };

  std::vector<std::vector<BrokerId>> assignment;
  assignment.reserve(request.partitions);
  for (size_t p = 0; p < request.partitions; ++p) {
    std::vector<BrokerId> replicas;
    std::map<std::string, size_t> racks_used;
    auto take = [&](BrokerId b, bool leader) {
      replicas.push_back(b);
      ++racks_used[rack_of(b)];
      ++load[b].replicas;
      if (leader) ++load[b].leaders;
    };
    const BrokerId leader = *std::min_element(
        eligible.begin(), eligible.end(), [&](BrokerId a, BrokerId b) {
          return std::tuple(load[a].leaders, load[a].replicas, order[a]) <
                 std::tuple(load[b].leaders, load[b].replicas, order[b]);
        });
    take(leader, true);
    while (replicas.size() < rf) {
      BrokerId best = -1;
      std::tuple<size_t, size_t, size_t> best_key{};
      for (BrokerId b : eligible) {
        if (std::find(replicas.begin(), replicas.end(), b) != replicas.end()) continue;
        const auto key = std::tuple(racks_used[rack_of(b)], load[b].replicas, order[b]);
        if (best < 0 || key < best_key) {
          best = b;
          best_key = key;
        }
      }
      take(best, false);
    }
    assignment.push_back(std::move(replicas));
  }
  return assignment;
}

}  // namespace eddy::controller
