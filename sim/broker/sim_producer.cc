#include "sim/broker/sim_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/kafka/generated/init_producer_id.h"
#include "core/kafka/generated/metadata.h"
#include "core/producer/producer_table.h"
#include "core/record/record_batch_builder.h"

namespace eddy::sim::broker {
namespace {

using PartitionResponse = kafka::ProduceResponse::TopicProduceResponse::PartitionProduceResponse;

// The one partition's answer of a Produce reply, or nullptr (no reply, or not the shape asked).
template <typename Reply>
const PartitionResponse* PartitionAnswer(const Reply& reply) {
  if (!reply.ok() || reply->response.responses.size() != 1 ||
      reply->response.responses[0].partition_responses.size() != 1) {
    return nullptr;
  }
  return &reply->response.responses[0].partition_responses[0];
}

}  // namespace

SimProducer::SimProducer(SimWorld& world, int id, bool idempotent, const Topology& topology,
                         Duration interval_mean,
                         DataChecker& checker, ProducerStats& stats,
                         std::optional<std::string>* violation)
    : world_(world),
      client_(world.AddClient()),
      id_(id),
      topology_(topology),
      interval_mean_(interval_mean),
      checker_(checker),
      stats_(stats),
      violation_(violation),
      idempotent_(idempotent) {}

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
  const std::vector<PartitionKey>& live = topology_.live();
  if (live.empty()) return;
  const PartitionKey partition = live[random.Uniform(live.size())];
  if (idempotent_) return TickIdempotent(partition);
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
        // Idempotent batches waiting for a leader go now.
        for (auto& [partition, queue] : queues_) {
          if (!queue.batches.empty() && !queue.batches.front().in_flight) Pump(partition);
        }
      });
}

std::vector<uint8_t> SimProducer::NewBatch(const record::BatchHeader& fields,
                                           std::vector<std::string>* values) {
  const int count = 1 + static_cast<int>(client_.random().Uniform(4));
  record::RecordBatchBuilder builder(fields);
  const int64_t now_ms = client_.wall_clock().NowMs();
  for (int i = 0; i < count; ++i) {
    values->push_back(absl::StrCat("p", id_, "-", next_value_++));
    const std::string& v = values->back();
    const absl::Status appended = builder.Append(
        now_ms, std::nullopt,
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    EDDY_CHECK_OK(appended);  // a few short values always fit
  }
  return builder.Finish();
}

kafka::ProduceRequest SimProducer::RequestFor(const PartitionKey& partition,
                                              const std::vector<uint8_t>& batch,
                                              int16_t acks) const {
  kafka::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 5'000;
  auto& t = request.topic_data.emplace_back();
  t.name = partition.first;
  auto& p = t.partition_data.emplace_back();
  p.index = partition.second;
  p.records = kafka::Records::Of(batch);  // encoded at once: the view need not outlive Call
  return request;
}

void SimProducer::Send(const PartitionKey& partition, runtime::NodeId leader) {
  std::vector<std::string> values;
  const std::vector<uint8_t> batch = NewBatch(record::BatchHeader{}, &values);
  checker_.Produced(values);
  const int16_t acks = client_.random().OneIn(4) ? 1 : -1;
  ++stats_.requests;
  ++in_flight_;
  ConnectionTo(leader).Call<kafka::ProduceRequest, kafka::ProduceResponse>(
      RequestFor(partition, batch, acks), 9,
      [this, alive = alive_, partition, values = std::move(values)](auto reply) {
        if (!*alive) return;
        --in_flight_;
        const PartitionResponse* pr = PartitionAnswer(reply);
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

// ---- idempotent mode ----

void SimProducer::TickIdempotent(const PartitionKey& partition) {
  if (producer_id_ < 0) return InitProducerId();
  PartitionQueue& queue = queues_[partition];
  if (queue.batches.size() < kQueuedPerPartitionMax) {
    record::BatchHeader fields;
    fields.producer_id = producer_id_;
    fields.producer_epoch = 0;
    fields.base_sequence = queue.next_sequence;
    Outgoing out;
    out.sequence = queue.next_sequence;
    out.batch = NewBatch(fields, &out.values);
    queue.next_sequence = producer::NextSequence(producer::LastSequence(
        out.sequence, static_cast<int32_t>(out.values.size())));
    checker_.Produced(out.values);
    checker_.ProducedInOrder(id_, partition, out.values);
    queue.batches.push_back(std::move(out));
  }
  Pump(partition);
}

void SimProducer::InitProducerId() {
  if (initializing_) return;
  initializing_ = true;
  const std::vector<runtime::NodeId>& ids = world_.node_ids();
  const runtime::NodeId via = ids[client_.random().Uniform(ids.size())];
  kafka::InitProducerIdRequest request;
  request.transaction_timeout_ms = 60'000;
  ConnectionTo(via).Call<kafka::InitProducerIdRequest, kafka::InitProducerIdResponse>(
      request, 4, [this, alive = alive_](auto reply) {
        if (!*alive) return;
        initializing_ = false;
        if (!reply.ok() || reply->response.error_code != 0) return;  // the next tick asks again
        producer_id_ = reply->response.producer_id;
        ++stats_.producer_ids;
      });
}

void SimProducer::Pump(const PartitionKey& partition) {
  if (stopped_) return;
  PartitionQueue& queue = queues_[partition];
  if (client_.clock().Now() < queue.retry_at) return;  // its retry is scheduled
  if (!topology_.Live(partition)) return;              // deleted: nothing more goes there
  auto leader = leaders_.find(partition);
  if (leader == leaders_.end()) return RefreshMetadata();
  size_t flying = 0;
  for (Outgoing& out : queue.batches) {
    if (flying >= kInFlightPerPartitionMax) break;
    ++flying;
    if (out.in_flight) continue;
    // In sequence order: nothing is sent past a batch that is not in flight.
    out.in_flight = true;
    ++stats_.requests;
    ConnectionTo(leader->second)
        .Call<kafka::ProduceRequest, kafka::ProduceResponse>(
            RequestFor(partition, out.batch, -1), 9,
            [this, alive = alive_, partition, sequence = out.sequence,
             generation = queue.generation](auto reply) {
              if (*alive) OnIdempotentReply(partition, sequence, generation, PartitionAnswer(reply));
            });
  }
}

void SimProducer::OnIdempotentReply(const PartitionKey& partition, int32_t sequence,
                                    uint64_t generation, const PartitionResponse* pr) {
  PartitionQueue& queue = queues_[partition];
  auto it = queue.batches.begin();
  while (it != queue.batches.end() && it->sequence != sequence) ++it;
  if (pr != nullptr && pr->error_code == 0 && pr->base_offset >= 0) {
    if (it == queue.batches.end()) return;  // acknowledged already (a resend's answer)
    if (std::optional<std::string> v = checker_.Acked(partition, pr->base_offset, it->values)) {
      if (!violation_->has_value()) *violation_ = *v;
    }
    queue.batches.erase(it);
    return Pump(partition);
  }
  if (generation != queue.generation) return;  // a failure already handled
  // Anything may have happened to this batch and those after it: all are sent again, in
  // order, with their sequences — the broker's deduplication answers the ones it has.
  ++stats_.failed_batches;
  ++stats_.idempotent_errors[pr == nullptr ? int16_t{-100} : pr->error_code];
  if (pr != nullptr &&
      pr->error_code == kafka::ToWire(kafka::ErrorCode::kOutOfOrderSequenceNumber)) {
    ++stats_.out_of_order_answers;
  }
  ++queue.generation;
  for (Outgoing& out : queue.batches) {
    if (out.in_flight) ++stats_.retried_batches;
    out.in_flight = false;
  }
  leaders_.erase(partition);
  RefreshMetadata();
  // Resent after the backoff, to the leader known by then.
  queue.retry_at = client_.clock().Now() + kRetryBackoff;
  client_.clock().ScheduleAfter(kRetryBackoff, [this, alive = alive_, partition] {
    if (*alive) Pump(partition);
  });
}

}  // namespace eddy::sim::broker
