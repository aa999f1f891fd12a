#include "accel/formats/float_formats.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

// The conversions work on the integer bit patterns only, so they do not depend
// on the host's rounding mode, flush-to-zero setting or _Float16 support, and
// the paths are computed side by side and selected (no data-dependent
// branches), because round_to_format sits in the fp16-accumulation inner loop.

namespace npusim {
namespace {

constexpr std::uint32_t kFp32AbsMask = 0x7FFF'FFFFu;
constexpr std::uint32_t kFp32Inf = 0x7F80'0000u;
constexpr std::uint32_t kFp32QuietBit = 0x0040'0000u;
constexpr std::uint16_t kFp16Inf = 0x7C00u;
constexpr std::uint16_t kFp16QuietBit = 0x0200u;
constexpr std::uint16_t kBf16QuietBit = 0x0040u;
// fp32 pattern of 2^-14, the smallest normal fp16.
constexpr std::uint32_t kFp32OfFp16MinNormal = 0x3880'0000u;
// Exponent bias difference (127 - 15) placed in the fp32 exponent field.
constexpr std::uint32_t kRebias = 112u << 23;

}  // namespace

std::uint16_t fp32_to_fp16_bits(float value) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t a = u & kFp32AbsMask;

  // Normal fp16 range: rebias the exponent, then round the 13 dropped mantissa
  // bits to nearest even; a carry moves into the exponent by itself, and
  // anything that lands at or beyond the inf pattern (|x| >= 65520, or inf)
  // clamps to inf. Wraps for small `a`, which then takes the subnormal path.
  std::uint32_t normal = a - kRebias;
  normal = (normal + 0x0FFFu + ((normal >> 13) & 1u)) >> 13;
  normal = std::min<std::uint32_t>(normal, kFp16Inf);

  // Subnormal (and zero) range: the result counts units of 2^-24. The value is
  // mant * 2^(e - 150), i.e. mant >> (126 - e) units. The shift is clamped to
  // [14, 31]: 14 is its value at the top of this range, and from 25 up every
  // input rounds to zero anyway (mant < 2^24), so 31 keeps the shift defined.
  const std::int32_t exponent = static_cast<std::int32_t>(a >> 23);
  const std::uint32_t shift = static_cast<std::uint32_t>(std::clamp(126 - exponent, 14, 31));
  const std::uint32_t mant = (a & 0x007F'FFFFu) | 0x0080'0000u;
  const std::uint32_t half_minus_one = (1u << (shift - 1)) - 1u;
  // A round-up to 0x0400 is the smallest normal, which is the right pattern.
  const std::uint32_t subnormal = (mant + half_minus_one + ((mant >> shift) & 1u)) >> shift;

  // NaN: keep the top payload bits and set the quiet bit so that it can never
  // collapse into the inf pattern.
  const std::uint32_t nan = kFp16Inf | kFp16QuietBit | ((a >> 13) & 0x03FFu);

  const std::uint32_t magnitude = a > kFp32Inf ? nan : (a >= kFp32OfFp16MinNormal ? normal : subnormal);
  return static_cast<std::uint16_t>(sign | magnitude);
}

float fp16_bits_to_fp32(std::uint16_t bits) {
  const std::uint32_t h = bits;
  const std::uint32_t sign = (h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  const std::uint32_t mant = h & 0x03FFu;

  const std::uint32_t normal = ((exponent + 112u) << 23) | (mant << 13);
  const std::uint32_t inf_nan = kFp32Inf | (mant << 13) | (mant != 0 ? kFp32QuietBit : 0u);
  // Subnormal: mant * 2^-24 with its leading one at bit p becomes exponent
  // field p + 103 and the bits below p as the fp32 mantissa. `| 1` keeps
  // countl_zero defined for mant == 0, whose result is discarded.
  const std::uint32_t p = 31u - static_cast<std::uint32_t>(std::countl_zero(mant | 1u));
  const std::uint32_t subnormal = ((p + 103u) << 23) | ((mant << (23u - p)) & 0x007F'FFFFu);

  std::uint32_t magnitude = normal;
  magnitude = exponent == 0x1Fu ? inf_nan : magnitude;
  magnitude = exponent == 0 ? (mant == 0 ? 0u : subnormal) : magnitude;
  return std::bit_cast<float>(sign | magnitude);
}

std::uint16_t fp32_to_bf16_bits(float value) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  // Adding 0x7FFF plus the kept LSB rounds the low half to nearest even; the
  // carry runs into the exponent (max finite -> inf) as it should. It cannot
  // reach the sign bit because NaNs, the only larger patterns, go the other way.
  const std::uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t nan = (u >> 16) | kBf16QuietBit;
  return static_cast<std::uint16_t>((u & kFp32AbsMask) > kFp32Inf ? nan : rounded);
}

float bf16_bits_to_fp32(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

float round_to_format(float value, NumberFormat format) {
  switch (format) {
    case NumberFormat::fp32: return value;
    case NumberFormat::fp16: return fp16_bits_to_fp32(fp32_to_fp16_bits(value));
    case NumberFormat::bf16: return bf16_bits_to_fp32(fp32_to_bf16_bits(value));
    case NumberFormat::int8:
    case NumberFormat::int4:
    case NumberFormat::binary: break;
  }
  throw std::invalid_argument("round_to_format: " + std::string(to_string(format)) + " is not a floating-point format");
}

}  // namespace npusim
