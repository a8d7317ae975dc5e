// Proves the two properties the simulator relies on: Digest64 never misses a single flipped bit
// (every bit of a sample frame is flipped in turn), and TraceHash is a deterministic,
// order-sensitive fold (same events -> same value; swapped events -> different value).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/trace/digest.h"
#include "sim/trace/trace_hash.h"

namespace eddy::sim {
namespace {

TEST(DigestTest, EverySingleBitFlipChangesTheDigest) {
  std::vector<uint8_t> bytes(300);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  const uint64_t clean = Digest64(bytes);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(Digest64(bytes), clean) << "bit " << bit;
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  EXPECT_EQ(Digest64(bytes), clean);
}

TEST(DigestTest, LengthAndSeedMatter) {
  const std::vector<uint8_t> a(10, 0);
  const std::vector<uint8_t> b(11, 0);
  EXPECT_NE(Digest64(a), Digest64(b));
  EXPECT_NE(Digest64(a, 1), Digest64(a, 2));
  EXPECT_NE(MixWord(0, 1), MixWord(0, 2));
}

TEST(TraceHashTest, SameEventsSameHashSwappedEventsDifferentHash) {
  const Instant t1 = Instant::FromNanoseconds(10);
  const Instant t2 = Instant::FromNanoseconds(20);
  TraceHash a, b, c;
  for (TraceHash* h : {&a, &b}) {
    h->Fold(t1, 1, TraceEvent::kTimer, 0);
    h->Fold(t2, 2, TraceEvent::kPeerDelivered, 99);
  }
  c.Fold(t2, 2, TraceEvent::kPeerDelivered, 99);
  c.Fold(t1, 1, TraceEvent::kTimer, 0);
  EXPECT_EQ(a.value(), b.value());
  EXPECT_NE(a.value(), c.value());
  EXPECT_EQ(a.events_folded(), 2u);
}

TEST(TraceHashTest, KeepsTheMostRecentEventsReadably) {
  TraceHash trace;
  trace.KeepRecent(2);
  trace.Fold(Instant::FromNanoseconds(1'000'000), 1, TraceEvent::kTimer, 0);
  trace.Fold(Instant::FromNanoseconds(2'500'000), 2, TraceEvent::kPeerDelivered, 0xab);
  trace.Fold(Instant::FromNanoseconds(3'000'000), 3, TraceEvent::kFault, 1);
  ASSERT_EQ(trace.recent().size(), 2u);
  EXPECT_EQ(trace.recent().back().hash_after, trace.value());
  const std::string text = trace.FormatRecent();
  EXPECT_EQ(text.find("node 1"), std::string::npos);  // Dropped: only two are kept.
  EXPECT_NE(text.find("@2.500000ms node 2 peer_delivered digest=00000000000000ab"),
            std::string::npos);
  EXPECT_NE(text.find("@3.000000ms node 3 fault"), std::string::npos);
}

}  // namespace
}  // namespace eddy::sim
