// Benchmarks of core/kafka (run: bazel run -c opt //bench/kafka:kafka_bench).
//
// Produce request with 1 MiB of record batches (16 partitions x 64 KiB) and a Fetch response of
// 1 MiB from 16 partitions: decode and encode, bytes/s counted over the whole body. Records
// travel as views, so the cost is per partition, not per byte. Then requests/s for a small
// Metadata request (decode + response encode) and a Heartbeat (decode + response encode).
#include <cstdint>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/kafka/generated/fetch.h"
#include "core/kafka/generated/heartbeat.h"
#include "core/kafka/generated/metadata.h"
#include "core/kafka/generated/produce.h"
#include "core/kafka/header.h"

namespace eddy::kafka {
namespace {

constexpr int kPartitionCount = 16;
constexpr size_t kRecordsSizeBytes = 1 << 20;
constexpr size_t kPartitionRecordsSizeBytes = kRecordsSizeBytes / kPartitionCount;

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string& RecordBytes() {
  static const auto* bytes = new std::string(kRecordsSizeBytes, 'r');
  return *bytes;
}

ProduceRequest MakeProduce() {
  ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 30000;
  request.topic_data.emplace_back().name = "bench-topic";
  for (int p = 0; p < kPartitionCount; ++p) {
    auto& partition = request.topic_data[0].partition_data.emplace_back();
    partition.index = p;
    partition.records =
        Records::Of(Span(RecordBytes()).subspan(p * kPartitionRecordsSizeBytes,
                                                kPartitionRecordsSizeBytes));
  }
  return request;
}

FetchResponse MakeFetch() {
  FetchResponse response;
  response.responses.emplace_back().topic = "bench-topic";
  for (int p = 0; p < kPartitionCount; ++p) {
    auto& partition = response.responses[0].partitions.emplace_back();
    partition.partition_index = p;
    partition.high_watermark = 1000000;
    // Two pieces per partition, as a log read spanning two segments would give.
    partition.records = Records::Empty();
    const auto slice = Span(RecordBytes()).subspan(p * kPartitionRecordsSizeBytes,
                                                   kPartitionRecordsSizeBytes);
    partition.records.Append(slice.first(kPartitionRecordsSizeBytes / 2));
    partition.records.Append(slice.subspan(kPartitionRecordsSizeBytes / 2));
  }
  return response;
}

template <typename Message>
std::string EncodeToString(const Message& message, int16_t version) {
  Writer writer;
  EDDY_CHECK_OK(message.Encode(version, writer));
  return writer.Flatten();
}

template <typename Message>
void BM_Decode(benchmark::State& state, const Message& message) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  const std::string bytes = EncodeToString(message, version);
  for (auto _ : state) {
    Message decoded;
    EDDY_CHECK_OK(DecodeBody(version, Span(bytes), &decoded));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

template <typename Message>
void BM_Encode(benchmark::State& state, const Message& message) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  size_t size_bytes = 0;
  for (auto _ : state) {
    Writer writer;
    EDDY_CHECK_OK(message.Encode(version, writer));
    const auto pieces = writer.Pieces();  // what the transport gets: scatter-gather
    benchmark::DoNotOptimize(pieces.data());
    size_bytes = writer.size_bytes();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size_bytes));
}

void BM_ProduceRequestDecode(benchmark::State& state) { BM_Decode(state, MakeProduce()); }
void BM_ProduceRequestEncode(benchmark::State& state) { BM_Encode(state, MakeProduce()); }
void BM_FetchResponseDecode(benchmark::State& state) { BM_Decode(state, MakeFetch()); }
void BM_FetchResponseEncode(benchmark::State& state) { BM_Encode(state, MakeFetch()); }
BENCHMARK(BM_ProduceRequestDecode)->Arg(7)->Arg(9)->Arg(11);
BENCHMARK(BM_ProduceRequestEncode)->Arg(7)->Arg(9)->Arg(11);
BENCHMARK(BM_FetchResponseDecode)->Arg(11)->Arg(12)->Arg(17);
BENCHMARK(BM_FetchResponseEncode)->Arg(11)->Arg(12)->Arg(17);

// A whole small request handled at the codec level: parse the frame, decode the body, build
// and encode the response frame.
template <typename Request>
std::string RequestFrameBytes(const Request& request, int16_t version) {
  Writer writer;
  EDDY_CHECK_OK(EncodeRequestFrame(RequestHeader{Request::kApiKey, version, 1, "bench", {}},
                                   request, writer));
  return writer.Flatten().substr(4);
}

void BM_MetadataRequests(benchmark::State& state) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  MetadataRequest request;
  request.topics.emplace().emplace_back().name = "bench-topic";
  const std::string frame = RequestFrameBytes(request, version);
  for (auto _ : state) {
    const RequestFrame parsed = ParseRequestFrame(Span(frame));
    MetadataRequest decoded;
    EDDY_CHECK_OK(DecodeBody(version, parsed.body, &decoded));
    MetadataResponse response;
    auto& broker = response.brokers.emplace_back();
    broker.node_id = 1;
    broker.host = "localhost";
    broker.port = 9092;
    response.controller_id = 1;
    for (const auto& topic : *decoded.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name.value_or("");
      auto& partition = out.partitions.emplace_back();
      partition.leader_id = 1;
      partition.replica_nodes = {1};
      partition.isr_nodes = {1};
    }
    Writer writer;
    EDDY_CHECK_OK(EncodeResponseFrame(parsed.header.correlation_id, version, response, writer));
    benchmark::DoNotOptimize(writer.size_bytes());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MetadataRequests)->Arg(4)->Arg(12);

void BM_HeartbeatRequests(benchmark::State& state) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  HeartbeatRequest request;
  request.group_id = "bench-group";
  request.generation_id = 3;
  request.member_id = "consumer-1-0a1b2c3d-4e5f-6789-abcd-ef0123456789";
  const std::string frame = RequestFrameBytes(request, version);
  for (auto _ : state) {
    const RequestFrame parsed = ParseRequestFrame(Span(frame));
    HeartbeatRequest decoded;
    EDDY_CHECK_OK(DecodeBody(version, parsed.body, &decoded));
    HeartbeatResponse response;
    Writer writer;
    EDDY_CHECK_OK(EncodeResponseFrame(parsed.header.correlation_id, version, response, writer));
    benchmark::DoNotOptimize(writer.size_bytes());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HeartbeatRequests)->Arg(3)->Arg(4);

}  // namespace
}  // namespace eddy::kafka
