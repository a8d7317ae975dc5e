// What a Produce request's records must be before a partition leader proposes them: whole
// RecordBatch v2 batches, each intact, uncompressed (until the compression issue), within the
// topic's max.message.bytes, not a control batch and not transactional (no transactions yet),
// and with a producer id only beside an epoch and a base sequence. A request is never truncated:
// one bad batch fails the partition's whole produce.
//
// LogAppendTime topics get their batches stamped here (maxTimestamp = the broker's wall clock,
// the timestamp-type bit set, the CRC recomputed), as Kafka's broker does.
//
// Kafka's errors: CORRUPT_MESSAGE (a batch cut short, an impossible header, a CRC mismatch),
// UNSUPPORTED_FOR_MESSAGE_FORMAT (magic 0 or 1), MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE,
// INVALID_RECORD (a malformed record, a record count that disagrees with the header, a control
// or transactional batch, a producer id without epoch or sequence). Sequences are the
// producer table's business (core/producer), not this check's.
// Pure logic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/controller/topic_config.h"
#include "core/kafka/errors.h"

namespace eddy::broker {

struct ProducedBatches {
  kafka::ErrorCode error = kafka::ErrorCode::kNone;
  std::string message;
  std::vector<std::vector<uint8_t>> batches;  // each one whole batch, stamped if asked
  int64_t log_append_time_ms = -1;            // set when stamped
};

// Splits and checks `records` (a Produce partition's records field) for a topic with `config`;
// `now_ms` is the broker's wall clock (for LogAppendTime).
ProducedBatches ValidateProduced(std::span<const uint8_t> records,
                                 const controller::TopicConfig& config, int64_t now_ms);

}  // namespace eddy::broker
