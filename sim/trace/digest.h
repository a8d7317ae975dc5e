// Digest64: a 64-bit FNV-1a digest of a byte string, finished with a SplitMix64 avalanche.
//
// Used by the simulator for two things: the checksum every simulated network frame carries
// (so a bit flipped in flight is detected and the frame dropped), and the payload digests folded
// into the trace hash. FNV-1a's per-byte step (xor, then multiply by an odd constant) is a
// bijection of the state for a fixed byte, so two inputs of equal length that differ in exactly
// one byte always produce different digests: a single flipped bit is never missed. Fixed-width
// integer arithmetic only, so the value is the same on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace eddy::sim {

uint64_t Digest64(std::span<const uint8_t> bytes, uint64_t seed = 0);

// Mixes one 64-bit word into a running digest (order-sensitive).
uint64_t MixWord(uint64_t state, uint64_t word);

}  // namespace eddy::sim
