#include "models/seeded_random.h"

namespace npusim {
namespace {

constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

// The SplitMix64 output function (Steele, Lea and Flood, 2014).
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  // Mixing twice keeps nearby (seed, stream) pairs from giving related streams.
  return mix64(mix64(seed) ^ mix64(stream * kGoldenGamma + kGoldenGamma));
}

std::uint64_t SeededRandom::next_u64() {
  state_ += kGoldenGamma;
  return mix64(state_);
}

double SeededRandom::next_unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

float SeededRandom::uniform(double lo, double hi) { return static_cast<float>(lo + (hi - lo) * next_unit()); }

}  // namespace npusim
