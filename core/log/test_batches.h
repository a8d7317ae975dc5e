// Test-only helpers: well-formed RecordBatch v2 byte strings for exercising the log.
//
// The log never looks inside the records section of a batch (it checks the header and the CRC,
// which covers the records), so these batches carry deterministic filler bytes there instead of
// encoded records; everything the log does read is real.
#pragma once

#include <cstdint>
#include <vector>

#include "core/record/batch_header.h"

namespace eddy::log::testing {

struct TestBatchSpec {
  int64_t base_offset = 0;
  int32_t record_count = 1;  // last_offset_delta = record_count - 1
  int64_t term = 1;
  uint32_t payload_size_bytes = 16;  // bytes after the 61-byte header
  int64_t max_timestamp_ms = 0;
  uint64_t fill_seed = 0;  // varies the payload bytes
  // A control batch (attributes bit 5) with this producerEpoch: 1 and 2 are what the Raft driver
  // writes for its no-op and membership entries (raft/driver/FORMAT.md), hidden by
  // IsRaftInternalTestBatch; other values model Kafka's visible control batches.
  bool control = false;
  int16_t producer_epoch = -1;
};

// The classifier the Raft driver uses (a control batch with producerEpoch 1 or 2), for tests.
bool IsRaftInternalTestBatch(const record::BatchHeader& header);
// A hidden batch for IsRaftInternalTestBatch: one record, control, producerEpoch 1 (a no-op).
std::vector<uint8_t> MakeHiddenTestBatch(int64_t base_offset, int64_t term, uint64_t fill_seed);

// A batch with a correct header and CRC.
std::vector<uint8_t> MakeTestBatch(const TestBatchSpec& spec);

}  // namespace eddy::log::testing
