// ConsumerRecord: one record as the consumer hands it to the application — it owns its bytes, so
// it outlives the Fetch reply it was decoded from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record/batch_header.h"
#include "core/record/record.h"

namespace eddy::clients {

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  record::TimestampType timestamp_type = record::TimestampType::kCreateTime;
  std::optional<std::vector<uint8_t>> key;
  std::optional<std::vector<uint8_t>> value;
  std::vector<record::Header> headers;
  // The batch's partition leader epoch (Eddy: the Raft term that wrote it).
  int32_t leader_epoch = -1;

  // Bytes this record holds, for the consumer's buffer accounting.
  size_t SizeBytes() const;
};

}  // namespace eddy::clients
