// The reference executor's layer arithmetic outside the GEMM: requantization
// of conv2d / fc sums, pooling, add, concat, softmax, activations, clip,
// reshape and constants, each written from the formulas of
// docs/numerics.md with its own loops. It shares nothing with the
// simulator's post-processing unit (models/quant/layer_ops) but the number
// formats (accel/formats/number_format.h, float_formats.h) and the graph's
// data, so that a mistake in either shows up as a mismatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim::reference {

// Integer-class conv2d / fc: the output from the full sums
// sum_k (q_x - zp_x)(q_w - zp_w[n]) + bias in accumulator units, {N, OH, OW}.
Tensor requantize_sums(const QuantizedGraph& qgraph, std::size_t layer_index, std::span<const std::int64_t> sums);

// Float-class conv2d / fc: the output from the fp32 accumulators, {N, OH, OW}.
Tensor finish_float_sums(const QuantizedGraph& qgraph, std::size_t layer_index, std::span<const float> acc);

// Every other layer type; `inputs` in the layer's input order.
Tensor run_other_layer(const QuantizedGraph& qgraph, std::size_t layer_index, std::span<const Tensor* const> inputs);

// gemmlowp / TFLite fixed point, from their published definitions: exposed
// for tests/reference_ops_test.cpp.
std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b);
std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent);
// TFLite MultiplyByQuantizedMultiplier: x * 2^left shifted (exact, in 128
// bits), the high half taken, then shifted right with rounding.
std::int32_t multiply_by_multiplier(std::int32_t x, std::int32_t multiplier, int shift);

}  // namespace npusim::reference
