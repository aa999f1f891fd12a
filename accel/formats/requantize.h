// Integer-only rescaling used by the post-processing unit: int32 accumulator to
// a narrower output format through a fixed-point multiplier and a shift, as
// integer-only inference engines (gemmlowp, TFLite) do.
#pragma once

#include <cstdint>

namespace npusim {

// real_multiplier ~= multiplier * 2^(shift - 31), with multiplier in
// [2^30, 2^31) (or 0 for a zero real value). Any positive real is accepted.
struct FixedPointMultiplier {
  std::int32_t multiplier = 0;
  int shift = 0;
};

FixedPointMultiplier quantize_multiplier(double real_multiplier);

// round(x * real_multiplier), computed the gemmlowp way: a saturating rounding
// doubling high multiply by `multiplier`, then a rounding (half away from zero)
// arithmetic shift right; a positive shift is a left shift applied first.
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m);

// Clamp to [lo, hi].
std::int32_t saturate(std::int64_t value, std::int32_t lo, std::int32_t hi);

// Rounded integer division, ties away from zero (used by average pooling).
std::int32_t rounding_divide(std::int64_t numerator, std::int64_t denominator);

}  // namespace npusim
