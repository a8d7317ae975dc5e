// PackedPairs: proves, against a std::vector of pairs (RapidCheck), that every query (At, back,
// LowerBoundA, PartitionPoint, ScanFrom from any start) answers exactly what the vector does
// after random sequences of appends (deltas from 1 to near 2^63, so every bit width and the
// word-straddling paths are hit), truncations inside packed blocks and the tail, and Compact()
// of partial tails; that lookups in random order across blocks (which move the kept decoded
// blocks around, evicting and re-decoding them, interleaved with appends and truncations that
// must invalidate them) still answer what the vector does; and that identical deltas cost no
// bits (the memory claim the benchmark relies on).

#include "core/log/packed_pairs.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace eddy::log {
namespace {

using Pair = PackedPairs::Pair;

void ExpectSame(const PackedPairs& packed, const std::vector<Pair>& model) {
  RC_ASSERT(packed.size() == model.size());
  packed.CheckInvariants();
  for (size_t i = 0; i < model.size(); ++i) RC_ASSERT(packed.At(i) == model[i]);
  if (!model.empty()) RC_ASSERT(packed.back() == model.back());
  // Scans from a few starts.
  for (size_t start : {size_t{0}, model.size() / 3, model.size() / 2, model.size()}) {
    std::vector<Pair> seen;
    packed.ScanFrom(start, [&](size_t index, const Pair& pair) {
      RC_ASSERT(index == start + seen.size());
      seen.push_back(pair);
      return true;
    });
    RC_ASSERT(seen == std::vector<Pair>(model.begin() + static_cast<ptrdiff_t>(start), model.end()));
  }
  // Early stop.
  size_t visited = 0;
  packed.ScanFrom(0, [&](size_t, const Pair&) { return ++visited < 5; });
  RC_ASSERT(visited == std::min<size_t>(5, model.size()));
}

void ExpectSearchesAgree(const PackedPairs& packed, const std::vector<Pair>& model, int64_t probe) {
  const size_t expected_a = static_cast<size_t>(
      std::lower_bound(model.begin(), model.end(), probe,
                       [](const Pair& pair, int64_t value) { return pair.a < value; }) -
      model.begin());
  RC_ASSERT(packed.LowerBoundA(probe) == expected_a);
  const size_t expected_b = static_cast<size_t>(
      std::partition_point(model.begin(), model.end(),
                           [probe](const Pair& pair) { return pair.b < probe; }) -
      model.begin());
  RC_ASSERT(packed.PartitionPoint([probe](size_t, const Pair& pair) { return pair.b >= probe; }) ==
            expected_b);
}

RC_GTEST_PROP(PackedPairsProperty, MatchesVectorModel, ()) {
  PackedPairs packed;
  std::vector<Pair> model;
  const int steps = *rc::gen::inRange(1, 12);
  for (int step = 0; step < steps; ++step) {
    const int kind = *rc::gen::inRange(0, 4);
    if (kind <= 1) {
      const int count = *rc::gen::inRange(0, 300);
      // Small, varied and huge deltas.
      const int64_t spread = *rc::gen::element<int64_t>(1, 3, 1000, int64_t{1} << 40);
      for (int i = 0; i < count; ++i) {
        const int64_t da = 1 + *rc::gen::inRange<int64_t>(0, spread);
        const int64_t db = 1 + *rc::gen::inRange<int64_t>(0, spread);
        Pair next = model.empty() ? Pair{*rc::gen::inRange<int64_t>(-(int64_t{1} << 62), 1000),
                                         *rc::gen::inRange<int64_t>(0, 1000)}
                                  : Pair{model.back().a + da, model.back().b + db};
        if (next.a > (int64_t{1} << 62) || next.b > (int64_t{1} << 62)) break;
        packed.Append(next);
        model.push_back(next);
      }
    } else if (kind == 2) {
      const size_t keep = *rc::gen::inRange<size_t>(0, model.size() + 1);
      packed.Truncate(keep);
      model.resize(keep);
    } else {
      packed.Compact();
    }
    ExpectSame(packed, model);
    for (int probe = 0; probe < 8; ++probe) {
      int64_t value = *rc::gen::inRange<int64_t>(-5, 5);
      if (!model.empty()) {
        const Pair& pick = model[*rc::gen::inRange<size_t>(0, model.size())];
        value += *rc::gen::arbitrary<bool>() ? pick.a : pick.b;
      }
      ExpectSearchesAgree(packed, model, value);
    }
  }
}

// Random-order lookups, interleaved with changes: the kept decoded blocks (PackedPairs::Decoded)
// must never answer for a block that changed or for another block.
RC_GTEST_PROP(PackedPairsProperty, RandomLookupsMatchVectorModel, ()) {
  PackedPairs packed;
  std::vector<Pair> model;
  const int steps = *rc::gen::inRange(1, 40);
  for (int step = 0; step < steps; ++step) {
    const int kind = *rc::gen::inRange(0, 10);
    if (kind <= 3) {
      const int count = *rc::gen::inRange(0, 200);
      const int64_t spread = *rc::gen::element<int64_t>(1, 7, 1 << 20);
      for (int i = 0; i < count; ++i) {
        const Pair next = model.empty() ? Pair{0, 0}
                                        : Pair{model.back().a + 1 + *rc::gen::inRange<int64_t>(0, spread),
                                               model.back().b + 1 + *rc::gen::inRange<int64_t>(0, spread)};
        packed.Append(next);
        model.push_back(next);
      }
    } else if (kind == 4) {
      const size_t keep = *rc::gen::inRange<size_t>(0, model.size() + 1);
      packed.Truncate(keep);
      model.resize(keep);
    } else if (kind == 5) {
      packed.Compact();
    } else if (!model.empty()) {
      for (int probe = 0; probe < 16; ++probe) {
        const size_t i = *rc::gen::inRange<size_t>(0, model.size());
        RC_ASSERT(packed.At(i) == model[i]);
        ExpectSearchesAgree(packed, model, model[i].a + *rc::gen::inRange<int64_t>(-1, 2));
      }
      RC_ASSERT(packed.back() == model.back());
    }
    packed.CheckInvariants();
  }
  RC_ASSERT(packed.size() == model.size());
  for (size_t i = 0; i < model.size(); ++i) RC_ASSERT(packed.At(i) == model[i]);
}

TEST(PackedPairsTest, HugeDeltasRoundTrip) {
  PackedPairs packed;
  std::vector<Pair> model{{INT64_MIN, 0}, {-1, 1}, {INT64_MAX - 1, 2}, {INT64_MAX, INT64_MAX}};
  for (const Pair& pair : model) packed.Append(pair);
  packed.Compact();
  for (size_t i = 0; i < model.size(); ++i) EXPECT_EQ(packed.At(i), model[i]);
}

TEST(PackedPairsTest, IdenticalDeltasCostNoBits) {
  PackedPairs packed;
  const int64_t count = 128 * 1000;
  for (int64_t i = 0; i < count; ++i) packed.Append(Pair{i * 4 + 3, i * 1100});
  packed.Compact();
  // 1000 blocks of 48 bytes and no packed bits: well under one byte per entry.
  EXPECT_LE(packed.memory_bytes(), 1000u * 48u + 64u);
  EXPECT_EQ(packed.At(77777), (Pair{77777 * 4 + 3, 77777 * 1100}));
  EXPECT_EQ(packed.LowerBoundA(77777 * 4 + 2), 77777u);
}

TEST(PackedPairsTest, TruncateInsideABlockThenAppend) {
  PackedPairs packed;
  for (int64_t i = 0; i < 300; ++i) packed.Append(Pair{i, i * 10});
  packed.Truncate(130);
  EXPECT_EQ(packed.size(), 130u);
  packed.Truncate(100);  // inside the first packed block
  EXPECT_EQ(packed.back(), (Pair{99, 990}));
  for (int64_t i = 100; i < 400; ++i) packed.Append(Pair{i, i * 10 + 5});
  EXPECT_EQ(packed.At(99), (Pair{99, 990}));
  EXPECT_EQ(packed.At(100), (Pair{100, 1005}));
  EXPECT_EQ(packed.At(399), (Pair{399, 3995}));
  packed.CheckInvariants();
}

}  // namespace
}  // namespace eddy::log
