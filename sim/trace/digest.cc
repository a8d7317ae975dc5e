#include "sim/trace/digest.h"

#include <bit>
#include <cstring>

namespace eddy::sim {
namespace {

constexpr uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;  // FNV-1a's, as a fixed start
constexpr uint64_t kWordMultiplier = 0x9e3779b97f4a7c15ULL;  // odd: multiplying is a bijection

// SplitMix64's finaliser: spreads every input bit over the whole word.
constexpr uint64_t Avalanche(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Little-endian by construction, so the value is the same on every platform.
uint64_t LoadTail(const uint8_t* p, size_t n) {
  uint64_t word = 0;
  for (size_t i = 0; i < n; ++i) word |= uint64_t{p[i]} << (8 * i);
  return word;
}

uint64_t LoadWord(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));  // one load
    return word;
  } else {
    return LoadTail(p, 8);
  }
}

// One step per 8-byte word: xor, multiply by an odd constant, xorshift. Each is a bijection of
// the state for a fixed word, so the step is one too.
constexpr uint64_t Step(uint64_t state, uint64_t word) {
  state = (state ^ word) * kWordMultiplier;
  return state ^ (state >> 29);
}

}  // namespace

uint64_t Digest64(std::span<const uint8_t> bytes, uint64_t seed) {
  uint64_t state = kOffsetBasis ^ seed;
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  for (; left >= 8; left -= 8, p += 8) state = Step(state, LoadWord(p));
  // The tail, zero-padded: equal lengths pad alike, and the length is mixed in below.
  if (left > 0) state = Step(state, LoadTail(p, left));
  // The avalanche is a bijection too, so it keeps the single-word-difference guarantee.
  return Avalanche(state ^ bytes.size());
}

uint64_t MixWord(uint64_t state, uint64_t word) {
  return Avalanche(state ^ Avalanche(word + 0x9e3779b97f4a7c15ULL));
}

}  // namespace eddy::sim
