// Random GEMM operands for the array tests: values drawn per format from a
// seeded generator, spanning the format's range (floats across many binades,
// so that a change of accumulation order would change the bits).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "accel/array/gemm.h"
#include "accel/formats/float_formats.h"
#include "accel/formats/number_format.h"

namespace npusim::testing {

struct GemmData {
  GemmShape shape;
  std::vector<std::int8_t> a_int, w_int;
  std::vector<float> a_float, w_float;

  GemmOperands operands() const { return GemmOperands{shape, a_int, w_int, a_float, w_float}; }
};

inline std::int8_t random_integer(NumberFormat format, std::mt19937_64& rng) {
  if (format == NumberFormat::binary) return (rng() & 1) ? 1 : -1;
  const int lo = min_integer_value(format), hi = max_integer_value(format);
  return static_cast<std::int8_t>(lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)));
}

inline float random_float(NumberFormat format, std::mt19937_64& rng) {
  // mantissa in [1, 2), binade in [-12, 12], random sign
  const float mantissa = 1.0f + static_cast<float>(rng() % (1u << 23)) / static_cast<float>(1u << 23);
  const int exponent = static_cast<int>(rng() % 25) - 12;
  const float sign = (rng() & 1) ? -1.0f : 1.0f;
  return round_to_format(sign * std::ldexp(mantissa, exponent), format);
}

inline GemmData random_gemm(GemmShape shape, NumberFormat weight, NumberFormat activation, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  GemmData d;
  d.shape = shape;
  const auto a_size = static_cast<std::size_t>(shape.m * shape.k);
  const auto w_size = static_cast<std::size_t>(shape.k * shape.n);
  if (is_integer_class(weight)) {
    for (std::size_t i = 0; i < a_size; ++i) d.a_int.push_back(random_integer(activation, rng));
    for (std::size_t i = 0; i < w_size; ++i) d.w_int.push_back(random_integer(weight, rng));
  } else {
    for (std::size_t i = 0; i < a_size; ++i) d.a_float.push_back(random_float(activation, rng));
    for (std::size_t i = 0; i < w_size; ++i) d.w_float.push_back(random_float(weight, rng));
  }
  return d;
}

}  // namespace npusim::testing
