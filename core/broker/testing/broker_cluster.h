// Test support for broker tests in the simulated world: a cluster of brokers (each a voter of
// the metadata group) with crash and restart, a synchronous Kafka call, and request builders.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clients/broker_connection.h"
#include "core/broker/broker.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"
#include "sim/runtime/sim_world.h"

namespace eddy::broker::test_support {

using clients::BrokerConnection;
using clients::Reply;

struct Cluster {
  // `nodes` brokers, 1..nodes, each built with `configure` applied to its options.
  explicit Cluster(uint64_t seed, int nodes = 3,
                   std::function<void(BrokerOptions&)> configure_brokers = {})
      : world(sim::SimWorldOptions{.seed = seed, .nodes = NodeIds(nodes)}),
        configure(std::move(configure_brokers)) {
    world.SetLifecycleHandlers([this](runtime::NodeId id) { brokers[id].reset(); },
                               [this](runtime::NodeId id) { Build(id); });
    for (runtime::NodeId id : world.node_ids()) Build(id);
  }
  static std::vector<runtime::NodeId> NodeIds(int nodes) {
    std::vector<runtime::NodeId> ids;
    for (int i = 1; i <= nodes; ++i) ids.push_back(static_cast<runtime::NodeId>(i));
    return ids;
  }
  void Build(runtime::NodeId id) {
    BrokerOptions options;
    options.controllers = world.node_ids();
    options.advertised = world.address(id);
    options.topic_defaults = {.num_partitions = 3, .replication_factor = 3};
    if (configure) configure(options);
    brokers[id] = std::make_unique<Broker>(world.node(id), options);
    brokers[id]->Start();
  }
  bool AllJoined() {
    for (auto& [id, b] : brokers) {
      if (b == nullptr) return false;
      for (auto& [other, o] : brokers) {
        // Every broker's image shows every broker joined.
        const controller::BrokerInfo* info = b->image().broker(static_cast<int32_t>(other));
        if (o == nullptr || info == nullptr || info->incarnation != o->incarnation() ||
            info->fenced) {
          return false;
        }
      }
    }
    return true;
  }
  template <typename Done>
  bool RunUntil(Duration bound, Done done) {
    const Instant deadline = world.Now() + bound;
    while (!done() && world.Now() < deadline) world.RunFor(Duration::Milliseconds(10));
    return done();
  }

  sim::SimWorld world;
  // Applied to every broker's options when it is built (tests may change it before restarts).
  std::function<void(BrokerOptions&)> configure;
  std::map<runtime::NodeId, std::unique_ptr<Broker>> brokers;
};

template <typename Request, typename Response>
absl::StatusOr<Reply<Response>> Ask(Cluster& c, BrokerConnection& connection,
                                    const Request& request, int16_t version) {
  std::optional<absl::StatusOr<Reply<Response>>> out;
  connection.Call<Request, Response>(request, version, [&](auto o) { out = std::move(o); });
  c.RunUntil(Duration::Seconds(30), [&] { return out.has_value(); });
  if (!out.has_value()) return absl::DeadlineExceededError("no answer");
  return *std::move(out);
}

inline kafka::CreateTopicsRequest CreateRequest(const std::string& name, int32_t partitions,
                                         int16_t rf) {
  kafka::CreateTopicsRequest request;
  request.topics.emplace_back();
  request.topics.back().name = name;
  request.topics.back().num_partitions = partitions;
  request.topics.back().replication_factor = rf;
  request.timeout_ms = 10'000;
  return request;
}

inline absl::StatusOr<kafka::MetadataResponse> Metadata(Cluster& c, sim::SimClient& client,
                                                 runtime::NodeId broker) {
  BrokerConnection connection(client, c.world.address(broker));
  kafka::MetadataRequest all;
  all.topics = std::nullopt;
  auto reply = Ask<kafka::MetadataRequest, kafka::MetadataResponse>(c, connection, all, 12);
  if (!reply.ok()) return reply.status();
  return reply->response;
}

inline bool EveryPartitionLed(const kafka::MetadataResponse& m, const std::string& topic,
                       size_t partitions) {
  for (const auto& t : m.topics) {
    if (t.name != topic) continue;
    if (t.partitions.size() != partitions) return false;
    for (const auto& p : t.partitions) {
      if (p.leader_id < 1 || p.error_code != 0) return false;
    }
    return true;
  }
  return false;
}

// `fields` gives the producer id, epoch and base sequence (none by default).
inline std::vector<uint8_t> Records(int count, int64_t timestamp = 1000, int64_t step = 0,
                                    const record::BatchHeader& fields = record::BatchHeader{}) {
  record::RecordBatchBuilder builder(fields);
  for (int i = 0; i < count; ++i) {
    const std::string value = "v" + std::to_string(i);
    EXPECT_TRUE(builder
                    .Append(timestamp + i * step, std::nullopt,
                            std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(value.data()), value.size()))
                    .ok());
  }
  return builder.Finish();
}

inline kafka::ProduceRequest ProduceTo(const std::string& topic, const std::vector<uint8_t>& batch,
                                int16_t acks = -1) {
  kafka::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 10'000;
  auto& t = request.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  p.records = kafka::Records::Of(batch);
  return request;
}

inline kafka::FetchRequest FetchFrom(const std::string& topic, int64_t offset, int32_t max_wait_ms = 0,
                              int32_t min_bytes = 0) {
  kafka::FetchRequest request;
  request.max_wait_ms = max_wait_ms;
  request.min_bytes = min_bytes;
  auto& t = request.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  return request;
}

// Base offsets of the batches in a fetched partition's records.
inline std::vector<int64_t> BaseOffsets(const kafka::Records& records) {
  const std::string bytes = records.Flatten();
  std::vector<int64_t> offsets;
  std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  while (!rest.empty()) {
    absl::StatusOr<record::BatchHeader> h = record::ParseBatchHeader(rest);
    if (!h.ok() || h->size_bytes() > rest.size()) break;
    offsets.push_back(h->base_offset);
    rest = rest.subspan(h->size_bytes());
  }
  return offsets;
}

}  // namespace eddy::broker::test_support
