#include "core/controller/metadata_image.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace eddy::controller {
namespace {

absl::Status Refused(const std::string& why) { return absl::FailedPreconditionError(why); }

bool ValidEndpoint(const Endpoint& e) {
  return !e.host().empty() && e.host().size() <= 255 && e.listener().size() <= 255 &&
         e.port() >= 1 && e.port() <= 65535;
}

constexpr size_t kConfigValueLengthMax = MetadataImage::kConfigValueLengthMax;

absl::Status ValidateConfigs(const google::protobuf::RepeatedPtrField<ConfigEntry>& configs,
                             size_t max) {
  if (static_cast<size_t>(configs.size()) > max) {
    return absl::InvalidArgumentError("too many configs");
  }
  std::set<std::string> keys;
  for (const ConfigEntry& c : configs) {
    if (c.key().empty() || c.key().size() > 255 ||
        c.value().size() > kConfigValueLengthMax) {
      return absl::InvalidArgumentError(absl::StrCat("bad config '", c.key().substr(0, 64), "'"));
    }
    if (!keys.insert(c.key()).second) {
      return absl::InvalidArgumentError(absl::StrCat("config ", c.key(), " twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<TopicId> TopicIdFromBytes(const std::string& bytes) {
  if (bytes.size() != 16) return std::nullopt;
  TopicId id{};
  std::copy(bytes.begin(), bytes.end(), id.begin());
  if (id == TopicId{}) return std::nullopt;
  return id;
}

std::string TopicIdBytes(const TopicId& id) { return std::string(id.begin(), id.end()); }

absl::Status MetadataImage::ValidateTopicName(const std::string& name) {
  if (name.empty() || name.size() > kTopicNameLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name of ", name.size(), " characters (1 to 249 allowed)"));
  }
  if (name == "." || name == "..") return absl::InvalidArgumentError("topic name . or ..");
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!legal) {
      return absl::InvalidArgumentError(
          absl::StrCat("topic name '", name, "': only ASCII letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status MetadataImage::Apply(const MetadataRecord& record) {
  absl::Status s;
  if (record.request_id().size() > kRequestIdLengthMax) {
    s = absl::InvalidArgumentError("request id too long");
  } else if (Applied(record.request_id())) {
    s = absl::AlreadyExistsError(
        absl::StrCat("request ", record.request_id(), " was carried out already"));
  } else {
    s = ApplyOne(record);
  }
  if (!s.ok()) {
    ++records_refused_;
    return s;
  }
  ++records_applied_;
  if (!record.request_id().empty()) RememberRequest(record.request_id());
  return s;
}

void MetadataImage::RememberRequest(const std::string& request_id) {
  recent_requests_.insert(request_id);
  recent_order_.push_back(request_id);
  if (recent_order_.size() > kRecentRequestsMax) {
    recent_requests_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

absl::Status MetadataImage::ApplyOne(const MetadataRecord& record) {
  switch (record.record_case()) {
    case MetadataRecord::kRegisterBroker:
      return RegisterBroker(record.register_broker());
    case MetadataRecord::kSetBrokerFenced:
      return SetBrokerFenced(record.set_broker_fenced());
    case MetadataRecord::kCreateTopic:
      return CreateTopic(record.create_topic());
    case MetadataRecord::kDeleteTopic:
      return DeleteTopic(record.delete_topic());
    case MetadataRecord::kCreatePartitions:
      return CreatePartitions(record.create_partitions());
    case MetadataRecord::kAlterTopicConfigs:
      return AlterTopicConfigs(record.alter_topic_configs());
    case MetadataRecord::kAllocateProducerIds:
      return AllocateProducerIds(record.allocate_producer_ids());
    case MetadataRecord::kSetClusterId:
      return SetClusterId(record.set_cluster_id());
    case MetadataRecord::RECORD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("metadata record of no known kind");
}

absl::Status MetadataImage::RegisterBroker(const controller::RegisterBroker& r) {
  if (r.broker_id() < 0) return absl::InvalidArgumentError("negative broker id");
  if (r.endpoints().empty() || r.endpoints_size() > 16 ||
      !std::all_of(r.endpoints().begin(), r.endpoints().end(), ValidEndpoint)) {
    return absl::InvalidArgumentError(absl::StrCat("broker ", r.broker_id(), ": bad endpoints"));
  }
  if (r.rack().size() > 255) return absl::InvalidArgumentError("rack name too long");
  auto it = brokers_.find(r.broker_id());
  if (it == brokers_.end() && brokers_.size() >= kBrokersMax) return Refused("too many brokers");
  if (it != brokers_.end()) {
    const BrokerInfo& old = it->second;
    if (r.incarnation() == old.incarnation) {
      return absl::AlreadyExistsError(
          absl::StrCat("broker ", r.broker_id(), " incarnation ", r.incarnation(), " registered"));
    }
    if (std::find(old.retired_incarnations.begin(), old.retired_incarnations.end(),
                  r.incarnation()) != old.retired_incarnations.end()) {
      return Refused(absl::StrCat("broker ", r.broker_id(), " incarnation ", r.incarnation(),
                                  " was replaced"));
    }
  }
  BrokerInfo info;
  if (it != brokers_.end()) {
    info.retired_incarnations = std::move(it->second.retired_incarnations);
    info.retired_incarnations.push_back(it->second.incarnation);
    if (info.retired_incarnations.size() > kRetiredIncarnationsMax) {
      info.retired_incarnations.erase(info.retired_incarnations.begin());
    }
  }
  info.id = r.broker_id();
  info.incarnation = r.incarnation();
  info.endpoints.assign(r.endpoints().begin(), r.endpoints().end());
  info.rack = r.rack();
  info.fenced = true;
  brokers_[r.broker_id()] = std::move(info);
  return absl::OkStatus();
}

absl::Status MetadataImage::SetBrokerFenced(const controller::SetBrokerFenced& r) {
  auto it = brokers_.find(r.broker_id());
  if (it == brokers_.end()) return Refused(absl::StrCat("unknown broker ", r.broker_id()));
  if (it->second.incarnation != r.incarnation()) {
    return Refused(absl::StrCat("broker ", r.broker_id(), " is at incarnation ",
                                it->second.incarnation, ", not ", r.incarnation()));
  }
  it->second.fenced = r.fenced();
  return absl::OkStatus();
}

absl::Status MetadataImage::ValidatePartitions(
    const google::protobuf::RepeatedPtrField<PartitionReplicas>& partitions,
    size_t existing) const {
  if (partitions.empty()) return absl::InvalidArgumentError("no partitions");
  if (existing + static_cast<size_t>(partitions.size()) > kPartitionsPerTopicMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kPartitionsPerTopicMax, " partitions in a topic"));
  }
  if (partition_count_ + static_cast<size_t>(partitions.size()) > kPartitionsMax) {
    return Refused(absl::StrCat("the cluster would exceed ", kPartitionsMax, " partitions"));
  }
  for (const PartitionReplicas& p : partitions) {
    if (p.replicas().empty() || static_cast<size_t>(p.replicas_size()) > kReplicationFactorMax) {
      return absl::InvalidArgumentError(
          absl::StrCat("a partition with ", p.replicas_size(), " replicas"));
    }
    std::set<BrokerId> seen;
    for (BrokerId b : p.replicas()) {
      if (!brokers_.contains(b)) return Refused(absl::StrCat("replica on unknown broker ", b));
      if (!seen.insert(b).second) {
        return absl::InvalidArgumentError(absl::StrCat("broker ", b, " twice in one partition"));
      }
    }
  }
  return absl::OkStatus();
}

void MetadataImage::AddPartitions(
    TopicInfo& topic, const google::protobuf::RepeatedPtrField<PartitionReplicas>& partitions) {
  for (const PartitionReplicas& p : partitions) {
    topic.partitions.push_back(
        PartitionInfo{std::vector<BrokerId>(p.replicas().begin(), p.replicas().end()),
                      next_group_id_++});
    ++partition_count_;
  }
}

absl::Status MetadataImage::CreateTopic(const controller::CreateTopic& r) {
  if (absl::Status s = ValidateTopicName(r.name()); !s.ok()) return s;
  const std::optional<TopicId> id = TopicIdFromBytes(r.topic_id());
  if (!id.has_value()) return absl::InvalidArgumentError("topic id not 16 bytes, or zero");
  if (topic_ids_by_name_.contains(r.name())) {
    return absl::AlreadyExistsError(absl::StrCat("topic ", r.name(), " exists"));
  }
  if (topics_.contains(*id)) return absl::AlreadyExistsError("topic id taken");
  if (absl::Status s = ValidatePartitions(r.partitions(), 0); !s.ok()) return s;
  if (absl::Status s = ValidateConfigs(r.configs(), kTopicConfigsMax); !s.ok()) return s;
  TopicInfo topic;
  topic.name = r.name();
  topic.id = *id;
  for (const ConfigEntry& c : r.configs()) topic.configs[c.key()] = c.value();
  AddPartitions(topic, r.partitions());
  topic_ids_by_name_[topic.name] = *id;
  topics_[*id] = std::move(topic);
  return absl::OkStatus();
}

absl::Status MetadataImage::DeleteTopic(const controller::DeleteTopic& r) {
  const std::optional<TopicId> id = TopicIdFromBytes(r.topic_id());
  auto it = id.has_value() ? topics_.find(*id) : topics_.end();
  if (it == topics_.end()) return absl::NotFoundError("no such topic id");
  partition_count_ -= it->second.partitions.size();
  topic_ids_by_name_.erase(it->second.name);
  topics_.erase(it);
  return absl::OkStatus();
}

absl::Status MetadataImage::CreatePartitions(const controller::CreatePartitions& r) {
  const std::optional<TopicId> id = TopicIdFromBytes(r.topic_id());
  auto it = id.has_value() ? topics_.find(*id) : topics_.end();
  if (it == topics_.end()) return absl::NotFoundError("no such topic id");
  if (absl::Status s = ValidatePartitions(r.partitions(), it->second.partitions.size());
      !s.ok()) {
    return s;
  }
  AddPartitions(it->second, r.partitions());
  return absl::OkStatus();
}

absl::Status MetadataImage::AlterTopicConfigs(const controller::AlterTopicConfigs& r) {
  const std::optional<TopicId> id = TopicIdFromBytes(r.topic_id());
  auto it = id.has_value() ? topics_.find(*id) : topics_.end();
  if (it == topics_.end()) return absl::NotFoundError("no such topic id");
  if (absl::Status s = ValidateConfigs(r.set(), kTopicConfigsMax); !s.ok()) return s;
  std::map<std::string, std::string> configs = r.replace_all() ? std::map<std::string, std::string>{}
                                                               : it->second.configs;
  for (const std::string& key : r.remove()) configs.erase(key);
  for (const ConfigEntry& c : r.set()) configs[c.key()] = c.value();
  if (configs.size() > kTopicConfigsMax) return absl::InvalidArgumentError("too many configs");
  it->second.configs = std::move(configs);
  return absl::OkStatus();
}

absl::Status MetadataImage::AllocateProducerIds(const controller::AllocateProducerIds& r) {
  if (!brokers_.contains(r.broker_id())) {
    return Refused(absl::StrCat("unknown broker ", r.broker_id()));
  }
  if (r.block_size() < 1 || r.block_size() > kProducerIdBlockSizeMax) {
    return absl::InvalidArgumentError(absl::StrCat("producer id block of ", r.block_size()));
  }
  if (next_producer_id_ > INT64_MAX - r.block_size()) return Refused("producer ids exhausted");
  producer_id_blocks_[r.broker_id()] = ProducerIdRange{next_producer_id_, r.block_size()};
  next_producer_id_ += r.block_size();
  return absl::OkStatus();
}

absl::Status MetadataImage::SetClusterId(const controller::SetClusterId& r) {
  if (r.cluster_id().empty() || r.cluster_id().size() > 255) {
    return absl::InvalidArgumentError("cluster id empty or too long");
  }
  if (!cluster_id_.empty()) return Refused("the cluster id is set once");
  cluster_id_ = r.cluster_id();
  return absl::OkStatus();
}

const BrokerInfo* MetadataImage::broker(BrokerId id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicInfo* MetadataImage::topic(const TopicId& id) const {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicInfo* MetadataImage::FindTopic(const std::string& name) const {
  auto it = topic_ids_by_name_.find(name);
  return it == topic_ids_by_name_.end() ? nullptr : topic(it->second);
}

std::vector<HostedReplica> MetadataImage::ReplicasOn(BrokerId broker) const {
  std::vector<HostedReplica> hosted;
  for (const auto& [id, topic] : topics_) {
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const PartitionInfo& partition = topic.partitions[p];
      if (std::find(partition.replicas.begin(), partition.replicas.end(), broker) ==
          partition.replicas.end()) {
        continue;
      }
      hosted.push_back(HostedReplica{id, static_cast<int32_t>(p), partition.group_id,
                                     partition.replicas});
    }
  }
  std::sort(hosted.begin(), hosted.end(),
            [](const HostedReplica& a, const HostedReplica& b) { return a.group_id < b.group_id; });
  return hosted;
}

std::optional<ProducerIdRange> MetadataImage::producer_ids_of(BrokerId broker) const {
  auto it = producer_id_blocks_.find(broker);
  if (it == producer_id_blocks_.end()) return std::nullopt;
  return it->second;
}

MetadataImageState MetadataImage::ToState() const {
  MetadataImageState state;
  state.set_cluster_id(cluster_id_);
  for (const auto& [id, b] : brokers_) {
    BrokerState* out = state.add_brokers();
    out->set_broker_id(b.id);
    out->set_incarnation(b.incarnation);
    for (const Endpoint& e : b.endpoints) *out->add_endpoints() = e;
    out->set_rack(b.rack);
    out->set_fenced(b.fenced);
    for (uint64_t retired : b.retired_incarnations) out->add_retired_incarnations(retired);
  }
  for (const auto& [id, t] : topics_) {
    TopicState* out = state.add_topics();
    out->set_name(t.name);
    out->set_topic_id(TopicIdBytes(t.id));
    for (const PartitionInfo& p : t.partitions) {
      PartitionState* ps = out->add_partitions();
      for (BrokerId r : p.replicas) ps->add_replicas(r);
      ps->set_group_id(p.group_id);
    }
    for (const auto& [key, value] : t.configs) {
      ConfigEntry* c = out->add_configs();
      c->set_key(key);
      c->set_value(value);
    }
  }
  state.set_next_group_id(next_group_id_);
  state.set_next_producer_id(next_producer_id_);
  for (const auto& [broker, range] : producer_id_blocks_) {
    ProducerIdBlock* block = state.add_producer_id_blocks();
    block->set_broker_id(broker);
    block->set_first(range.first);
    block->set_size(range.size);
  }
  state.set_records_applied(records_applied_);
  state.set_records_refused(records_refused_);
  for (const std::string& id : recent_order_) state.add_recent_requests(id);
  return state;
}

absl::StatusOr<MetadataImage> MetadataImage::FromState(const MetadataImageState& state) {
  auto bad = [](const char* why) {
    return absl::DataLossError(absl::StrCat("metadata snapshot: ", why));
  };
  MetadataImage image;
  image.cluster_id_ = state.cluster_id();
  if (state.next_group_id() < kFirstPartitionGroupId || state.next_producer_id() < 0) {
    return bad("counters below their start");
  }
  image.next_group_id_ = state.next_group_id();
  image.next_producer_id_ = state.next_producer_id();
  if (static_cast<size_t>(state.brokers_size()) > kBrokersMax) return bad("too many brokers");
  for (const BrokerState& b : state.brokers()) {
    if (b.broker_id() < 0 || image.brokers_.contains(b.broker_id())) return bad("broker ids");
    if (static_cast<size_t>(b.retired_incarnations_size()) > kRetiredIncarnationsMax) {
      return bad("retired incarnations");
    }
    BrokerInfo info{b.broker_id(), b.incarnation(),
                    std::vector<Endpoint>(b.endpoints().begin(), b.endpoints().end()), b.rack(),
                    b.fenced(),
                    std::vector<uint64_t>(b.retired_incarnations().begin(),
                                          b.retired_incarnations().end())};
    image.brokers_[b.broker_id()] = std::move(info);
  }
  std::set<GroupId> groups;
  for (const TopicState& t : state.topics()) {
    const std::optional<TopicId> id = TopicIdFromBytes(t.topic_id());
    if (!id.has_value() || image.topics_.contains(*id) || !ValidateTopicName(t.name()).ok() ||
        image.topic_ids_by_name_.contains(t.name())) {
      return bad("topic ids or names");
    }
    if (t.partitions().empty() ||
        static_cast<size_t>(t.partitions_size()) > kPartitionsPerTopicMax) {
      return bad("partition count");
    }
    TopicInfo topic;
    topic.name = t.name();
    topic.id = *id;
    for (const PartitionState& p : t.partitions()) {
      if (p.group_id() < kFirstPartitionGroupId || p.group_id() >= image.next_group_id_ ||
          !groups.insert(p.group_id()).second || p.replicas().empty() ||
          static_cast<size_t>(p.replicas_size()) > kReplicationFactorMax) {
        return bad("partition groups or replicas");
      }
      for (BrokerId r : p.replicas()) {
        if (!image.brokers_.contains(r)) return bad("replica on an unknown broker");
      }
      topic.partitions.push_back(
          PartitionInfo{std::vector<BrokerId>(p.replicas().begin(), p.replicas().end()),
                        p.group_id()});
    }
    if (!ValidateConfigs(t.configs(), kTopicConfigsMax).ok()) return bad("configs");
    for (const ConfigEntry& c : t.configs()) topic.configs[c.key()] = c.value();
    image.partition_count_ += topic.partitions.size();
    image.topic_ids_by_name_[topic.name] = *id;
    image.topics_[*id] = std::move(topic);
  }
  if (image.partition_count_ > kPartitionsMax) return bad("too many partitions");
  for (const ProducerIdBlock& block : state.producer_id_blocks()) {
    if (!image.brokers_.contains(block.broker_id()) ||
        image.producer_id_blocks_.contains(block.broker_id()) || block.first() < 0 ||
        block.size() < 1 || block.first() > image.next_producer_id_ - block.size()) {
      return bad("producer id blocks");
    }
    image.producer_id_blocks_[block.broker_id()] = ProducerIdRange{block.first(), block.size()};
  }
  if (static_cast<size_t>(state.recent_requests_size()) > kRecentRequestsMax) {
    return bad("too many recent requests");
  }
  for (const std::string& id : state.recent_requests()) {
    if (id.empty() || id.size() > kRequestIdLengthMax || image.recent_requests_.contains(id)) {
      return bad("recent requests");
    }
    image.RememberRequest(id);
  }
  image.records_applied_ = state.records_applied();
  image.records_refused_ = state.records_refused();
  return image;
}

}  // namespace eddy::controller
