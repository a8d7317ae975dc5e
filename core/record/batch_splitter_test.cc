// Proves BatchSplitter finds the exact boundaries of back-to-back batches built by the
// builder, stops cleanly before a partial tail cut at every possible byte, and reports an
// impossible header with kDataLoss without moving, so the caller knows where the damage starts.
#include "core/record/batch_splitter.h"

#include <cstdint>
#include <vector>

#include "core/base/check.h"
#include "core/base/status_matchers.h"
#include "core/record/record_batch_builder.h"
#include "gtest/gtest.h"

namespace eddy::record {
namespace {

using ::eddy::testing::StatusIs;
using Bytes = std::vector<uint8_t>;

Bytes Batch(int64_t base_offset, int record_count) {
  RecordBatchBuilder builder(BatchHeader{.base_offset = base_offset});
  const Bytes value(static_cast<size_t>(10 * record_count), 0x5A);
  for (int i = 0; i < record_count; ++i) {
    EDDY_CHECK_OK(builder.Append(i, std::nullopt, value));
  }
  return builder.Finish();
}

struct Fixture {
  Bytes buffer;
  std::vector<size_t> sizes;
};

Fixture ThreeBatches() {
  Fixture fixture;
  for (const Bytes& batch : {Batch(0, 1), Batch(1, 3), Batch(4, 2)}) {
    fixture.buffer.insert(fixture.buffer.end(), batch.begin(), batch.end());
    fixture.sizes.push_back(batch.size());
  }
  return fixture;
}

TEST(BatchSplitterTest, SplitsWholeBatches) {
  const Fixture fixture = ThreeBatches();
  BatchSplitter splitter(fixture.buffer);
  std::span<const uint8_t> batch;
  BatchHeader header;
  const int64_t expected_base_offsets[] = {0, 1, 4};
  size_t position = 0;
  for (int i = 0; i < 3; ++i) {
    EDDY_ASSERT_OK_AND_ASSIGN(const bool found, splitter.Next(&batch, &header));
    ASSERT_TRUE(found);
    EXPECT_EQ(header.base_offset, expected_base_offsets[i]);
    EXPECT_EQ(batch.data(), fixture.buffer.data() + position);
    EXPECT_EQ(batch.size(), fixture.sizes[i]);
    EXPECT_THAT(VerifyBatchCrc(batch), ::eddy::testing::IsOk());
    position += fixture.sizes[i];
    EXPECT_EQ(splitter.position(), position);
  }
  EDDY_ASSERT_OK_AND_ASSIGN(const bool found, splitter.Next(&batch, &header));
  EXPECT_FALSE(found);
  EXPECT_EQ(splitter.remaining_bytes(), 0u);
}

TEST(BatchSplitterTest, StopsBeforeAPartialTailAtEveryCut) {
  const Fixture fixture = ThreeBatches();
  for (size_t cut = 0; cut <= fixture.buffer.size(); ++cut) {
    BatchSplitter splitter(std::span<const uint8_t>(fixture.buffer).first(cut));
    std::span<const uint8_t> batch;
    BatchHeader header;
    size_t whole_size_bytes = 0;
    size_t expected_whole_size_bytes = 0;
    for (size_t size : fixture.sizes) {
      if (expected_whole_size_bytes + size > cut) break;
      expected_whole_size_bytes += size;
    }
    while (true) {
      absl::StatusOr<bool> found = splitter.Next(&batch, &header);
      ASSERT_TRUE(found.ok()) << cut;
      if (!*found) break;
      whole_size_bytes += batch.size();
    }
    EXPECT_EQ(whole_size_bytes, expected_whole_size_bytes) << cut;
    EXPECT_EQ(splitter.position(), expected_whole_size_bytes) << cut;
    EXPECT_EQ(splitter.remaining_bytes(), cut - expected_whole_size_bytes) << cut;
  }
}

TEST(BatchSplitterTest, ImpossibleHeaderIsDataLossAndDoesNotMove) {
  Fixture fixture = ThreeBatches();
  fixture.buffer[fixture.sizes[0] + kMagicPosition] = 7;
  BatchSplitter splitter(fixture.buffer);
  std::span<const uint8_t> batch;
  BatchHeader header;
  EDDY_ASSERT_OK_AND_ASSIGN(const bool found, splitter.Next(&batch, &header));
  EXPECT_TRUE(found);
  EXPECT_THAT(splitter.Next(&batch, &header), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(splitter.position(), fixture.sizes[0]);
  EXPECT_THAT(splitter.Next(&batch, &header), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace eddy::record
