// fp16 conversions are checked against the compiler's _Float16 (GCC on x86-64:
// F16C instructions or libgcc's soft-float, both independent of our bit code);
// bf16 against a plain remainder-comparison formula written here.
#include "accel/formats/float_formats.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace npusim {
namespace {

std::uint32_t bits_of(float f) { return std::bit_cast<std::uint32_t>(f); }
float float_of(std::uint32_t u) { return std::bit_cast<float>(u); }

// clang before 15 has no _Float16 on x86-64 (the sanitizer build, scripts/fuzz_configure.sh):
// there the tests against the compiler's conversion skip, and the hand cases still run.
#if defined(__clang__) && __clang_major__ < 15 && defined(__x86_64__)
#define REQUIRE_COMPILER_FLOAT16() GTEST_SKIP() << "this compiler has no _Float16 to compare with"
std::uint16_t reference_fp16_bits(float) { return 0; }
float reference_fp16_to_fp32(std::uint16_t) { return 0; }
#else
#define REQUIRE_COMPILER_FLOAT16() static_cast<void>(0)
std::uint16_t reference_fp16_bits(float f) { return std::bit_cast<std::uint16_t>(static_cast<_Float16>(f)); }
float reference_fp16_to_fp32(std::uint16_t h) { return static_cast<float>(std::bit_cast<_Float16>(h)); }
#endif

bool fp16_is_nan(std::uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }

// Compares one fp32 -> fp16 conversion with the reference; NaN results must be
// quiet NaNs of the same sign (payload bits are not part of the contract).
::testing::AssertionResult matches_reference_fp16(float f) {
  const std::uint16_t got = fp32_to_fp16_bits(f);
  const std::uint16_t want = reference_fp16_bits(f);
  if (std::isnan(f)) {
    if (fp16_is_nan(got) && (got & 0x0200u) && (got & 0x8000u) == (want & 0x8000u)) {
      return ::testing::AssertionSuccess();
    }
  } else if (got == want) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << std::hex << "fp32 0x" << bits_of(f) << ": got 0x" << got << ", reference 0x"
                                       << want;
}

TEST(Fp16, HandCases) {
  EXPECT_EQ(fp32_to_fp16_bits(1.0f), 0x3C00u);
  EXPECT_EQ(fp32_to_fp16_bits(-2.0f), 0xC000u);
  EXPECT_EQ(fp32_to_fp16_bits(0.0f), 0x0000u);
  EXPECT_EQ(fp32_to_fp16_bits(-0.0f), 0x8000u);
  EXPECT_EQ(fp32_to_fp16_bits(65504.0f), 0x7BFFu);
  EXPECT_EQ(fp32_to_fp16_bits(std::ldexp(1.0f, -14)), 0x0400u);  // smallest normal
  EXPECT_EQ(fp32_to_fp16_bits(std::ldexp(1.0f, -24)), 0x0001u);  // smallest subnormal
  EXPECT_EQ(fp32_to_fp16_bits(std::ldexp(1.0f, -25)), 0x0000u);  // tie: to even (zero)
  EXPECT_EQ(fp32_to_fp16_bits(-std::ldexp(1.0f, -25)), 0x8000u);
  EXPECT_EQ(fp32_to_fp16_bits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001u);
  EXPECT_EQ(fp32_to_fp16_bits(3.0f * std::ldexp(1.0f, -26)), 0x0001u);
  EXPECT_EQ(fp32_to_fp16_bits(3.0f * std::ldexp(1.0f, -25)), 0x0002u);  // 1.5 units: tie to 2
  EXPECT_EQ(fp32_to_fp16_bits(5.0f * std::ldexp(1.0f, -25)), 0x0002u);  // 2.5 units: tie to 2
  EXPECT_EQ(fp32_to_fp16_bits(std::numeric_limits<float>::denorm_min()), 0x0000u);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: to even (1); 1 + 3*2^-11 to 1 + 2^-9.
  EXPECT_EQ(fp32_to_fp16_bits(1.0f + std::ldexp(1.0f, -11)), 0x3C00u);
  EXPECT_EQ(fp32_to_fp16_bits(1.0f + 3.0f * std::ldexp(1.0f, -11)), 0x3C02u);
  // Rounding carries into the exponent: 2 - 2^-12 rounds up to 2.
  EXPECT_EQ(fp32_to_fp16_bits(2.0f - std::ldexp(1.0f, -12)), 0x4000u);
  // Largest subnormal rounding up into the smallest normal.
  EXPECT_EQ(fp32_to_fp16_bits(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)), 0x0400u);
}

TEST(Fp16, OverflowThreshold) {
  EXPECT_EQ(fp32_to_fp16_bits(65520.0f), 0x7C00u);  // halfway to 2^16: ties to inf (even)
  EXPECT_EQ(fp32_to_fp16_bits(-65520.0f), 0xFC00u);
  EXPECT_EQ(fp32_to_fp16_bits(std::nextafter(65520.0f, 0.0f)), 0x7BFFu);  // 65519.996
  EXPECT_EQ(fp32_to_fp16_bits(65519.99f), 0x7BFFu);
  EXPECT_EQ(fp32_to_fp16_bits(-65519.99f), 0xFBFFu);
  EXPECT_EQ(fp32_to_fp16_bits(1.0e6f), 0x7C00u);
  EXPECT_EQ(fp32_to_fp16_bits(std::numeric_limits<float>::max()), 0x7C00u);
  EXPECT_EQ(fp32_to_fp16_bits(std::numeric_limits<float>::lowest()), 0xFC00u);
}

TEST(Fp16, InfAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(fp32_to_fp16_bits(inf), 0x7C00u);
  EXPECT_EQ(fp32_to_fp16_bits(-inf), 0xFC00u);
  EXPECT_EQ(fp16_bits_to_fp32(0x7C00u), inf);
  EXPECT_EQ(fp16_bits_to_fp32(0xFC00u), -inf);

  // A signalling NaN whose payload sits below the bits fp16 keeps must not
  // become inf; it becomes a quiet NaN with the sign kept.
  EXPECT_EQ(fp32_to_fp16_bits(float_of(0x7F80'0001u)), 0x7E00u);
  EXPECT_EQ(fp32_to_fp16_bits(float_of(0xFF80'0001u)), 0xFE00u);
  EXPECT_EQ(fp32_to_fp16_bits(std::numeric_limits<float>::quiet_NaN()), 0x7E00u);
  // The top payload bits are kept.
  EXPECT_EQ(fp32_to_fp16_bits(float_of(0x7FC0'2000u)), 0x7E01u);

  EXPECT_EQ(bits_of(fp16_bits_to_fp32(0x7E00u)), 0x7FC0'0000u);
  EXPECT_EQ(bits_of(fp16_bits_to_fp32(0xFD01u)), 0xFFE0'2000u);  // signalling: quieted
}

TEST(Fp16, WideningHandCases) {
  EXPECT_EQ(fp16_bits_to_fp32(0x3C00u), 1.0f);
  EXPECT_EQ(fp16_bits_to_fp32(0xC000u), -2.0f);
  EXPECT_EQ(fp16_bits_to_fp32(0x7BFFu), 65504.0f);
  EXPECT_EQ(fp16_bits_to_fp32(0x0001u), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_bits_to_fp32(0x03FFu), 1023.0f * std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_bits_to_fp32(0x0400u), std::ldexp(1.0f, -14));
  EXPECT_EQ(bits_of(fp16_bits_to_fp32(0x8000u)), 0x8000'0000u);
  EXPECT_EQ(bits_of(fp16_bits_to_fp32(0x0000u)), 0x0000'0000u);
}

TEST(Fp16, ExhaustiveWideningAndRoundTrip) {
  REQUIRE_COMPILER_FLOAT16();
  for (std::uint32_t h = 0; h <= 0xFFFFu; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float wide = fp16_bits_to_fp32(bits);
    const std::uint16_t back = fp32_to_fp16_bits(wide);
    if (fp16_is_nan(bits)) {
      ASSERT_TRUE(std::isnan(wide)) << std::hex << h;
      // Stays NaN with its sign and payload; only the quiet bit may be added.
      ASSERT_EQ(back, bits | 0x0200u) << std::hex << h;
    } else {
      ASSERT_EQ(bits_of(wide), bits_of(reference_fp16_to_fp32(bits))) << std::hex << h;
      ASSERT_EQ(back, bits) << std::hex << h;
    }
  }
}

// Every rounding boundary: for each pair of adjacent finite fp16 magnitudes,
// the fp32 midpoint and its fp32 neighbours, and each fp16 value and its fp32
// neighbours, with both signs. The top pair is 65504 and the overflow
// midpoint 65520.
TEST(Fp16, BoundariesMatchCompilerConversion) {
  REQUIRE_COMPILER_FLOAT16();
  std::vector<float> inputs;
  for (std::uint32_t h = 0; h <= 0x7BFFu; ++h) {
    const float lo = reference_fp16_to_fp32(static_cast<std::uint16_t>(h));
    const float midpoint =
        h == 0x7BFFu ? 65520.0f : (lo + reference_fp16_to_fp32(static_cast<std::uint16_t>(h + 1))) / 2;
    for (const float f : {midpoint, lo}) {
      inputs.push_back(f);
      inputs.push_back(std::nextafter(f, 0.0f));
      inputs.push_back(std::nextafter(f, 1.0e9f));
    }
  }
  int checked = 0;
  for (const float f : inputs) {
    ASSERT_TRUE(matches_reference_fp16(f));
    ASSERT_TRUE(matches_reference_fp16(-f));
    checked += 2;
  }
  EXPECT_GT(checked, 6 * 0x7C00);
}

// Below the smallest fp16 normal every 61st fp32 pattern (an odd stride, so
// every residue of the dropped low bits occurs), including fp32 subnormals and
// the values that round to zero.
TEST(Fp16, SubnormalRangeMatchesCompilerConversion) {
  REQUIRE_COMPILER_FLOAT16();
  for (std::uint32_t u = 0; u < 0x3880'0000u; u += 61) {
    ASSERT_TRUE(matches_reference_fp16(float_of(u)));
    ASSERT_TRUE(matches_reference_fp16(float_of(u | 0x8000'0000u)));
  }
}

TEST(Fp16, RandomPatternsMatchCompilerConversion) {
  REQUIRE_COMPILER_FLOAT16();
  std::mt19937 rng(20240611);
  for (int i = 0; i < 4'000'000; ++i) {
    ASSERT_TRUE(matches_reference_fp16(float_of(static_cast<std::uint32_t>(rng()))));
  }
}

// bf16 reference: keep the top half, then compare the dropped half with
// exactly one half (0x8000) to decide the rounding; NaN becomes a quiet NaN.
std::uint16_t reference_bf16_bits(float f) {
  const std::uint64_t u = bits_of(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  std::uint64_t kept = u >> 16;
  const std::uint64_t dropped = u & 0xFFFFu;
  const bool round_up = dropped > 0x8000u || (dropped == 0x8000u && (kept % 2 == 1));
  if (round_up) kept += 1;
  return static_cast<std::uint16_t>(kept);
}

TEST(Bf16, HandCases) {
  EXPECT_EQ(fp32_to_bf16_bits(1.0f), 0x3F80u);
  EXPECT_EQ(fp32_to_bf16_bits(-0.0f), 0x8000u);
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x3F80'8000u)), 0x3F80u);  // tie, even below
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x3F81'8000u)), 0x3F82u);  // tie, even above
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0xBF81'8000u)), 0xBF82u);
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x3F80'8001u)), 0x3F81u);             // just above the tie
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x3F81'7FFFu)), 0x3F81u);             // just below the tie
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x3FFF'8000u)), 0x4000u);             // carry into the exponent
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x0000'8001u)), 0x0001u);             // fp32 subnormal rounds up
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x7F7F'7FFFu)), 0x7F7Fu);             // stays max finite
  EXPECT_EQ(fp32_to_bf16_bits(std::numeric_limits<float>::max()), 0x7F80u);  // rounds to inf
  EXPECT_EQ(fp32_to_bf16_bits(std::numeric_limits<float>::lowest()), 0xFF80u);
  EXPECT_EQ(fp32_to_bf16_bits(std::numeric_limits<float>::infinity()), 0x7F80u);
  // NaNs stay NaN (truncation would turn 0x7F800001 into inf) and are quiet.
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x7F80'0001u)), 0x7FC0u);
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0xFF80'0001u)), 0xFFC0u);
  EXPECT_EQ(fp32_to_bf16_bits(float_of(0x7FFF'FFFFu)), 0x7FFFu);

  EXPECT_EQ(bf16_bits_to_fp32(0x3F80u), 1.0f);
  EXPECT_EQ(bf16_bits_to_fp32(0xC000u), -2.0f);
  EXPECT_EQ(bits_of(bf16_bits_to_fp32(0x7F7Fu)), 0x7F7F'0000u);
}

TEST(Bf16, ExhaustiveRoundTrip) {
  for (std::uint32_t b = 0; b <= 0xFFFFu; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float wide = bf16_bits_to_fp32(bits);
    ASSERT_EQ(bits_of(wide), b << 16);
    if (std::isnan(wide)) {
      ASSERT_EQ(fp32_to_bf16_bits(wide), bits | 0x0040u) << std::hex << b;
    } else {
      ASSERT_EQ(fp32_to_bf16_bits(wide), bits) << std::hex << b;
    }
  }
}

TEST(Bf16, RandomPatternsMatchReference) {
  std::mt19937 rng(7);
  for (int i = 0; i < 4'000'000; ++i) {
    const float f = float_of(static_cast<std::uint32_t>(rng()));
    ASSERT_EQ(fp32_to_bf16_bits(f), reference_bf16_bits(f)) << std::hex << bits_of(f);
  }
  // Every dropped half around the tie, for an even and an odd kept half.
  for (const std::uint32_t top : {0x4049u, 0x404Au, 0xC049u, 0x7F7Fu}) {
    for (std::uint32_t low = 0x7F00u; low <= 0x8100u; ++low) {
      const float f = float_of((top << 16) | low);
      ASSERT_EQ(fp32_to_bf16_bits(f), reference_bf16_bits(f)) << std::hex << bits_of(f);
    }
  }
}

TEST(RoundToFormat, FloatFormats) {
  const float x = 1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20);
  EXPECT_EQ(round_to_format(x, NumberFormat::fp32), x);
  EXPECT_EQ(round_to_format(x, NumberFormat::fp16), 1.0f + std::ldexp(1.0f, -10));
  EXPECT_EQ(round_to_format(x, NumberFormat::bf16), 1.0f);
  EXPECT_EQ(round_to_format(100000.0f, NumberFormat::fp16), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_format(100000.0f, NumberFormat::bf16), 99840.0f);
  EXPECT_TRUE(std::isnan(round_to_format(std::nanf(""), NumberFormat::fp16)));
  EXPECT_TRUE(std::isnan(round_to_format(std::nanf(""), NumberFormat::bf16)));
}

TEST(RoundToFormat, IntegerFormatsThrow) {
  EXPECT_THROW(round_to_format(1.0f, NumberFormat::int8), std::invalid_argument);
  EXPECT_THROW(round_to_format(1.0f, NumberFormat::int4), std::invalid_argument);
  EXPECT_THROW(round_to_format(1.0f, NumberFormat::binary), std::invalid_argument);
}

}  // namespace
}  // namespace npusim
