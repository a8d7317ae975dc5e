// One record of a RecordBatch v2, in two forms:
//   Record      owns its bytes; for tests, tools and the slow path (EncodeRecordBatch,
//               DecodeRecordBatch).
//   RecordView  points into a batch buffer; filled by RecordBatchReader::Next() without copying,
//               so the hot path allocates nothing per record (the headers vector keeps its
//               capacity between records).
// A null key or value is std::nullopt; an empty one is an empty, present buffer. Kafka tells the
// two apart on the wire (length -1 vs 0) and so do we.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::record {

struct Header {
  std::string key;  // Kafka: a UTF-8 string, never null (bytes are not validated as UTF-8)
  std::optional<std::vector<uint8_t>> value;

  friend bool operator==(const Header&, const Header&) = default;
};

struct Record {
  int8_t attributes = 0;        // unused by Kafka; written as 0, preserved when read
  int64_t timestamp_delta = 0;  // record timestamp - batch base_timestamp
  int32_t offset_delta = 0;     // record offset - batch base_offset
  std::optional<std::vector<uint8_t>> key;
  std::optional<std::vector<uint8_t>> value;
  std::vector<Header> headers;

  friend bool operator==(const Record&, const Record&) = default;
};

struct HeaderView {
  std::string_view key;
  std::optional<std::span<const uint8_t>> value;
};

struct RecordView {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::span<const uint8_t>> key;
  std::optional<std::span<const uint8_t>> value;
  std::vector<HeaderView> headers;

  // A deep copy that owns its bytes.
  Record ToRecord() const;
};

// Prints a record with short hex dumps of its fields, for test output.
std::ostream& operator<<(std::ostream& out, const Record& record);

}  // namespace eddy::record
