// Throughput of the record package's hot paths:
//   BM_Crc32c / BM_Crc32cSoftware  CRC32C bytes/s, ISA-L vs the portable slicing-by-8 baseline,
//                                  on 4 KiB, 64 KiB and 1 MiB buffers (target: >= 4 GB/s).
//   BM_BuildBatch                  RecordBatchBuilder records/s, 1 KiB values, N records a batch.
//   BM_ReadBatch                   RecordBatchReader (CRC + validation + zero-copy iteration).
//   BM_DecodeBatch                 DecodeRecordBatch (the owning, copying slow path).
// Run: bazel run -c opt //bench/record:record_bench -- --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/check.h"
#include "core/base/random.h"
#include "core/record/crc32c.h"
#include "core/record/crc32c_software.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"

namespace eddy::record {
namespace {

constexpr size_t kValueSizeBytes = 1024;
constexpr size_t kKeySizeBytes = 16;

std::vector<uint8_t> RandomBytes(size_t size_bytes, uint64_t seed) {
  Random random(seed);
  std::vector<uint8_t> bytes(size_bytes);
  for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random.Next());
  return bytes;
}

void BM_Crc32c(benchmark::State& state) {
  const std::vector<uint8_t> buffer = RandomBytes(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) benchmark::DoNotOptimize(Crc32c(buffer));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);

void BM_Crc32cSoftware(benchmark::State& state) {
  const std::vector<uint8_t> buffer = RandomBytes(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) benchmark::DoNotOptimize(Crc32cSoftware(buffer));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cSoftware)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);

std::vector<uint8_t> BuildBatch(int record_count, const std::vector<uint8_t>& key,
                                const std::vector<uint8_t>& value) {
  RecordBatchBuilder builder(BatchHeader{.partition_leader_epoch = 1});
  for (int i = 0; i < record_count; ++i) {
    EDDY_CHECK_OK(builder.Append(1700000000000 + i, key, value));
  }
  return builder.Finish();
}

void BM_BuildBatch(benchmark::State& state) {
  const int record_count = static_cast<int>(state.range(0));
  const std::vector<uint8_t> key = RandomBytes(kKeySizeBytes, 2);
  const std::vector<uint8_t> value = RandomBytes(kValueSizeBytes, 3);
  size_t batch_size_bytes = 0;
  for (auto _ : state) {
    std::vector<uint8_t> batch = BuildBatch(record_count, key, value);
    batch_size_bytes = batch.size();
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * record_count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch_size_bytes));
}
BENCHMARK(BM_BuildBatch)->Arg(16)->Arg(256);

void BM_ReadBatch(benchmark::State& state) {
  const int record_count = static_cast<int>(state.range(0));
  const std::vector<uint8_t> batch =
      BuildBatch(record_count, RandomBytes(kKeySizeBytes, 2), RandomBytes(kValueSizeBytes, 3));
  RecordView view;
  for (auto _ : state) {
    absl::StatusOr<RecordBatchReader> reader = RecordBatchReader::Open(batch);
    EDDY_CHECK_OK(reader.status());
    size_t value_bytes = 0;
    while (reader->Next(&view)) value_bytes += view.value->size();
    benchmark::DoNotOptimize(value_bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * record_count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_ReadBatch)->Arg(16)->Arg(256);

void BM_DecodeBatch(benchmark::State& state) {
  const int record_count = static_cast<int>(state.range(0));
  const std::vector<uint8_t> batch =
      BuildBatch(record_count, RandomBytes(kKeySizeBytes, 2), RandomBytes(kValueSizeBytes, 3));
  for (auto _ : state) {
    absl::StatusOr<DecodedRecordBatch> decoded = DecodeRecordBatch(batch);
    EDDY_CHECK_OK(decoded.status());
    benchmark::DoNotOptimize(decoded->records.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * record_count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_DecodeBatch)->Arg(16)->Arg(256);

}  // namespace
}  // namespace eddy::record
