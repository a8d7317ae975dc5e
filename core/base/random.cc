#include "core/base/random.h"

#include "core/base/check.h"

namespace eddy {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  x += 0x9e3779b97f4a7c15ULL;
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& word : state_) word = SplitMix64(x);
  // xoshiro's only forbidden state is all zeros; SplitMix64 cannot produce four zero words.
  EDDY_CHECK((state_[0] | state_[1] | state_[2] | state_[3]) != 0);
}

uint64_t Random::Next() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

uint64_t Random::Uniform(uint64_t bound) {
  EDDY_CHECK_GT(bound, 0u);
  // Lemire, "Fast Random Integer Generation in an Interval" (2019): multiply-shift with a
  // rejection step that removes the bias.
  unsigned __int128 product = static_cast<unsigned __int128>(Next()) * bound;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(Next()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  const uint64_t result = static_cast<uint64_t>(product >> 64);
  EDDY_CHECK_LT(result, bound);
  return result;
}

int64_t Random::UniformInRange(int64_t low, int64_t high) {
  EDDY_CHECK_LE(low, high);
  const uint64_t span = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return static_cast<int64_t>(static_cast<uint64_t>(low) + Uniform(span + 1));
}

double Random::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

}  // namespace eddy
