// Digest64: a 64-bit digest of a byte string, eight bytes at a time, finished with a SplitMix64
// avalanche.
//
// Used by the simulator for two things: the checksum every simulated network frame carries
// (so a bit flipped in flight is detected and the frame dropped), and the payload digests folded
// into the trace hash. Each step takes one 8-byte little-endian word (the tail zero-padded):
// xor it into the state, multiply by an odd constant, xorshift — each a bijection of the state
// for a fixed word — so two inputs of equal length that differ in exactly one word (in
// particular one byte, or one bit) always produce different digests: a single flipped bit is
// never missed. Fixed-width integer arithmetic only, so the value is the same on every
// platform. (It was byte-at-a-time FNV-1a until the simulator's speed work: the same guarantee,
// an eighth of the steps.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace eddy::sim {

uint64_t Digest64(std::span<const uint8_t> bytes, uint64_t seed = 0);

// Mixes one 64-bit word into a running digest (order-sensitive).
uint64_t MixWord(uint64_t state, uint64_t word);

}  // namespace eddy::sim
