// multiply_by_quantized_multiplier is checked three ways:
//  1. bit for bit against the TFLite two-rounding formula, written here with
//     __int128 and floor division: y = floor((x * M * 2^ls + 2^30) / 2^31)
//     (the doubling high multiply; ties towards +inf), then y / 2^rs rounded
//     half away from zero, clamped to int32 (ls = max(shift, 0),
//     rs = max(-shift, 0));
//  2. against the exact value v = x * M * 2^(shift - 31) rounded once, half
//     away from zero. The two roundings make the result differ from that by
//     one near ties (1 * 0.25 gives 1), so the check is: the result is always
//     floor(v) or ceil(v), and equals round(v) whenever v is further than the
//     first rounding's error (2^-(rs+1)) from a half-integer, or, for rs = 0,
//     whenever v is not a negative tie;
//  3. against the real multiplier r: |result - x * r| <= 1/2 + 2^-(rs+1) +
//     |x| * 2^(shift-32), the last term bounding the Q31 representation error.
#include "accel/formats/requantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>

namespace npusim {
namespace {

using i128 = __int128;

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

i128 floor_div(i128 n, i128 d) {  // d > 0
  const i128 q = n / d;
  return (n % d != 0 && n < 0) ? q - 1 : q;
}

i128 round_half_away(i128 n, i128 d) {  // d > 0
  const i128 magnitude = n < 0 ? -n : n;
  i128 q = magnitude / d;
  if (2 * (magnitude % d) >= d) ++q;
  return n < 0 ? -q : q;
}

std::int32_t clamp32(i128 v) { return static_cast<std::int32_t>(v < kMin ? i128{kMin} : (v > kMax ? i128{kMax} : v)); }

std::int32_t two_step_reference(std::int32_t x, FixedPointMultiplier m) {
  const int ls = std::max(m.shift, 0);
  const int rs = std::max(-m.shift, 0);
  const i128 scaled = i128{x} * m.multiplier * (i128{1} << ls);
  const i128 y = floor_div(scaled + (i128{1} << 30), i128{1} << 31);
  return clamp32(round_half_away(y, i128{1} << rs));
}

TEST(QuantizeMultiplier, HandCases) {
  const auto check = [](double real, std::int32_t multiplier, int shift) {
    const FixedPointMultiplier m = quantize_multiplier(real);
    EXPECT_EQ(m.multiplier, multiplier) << real;
    EXPECT_EQ(m.shift, shift) << real;
  };
  check(0.0, 0, 0);
  check(0.5, 1 << 30, 0);
  check(1.0, 1 << 30, 1);
  check(0.25, 1 << 30, -1);
  check(0.75, 3 << 29, 0);
  check(200.0, 1677721600, 8);  // 200 / 256 * 2^31
  // q * 2^31 rounds up to 2^31: halved, shift one higher.
  check(1.0 - std::ldexp(1.0, -40), 1 << 30, 1);
  check(std::ldexp(1.0, -32), 1 << 30, -31);  // the smallest shift kept
  check(std::ldexp(1.0, -33), 0, 0);          // would need shift -32: zero instead
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4
  check(0.1, 1717986918, -3);
}

TEST(QuantizeMultiplier, RejectsNegativeAndNonFinite) {
  EXPECT_THROW(quantize_multiplier(-0.5), std::invalid_argument);
  EXPECT_THROW(quantize_multiplier(std::nan("")), std::invalid_argument);
  EXPECT_THROW(quantize_multiplier(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(QuantizeMultiplier, RandomRealsWithinHalfAQ31Unit) {
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> log2_real(-30.0, 8.0);
  for (int i = 0; i < 100'000; ++i) {
    const double real = std::exp2(log2_real(rng));
    const FixedPointMultiplier m = quantize_multiplier(real);
    ASSERT_GE(m.multiplier, 1 << 30) << real;
    ASSERT_LE(m.multiplier, kMax) << real;
    // Both are within a factor of two, so the subtraction is exact.
    const double represented = std::ldexp(static_cast<double>(m.multiplier), m.shift - 31);
    ASSERT_LE(std::fabs(represented - real), std::ldexp(1.0, m.shift - 32)) << real;
  }
}

TEST(MultiplyByQuantizedMultiplier, HandCases) {
  const FixedPointMultiplier half{1 << 30, 0};              // 0.5
  const FixedPointMultiplier quarter{1 << 30, -1};          // 0.25
  EXPECT_EQ(multiply_by_quantized_multiplier(3, half), 2);  // 1.5 -> 2
  EXPECT_EQ(multiply_by_quantized_multiplier(1, half), 1);  // 0.5 -> 1
  // The doubling high multiply rounds ties towards +inf, as gemmlowp does.
  EXPECT_EQ(multiply_by_quantized_multiplier(-1, half), 0);   // -0.5 -> 0
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, half), -1);  // -1.5 -> -1
  // The final shift rounds ties away from zero.
  EXPECT_EQ(multiply_by_quantized_multiplier(2, quarter), 1);    // 0.5 -> 1
  EXPECT_EQ(multiply_by_quantized_multiplier(-2, quarter), -1);  // -0.5 -> -1
  EXPECT_EQ(multiply_by_quantized_multiplier(6, quarter), 2);    // 1.5 -> 2
  EXPECT_EQ(multiply_by_quantized_multiplier(-6, quarter), -2);  // -1.5 -> -2
  // Double rounding: 0.25 -> 0.5 (first) -> 1 (second).
  EXPECT_EQ(multiply_by_quantized_multiplier(1, quarter), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1, quarter), 0);
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, quantize_multiplier(0.1)), 100);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1000, quantize_multiplier(0.1)), -100);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, quantize_multiplier(3.0)), 37035);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMax, FixedPointMultiplier{}), 0);
}

TEST(MultiplyByQuantizedMultiplier, SaturatesAtInt32Extremes) {
  const FixedPointMultiplier two = quantize_multiplier(2.0);
  const FixedPointMultiplier one = quantize_multiplier(1.0);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMax, two), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, two), kMin);
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 30, two), kMax);     // 2^31
  EXPECT_EQ(multiply_by_quantized_multiplier(-(1 << 30), two), kMin);  // -2^31 fits
  EXPECT_EQ(multiply_by_quantized_multiplier(-(1 << 30) - 1, two), kMin);
  // x * 2^shift overflows but the product fits: the product is exact.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMax, one), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, one), kMin);
  EXPECT_EQ(multiply_by_quantized_multiplier((1 << 30) + 1, one), (1 << 30) + 1);
  // 200 * 10737418 = 2147483600 fits; 200 * 10737419 does not.
  EXPECT_EQ(multiply_by_quantized_multiplier(10737418, quantize_multiplier(200.0)), 2147483600);
  EXPECT_EQ(multiply_by_quantized_multiplier(10737419, quantize_multiplier(200.0)), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(-10737419, quantize_multiplier(200.0)), kMin);
  EXPECT_EQ(multiply_by_quantized_multiplier(1, quantize_multiplier(1e30)), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1, quantize_multiplier(1e30)), kMin);
  EXPECT_EQ(multiply_by_quantized_multiplier(0, quantize_multiplier(1e30)), 0);
  // The one overflowing doubling high multiply.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{kMin, 0}), kMax);
  // A large right shift leaves only rounding: -2^31 / 2^32 = -0.5 -> -1.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{kMin, -1}), 1 << 30);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{1 << 30, -31}), -1);
  // Double rounding: (2^31 - 1) / 2^32 -> 2^30 (high multiply, half up) -> 0.5 -> 1.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMax, FixedPointMultiplier{1 << 30, -31}), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{1 << 30, -40}), 0);
}

class RandomRequantization : public ::testing::Test {
 protected:
  void check(std::int32_t x, double real) {
    const FixedPointMultiplier m = quantize_multiplier(real);
    const std::int32_t got = multiply_by_quantized_multiplier(x, m);

    ASSERT_EQ(got, two_step_reference(x, m)) << "x=" << x << " real=" << real;

    // v = numerator / denominator exactly.
    const int rs = std::max(-m.shift, 0);
    const i128 numerator = i128{x} * m.multiplier * (i128{1} << std::max(m.shift, 0));
    const i128 denominator = i128{1} << (31 + rs);
    const i128 lo = floor_div(numerator, denominator);
    const i128 hi = lo + (numerator % denominator != 0 ? 1 : 0);
    if (lo < kMin || hi > kMax) {
      ++saturated_;
      ASSERT_EQ(got, clamp32(lo)) << "x=" << x << " real=" << real;
      return;
    }
    ASSERT_TRUE(got == lo || got == hi) << "x=" << x << " real=" << real;
    const i128 remainder = numerator - lo * denominator;       // in [0, denominator)
    const i128 distance_to_tie = 2 * remainder - denominator;  // in units of 1/(2*denominator)
    const bool near_tie = rs == 0 ? (distance_to_tie == 0 && numerator < 0)
                                  : (distance_to_tie <= (i128{1} << 31) && distance_to_tie >= -(i128{1} << 31));
    if (!near_tie) {
      ASSERT_EQ(got, round_half_away(numerator, denominator)) << "x=" << x << " real=" << real;
    } else if (got != round_half_away(numerator, denominator)) {
      ++double_rounded_;
    }

    const long double exact = static_cast<long double>(x) * static_cast<long double>(real);
    const long double bound =
        0.5L + std::ldexp(0.5L, -rs) + std::fabs(static_cast<long double>(x)) * std::ldexp(1.0L, m.shift - 32) + 1e-6L;
    ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), bound) << "x=" << x << " real=" << real;
  }

  int saturated_ = 0;
  int double_rounded_ = 0;
};

TEST_F(RandomRequantization, MatchesReferences) {
  std::mt19937 rng(31);
  std::uniform_real_distribution<double> log2_real(-20.0, 8.0);
  std::uniform_int_distribution<std::int32_t> any_x(kMin, kMax);
  std::uniform_int_distribution<std::int32_t> small_x(-4096, 4096);
  for (int i = 0; i < 300'000; ++i) {
    const double real = std::exp2(log2_real(rng));
    check(any_x(rng), real);
    check(small_x(rng), real);
  }
  // Exact ties and near-ties: multipliers that are short binary fractions.
  for (int num = 1; num < 64; ++num) {
    for (int e = -12; e <= 4; ++e) {
      const double real = std::ldexp(static_cast<double>(num), e);
      for (std::int32_t x = -300; x <= 300; ++x) check(x, real);
    }
  }
  EXPECT_GT(saturated_, 1000);      // the saturation path was exercised
  EXPECT_GT(double_rounded_, 100);  // and the documented one-off cases occur
}

TEST(Saturate, Clamps) {
  EXPECT_EQ(saturate(5, -128, 127), 5);
  EXPECT_EQ(saturate(128, -128, 127), 127);
  EXPECT_EQ(saturate(-129, -128, 127), -128);
  EXPECT_EQ(saturate(std::numeric_limits<std::int64_t>::max(), kMin, kMax), kMax);
  EXPECT_EQ(saturate(std::numeric_limits<std::int64_t>::min(), kMin, kMax), kMin);
  EXPECT_EQ(saturate(0, 0, 6), 0);
  EXPECT_EQ(saturate(7, 0, 6), 6);
}

TEST(RoundingDivide, TiesAwayFromZero) {
  EXPECT_EQ(rounding_divide(7, 2), 4);    // 3.5
  EXPECT_EQ(rounding_divide(-7, 2), -4);  // -3.5
  EXPECT_EQ(rounding_divide(7, -2), -4);
  EXPECT_EQ(rounding_divide(-7, -2), 4);
  EXPECT_EQ(rounding_divide(5, 2), 3);  // 2.5: away, not to even
  EXPECT_EQ(rounding_divide(-5, 2), -3);
  EXPECT_EQ(rounding_divide(10, 4), 3);  // 2.5
  EXPECT_EQ(rounding_divide(-10, 4), -3);
  EXPECT_EQ(rounding_divide(-1, 2), -1);   // -0.5
  EXPECT_EQ(rounding_divide(-1, 3), 0);    // -0.333
  EXPECT_EQ(rounding_divide(-2, 3), -1);   // -0.667
  EXPECT_EQ(rounding_divide(-4, 3), -1);   // -1.333 (floor division would give -2)
  EXPECT_EQ(rounding_divide(-5, 3), -2);   // -1.667 (truncation would give -1)
  EXPECT_EQ(rounding_divide(-13, 9), -1);  // -1.444
  EXPECT_EQ(rounding_divide(0, 5), 0);
  EXPECT_EQ(rounding_divide(9, 9), 1);
}

TEST(RoundingDivide, MatchesReferenceAndSaturates) {
  std::mt19937_64 rng(41);
  std::uniform_int_distribution<std::int64_t> num(-1'000'000, 1'000'000);
  std::uniform_int_distribution<std::int64_t> den(1, 1000);
  for (int i = 0; i < 200'000; ++i) {
    const std::int64_t n = num(rng);
    const std::int64_t d = den(rng) * ((rng() & 1) ? 1 : -1);
    // Reference: round the magnitudes, then apply the sign.
    const i128 sign = ((n < 0) != (d < 0)) ? -1 : 1;
    const i128 expected = sign * round_half_away(n < 0 ? -n : n, d < 0 ? -d : d);
    ASSERT_EQ(rounding_divide(n, d), static_cast<std::int32_t>(expected)) << n << "/" << d;
  }
  const std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(rounding_divide(int64_min, 1), kMin);
  EXPECT_EQ(rounding_divide(int64_min, -1), kMax);
  EXPECT_EQ(rounding_divide(std::int64_t{kMax} * 4, 3), kMax);
  EXPECT_EQ(rounding_divide(std::int64_t{kMin} * 2, 2), kMin);
  EXPECT_EQ(rounding_divide(std::int64_t{kMin} * 2 - 1, 2), kMin);
  EXPECT_THROW(rounding_divide(1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
