// MetadataImage: the cluster's metadata as of some prefix of the metadata log — brokers,
// topics with their partitions' replicas and Raft group ids, topic configs, producer-id blocks,
// the cluster id — and the one function that moves it forward, Apply(record).
//
// DETERMINISM: Apply is a pure function of the image and the record: every replica of the
// metadata group applies the same records in the same order and holds the same image, byte for
// byte (ToState). A record that does not fit the image (a topic name taken, a replica on an
// unknown broker, a stale incarnation) is REFUSED: it changes nothing but the refusal count,
// identically everywhere. The controller validates before it proposes, so refusals come only
// from races between proposals (two CreateTopics of one name in flight) or bugs.
//
// IDS the image hands out itself, so no proposer can pick one twice: partition Raft group ids
// (from kFirstPartitionGroupId up, never reused, even after a topic is deleted) and producer-id
// blocks (dense from 0).
//
// REQUEST IDS: a record naming a request id the image applied already is refused
// (kAlreadyExists): a controller call retried before its answer arrived is carried out once.
//
// Pure logic: no I/O, clock or randomness (topic ids are chosen by the proposer).
#pragma once

#include <array>
#include <deque>
#include <set>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/controller/metadata.pb.h"

namespace eddy::controller {

using BrokerId = int32_t;
using TopicId = std::array<uint8_t, 16>;
using GroupId = uint64_t;

struct BrokerInfo {
  BrokerId id = -1;
  uint64_t incarnation = 0;
  std::vector<Endpoint> endpoints;
  std::string rack;
  bool fenced = true;  // a new incarnation starts fenced
  std::vector<uint64_t> retired_incarnations;  // refused if registered again, newest last
};

struct PartitionInfo {
  std::vector<BrokerId> replicas;  // the first is the preferred leader
  GroupId group_id = 0;
};

struct TopicInfo {
  std::string name;
  TopicId id{};
  std::vector<PartitionInfo> partitions;
  std::map<std::string, std::string> configs;  // only those set on the topic
};

struct ProducerIdRange {
  int64_t first = 0;
  int64_t size = 0;
};

// One partition replica a broker should host.
struct HostedReplica {
  TopicId topic_id{};
  int32_t partition = 0;
  GroupId group_id = 0;
  std::vector<BrokerId> replicas;
};

class MetadataImage {
 public:
  // The metadata group's own id; partitions' groups come after the reserved range.
  static constexpr GroupId kMetadataGroupId = 1;
  static constexpr GroupId kFirstPartitionGroupId = 1024;
  // Kafka's limit on topic names (a partition directory name must stay within 255 bytes).
  static constexpr size_t kTopicNameLengthMax = 249;
  static constexpr size_t kPartitionsPerTopicMax = 10'000;
  static constexpr size_t kPartitionsMax = 200'000;  // the whole cluster
  static constexpr size_t kReplicationFactorMax = 16;
  static constexpr size_t kBrokersMax = 1024;
  static constexpr size_t kTopicConfigsMax = 64;
  static constexpr size_t kConfigValueLengthMax = 1024;
  static constexpr int64_t kProducerIdBlockSizeMax = 1'000'000;
  // Request ids remembered as applied (MetadataRecord.request_id).
  static constexpr size_t kRecentRequestsMax = 4096;
  static constexpr size_t kRequestIdLengthMax = 128;
  // Incarnations of a broker remembered as retired (a late registration of one is refused).
  static constexpr size_t kRetiredIncarnationsMax = 16;

  // Applies one record, or refuses it (the status says why; the image is unchanged but for
  // the refusal count). Never crashes on any record.
  absl::Status Apply(const MetadataRecord& record);

  // The whole image, for the snapshot: byte-identical on every replica that applied the same
  // records (SerializeAsString of it, with no maps, is deterministic).
  MetadataImageState ToState() const;
  // Replaces the image by a snapshot's. Errors (kDataLoss): a state no sequence of records
  // could have produced (duplicate ids or names, unknown replicas, ids beyond the counters).
  static absl::StatusOr<MetadataImage> FromState(const MetadataImageState& state);

  // --- queries ---
  const std::string& cluster_id() const { return cluster_id_; }
  const std::map<BrokerId, BrokerInfo>& brokers() const { return brokers_; }
  const BrokerInfo* broker(BrokerId id) const;
  const std::map<TopicId, TopicInfo>& topics() const { return topics_; }
  const TopicInfo* topic(const TopicId& id) const;
  const TopicInfo* FindTopic(const std::string& name) const;
  // The partition replicas `broker` should host, by group id.
  std::vector<HostedReplica> ReplicasOn(BrokerId broker) const;
  size_t partition_count() const { return partition_count_; }
  std::optional<ProducerIdRange> producer_ids_of(BrokerId broker) const;
  GroupId next_group_id() const { return next_group_id_; }
  int64_t next_producer_id() const { return next_producer_id_; }
  // Whether a record with this request id was applied (among the last kRecentRequestsMax).
  bool Applied(const std::string& request_id) const {
    return !request_id.empty() && recent_requests_.contains(request_id);
  }
  uint64_t records_applied() const { return records_applied_; }
  uint64_t records_refused() const { return records_refused_; }

  // Kafka's rule for topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..".
  static absl::Status ValidateTopicName(const std::string& name);

 private:
  absl::Status ApplyOne(const MetadataRecord& record);
  void RememberRequest(const std::string& request_id);
  absl::Status RegisterBroker(const controller::RegisterBroker& r);
  absl::Status SetBrokerFenced(const controller::SetBrokerFenced& r);
  absl::Status CreateTopic(const controller::CreateTopic& r);
  absl::Status DeleteTopic(const controller::DeleteTopic& r);
  absl::Status CreatePartitions(const controller::CreatePartitions& r);
  absl::Status AlterTopicConfigs(const controller::AlterTopicConfigs& r);
  absl::Status AllocateProducerIds(const controller::AllocateProducerIds& r);
  absl::Status SetClusterId(const controller::SetClusterId& r);
  // Every partition's replicas: 1..kReplicationFactorMax distinct registered brokers.
  absl::Status ValidatePartitions(
      const google::protobuf::RepeatedPtrField<PartitionReplicas>& partitions,
      size_t existing) const;
  void AddPartitions(TopicInfo& topic,
                     const google::protobuf::RepeatedPtrField<PartitionReplicas>& partitions);

  std::string cluster_id_;
  std::map<BrokerId, BrokerInfo> brokers_;
  std::map<TopicId, TopicInfo> topics_;
  std::map<std::string, TopicId> topic_ids_by_name_;
  size_t partition_count_ = 0;
  GroupId next_group_id_ = kFirstPartitionGroupId;
  int64_t next_producer_id_ = 0;
  std::map<BrokerId, ProducerIdRange> producer_id_blocks_;
  // Applied request ids: the set for lookups, the order for forgetting the oldest.
  std::set<std::string> recent_requests_;
  std::deque<std::string> recent_order_;
  uint64_t records_applied_ = 0;
  uint64_t records_refused_ = 0;
};

// The 16 bytes of a proto `bytes` field as a topic id; nullopt unless exactly 16, not all zero.
std::optional<TopicId> TopicIdFromBytes(const std::string& bytes);
std::string TopicIdBytes(const TopicId& id);

}  // namespace eddy::controller
