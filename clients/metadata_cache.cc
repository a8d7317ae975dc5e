#include "clients/metadata_cache.h"

#include "absl/strings/str_cat.h"
#include "core/kafka/errors.h"

namespace eddy::clients {
namespace {

// Partitions per topic at most: Kafka has no hard limit; this bounds what a reply can make us
// allocate.
constexpr size_t kPartitionCountMax = 1 << 16;

absl::Status TopicStatus(int16_t code, const std::string& topic) {
  const kafka::ErrorInfo* info = kafka::FindError(code);
  const std::string name = info != nullptr ? info->name : absl::StrCat("error ", code);
  const std::string message = absl::StrCat("metadata of topic ", topic, ": ", name);
  if (code == kafka::ToWire(kafka::ErrorCode::kUnknownTopicOrPartition)) {
    return absl::NotFoundError(message);
  }
  if (info != nullptr && info->retriable) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

void MetadataCache::Update(const kafka::MetadataResponse& response) {
  brokers_.clear();
  for (const auto& b : response.brokers) brokers_[b.node_id] = runtime::Address{b.host, b.port};
  for (const auto& t : response.topics) {
    if (!t.name.has_value()) continue;  // v12 may name topics by id only: we ask by name
    Topic& topic = topics_[*t.name];
    topic.leaders.clear();
    topic.error = t.error_code == 0 ? absl::OkStatus() : TopicStatus(t.error_code, *t.name);
    if (t.error_code != 0 || t.partitions.size() > kPartitionCountMax) continue;
    topic.leaders.assign(t.partitions.size(), -1);
    for (const auto& p : t.partitions) {
      if (p.partition_index < 0 || static_cast<size_t>(p.partition_index) >= t.partitions.size()) {
        continue;  // a malformed reply: the partition stays leaderless
      }
      const bool led = p.error_code == 0 && p.leader_id >= 0 && brokers_.contains(p.leader_id);
      topic.leaders[static_cast<size_t>(p.partition_index)] = led ? p.leader_id : -1;
    }
  }
}

void MetadataCache::ForgetLeader(const TopicPartition& tp) {
  auto it = topics_.find(tp.topic);
  if (it == topics_.end() || tp.partition < 0) return;
  if (static_cast<size_t>(tp.partition) < it->second.leaders.size()) {
    it->second.leaders[static_cast<size_t>(tp.partition)] = -1;
  }
}

std::optional<int32_t> MetadataCache::PartitionCount(const std::string& topic) const {
  auto it = topics_.find(topic);
  if (it == topics_.end() || !it->second.error.ok() || it->second.leaders.empty()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(it->second.leaders.size());
}

std::optional<int32_t> MetadataCache::Leader(const TopicPartition& tp) const {
  auto it = topics_.find(tp.topic);
  if (it == topics_.end() || tp.partition < 0 ||
      static_cast<size_t>(tp.partition) >= it->second.leaders.size()) {
    return std::nullopt;
  }
  const int32_t leader = it->second.leaders[static_cast<size_t>(tp.partition)];
  // A broker missing from the latest reply (a topic that reply did not carry) leads nothing.
  if (leader < 0 || !brokers_.contains(leader)) return std::nullopt;
  return leader;
}

const runtime::Address* MetadataCache::BrokerAddress(int32_t broker_id) const {
  auto it = brokers_.find(broker_id);
  return it == brokers_.end() ? nullptr : &it->second;
}

std::vector<runtime::Address> MetadataCache::BrokerAddresses() const {
  std::vector<runtime::Address> out;
  for (const auto& [id, address] : brokers_) out.push_back(address);
  return out;
}

absl::Status MetadataCache::TopicError(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? absl::OkStatus() : it->second.error;
}

}  // namespace eddy::clients
