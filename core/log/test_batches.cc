#include "core/log/test_batches.h"

#include "core/base/check.h"
#include "core/base/random.h"
#include "core/record/batch_header.h"

namespace eddy::log::testing {

std::vector<uint8_t> MakeTestBatch(const TestBatchSpec& spec) {
  EDDY_CHECK_GE(spec.record_count, 1);
  std::vector<uint8_t> batch(record::kBatchHeaderSizeBytes + spec.payload_size_bytes);
  record::BatchHeader header;
  header.base_offset = spec.base_offset;
  header.batch_length = static_cast<int32_t>(batch.size() - record::kBatchLengthPrefixSizeBytes);
  header.partition_leader_epoch = static_cast<int32_t>(spec.term);
  header.magic = record::kMagicV2;
  header.last_offset_delta = spec.record_count - 1;
  header.base_timestamp = spec.max_timestamp_ms;
  header.max_timestamp = spec.max_timestamp_ms;
  header.record_count = spec.record_count;
  if (spec.control) header.attributes = record::kAttributesControlBit;
  header.producer_epoch = spec.producer_epoch;
  record::EncodeBatchHeader(header, batch);
  Random random(spec.fill_seed);
  for (size_t i = record::kBatchHeaderSizeBytes; i < batch.size(); ++i) {
    batch[i] = static_cast<uint8_t>(random.Next());
  }
  record::WriteBatchCrc(batch);
  EDDY_CHECK_OK(record::VerifyBatchCrc(batch));
  return batch;
}

bool IsRaftInternalTestBatch(const record::BatchHeader& header) {
  return header.is_control() && (header.producer_epoch == 1 || header.producer_epoch == 2);
}

std::vector<uint8_t> MakeHiddenTestBatch(int64_t base_offset, int64_t term, uint64_t fill_seed) {
  return MakeTestBatch({.base_offset = base_offset,
                        .record_count = 1,
                        .term = term,
                        .payload_size_bytes = 16,
                        .fill_seed = fill_seed,
                        .control = true,
                        .producer_epoch = 1});
}

}  // namespace eddy::log::testing
