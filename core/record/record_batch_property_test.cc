// RapidCheck properties of the batch codec.
//   1. Round trip: random records and batch fields -> EncodeRecordBatch -> DecodeRecordBatch
//      gives back exactly the header and records, and re-encoding gives the same bytes; the same
//      through RecordBatchBuilder with absolute timestamps.
//   2. Hostile input: random mutations of a valid batch (bit flips, byte overwrites, insertions,
//      deletions, truncation, extension, varint-shaped garbage), with and without re-sealing the
//      length and CRC afterwards so the structural parser (not just the CRC) is exercised, never
//      crash or read out of bounds (run under ASan/UBSan too), and either fail with one of the
//      documented codes or decode to a batch that itself round-trips.
// Budget: RapidCheck's default 100 cases per property; for a long run use
// RC_PARAMS="max_success=10000 seed=N" bazel test //core/record:record_batch_property_test.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record/batch_header.h"
#include "core/record/record.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::record {
namespace {

using Bytes = std::vector<uint8_t>;

std::optional<Bytes> DrawNullableBytes() {
  if (*rc::gen::inRange(0, 5) == 0) return std::nullopt;
  const size_t size = *rc::gen::inRange<size_t>(0, 40);
  return *rc::gen::container<Bytes>(size, rc::gen::arbitrary<uint8_t>());
}

int64_t DrawInt64() {
  // Mix small values (1-byte varlongs) with the full range and the extremes.
  switch (*rc::gen::inRange(0, 4)) {
    case 0:
      return *rc::gen::inRange<int64_t>(-100, 100);
    case 1:
      return *rc::gen::element(std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max(), int64_t{-1}, int64_t{0});
    default:
      return *rc::gen::arbitrary<int64_t>();
  }
}

Record DrawRecord(int32_t offset_delta) {
  Record record;
  record.attributes = *rc::gen::arbitrary<int8_t>();
  record.timestamp_delta = DrawInt64();
  record.offset_delta = offset_delta;
  record.key = DrawNullableBytes();
  record.value = DrawNullableBytes();
  const int header_count = *rc::gen::inRange(0, 4);
  for (int i = 0; i < header_count; ++i) {
    record.headers.push_back(
        Header{*rc::gen::container<std::string>(*rc::gen::inRange<size_t>(0, 10),
                                                rc::gen::arbitrary<char>()),
               DrawNullableBytes()});
  }
  return record;
}

struct RandomBatch {
  BatchHeader header;
  std::vector<Record> records;
};

RandomBatch DrawBatch() {
  RandomBatch batch;
  const int record_count = *rc::gen::inRange(0, 12);
  int32_t offset_delta = -1;
  for (int i = 0; i < record_count; ++i) {
    offset_delta += *rc::gen::inRange(1, 4);  // gaps, as compaction leaves them
    batch.records.push_back(DrawRecord(offset_delta));
  }
  BatchHeader& header = batch.header;
  header.base_offset = *rc::gen::inRange<int64_t>(0, int64_t{1} << 40);
  header.partition_leader_epoch = *rc::gen::arbitrary<int32_t>();
  // Any attribute bits except a compression codec.
  header.attributes =
      static_cast<int16_t>(*rc::gen::arbitrary<uint16_t>() & ~uint16_t{kAttributesCompressionMask});
  header.last_offset_delta = std::max(offset_delta, 0) + *rc::gen::inRange(0, 3);
  header.base_timestamp = DrawInt64();
  header.max_timestamp = DrawInt64();
  header.producer_id = *rc::gen::arbitrary<int64_t>();
  header.producer_epoch = *rc::gen::arbitrary<int16_t>();
  header.base_sequence = *rc::gen::arbitrary<int32_t>();
  return batch;
}

RC_GTEST_PROP(RecordBatchProperty, EncodeDecodeRoundTrips, ()) {
  const RandomBatch batch = DrawBatch();
  const absl::StatusOr<Bytes> encoded = EncodeRecordBatch(batch.header, batch.records);
  RC_ASSERT(encoded.ok());
  const absl::StatusOr<DecodedRecordBatch> decoded = DecodeRecordBatch(*encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->records == batch.records);
  BatchHeader expected_header = batch.header;
  expected_header.batch_length = static_cast<int32_t>(encoded->size() - 12);
  expected_header.record_count = static_cast<int32_t>(batch.records.size());
  expected_header.crc = decoded->header.crc;
  RC_ASSERT(decoded->header == expected_header);
  const absl::StatusOr<Bytes> reencoded = EncodeRecordBatch(decoded->header, decoded->records);
  RC_ASSERT(reencoded.ok());
  RC_ASSERT(*reencoded == *encoded);
}

RC_GTEST_PROP(RecordBatchProperty, BuilderRoundTrips, ()) {
  BatchHeader fields;
  fields.base_offset = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  fields.partition_leader_epoch = *rc::gen::inRange(0, 1000);
  const int record_count = *rc::gen::inRange(1, 20);
  const int64_t start = *rc::gen::inRange<int64_t>(0, int64_t{1} << 45);
  RecordBatchBuilder builder(fields);
  std::vector<Record> expected;
  std::vector<int64_t> timestamps;
  for (int i = 0; i < record_count; ++i) {
    Record record = DrawRecord(i);
    const int64_t timestamp = start + *rc::gen::inRange<int64_t>(-1000, 1000);
    std::vector<HeaderView> headers;
    for (const Header& header : record.headers) {
      headers.push_back(HeaderView{
          header.key,
          header.value ? std::optional<std::span<const uint8_t>>(*header.value) : std::nullopt});
    }
    const auto view = [](const std::optional<Bytes>& bytes) {
      return bytes ? std::optional<std::span<const uint8_t>>(*bytes) : std::nullopt;
    };
    RC_ASSERT(builder.Append(timestamp, view(record.key), view(record.value), headers).ok());
    record.attributes = 0;
    record.timestamp_delta = timestamp - (timestamps.empty() ? timestamp : timestamps.front());
    timestamps.push_back(timestamp);
    expected.push_back(std::move(record));
  }
  const size_t predicted_size_bytes = builder.size_bytes();
  const Bytes batch = builder.Finish();
  RC_ASSERT(batch.size() == predicted_size_bytes);
  const absl::StatusOr<DecodedRecordBatch> decoded = DecodeRecordBatch(batch);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->records == expected);
  RC_ASSERT(decoded->header.base_offset == fields.base_offset);
  RC_ASSERT(decoded->header.last_offset_delta == record_count - 1);
  RC_ASSERT(decoded->header.base_timestamp == timestamps.front());
  RC_ASSERT(decoded->header.max_timestamp ==
            *std::max_element(timestamps.begin(), timestamps.end()));
  for (size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(RecordTimestamp(decoded->header, decoded->records[i].timestamp_delta) ==
              timestamps[i]);
  }
}

void Mutate(Bytes& bytes) {
  const size_t size = bytes.size();
  const auto position = [&] { return *rc::gen::inRange<size_t>(0, std::max<size_t>(size, 1)); };
  switch (*rc::gen::inRange(0, 7)) {
    case 0:  // bit flip
      if (size > 0) bytes[position()] ^= static_cast<uint8_t>(1u << *rc::gen::inRange(0, 8));
      break;
    case 1:  // byte overwrite, biased towards varint-significant values
      if (size > 0) {
        bytes[position()] = *rc::gen::element<uint8_t>(0x00, 0x01, 0x7F, 0x80, 0xFF,
                                                       *rc::gen::arbitrary<uint8_t>());
      }
      break;
    case 2:  // insert bytes
      for (int i = *rc::gen::inRange(1, 6); i > 0; --i) {
        bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(position()),
                     *rc::gen::arbitrary<uint8_t>());
      }
      break;
    case 3:  // delete a range
      if (size > 0) {
        const size_t from = position();
        const size_t count = *rc::gen::inRange<size_t>(1, 6);
        bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(from),
                    bytes.begin() + static_cast<ptrdiff_t>(std::min(size, from + count)));
      }
      break;
    case 4:  // truncate
      bytes.resize(position());
      break;
    case 5:  // extend
      bytes.resize(size + *rc::gen::inRange<size_t>(1, 10), *rc::gen::arbitrary<uint8_t>());
      break;
    default:  // overwrite a run with 0xFF (long varints, negative big-endian fields)
      for (size_t i = position(), n = *rc::gen::inRange<size_t>(1, 12); i < size && n > 0;
           ++i, --n) {
        bytes[i] = 0xFF;
      }
      break;
  }
}

// Makes the mutated bytes pass the length and CRC gates when they are long enough, so that the
// mutation reaches the record parser.
void Reseal(Bytes& bytes) {
  if (bytes.size() < kBatchHeaderSizeBytes) return;
  const uint32_t batch_length = static_cast<uint32_t>(bytes.size() - kBatchLengthPrefixSizeBytes);
  for (int i = 0; i < 4; ++i) {
    bytes[kBatchLengthPosition + i] = static_cast<uint8_t>(batch_length >> (8 * (3 - i)));
  }
  WriteBatchCrc(bytes);
}

RC_GTEST_PROP(RecordBatchProperty, MutationsNeverCrashAndAreCaughtOrConsistent, ()) {
  const RandomBatch batch = DrawBatch();
  const absl::StatusOr<Bytes> encoded = EncodeRecordBatch(batch.header, batch.records);
  RC_ASSERT(encoded.ok());
  Bytes mutated = *encoded;
  for (int i = *rc::gen::inRange(1, 4); i > 0; --i) Mutate(mutated);
  const bool resealed = *rc::gen::arbitrary<bool>();
  if (resealed) Reseal(mutated);
  RC_TAG(resealed ? "resealed" : "raw");

  const absl::StatusOr<DecodedRecordBatch> decoded = DecodeRecordBatch(mutated);
  if (!decoded.ok()) {
    const absl::StatusCode code = decoded.status().code();
    RC_TAG(absl::StatusCodeToString(code));
    RC_ASSERT(code == absl::StatusCode::kDataLoss || code == absl::StatusCode::kInvalidArgument ||
              code == absl::StatusCode::kUnimplemented);
    if (!resealed || mutated.size() < kBatchHeaderSizeBytes) return;
    // A resealed batch can only fail on the header or its contents, never the CRC.
    RC_ASSERT(decoded.status().message().find("CRC32C") == std::string::npos);
    return;
  }
  RC_TAG("accepted");
  // Whatever was accepted is a real batch: it re-encodes, and that decodes to the same thing.
  RC_ASSERT(decoded->records.size() == static_cast<size_t>(decoded->header.record_count));
  const absl::StatusOr<Bytes> reencoded = EncodeRecordBatch(decoded->header, decoded->records);
  RC_ASSERT(reencoded.ok());
  const absl::StatusOr<DecodedRecordBatch> again = DecodeRecordBatch(*reencoded);
  RC_ASSERT(again.ok());
  RC_ASSERT(again->records == decoded->records);
}

// Mutations confined to the records, with the header's length and CRC made valid again: the
// structural parser is the only gate left, so the outcome is kInvalidArgument or a valid batch.
RC_GTEST_PROP(RecordBatchProperty, RecordRegionMutationsAreInvalidArgumentOrConsistent, ()) {
  const RandomBatch batch = DrawBatch();
  const absl::StatusOr<Bytes> encoded = EncodeRecordBatch(batch.header, batch.records);
  RC_ASSERT(encoded.ok());
  Bytes records_bytes(encoded->begin() + kBatchHeaderSizeBytes, encoded->end());
  for (int i = *rc::gen::inRange(1, 4); i > 0; --i) Mutate(records_bytes);
  Bytes mutated(encoded->begin(), encoded->begin() + kBatchHeaderSizeBytes);
  mutated.insert(mutated.end(), records_bytes.begin(), records_bytes.end());
  Reseal(mutated);

  const absl::StatusOr<DecodedRecordBatch> decoded = DecodeRecordBatch(mutated);
  RC_TAG(absl::StatusCodeToString(decoded.status().code()));
  if (!decoded.ok()) {
    RC_ASSERT(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  RC_ASSERT(decoded->records.size() == batch.records.size());
  const absl::StatusOr<Bytes> reencoded = EncodeRecordBatch(decoded->header, decoded->records);
  RC_ASSERT(reencoded.ok());
  const absl::StatusOr<DecodedRecordBatch> again = DecodeRecordBatch(*reencoded);
  RC_ASSERT(again.ok());
  RC_ASSERT(again->records == decoded->records);
}

}  // namespace
}  // namespace eddy::record
