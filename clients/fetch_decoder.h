// DecodeFetchedRecords: the records of one partition's Fetch answer, from position on.
//
// A Fetch answer holds WHOLE batches, so its first batch may start before the position asked for
// (the records before it were returned already, or skipped by a Seek): those records are
// dropped. Control batches (transaction markers) are skipped whole; Raft's own entries never
// reach clients (DESIGN.md, decision 4). A trailing partial batch (the broker stops at its byte
// limit mid-batch, as Kafka's may) ends decoding without error.
//
// The answer says where the next fetch starts: one past the last whole batch decoded, which may
// be beyond the last record returned (a control batch, records removed by compaction). The
// consumer moves its position there once the records are handed out, so a batch with nothing
// left to return is never fetched again.
//
// Pure; no allocation beyond the records returned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/consumer_record.h"

namespace eddy::clients {

struct DecodedFetch {
  std::vector<ConsumerRecord> records;  // offsets >= position, strictly increasing
  // Where the next fetch starts (>= position); position itself when no whole batch came.
  int64_t next_offset = 0;
  size_t bytes = 0;  // of the whole batches decoded
};

// Errors: kDataLoss for a batch whose CRC does not match or whose header is impossible;
// kUnimplemented for a compressed batch; kInvalidArgument for a malformed one. With
// `check_crcs` false a CRC mismatch is still reported: RecordBatchReader verifies every batch
// it opens (Kafka's check.crcs=false is a speed knob, and the check is cheap here).
absl::StatusOr<DecodedFetch> DecodeFetchedRecords(std::span<const uint8_t> bytes,
                                                  const std::string& topic, int32_t partition,
                                                  int64_t position);

}  // namespace eddy::clients
