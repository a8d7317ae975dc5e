// Produce validation: intact batches pass (several in one request, too); each kind of bad batch
// gets Kafka's error; LogAppendTime batches are stamped with a valid CRC; and forged bytes never
// crash it.
#include "core/broker/produce_validation.h"

#include <string>
#include <vector>

#include "core/record/batch_header.h"
#include "core/record/record_batch_builder.h"
#include "core/record/record_batch_reader.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::broker {
namespace {

using kafka::ErrorCode;

std::vector<uint8_t> Batch(int records, int16_t attributes = 0, int64_t producer_id = -1,
                           int16_t epoch = -1, int32_t sequence = -1) {
  record::BatchHeader fields;
  fields.producer_id = producer_id;
  fields.producer_epoch = epoch;
  fields.base_sequence = sequence;
  record::RecordBatchBuilder builder(fields);
  for (int i = 0; i < records; ++i) {
    const std::string value = "value-" + std::to_string(i);
    EXPECT_TRUE(builder
                    .Append(1000 + i, std::nullopt,
                            std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(value.data()), value.size()))
                    .ok());
  }
  std::vector<uint8_t> batch = builder.Finish();
  if (attributes != 0) {
    record::BatchHeader h = *record::ParseBatchHeader(batch);
    h.attributes = attributes;
    record::EncodeBatchHeader(h, batch);
    record::WriteBatchCrc(batch);
  }
  return batch;
}

TEST(ProduceValidationTest, IntactBatchesPassAndSeveralAreSplit) {
  std::vector<uint8_t> two = Batch(3);
  const std::vector<uint8_t> second = Batch(1);
  two.insert(two.end(), second.begin(), second.end());
  const ProducedBatches out = ValidateProduced(two, {}, 5);
  ASSERT_EQ(out.error, ErrorCode::kNone) << out.message;
  ASSERT_EQ(out.batches.size(), 2u);
  EXPECT_EQ(out.batches[1], second);
  EXPECT_EQ(out.log_append_time_ms, -1);
}

TEST(ProduceValidationTest, EachBadBatchGetsKafkasError) {
  const controller::TopicConfig config;
  std::vector<uint8_t> flipped = Batch(2);
  flipped.back() ^= 1;
  std::vector<uint8_t> cut = Batch(2);
  cut.resize(cut.size() - 1);
  std::vector<uint8_t> magic1 = Batch(1);
  magic1[16] = 1;
  controller::TopicConfig small;
  small.max_message_bytes = 70;
  EXPECT_EQ(ValidateProduced(flipped, config, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(ValidateProduced(cut, config, 0).error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(ValidateProduced(magic1, config, 0).error, ErrorCode::kUnsupportedForMessageFormat);
  EXPECT_EQ(ValidateProduced(Batch(3), small, 0).error, ErrorCode::kMessageTooLarge);
  EXPECT_EQ(ValidateProduced(Batch(1, /*gzip*/ 1), config, 0).error,
            ErrorCode::kUnsupportedCompressionType);
  EXPECT_EQ(ValidateProduced(Batch(1, record::kAttributesControlBit), config, 0).error,
            ErrorCode::kInvalidRecord);
  EXPECT_EQ(ValidateProduced(Batch(1, record::kAttributesTransactionalBit), config, 0).error,
            ErrorCode::kInvalidRecord);
  EXPECT_EQ(ValidateProduced(Batch(1, 0, /*producer_id=*/7), config, 0).error,
            ErrorCode::kInvalidRecord)
      << "a producer id without epoch and sequence";
  EXPECT_EQ(ValidateProduced(Batch(1, 0, 7, /*epoch=*/0, /*sequence=*/-1), config, 0).error,
            ErrorCode::kInvalidRecord);
  EXPECT_EQ(ValidateProduced(Batch(1, 0, 7, /*epoch=*/0, /*sequence=*/0), config, 0).error,
            ErrorCode::kNone)
      << "an idempotent producer's batch";
  EXPECT_EQ(ValidateProduced({}, config, 0).error, ErrorCode::kInvalidRecord);
  // One bad batch fails the whole partition's produce, never a prefix of it.
  std::vector<uint8_t> good_then_bad = Batch(1);
  good_then_bad.insert(good_then_bad.end(), flipped.begin(), flipped.end());
  const ProducedBatches out = ValidateProduced(good_then_bad, config, 0);
  EXPECT_EQ(out.error, ErrorCode::kCorruptMessage);
  EXPECT_TRUE(out.batches.empty());
}

TEST(ProduceValidationTest, LogAppendTimeStampsTheBatch) {
  controller::TopicConfig config;
  config.timestamp_type = controller::TimestampType::kLogAppendTime;
  const ProducedBatches out = ValidateProduced(Batch(2), config, 1'767'225'600'123);
  ASSERT_EQ(out.error, ErrorCode::kNone);
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_TRUE(record::ValidateRecordBatch(out.batches[0]).ok());
  const record::BatchHeader h = *record::ParseBatchHeader(out.batches[0]);
  EXPECT_EQ(h.timestamp_type(), record::TimestampType::kLogAppendTime);
  EXPECT_EQ(h.max_timestamp, 1'767'225'600'123);
  EXPECT_EQ(out.log_append_time_ms, 1'767'225'600'123);
}

RC_GTEST_PROP(ProduceValidationProperty, ForgedBytesNeverCrashAndPassOnlyWhenValid,
              (const std::vector<uint8_t>& noise, const std::vector<uint8_t>& flips)) {
  std::vector<uint8_t> bytes = Batch(2);
  for (size_t i = 0; i + 1 < flips.size(); i += 2) bytes[flips[i] % bytes.size()] ^= flips[i + 1];
  bytes.insert(bytes.end(), noise.begin(), noise.end());
  const ProducedBatches out = ValidateProduced(bytes, {}, 0);
  if (out.error == ErrorCode::kNone) {
    for (const auto& b : out.batches) RC_ASSERT(record::ValidateRecordBatch(b).ok());
  } else {
    RC_ASSERT(out.batches.empty());
  }
}

}  // namespace
}  // namespace eddy::broker
