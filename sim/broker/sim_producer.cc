#include "sim/broker/sim_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "core/record/record_batch_builder.h"

namespace eddy::sim::broker {

SimProducer::SimProducer(SimWorld& world, int id, std::vector<PartitionKey> partitions,
                         Duration interval_mean, DataChecker& checker, ProducerStats& stats,
                         std::optional<std::string>* violation)
    : world_(world),
      client_(world.AddClient()),
      id_(id),
      partitions_(std::move(partitions)),
      interval_mean_(interval_mean),
      checker_(checker),
      stats_(stats),
      violation_(violation) {}

void SimProducer::Start() {
  client_.clock().ScheduleAfter(Duration::Zero(), [this] { Tick(); });
}

clients::BrokerConnection& SimProducer::ConnectionTo(runtime::NodeId broker) {
  std::unique_ptr<clients::BrokerConnection>& c = connections_[broker];
  if (c == nullptr || !c->open()) {
    c = std::make_unique<clients::BrokerConnection>(
        client_, world_.address(broker),
        clients::ConnectionOptions{.client_id = absl::StrCat("producer-", id_),
                                   .request_timeout = Duration::Seconds(10)});
  }
  return *c;
}

void SimProducer::Tick() {
  if (stopped_) return;
  Random& random = client_.random();
  const Duration next = Duration::Nanoseconds(static_cast<int64_t>(
      random.Uniform(static_cast<uint64_t>(2 * interval_mean_.nanoseconds()) + 1)));
  client_.clock().ScheduleAfter(next, [this] { Tick(); });
  const PartitionKey& partition = partitions_[random.Uniform(partitions_.size())];
  auto leader = leaders_.find(partition);
  if (leader == leaders_.end()) return RefreshMetadata();
  if (in_flight_ >= kInFlightMax) return;
  Send(partition, leader->second);
}

void SimProducer::RefreshMetadata() {
  if (refreshing_) return;
  refreshing_ = true;
  ++stats_.metadata_requests;
  const std::vector<runtime::NodeId>& ids = world_.node_ids();
  const runtime::NodeId via = ids[client_.random().Uniform(ids.size())];
  kafka::MetadataRequest request;
  request.topics = std::nullopt;
  request.allow_auto_topic_creation = false;
  ConnectionTo(via).Call<kafka::MetadataRequest, kafka::MetadataResponse>(
      request, 9, [this, alive = alive_](auto reply) {
        if (!*alive) return;
        refreshing_ = false;
        if (!reply.ok()) return;
        for (const auto& topic : reply->response.topics) {
          if (!topic.name.has_value()) continue;
          for (const auto& p : topic.partitions) {
            const PartitionKey key{*topic.name, p.partition_index};
            if (p.error_code == 0 && p.leader_id > 0) {
              leaders_[key] = static_cast<runtime::NodeId>(p.leader_id);
            } else {
              leaders_.erase(key);
            }
          }
        }
      });
}

void SimProducer::Send(const PartitionKey& partition, runtime::NodeId leader) {
  Random& random = client_.random();
  const int count = 1 + static_cast<int>(random.Uniform(4));
  std::vector<std::string> values;
  record::BatchHeader fields;
  record::RecordBatchBuilder builder(fields);
  const int64_t now_ms = client_.wall_clock().NowMs();
  for (int i = 0; i < count; ++i) {
    values.push_back(absl::StrCat("p", id_, "-", next_value_++));
    const std::string& v = values.back();
    if (!builder
             .Append(now_ms, std::nullopt,
                     std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()))
             .ok()) {
      return;
    }
  }
  const std::vector<uint8_t> batch = builder.Finish();
  checker_.Produced(values);
  kafka::ProduceRequest request;
  request.acks = random.OneIn(4) ? 1 : -1;
  request.timeout_ms = 5'000;
  auto& t = request.topic_data.emplace_back();
  t.name = partition.first;
  auto& p = t.partition_data.emplace_back();
  p.index = partition.second;
  p.records = kafka::Records::Of(batch);  // encoded at once: the view need not outlive Call
  ++stats_.requests;
  ++in_flight_;
  ConnectionTo(leader).Call<kafka::ProduceRequest, kafka::ProduceResponse>(
      request, 9,
      [this, alive = alive_, partition, values = std::move(values)](auto reply) {
        if (!*alive) return;
        --in_flight_;
        const auto* pr = reply.ok() && reply->response.responses.size() == 1 &&
                                 reply->response.responses[0].partition_responses.size() == 1
                             ? &reply->response.responses[0].partition_responses[0]
                             : nullptr;
        if (pr == nullptr || pr->error_code != 0 || pr->base_offset < 0) {
          ++stats_.failed_batches;
          leaders_.erase(partition);  // ask again where the leader is
          return;
        }
        if (std::optional<std::string> v = checker_.Acked(partition, pr->base_offset, values)) {
          if (!violation_->has_value()) *violation_ = *v;
        }
      });
}

}  // namespace eddy::sim::broker
