#include "sim/broker/sim_admin.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/kafka/errors.h"
#include "core/kafka/generated/create_partitions.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/delete_topics.h"

namespace eddy::sim::broker {
namespace {

using kafka::ErrorCode;

bool Is(int16_t code, ErrorCode error) { return code == kafka::ToWire(error); }

}  // namespace

SimAdmin::SimAdmin(SimWorld& world, Topology& topology, DataChecker& checker,
                   Duration interval_mean, TransferFn transfer, AdminStats& stats)
    : world_(world),
      client_(world.AddClient()),
      topology_(topology),
      checker_(checker),
      interval_mean_(interval_mean),
      transfer_(std::move(transfer)),
      stats_(stats) {}

void SimAdmin::Start() {
  client_.clock().ScheduleAfter(interval_mean_, [this] { Tick(); });
}

runtime::NodeId SimAdmin::AnyBroker() {
  const std::vector<runtime::NodeId>& ids = world_.node_ids();
  return ids[client_.random().Uniform(ids.size())];
}

clients::BrokerConnection& SimAdmin::ConnectionTo(runtime::NodeId broker) {
  std::unique_ptr<clients::BrokerConnection>& c = connections_[broker];
  if (c == nullptr || !c->open()) {
    c = std::make_unique<clients::BrokerConnection>(
        client_, world_.address(broker),
        clients::ConnectionOptions{.client_id = "admin", .request_timeout = Duration::Seconds(10)});
  }
  return *c;
}

void SimAdmin::Tick() {
  if (stopped_) return;
  Random& random = client_.random();
  const Duration next = Duration::Nanoseconds(static_cast<int64_t>(
      random.Uniform(static_cast<uint64_t>(2 * interval_mean_.nanoseconds()) + 1)));
  client_.clock().ScheduleAfter(next, [this] { Tick(); });
  const uint64_t action = random.Uniform(100);
  if (action < 30) {
    ++stats_.leadership_transfers;
    return transfer_(random);
  }
  if (busy_) return;
  if (action < 60) return CreateTopic();
  if (action < 85) return AddPartitions();
  DeleteTopic();
}

void SimAdmin::CreateTopic() {
  // A topic whose creation went unanswered is asked for again, under the same name.
  // (with the same partition count: an earlier attempt may have created it so).
  std::string name;
  for (const auto& [c, count] : created_) {
    if (!topology_.topics().contains(c) && !topology_.doomed().contains(c) &&
        !topology_.deleted().contains(c)) {
      name = c;
    }
  }
  if (name.empty()) {
    if (created_.size() >= 8) return;  // enough topics come and go
    name = absl::StrCat("dyn", next_topic_++);
    created_[name] = 1 + static_cast<int32_t>(client_.random().Uniform(3));
  }
  const int32_t partitions = created_[name];
  kafka::CreateTopicsRequest request;
  request.timeout_ms = 5'000;
  auto& t = request.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = static_cast<int16_t>(std::min<size_t>(3, world_.node_ids().size()));
  busy_ = true;
  ConnectionTo(AnyBroker())
      .Call<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(
          request, 5, [this, alive = alive_, name, partitions](auto reply) {
            if (!*alive) return;
            busy_ = false;
            if (!reply.ok() || reply->response.topics.size() != 1) {
              ++stats_.calls_failed;
              return;
            }
            const int16_t code = reply->response.topics[0].error_code;
            // Already there: a retry of a creation carried out (its partition count is ours).
            if (code == 0 || Is(code, ErrorCode::kTopicAlreadyExists)) {
              ++stats_.topics_created;
              topology_.AddTopic(name, partitions);
            } else {
              ++stats_.calls_failed;
            }
          });
}

void SimAdmin::AddPartitions() {
  if (topology_.topics().empty()) return;
  auto it = topology_.topics().begin();
  std::advance(it, client_.random().Uniform(topology_.topics().size()));
  const std::string name = it->first;
  const int32_t total = it->second + 1 + static_cast<int32_t>(client_.random().Uniform(2));
  if (total > 12) return;
  kafka::CreatePartitionsRequest request;
  request.timeout_ms = 5'000;
  auto& t = request.topics.emplace_back();
  t.name = name;
  t.count = total;
  t.assignments = std::nullopt;
  busy_ = true;
  ConnectionTo(AnyBroker())
      .Call<kafka::CreatePartitionsRequest, kafka::CreatePartitionsResponse>(
          request, 1, [this, alive = alive_, name, total](auto reply) {
            if (!*alive) return;
            busy_ = false;
            if (reply.ok() && reply->response.results.size() == 1 &&
                reply->response.results[0].error_code == 0) {
              ++stats_.partitions_added;
              topology_.Grow(name, total);
            } else {
              // Unknown (it may have grown): producers keep to the partitions known.
              ++stats_.calls_failed;
            }
          });
}

void SimAdmin::DeleteTopic() {
  // A deletion left unanswered first; else one of the live topics this admin created.
  std::vector<std::string> candidates(topology_.doomed().begin(), topology_.doomed().end());
  if (candidates.empty()) {
    for (const auto& [c, count] : created_) {
      if (topology_.topics().contains(c)) candidates.push_back(c);
    }
  }
  if (candidates.empty()) return;
  const std::string name = candidates[client_.random().Uniform(candidates.size())];
  topology_.Doom(name);
  kafka::DeleteTopicsRequest request;
  request.timeout_ms = 5'000;
  request.topic_names = {name};
  busy_ = true;
  ConnectionTo(AnyBroker())
      .Call<kafka::DeleteTopicsRequest, kafka::DeleteTopicsResponse>(
          request, 4, [this, alive = alive_, name](auto reply) {
            if (!*alive) return;
            busy_ = false;
            // Unknown: a retry of a deletion carried out (this admin's names are never reused).
            if (reply.ok() && reply->response.responses.size() == 1 &&
                (reply->response.responses[0].error_code == 0 ||
                 Is(reply->response.responses[0].error_code,
                    ErrorCode::kUnknownTopicOrPartition))) {
              ++stats_.topics_deleted;
              topology_.Delete(name);
              checker_.Deleted(name);
            } else {
              ++stats_.calls_failed;  // asked again later
            }
          });
}

}  // namespace eddy::sim::broker
