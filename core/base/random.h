// The project's seeded pseudo-random generator: xoshiro256** (Blackman & Vigna, 2018), seeded
// by expanding one 64-bit seed through SplitMix64. Both algorithms are fixed-width integer
// arithmetic only, so the same seed yields the same sequence on every platform and compiler.
// Broker code never draws randomness elsewhere; the runtime hands each node one of these.
#pragma once

#include <array>
#include <cstdint>

namespace eddy {

class Random {
 public:
  explicit Random(uint64_t seed);

  // Next 64 uniformly distributed bits.
  uint64_t Next();

  // Uniform integer in [0, bound). REQUIRES: bound > 0. Uses Lemire's unbiased method.
  uint64_t Uniform(uint64_t bound);

  // Uniform integer in [low, high]. REQUIRES: low <= high.
  int64_t UniformInRange(int64_t low, int64_t high);

  // True with probability `numerator / denominator`. REQUIRES: denominator > 0.
  bool OneIn(uint64_t denominator) { return Uniform(denominator) == 0; }
  bool Chance(uint64_t numerator, uint64_t denominator) { return Uniform(denominator) < numerator; }

  // Uniform double in [0, 1) with 53 random bits.
  double NextDouble();

  // A new generator whose stream is independent of this one's (seeded from Next()); used to give
  // each simulated node or subsystem its own stream so adding draws in one does not shift another.
  Random Fork() { return Random(Next()); }

 private:
  std::array<uint64_t, 4> state_;
};

}  // namespace eddy
