// A small deterministic random generator (SplitMix64) whose outputs are the same
// on every platform and standard library: weights and sample inputs must be
// reproducible byte for byte, which <random>'s distributions do not promise.
#pragma once

#include <cstdint>

namespace npusim {

// Stream numbers below 2^32 belong to layers (the layer index); the others to
// uses that are not a layer.
constexpr std::uint64_t kSampleInputStream = std::uint64_t{1} << 32;

// The seed of one independent stream derived from a graph seed.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream);

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double next_unit();
  // lo + (hi - lo) * next_unit(), computed in double and rounded once to float.
  float uniform(double lo, double hi);

 private:
  std::uint64_t state_;
};

}  // namespace npusim
