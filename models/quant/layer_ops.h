// The layer arithmetic outside the GEMM, shared by the reference executor and the
// simulator's post-processing unit: bias, requantization, activation, pooling,
// elementwise add.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

// The fixed quantization of a softmax output, whose values lie in [0, 1]:
// TFLite's convention for int8, scale 1/256 and zero point -128, so that
// [-128, 127] covers [0, 255/256]; int4 likewise scale 1/16, zero point -8;
// binary: levels {0, 1} (scale 0.5, zero point -1), a probability of at
// least 0.5 giving 1.
QuantParams softmax_output_quant(NumberFormat format);

// Output tensor of compute layer `layer_index` (conv2d or fc) from its
// accumulators in {N, OH, OW} order (channel-major): adds the bias, requantizes
// (integer-class) or rounds to the activation format (float-class), applies the
// fused activation. Integer-class layers whose weights have a zero point
// (models/quant/quantized_graph.h) also subtract zp_w[n] * row_sums: `row_sums`
// holds, for each group g and output pixel p (index g * OH*OW + p; fc: one
// entry), the sum of the stored input values the output reduces over (the
// GEMM's A row, padded positions counted as the input's zero point). It is
// ignored otherwise and may be empty.
Tensor finish_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                            std::span<const std::int32_t> acc_int, std::span<const float> acc_float,
                            std::span<const std::int64_t> row_sums = {});

// Integer-class conv2d / fc: the output tensor from the full sums in
// accumulator units, {N, OH, OW}: acc + bias_int[n] - zp_w[n] * row sum
// (finish_compute_layer computes them; the reference executor computes them
// its own way). Saturates each to int32, then requantizes by the layer's
// RequantMode, adds the output zero point, applies the fused activation and
// saturates to the format.
Tensor requantize_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                                std::span<const std::int64_t> sums);

// Whether integer weights have a non-zero zero point (per tensor or per channel).
bool has_weight_zero_points(const QuantParams& weight_quant);

// bias_int for integer weights (dims {N, ...}, per-tensor or per-channel zero
// points): bias_acc[n] - zp_x * sum_k q_w[k][n] + K * zp_x * zp_w[n], saturated
// to int32, where bias_acc[n] is the bias in accumulator units
// (round(bias / (s_x * s_w[n])), ONNX's int32 bias as is). An importer fills
// QuantizedLayer::bias_int with it. Binary output thresholds are not included.
std::vector<std::int32_t> fold_weight_terms(const Tensor& weights, std::span<const std::int64_t> bias_acc,
                                            std::int32_t input_zero_point);

// RequantMode::float_half_even's multiplier: (float(x_scale) * float(w_scale))
// / float(y_scale), each step in fp32 (ONNX Runtime's order).
float float_requant_multiplier(double x_scale, double w_scale, double y_scale);

// Non-GEMM layers (maxpool, avgpool, add, relu, relu6, concat, softmax,
// flatten, reshape, clip, constant). `inputs` are the layer's input tensors in
// order (none for a constant, whose output is QuantizedLayer::weights).
// Integer-class inputs of add and concat may be in any integer format and
// quantization (they are rescaled to the output's); the other layers' inputs
// are in the output's format and quantization (softmax: the format only).
Tensor run_elementwise_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                             std::span<const Tensor* const> inputs);

}  // namespace npusim
