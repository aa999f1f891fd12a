// Bit-exact conversions between fp32 and the 16-bit float formats.
#pragma once

#include <cstdint>

#include "accel/formats/number_format.h"

namespace npusim {

// IEEE 754 binary16: round to nearest, ties to even; subnormals kept; overflow
// to +/-inf; NaN stays NaN (quiet, sign kept).
std::uint16_t fp32_to_fp16_bits(float value);
float fp16_bits_to_fp32(std::uint16_t bits);

// bfloat16 (the top 16 bits of fp32): round to nearest, ties to even; NaN stays
// a quiet NaN.
std::uint16_t fp32_to_bf16_bits(float value);
float bf16_bits_to_fp32(std::uint16_t bits);

// The nearest value of `format` (fp32: unchanged, fp16/bf16: rounded as above).
// Only for float-class formats.
float round_to_format(float value, NumberFormat format);

}  // namespace npusim
