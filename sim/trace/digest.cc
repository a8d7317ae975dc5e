#include "sim/trace/digest.h"

namespace eddy::sim {
namespace {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// SplitMix64's finaliser: spreads every input bit over the whole word.
constexpr uint64_t Avalanche(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t Digest64(std::span<const uint8_t> bytes, uint64_t seed) {
  uint64_t state = kFnvOffsetBasis ^ seed;
  for (const uint8_t byte : bytes) {
    state ^= byte;
    state *= kFnvPrime;
  }
  // The avalanche is a bijection too, so it keeps the single-byte-difference guarantee.
  return Avalanche(state ^ bytes.size());
}

uint64_t MixWord(uint64_t state, uint64_t word) {
  return Avalanche(state ^ Avalanche(word + 0x9e3779b97f4a7c15ULL));
}

}  // namespace eddy::sim
