// Helpers of the reference executor's layer arithmetic (reference_ops.cpp,
// reference_layers.cpp): the number-format conventions, restated from
// docs/numerics.md, not taken from models/quant/layer_ops.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "models/quant/quantized_graph.h"
#include "models/reference/reference_ops.h"
#include "models/tensor.h"

namespace npusim::reference::detail {

// Binary add and binary rescale keep 8 fraction bits so that the sign test
// sees the sum before rounding (npusim's convention, models/quant/layer_ops.cpp).
constexpr std::int32_t kBinaryOne = 256;
// TFLite's add.cc: inputs shifted left by 20 bits before their multipliers.
constexpr int kAddLeftShift = 20;

inline std::int64_t clamp64(std::int64_t v, std::int64_t lo, std::int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}
inline std::int64_t format_min(NumberFormat f) {
  return f == NumberFormat::int4 ? -8 : (f == NumberFormat::binary ? -1 : -128);
}
inline std::int64_t format_max(NumberFormat f) {
  return f == NumberFormat::int4 ? 7 : (f == NumberFormat::binary ? 1 : 127);
}

inline void fail_unless(bool ok, const Layer& layer, const char* what) {
  if (!ok) throw std::invalid_argument("reference: layer " + layer.name + ": " + what);
}

inline Tensor empty_output(const QuantizedGraph& qgraph, std::size_t i) {
  Tensor t;
  t.dims = qgraph.graph.layers[i].output_dims;
  t.format = qgraph.layers[i].output_format.value_or(qgraph.mac.activation);
  std::size_t n = 1;
  for (const auto d : t.dims) n *= static_cast<std::size_t>(d);
  if (is_integer_class(t.format)) {
    t.quant = qgraph.layers[i].output_quant;
    t.q.assign(n, 0);
  } else {
    t.f.assign(n, 0.0f);
  }
  return t;
}

inline std::int8_t to_level(std::int64_t v, Activation act, const QuantParams& q, NumberFormat f) {
  if (act != Activation::none && v < q.zero_point) v = q.zero_point;
  if (act == Activation::relu6) {
    const double six = std::round(6.0 / q.scale);
    const std::int64_t ceiling = q.zero_point + static_cast<std::int64_t>(six < 1e12 ? six : 1e12);
    if (v > ceiling) v = ceiling;
  }
  return static_cast<std::int8_t>(clamp64(v, format_min(f), format_max(f)));
}

inline std::int8_t to_binary(bool at_or_above_midpoint, Activation act, const QuantParams& q) {
  if (q.zero_point != 0) return at_or_above_midpoint ? 1 : -1;
  return (act != Activation::none || at_or_above_midpoint) ? 1 : -1;
}

inline float float_act(float x, Activation act) {
  if (act == Activation::none || !(x < 0.0f || x > 6.0f)) return x;
  if (x < 0.0f) return 0.0f;
  return act == Activation::relu6 ? 6.0f : x;
}

inline float dequantize_fp32(std::int32_t q, const QuantParams& p) {
  return static_cast<float>(q - p.zero_point) * static_cast<float>(p.scale);
}
inline std::int64_t quantize_fp32(float x, const QuantParams& p) {
  float level = std::nearbyint(x / static_cast<float>(p.scale));
  level = level < -1e12f ? -1e12f : (level > 1e12f ? 1e12f : level);
  return static_cast<std::int64_t>(level) + p.zero_point;
}

struct Multiplier {
  std::int32_t m = 0;
  int shift = 0;
};
inline Multiplier multiplier_of(double real) {
  if (!(real > 0.0) || std::isinf(real)) return {};
  int shift = 0;
  const double fraction = std::frexp(real, &shift);
  auto m = static_cast<std::int64_t>(std::round(fraction * 2147483648.0));
  if (m == (std::int64_t{1} << 31)) {
    m /= 2;
    ++shift;
  }
  if (shift < -31) return {};
  return {static_cast<std::int32_t>(m), shift};
}
inline std::int32_t times(std::int32_t x, Multiplier m) { return multiply_by_multiplier(x, m.m, m.shift); }

// Softmax and clip (reference_ops.cpp).
Tensor softmax_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor clip_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor scale_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor sigmoid_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor mul_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& a, const Tensor& b);
// The function layers of reference_functions.cpp: tanh, gelu, leaky_relu,
// prelu, hard_swish (function_layer); sub, div; log_softmax, reduce
// (axis_layer); transpose, slice (move_layer).
Tensor function_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor sub_div_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& a, const Tensor& b);
Tensor axis_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);
Tensor move_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in);

}  // namespace npusim::reference::detail
