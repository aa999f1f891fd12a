// The arithmetic contract of the MAC array, shared by both fidelities and by the
// reference executor.
//
// Accumulation order (the same in `pe` and `tile` fidelity, and what the
// reference executor reproduces): the reduction index k runs over K in
// increasing order and is cut into chunks of `reduction_chunk` consecutive
// elements (the whole K for OS, rows * lanes for WS and IS, because there a
// column of PEs sums one chunk spatially and the output accumulator adds the
// column results fold by fold). For every output:
//
//   acc = +0
//   for each chunk, in increasing k:
//     s = +0
//     for each k in the chunk, increasing:  s = s + a[k] * w[k]
//     acc = acc + s
//
// Floating point: each product is rounded to fp32 (exact for fp16 and bf16
// operands) and each addition is rounded to the accumulator format (fp32, or
// fp16 when fp16 accumulation is chosen). Integer: products and sums are exact;
// an output overflows when s or acc leaves [-2^31, 2^31) at any step, and its
// stored value wraps as two's complement (equal to the exact sum mod 2^32).
#pragma once

#include <cstdint>

#include "accel/array/array_config.h"
#include "accel/formats/float_formats.h"

namespace npusim {

// Length of the chunks the reduction is cut into, in K elements.
inline std::int64_t reduction_chunk(const ArrayConfig& array, std::int64_t k) {
  if (array.dataflow == Dataflow::os) return k > 0 ? k : 1;
  return static_cast<std::int64_t>(array.rows) * array.mac.lanes;
}

// One floating-point accumulation step.
inline float accumulate_float(float sum, float addend, AccumulatorFormat acc) {
  const float r = sum + addend;
  return acc == AccumulatorFormat::fp16 ? round_to_format(r, NumberFormat::fp16) : r;
}

constexpr std::int64_t kInt32Min = -(std::int64_t{1} << 31);
constexpr std::int64_t kInt32Max = (std::int64_t{1} << 31) - 1;

inline bool outside_int32(std::int64_t v) { return v < kInt32Min || v > kInt32Max; }

// Wraps an exact sum to int32 as two's-complement hardware would.
inline std::int32_t wrap_to_int32(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}

}  // namespace npusim
