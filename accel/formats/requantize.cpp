#include "accel/formats/requantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

// Semantics follow TFLite's QuantizeMultiplier / MultiplyByQuantizedMultiplier
// (gemmlowp fixed point), so that a model quantized for those engines gives the
// same integers here. Note the two roundings in multiply_by_quantized_multiplier:
// the doubling high multiply rounds ties towards +inf and the final shift rounds
// ties away from zero, so the result can differ by one from a single rounding
// of the exact product when that product lies within the first rounding's
// error of a tie (tests/requantize_test.cpp pins down when).

namespace npusim {
namespace {

constexpr std::int64_t kInt32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();

// round(p / 2^k), ties towards +inf, saturated to int32. With k = 31 this is
// gemmlowp's SaturatingRoundingDoublingHighMul of the two factors of p
// (including its one overflowing case, INT32_MIN * INT32_MIN -> INT32_MAX);
// k <= 0 is an exact left shift.
std::int32_t round_half_up_shift_saturated(std::int64_t p, int k) {
  if (k > 0) {
    const std::int64_t rounded = (p + (std::int64_t{1} << (k - 1))) >> k;  // |p| <= 2^62: no overflow
    return static_cast<std::int32_t>(std::clamp(rounded, kInt32Min, kInt32Max));
  }
  const int left = -k;
  if (left >= 32) return p > 0 ? std::int32_t{kInt32Max} : (p < 0 ? std::int32_t{kInt32Min} : 0);
  if (p > (kInt32Max >> left)) return std::int32_t{kInt32Max};
  if (p < (kInt32Min >> left)) return std::int32_t{kInt32Min};
  return static_cast<std::int32_t>(p * (std::int64_t{1} << left));
}

// round(x / 2^exponent), ties away from zero (gemmlowp RoundingDivideByPOT).
std::int64_t rounding_divide_by_pot(std::int64_t x, int exponent) {
  const std::int64_t mask = (std::int64_t{1} << exponent) - 1;
  const std::int64_t remainder = x & mask;
  const std::int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

}  // namespace

FixedPointMultiplier quantize_multiplier(double real_multiplier) {
  if (!(real_multiplier >= 0.0) || std::isinf(real_multiplier)) {
    throw std::invalid_argument("quantize_multiplier: expected a finite non-negative multiplier, got " +
                                std::to_string(real_multiplier));
  }
  if (real_multiplier == 0.0) return {};
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);  // q in [0.5, 1)
  auto q_fixed = static_cast<std::int64_t>(std::round(q * static_cast<double>(std::int64_t{1} << 31)));
  // q just below 1 can round up to 2^31, which does not fit: use 2^30 one
  // exponent higher, the same value.
  if (q_fixed == (std::int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  // Below 2^-32 every int32 input would be shifted out entirely; a zero
  // multiplier says the same without shifts of 32 or more.
  if (shift < -31) return {};
  return {static_cast<std::int32_t>(q_fixed), shift};
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m) {
  const std::int64_t product = static_cast<std::int64_t>(x) * m.multiplier;
  if (m.shift > 0) {
    // TFLite shifts x left first and then takes the rounded high half:
    // round(x * 2^shift * multiplier / 2^31). Folding the shift into the one
    // rounding gives the same bits whenever x * 2^shift fits in int32, and the
    // saturated true product when it does not (where TFLite's x << shift
    // overflows, and saturating x first would clamp x rather than the product).
    return round_half_up_shift_saturated(product, 31 - std::min(m.shift, 63));
  }
  // Shifts right of 32 or more leave only the rounding of a magnitude of at
  // most one half, so clamping them keeps the shift defined without changing
  // any result.
  const int right_shift = std::min(-m.shift, 62);
  return static_cast<std::int32_t>(rounding_divide_by_pot(round_half_up_shift_saturated(product, 31), right_shift));
}

std::int32_t saturate(std::int64_t value, std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int32_t>(std::min<std::int64_t>(std::max<std::int64_t>(value, lo), hi));
}

std::int32_t rounding_divide(std::int64_t numerator, std::int64_t denominator) {
  if (denominator == 0) throw std::invalid_argument("rounding_divide: division by zero");
  // Work on magnitudes in uint64 so that INT64_MIN is representable; the
  // rounded quotient is then saturated to int32 rather than wrapped.
  const auto magnitude = [](std::int64_t v) {
    return v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
  };
  const std::uint64_t n = magnitude(numerator);
  const std::uint64_t d = magnitude(denominator);
  std::uint64_t q = n / d;
  const std::uint64_t r = n % d;
  if (r >= d - r) ++q;  // 2r >= d without overflow: ties go away from zero
  const bool negative = (numerator < 0) != (denominator < 0);
  const std::uint64_t limit = negative ? std::uint64_t{1} << 31 : (std::uint64_t{1} << 31) - 1;
  q = std::min(q, limit);
  return negative ? static_cast<std::int32_t>(-static_cast<std::int64_t>(q)) : static_cast<std::int32_t>(q);
}

}  // namespace npusim
