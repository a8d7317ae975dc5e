// OffsetIndex: proves Find() agrees with a brute-force model on random batch layouts
// (RapidCheck), that truncation keeps a consistent prefix, that the encoded file round-trips and
// that every kind of damage to it is rejected with kDataLoss rather than trusted. For hidden
// batches it proves, against a brute-force count over random layouts of hundreds of batches
// (several bitset words), that HiddenCountBefore, FindDataOffset and each batch's bit are exact
// after appends, truncations and an encode/decode round trip, and that the decoder refuses a
// hidden entry covering more than one offset and an index of another version.

#include "core/log/offset_index.h"

#include <vector>

#include "core/base/check.h"
#include "core/base/status_matchers.h"
#include "core/record/crc32c.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::log {
namespace {

using ::eddy::testing::StatusIs;

OffsetIndex ThreeBatches() {
  OffsetIndex index(100);
  index.Append(100, 104, 200, 1, false);  // [100,104] at 0
  index.Append(105, 105, 70, 1, false);   // [105,105] at 200
  index.Append(106, 120, 500, 3, false);  // [106,120] at 270
  return index;
}

TEST(OffsetIndexTest, FindsContainingBatch) {
  const OffsetIndex index = ThreeBatches();
  EXPECT_EQ(index.next_offset(), 121);
  EXPECT_EQ(index.end_position(), 770u);
  EXPECT_FALSE(index.Find(99).has_value());
  EXPECT_FALSE(index.Find(121).has_value());
  const auto first = index.Find(103);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->index, 0u);
  EXPECT_EQ(first->base_offset, 100);
  EXPECT_EQ(first->last_offset, 104);
  EXPECT_EQ(first->position, 0u);
  EXPECT_EQ(first->size_bytes, 200u);
  const auto second = index.Find(105);
  EXPECT_EQ(second->base_offset, 105);
  EXPECT_EQ(second->position, 200u);
  EXPECT_EQ(second->size_bytes, 70u);
  const auto third = index.Find(120);
  EXPECT_EQ(third->term, 3);
  EXPECT_EQ(third->size_bytes, 500u);
  EXPECT_EQ(index.last_term(), 3);
}

TEST(OffsetIndexTest, TruncateKeepsPrefix) {
  OffsetIndex index = ThreeBatches();
  index.Truncate(1);
  EXPECT_EQ(index.next_offset(), 105);
  EXPECT_EQ(index.end_position(), 200u);
  EXPECT_FALSE(index.Find(105).has_value());
  index.Append(105, 110, 100, 5, false);
  EXPECT_EQ(index.Find(110)->position, 200u);
  index.Truncate(0);
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.next_offset(), 100);
  EXPECT_EQ(index.end_position(), 0u);
}

TEST(OffsetIndexTest, EncodeDecodeRoundTrip) {
  const OffsetIndex index = ThreeBatches();
  const std::vector<uint8_t> bytes = index.Encode(0xdeadbeef);
  EXPECT_EQ(bytes.size(), OffsetIndex::kHeaderSizeBytes + 3 * OffsetIndex::kEntrySizeBytes +
                              OffsetIndex::kTrailerSizeBytes);
  EDDY_ASSERT_OK_AND_ASSIGN(OffsetIndex::Decoded decoded, OffsetIndex::Decode(100, bytes));
  EXPECT_EQ(decoded.last_batch_crc, 0xdeadbeefu);
  ASSERT_EQ(decoded.index.batch_count(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const BatchLocation a = index.At(i);
    const BatchLocation b = decoded.index.At(i);
    EXPECT_EQ(a.base_offset, b.base_offset);
    EXPECT_EQ(a.last_offset, b.last_offset);
    EXPECT_EQ(a.position, b.position);
    EXPECT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(a.term, b.term);
  }
}

TEST(OffsetIndexTest, DecodeRejectsDamage) {
  const std::vector<uint8_t> good = ThreeBatches().Encode(7);
  EXPECT_THAT(OffsetIndex::Decode(101, good), StatusIs(absl::StatusCode::kDataLoss));
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x10;
    EXPECT_THAT(OffsetIndex::Decode(100, bad), StatusIs(absl::StatusCode::kDataLoss)) << i;
  }
  for (size_t size = 0; size < good.size(); ++size) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(size));
    EXPECT_THAT(OffsetIndex::Decode(100, cut), StatusIs(absl::StatusCode::kDataLoss)) << size;
  }
}

// Re-seals an edited encoding with a correct trailer CRC, so only the edit can be refused.
std::vector<uint8_t> Reseal(std::vector<uint8_t> bytes) {
  EDDY_CHECK_GE(bytes.size(), OffsetIndex::kHeaderSizeBytes + OffsetIndex::kTrailerSizeBytes);
  const size_t body = bytes.size() - OffsetIndex::kTrailerSizeBytes;
  const uint32_t crc = record::Crc32c(std::span<const uint8_t>(bytes).first(body));
  for (size_t i = 0; i < OffsetIndex::kTrailerSizeBytes; ++i) {
    bytes[body + i] = static_cast<uint8_t>(crc >> (8 * (OffsetIndex::kTrailerSizeBytes - 1 - i)));
  }
  return bytes;
}

TEST(OffsetIndexTest, DecodeRejectsHiddenEntryCoveringSeveralOffsets) {
  std::vector<uint8_t> bytes = ThreeBatches().Encode(7);
  // Entry 0 covers [100, 104]; entry 1 covers only 105 and may be hidden.
  const size_t term0 = OffsetIndex::kHeaderSizeBytes + 8;
  const size_t term1 = term0 + OffsetIndex::kEntrySizeBytes;
  std::vector<uint8_t> hidden_one = bytes;
  hidden_one[term1] |= 0x80;
  EDDY_ASSERT_OK_AND_ASSIGN(OffsetIndex::Decoded decoded,
                            OffsetIndex::Decode(100, Reseal(hidden_one)));
  EXPECT_TRUE(decoded.index.At(1).hidden);
  EXPECT_EQ(decoded.index.At(1).term, 1);
  EXPECT_EQ(decoded.index.hidden_count(), 1u);
  bytes[term0] |= 0x80;
  EXPECT_THAT(OffsetIndex::Decode(100, Reseal(bytes)), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(OffsetIndexTest, DecodeRejectsOtherVersions) {
  for (const uint32_t version : {1u, 3u}) {
    std::vector<uint8_t> bytes = ThreeBatches().Encode(7);
    bytes[4] = static_cast<uint8_t>(version >> 24);
    bytes[5] = static_cast<uint8_t>(version >> 16);
    bytes[6] = static_cast<uint8_t>(version >> 8);
    bytes[7] = static_cast<uint8_t>(version);
    EXPECT_THAT(OffsetIndex::Decode(100, Reseal(bytes)), StatusIs(absl::StatusCode::kDataLoss))
        << version;
  }
}

TEST(OffsetIndexTest, DataOffsetsSkipHiddenBatches) {
  OffsetIndex index(10);
  index.Append(10, 10, 80, 1, true);   // hidden
  index.Append(11, 13, 100, 1, false);  // data offsets 0..2
  index.Append(14, 14, 80, 2, true);   // hidden
  index.Append(15, 15, 80, 2, true);   // hidden
  index.Append(16, 19, 100, 2, false);  // data offsets 3..6
  EXPECT_EQ(index.hidden_count(), 3u);
  EXPECT_EQ(index.data_offset_count(), 7u);
  EXPECT_EQ(index.HiddenCountBefore(0), 0u);
  EXPECT_EQ(index.HiddenCountBefore(1), 1u);
  EXPECT_EQ(index.HiddenCountBefore(4), 3u);
  EXPECT_EQ(index.FindDataOffset(0)->base_offset, 11);
  EXPECT_EQ(index.FindDataOffset(2)->base_offset, 11);
  EXPECT_EQ(index.FindDataOffset(3)->base_offset, 16);
  EXPECT_EQ(index.FindDataOffset(6)->base_offset, 16);
  EXPECT_FALSE(index.FindDataOffset(7).has_value());
  index.Truncate(3);
  EXPECT_EQ(index.hidden_count(), 2u);
  EXPECT_EQ(index.data_offset_count(), 3u);
  EXPECT_FALSE(index.FindDataOffset(3).has_value());
}

RC_GTEST_PROP(OffsetIndexProperty, HiddenBitsMatchModel, ()) {
  // Up to ~400 batches, so several 64-batch words and their cumulative counts are exercised.
  const int count = *rc::gen::inRange(0, 400);
  OffsetIndex index(1000);
  std::vector<bool> hidden;
  std::vector<int64_t> bases;
  int64_t next = 1000;
  for (int i = 0; i < count; ++i) {
    const bool is_hidden = *rc::gen::inRange(0, 3) == 0;
    const int64_t records = is_hidden ? 1 : *rc::gen::inRange<int64_t>(1, 4);
    index.Append(next, next + records - 1, 100, 1, is_hidden);
    hidden.push_back(is_hidden);
    bases.push_back(next);
    next += records;
  }
  const size_t keep = *rc::gen::inRange<size_t>(0, hidden.size() + 1);
  const bool truncate = *rc::gen::arbitrary<bool>();
  if (truncate) {
    index.Truncate(keep);
    hidden.resize(keep);
    bases.resize(keep);
    next = keep == 0 ? 1000 : index.next_offset();
  }
  auto decoded = OffsetIndex::Decode(1000, index.Encode(1));
  RC_ASSERT(decoded.ok());
  for (const OffsetIndex* view : {&index, &decoded->index}) {
    uint64_t hidden_so_far = 0;
    std::vector<size_t> data_offset_owner;  // batch index of each data offset, in order
    for (size_t i = 0; i < hidden.size(); ++i) {
      RC_ASSERT(view->HiddenCountBefore(i) == hidden_so_far);
      RC_ASSERT(view->At(i).hidden == hidden[i]);
      if (hidden[i]) {
        ++hidden_so_far;
      } else {
        for (int64_t o = bases[i]; o <= view->At(i).last_offset; ++o) data_offset_owner.push_back(i);
      }
    }
    RC_ASSERT(view->HiddenCountBefore(hidden.size()) == hidden_so_far);
    RC_ASSERT(view->hidden_count() == hidden_so_far);
    RC_ASSERT(view->data_offset_count() == data_offset_owner.size());
    for (size_t n = 0; n < data_offset_owner.size() + 2; ++n) {
      const std::optional<BatchLocation> found = view->FindDataOffset(n);
      RC_ASSERT(found.has_value() == (n < data_offset_owner.size()));
      if (found.has_value()) RC_ASSERT(found->index == data_offset_owner[n]);
    }
  }
  RC_ASSERT(index.next_offset() == next);
}

RC_GTEST_PROP(OffsetIndexProperty, FindMatchesModel,
              (const std::vector<std::pair<uint8_t, uint8_t>>& shapes)) {
  // Each shape: (records - 1, size - 61) of one batch.
  const int64_t base = *rc::gen::inRange<int64_t>(0, int64_t{1} << 50);
  OffsetIndex index(base);
  struct ModelBatch {
    int64_t base, last;
    uint32_t position, size;
    int64_t term;
  };
  std::vector<ModelBatch> model;
  int64_t next = base;
  uint32_t position = 0;
  int64_t term = 0;
  for (const auto& [extra_records, extra_bytes] : shapes) {
    const uint32_t size = 61 + extra_bytes;
    term += extra_bytes % 3 == 0 ? 1 : 0;
    model.push_back({next, next + extra_records, position, size, term});
    index.Append(next, next + extra_records, size, term, false);
    next += extra_records + 1;
    position += size;
  }
  RC_ASSERT(index.next_offset() == next);
  for (int64_t offset = base - 2; offset < next + 2; ++offset) {
    const auto found = index.Find(offset);
    const ModelBatch* expected = nullptr;
    for (const ModelBatch& batch : model) {
      if (batch.base <= offset && offset <= batch.last) expected = &batch;
    }
    RC_ASSERT(found.has_value() == (expected != nullptr));
    if (expected == nullptr) continue;
    RC_ASSERT(found->base_offset == expected->base);
    RC_ASSERT(found->last_offset == expected->last);
    RC_ASSERT(found->position == expected->position);
    RC_ASSERT(found->size_bytes == expected->size);
    RC_ASSERT(found->term == expected->term);
  }
  auto decoded = OffsetIndex::Decode(base, index.Encode(1));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->index.next_offset() == next);
  RC_ASSERT(decoded->index.end_position() == position);
}

}  // namespace
}  // namespace eddy::log
