// produce-load: a produce load generator against a running Eddy (or any Kafka) cluster, built on
// the project's own client seam (clients::BrokerConnection on AsioClientRuntime).
//
// It creates the topic (if missing), finds each partition's leader, then keeps `--inflight`
// Produce requests outstanding per partition, each carrying one RecordBatch v2 of
// `--batch-records` records of `--record-bytes` bytes, with acks=all, for `--seconds`. It prints
// records/s, MB/s and the acknowledgement latency's median, p99 and max, and exits non-zero if
// any request failed.
//
//   bazel run -c opt //bench/real:produce-load -- --bootstrap=127.0.0.1:9092 --partitions=3
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/broker_connection.h"
#include "core/kafka/generated/create_topics.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "core/record/record_batch_builder.h"
#include "net/loop/asio_loop.h"
#include "net/runtime/asio_client_runtime.h"

namespace eddy {
namespace {

struct Options {
  runtime::Address bootstrap{"127.0.0.1", 9092};
  std::string topic = "produce-load";
  int32_t partitions = 3;
  int16_t replication = -1;  // the broker's default
  int record_bytes = 1024;
  int batch_records = 64;
  int inflight = 4;
  int seconds = 10;
};

bool ParseFlag(const std::string& arg, Options& o) {
  auto value = [&](const char* name) -> std::optional<std::string> {
    const std::string prefix = absl::StrCat("--", name, "=");
    if (arg.rfind(prefix, 0) != 0) return std::nullopt;
    return arg.substr(prefix.size());
  };
  auto number = [](const std::string& text, auto* out) { return absl::SimpleAtoi(text, out); };
  if (auto v = value("bootstrap")) {
    std::vector<std::string> parts = absl::StrSplit(*v, ':');
    return parts.size() == 2 && (o.bootstrap.host = parts[0], number(parts[1], &o.bootstrap.port));
  }
  if (auto v = value("topic")) return o.topic = *v, true;
  if (auto v = value("partitions")) return number(*v, &o.partitions) && o.partitions > 0;
  if (auto v = value("replication")) {
    int r = 0;
    return number(*v, &r) && (o.replication = static_cast<int16_t>(r), r > 0);
  }
  if (auto v = value("record-bytes")) return number(*v, &o.record_bytes) && o.record_bytes >= 0;
  if (auto v = value("batch-records")) return number(*v, &o.batch_records) && o.batch_records > 0;
  if (auto v = value("inflight")) return number(*v, &o.inflight) && o.inflight > 0;
  if (auto v = value("seconds")) return number(*v, &o.seconds) && o.seconds > 0;
  return false;
}

// Runs the loop until `done` or `bound`; false on timeout.
template <typename Done>
bool RunUntil(net::AsioLoop& loop, Duration bound, Done done) {
  bool timed_out = false;
  const runtime::TimerId timer = loop.ScheduleAfter(bound, [&] { timed_out = true; });
  loop.RunUntil([&] { return done() || timed_out; });
  loop.Cancel(timer);
  return done();
}

template <typename Request, typename Response>
absl::StatusOr<clients::Reply<Response>> Ask(net::AsioLoop& loop,
                                             clients::BrokerConnection& connection,
                                             const Request& request, int16_t version) {
  std::optional<absl::StatusOr<clients::Reply<Response>>> out;
  connection.Call<Request, Response>(request, version, [&](auto o) { out = std::move(o); });
  if (!RunUntil(loop, Duration::Seconds(35), [&] { return out.has_value(); })) {
    return absl::DeadlineExceededError("no answer");
  }
  return std::move(*out);
}

std::vector<uint8_t> Batch(const Options& o, int64_t now_ms) {
  record::RecordBatchBuilder builder(record::BatchHeader{});
  const std::vector<uint8_t> value(static_cast<size_t>(o.record_bytes), 'x');
  for (int i = 0; i < o.batch_records; ++i) {
    const std::string key = absl::StrCat("key-", i);
    const absl::Status s = builder.Append(
        now_ms, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
        std::span<const uint8_t>(value));
    if (!s.ok()) break;
  }
  return builder.Finish();
}

int Run(const Options& o) {
  net::AsioLoop loop;
  net::AsioClientRuntime client(loop);
  clients::BrokerConnection bootstrap(client, o.bootstrap);
  kafka::CreateTopicsRequest create;
  auto& t = create.topics.emplace_back();
  t.name = o.topic;
  t.num_partitions = o.partitions;
  t.replication_factor = o.replication;
  create.timeout_ms = 30'000;
  auto created = Ask<kafka::CreateTopicsRequest, kafka::CreateTopicsResponse>(loop, bootstrap,
                                                                              create, 4);
  if (!created.ok()) {
    std::fprintf(stderr, "create: %s\n", std::string(created.status().message()).c_str());
    return 1;
  }
  // Leaders of every partition (retried until all are led).
  std::map<int32_t, runtime::Address> leader_of;
  const Instant deadline = loop.Now() + Duration::Seconds(30);
  while (static_cast<int32_t>(leader_of.size()) < o.partitions && loop.Now() < deadline) {
    kafka::MetadataRequest m;
    m.topics.emplace();
    m.topics->emplace_back().name = o.topic;
    auto reply = Ask<kafka::MetadataRequest, kafka::MetadataResponse>(loop, bootstrap, m, 9);
    if (!reply.ok()) continue;
    std::map<int32_t, runtime::Address> brokers;
    for (const auto& b : reply->response.brokers) brokers[b.node_id] = {b.host, b.port};
    leader_of.clear();
    for (const auto& topic : reply->response.topics) {
      for (const auto& p : topic.partitions) {
        if (p.error_code == 0 && brokers.contains(p.leader_id)) {
          leader_of[p.partition_index] = brokers[p.leader_id];
        }
      }
    }
    if (static_cast<int32_t>(leader_of.size()) < o.partitions) {
      RunUntil(loop, Duration::Milliseconds(100), [] { return false; });
    }
  }
  if (static_cast<int32_t>(leader_of.size()) < o.partitions) {
    std::fprintf(stderr, "not every partition has a leader\n");
    return 1;
  }
  std::map<std::string, std::unique_ptr<clients::BrokerConnection>> connections;
  for (const auto& [p, address] : leader_of) {
    const std::string key = absl::StrCat(address.host, ":", address.port);
    if (!connections.contains(key)) {
      connections[key] = std::make_unique<clients::BrokerConnection>(client, address);
    }
  }

  const std::vector<uint8_t> batch = Batch(o, client.wall_clock().NowMs());
  std::vector<double> latencies_ms;
  uint64_t acked_batches = 0;
  uint64_t failures = 0;
  bool running = true;
  const Instant start = loop.Now();
  const Instant stop = start + Duration::Seconds(o.seconds);
  std::function<void(int32_t)> send = [&](int32_t partition) {
    if (!running || loop.Now() >= stop) return;
    const runtime::Address& a = leader_of[partition];
    clients::BrokerConnection& c = *connections[absl::StrCat(a.host, ":", a.port)];
    kafka::ProduceRequest request;
    request.acks = -1;
    request.timeout_ms = 30'000;
    auto& td = request.topic_data.emplace_back();
    td.name = o.topic;
    auto& pd = td.partition_data.emplace_back();
    pd.index = partition;
    pd.records = kafka::Records::Of(batch);
    const Instant sent = loop.Now();
    c.Call<kafka::ProduceRequest, kafka::ProduceResponse>(
        request, 9, [&, partition, sent](absl::StatusOr<clients::Reply<kafka::ProduceResponse>> r) {
          const bool ok = r.ok() && r->response.responses.size() == 1 &&
                          r->response.responses[0].partition_responses.size() == 1 &&
                          r->response.responses[0].partition_responses[0].error_code == 0;
          if (!ok) {
            ++failures;
            if (failures == 1) {
              std::fprintf(stderr, "produce failed: %s\n",
                           r.ok() ? absl::StrCat("error code ",
                                                 r->response.responses[0]
                                                     .partition_responses[0]
                                                     .error_code)
                                        .c_str()
                                  : std::string(r.status().message()).c_str());
            }
          } else {
            ++acked_batches;
            latencies_ms.push_back((loop.Now() - sent).seconds() * 1000.0);
          }
          send(partition);
        });
  };
  for (int32_t p = 0; p < o.partitions; ++p) {
    for (int i = 0; i < o.inflight; ++i) send(p);
  }
  RunUntil(loop, Duration::Seconds(o.seconds + 35), [&] {
    if (loop.Now() < stop) return false;
    for (const auto& [k, c] : connections) {
      if (c->outstanding() > 0) return false;
    }
    return true;
  });
  running = false;
  const double elapsed = (loop.Now() - start).seconds();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto quantile = [&](double q) {
    return latencies_ms.empty() ? 0.0
                                : latencies_ms[std::min(latencies_ms.size() - 1,
                                                        static_cast<size_t>(q * latencies_ms.size()))];
  };
  const double records = static_cast<double>(acked_batches) * o.batch_records;
  std::printf(
      "produce-load: %d partitions, %d x %d-byte records per batch, %d in flight per partition, "
      "acks=all\n"
      "  %.0f records/s, %.1f MB/s of values, %llu batches acknowledged in %.1f s, %llu failed\n"
      "  latency ms: p50 %.2f  p99 %.2f  max %.2f\n",
      o.partitions, o.batch_records, o.record_bytes, o.inflight, records / elapsed,
      records * o.record_bytes / elapsed / 1e6, static_cast<unsigned long long>(acked_batches),
      elapsed, static_cast<unsigned long long>(failures), quantile(0.5), quantile(0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return failures == 0 && acked_batches > 0 ? 0 : 1;
}

}  // namespace
}  // namespace eddy

int main(int argc, char** argv) {
  eddy::Options options;
  for (int i = 1; i < argc; ++i) {
    if (!eddy::ParseFlag(argv[i], options)) {
      std::fprintf(stderr,
                   "unknown or bad flag %s\nflags: --bootstrap=host:port --topic= --partitions= "
                   "--replication= --record-bytes= --batch-records= --inflight= --seconds=\n",
                   argv[i]);
      return 2;
    }
  }
  return eddy::Run(options);
}
