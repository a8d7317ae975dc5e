// The partitioner against the Java client: murmur2 of Kafka's own test vectors
// (UtilsTest.testMurmur2) and librdkafka's (rdmurmur2.c, which its authors checked against
// Java), every tail length, toPositive, and the partition formula; then the sticky partitioner's
// rules (KIP-480): it sticks, moves only on a new batch, never to the partition it leaves, and
// spreads over all partitions in time, drawing only from the Random it is given.
#include "clients/partitioner.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace eddy::clients {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Murmur2Test, MatchesKafkasUtilsTestVectors) {
  EXPECT_EQ(Murmur2(Bytes("21")), -973932308);
  EXPECT_EQ(Murmur2(Bytes("foobar")), -790332482);
  EXPECT_EQ(Murmur2(Bytes("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(Murmur2(Bytes("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(Murmur2(Bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  EXPECT_EQ(Murmur2(Bytes("abc")), 479470107);
}

TEST(Murmur2Test, MatchesLibrdkafkasVectorsForEveryTailLength) {
  const std::string unaligned = "PreAmbleWillBeRemoved,ThePrePartThatIs";
  const std::map<std::string, uint32_t> cases = {
      {"kafka", 0xd067cf64},  // 5 bytes: tail of 1
      {"giberish123456789", 0x8f552b0c},
      {"1234", 0x9fc97b14},  // no tail
      {"234", 0xe7c009ca},   // tail of 3
      {"34", 0x873930da},    // tail of 2
      {"4", 0x5a4b5ca1},
      {unaligned, 0x78424f1c},
      {unaligned.substr(1), 0x4a62b377},
      {unaligned.substr(2), 0xe0e4e09e},
      {unaligned.substr(3), 0x62b8b43f},
      {"", 0x106e08d9},  // the empty key hashes too (275646681)
  };
  for (const auto& [key, hash] : cases) {
    EXPECT_EQ(Murmur2(Bytes(key)), static_cast<int32_t>(hash)) << '"' << key << '"';
  }
}

TEST(PartitionForKeyTest, IsToPositiveOfMurmur2ModuloCount) {
  EXPECT_EQ(ToPositive(-1), 0x7fffffff);
  EXPECT_EQ(ToPositive(INT32_MIN), 0);
  EXPECT_EQ(ToPositive(5), 5);
  // 21: -973932308 & 0x7fffffff = 1173551340.
  EXPECT_EQ(PartitionForKey(Bytes("21"), 3), 1173551340 % 3);
  EXPECT_EQ(PartitionForKey(Bytes("21"), 16), 1173551340 % 16);
  EXPECT_EQ(PartitionForKey(Bytes("abc"), 7), 479470107 % 7);
  for (int n = 1; n <= 50; ++n) {
    const int32_t p = PartitionForKey(Bytes("key-" + std::to_string(n)), n);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, n);
  }
}

TEST(StickyPartitionerTest, SticksUntilANewBatchThenMovesElsewhere) {
  Random random(7);
  StickyPartitioner sticky;
  const int32_t first = sticky.Partition("t", 6, random);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sticky.Partition("t", 6, random), first);
  for (int i = 0; i < 200; ++i) {
    const int32_t before = sticky.Partition("t", 6, random);
    sticky.OnNewBatch("t", before, 6, random);
    EXPECT_NE(sticky.Partition("t", 6, random), before) << "moved to the partition it left";
  }
}

TEST(StickyPartitionerTest, OnNewBatchForAStalePartitionDoesNotMoveAgain) {
  Random random(3);
  StickyPartitioner sticky;
  const int32_t first = sticky.Partition("t", 4, random);
  sticky.OnNewBatch("t", first, 4, random);
  const int32_t second = sticky.Partition("t", 4, random);
  sticky.OnNewBatch("t", first, 4, random);  // a second record saw the old partition
  EXPECT_EQ(sticky.Partition("t", 4, random), second);
}

TEST(StickyPartitionerTest, SpreadsOverAllPartitionsAndTopicsAreIndependent) {
  Random random(11);
  StickyPartitioner sticky;
  std::set<int32_t> seen;
  for (int i = 0; i < 300; ++i) {
    const int32_t p = sticky.Partition("a", 5, random);
    seen.insert(p);
    sticky.OnNewBatch("a", p, 5, random);
  }
  EXPECT_EQ(seen.size(), 5u);
  const int32_t b = sticky.Partition("b", 5, random);
  sticky.OnNewBatch("a", sticky.Partition("a", 5, random), 5, random);
  EXPECT_EQ(sticky.Partition("b", 5, random), b);
  // One partition: nowhere else to go.
  sticky.OnNewBatch("c", sticky.Partition("c", 1, random), 1, random);
  EXPECT_EQ(sticky.Partition("c", 1, random), 0);
}

TEST(StickyPartitionerTest, SameSeedSameChoices) {
  auto run = [](uint64_t seed) {
    Random random(seed);
    StickyPartitioner sticky;
    std::vector<int32_t> choices;
    for (int i = 0; i < 50; ++i) {
      choices.push_back(sticky.Partition("t", 8, random));
      sticky.OnNewBatch("t", choices.back(), 8, random);
    }
    return choices;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace eddy::clients
