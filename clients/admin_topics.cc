// The admin client's topic APIs: CreateTopics, DeleteTopics, CreatePartitions (to any broker,
// which forwards to the controller), and ListTopics, DescribeTopics, DescribeCluster (Metadata).
#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/admin.h"
#include "clients/kafka_status.h"
#include "core/kafka/errors.h"
#include "core/kafka/generated/create_partitions.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/delete_topics.h"

namespace eddy::clients {
namespace {

constexpr int16_t kCreateTopicsVersion = 7;
constexpr int16_t kDeleteTopicsVersion = 6;
constexpr int16_t kCreatePartitionsVersion = 3;

template <typename Value>
using Answer = std::function<void(const std::string&, int16_t, const std::optional<std::string>&,
                                  Value)>;

TopicDescription Describe(const kafka::MetadataResponse::Topic& t) {
  TopicDescription d;
  d.name = t.name.value_or("");
  d.topic_id = t.topic_id;
  d.internal = t.is_internal;
  for (const auto& p : t.partitions) {
    d.partitions.push_back(PartitionDescription{.partition = p.partition_index,
                                                .leader = p.leader_id,
                                                .leader_epoch = p.leader_epoch,
                                                .replicas = p.replica_nodes,
                                                .isr = p.isr_nodes,
                                                .offline_replicas = p.offline_replicas});
  }
  std::sort(d.partitions.begin(), d.partitions.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  return d;
}

}  // namespace

void Admin::CreateTopics(std::vector<NewTopic> topics, bool validate_only,
                         Done<std::map<std::string, absl::StatusOr<CreatedTopic>>> done) {
  using Value = absl::StatusOr<CreatedTopic>;
  auto wanted = std::make_shared<std::map<std::string, NewTopic>>();
  std::map<std::string, Value> early;
  for (NewTopic& t : topics) {
    if (t.name.empty() || wanted->contains(t.name)) {
      early.insert_or_assign(t.name, absl::InvalidArgumentError("empty or duplicate topic name"));
      continue;
    }
    const std::string name = t.name;
    wanted->emplace(name, std::move(t));
  }
  std::set<std::string> keys;
  for (const auto& [name, t] : *wanted) {
    if (!early.contains(name)) keys.insert(name);
  }
  RunKeyed<std::string, Value, kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
      std::move(keys), std::move(early), kCreateTopicsVersion,
      [this, wanted, validate_only](const std::set<std::string>& pending) {
        kafka::CreateTopicsRequest request;
        request.timeout_ms = TimeoutMs();
        request.validate_only = validate_only;
        for (const std::string& name : pending) {
          const NewTopic& t = wanted->at(name);
          auto& c = request.topics.emplace_back();
          c.name = t.name;
          c.num_partitions = t.num_partitions;
          c.replication_factor = t.replication_factor;
          for (const auto& [key, value] : t.configs) {
            auto& config = c.configs.emplace_back();
            config.name = key;
            config.value = value;
          }
        }
        return request;
      },
      [](const kafka::CreateTopicsResponse& response, const Answer<Value>& answer) {
        for (const auto& r : response.topics) {
          if (r.error_code != 0) {
            answer(r.name, r.error_code, r.error_message,
                   KafkaStatus(r.error_code, absl::StrCat("create topic ", r.name),
                               r.error_message));
            continue;
          }
          answer(r.name, 0, std::nullopt,
                 CreatedTopic{r.topic_id, r.num_partitions, r.replication_factor});
        }
      },
      std::move(done));
}

void Admin::DeleteTopics(std::vector<std::string> names, Done<TopicStatuses> done) {
  RunKeyed<std::string, absl::Status, kafka::DeleteTopicsRequest, kafka::DeleteTopicsResponse>(
      std::set<std::string>(names.begin(), names.end()), {}, kDeleteTopicsVersion,
      [this](const std::set<std::string>& pending) {
        kafka::DeleteTopicsRequest request;
        request.timeout_ms = TimeoutMs();
        for (const std::string& name : pending) request.topics.emplace_back().name = name;
        return request;
      },
      [](const kafka::DeleteTopicsResponse& response, const Answer<absl::Status>& answer) {
        for (const auto& r : response.responses) {
          const std::string name = r.name.value_or("");
          answer(name, r.error_code, r.error_message,
                 KafkaStatus(r.error_code, absl::StrCat("delete topic ", name), r.error_message));
        }
      },
      std::move(done));
}

void Admin::CreatePartitions(std::map<std::string, int32_t> totals, bool validate_only,
                             Done<TopicStatuses> done) {
  auto wanted = std::make_shared<std::map<std::string, int32_t>>(std::move(totals));
  std::set<std::string> keys;
  for (const auto& [name, count] : *wanted) keys.insert(name);
  RunKeyed<std::string, absl::Status, kafka::CreatePartitionsRequest,
           kafka::CreatePartitionsResponse>(
      std::move(keys), {}, kCreatePartitionsVersion,
      [this, wanted, validate_only](const std::set<std::string>& pending) {
        kafka::CreatePartitionsRequest request;
        request.timeout_ms = TimeoutMs();
        request.validate_only = validate_only;
        for (const std::string& name : pending) {
          auto& t = request.topics.emplace_back();
          t.name = name;
          t.count = wanted->at(name);
          t.assignments = std::nullopt;  // the controller places the new replicas
        }
        return request;
      },
      [](const kafka::CreatePartitionsResponse& response, const Answer<absl::Status>& answer) {
        for (const auto& r : response.results) {
          answer(r.name, r.error_code, r.error_message,
                 KafkaStatus(r.error_code, absl::StrCat("create partitions of ", r.name),
                             r.error_message));
        }
      },
      std::move(done));
}

void Admin::ListTopics(Done<std::vector<TopicListing>> done) {
  FetchMetadata(std::nullopt, [done = std::move(done)](
                                  absl::StatusOr<kafka::MetadataResponse> m) mutable {
    if (!m.ok()) return std::move(done)(m.status());
    std::vector<TopicListing> out;
    for (const auto& t : m->topics) {
      if (t.error_code != 0 || !t.name.has_value()) continue;
      out.push_back(TopicListing{*t.name, t.topic_id, t.is_internal});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    std::move(done)(std::move(out));
  });
}

void Admin::DescribeTopics(std::vector<std::string> names,
                           Done<std::map<std::string, absl::StatusOr<TopicDescription>>> done) {
  FetchMetadata(names, [names, done = std::move(done)](
                           absl::StatusOr<kafka::MetadataResponse> m) mutable {
    if (!m.ok()) return std::move(done)(m.status());
    std::map<std::string, absl::StatusOr<TopicDescription>> out;
    for (const std::string& name : names) {
      out.insert_or_assign(name, absl::NotFoundError(absl::StrCat(
                                     "describe topic ", name, ": UNKNOWN_TOPIC_OR_PARTITION")));
    }
    for (const auto& t : m->topics) {
      if (!t.name.has_value() || !out.contains(*t.name)) continue;
      out.insert_or_assign(*t.name, t.error_code != 0
                                        ? absl::StatusOr<TopicDescription>(KafkaStatus(
                                              t.error_code, absl::StrCat("describe topic ", *t.name)))
                                        : Describe(t));
    }
    std::move(done)(std::move(out));
  });
}

void Admin::DescribeCluster(Done<ClusterDescription> done) {
  FetchMetadata(std::vector<std::string>{}, [done = std::move(done)](
                                                absl::StatusOr<kafka::MetadataResponse> m) mutable {
    if (!m.ok()) return std::move(done)(m.status());
    ClusterDescription d;
    d.cluster_id = m->cluster_id;
    d.controller_id = m->controller_id;
    for (const auto& b : m->brokers) d.brokers.push_back(BrokerNode{b.node_id, b.host, b.port, b.rack});
    std::sort(d.brokers.begin(), d.brokers.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    std::move(done)(std::move(d));
  });
}

}  // namespace eddy::clients
