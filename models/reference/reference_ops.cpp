#include "models/reference/reference_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/formats/float_formats.h"
#include "models/reference/reference_detail.h"

// Written from the definitions (docs/numerics.md), not from
// models/quant/layer_ops.cpp: the point is a second, independent derivation.
// Where the two must agree on a convention that is npusim's own choice
// (binary levels, relu6's ceiling, softmax's fixed output quantization), the
// convention is restated here from models/quant/quantized_graph.h and
// models/quant/layer_ops.h.

namespace npusim::reference {
namespace {

using namespace detail;  // NOLINT: this file is detail's user

constexpr std::int64_t kI32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kI32Max = std::numeric_limits<std::int32_t>::max();

}  // namespace

std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = std::int64_t{a} * b;
  const std::int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));  // truncating division
}

std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int64_t mask = (std::int64_t{1} << exponent) - 1;
  const std::int64_t remainder = std::int64_t{x} & mask;
  const std::int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<std::int32_t>((std::int64_t{x} >> exponent) + (remainder > threshold ? 1 : 0));
}

std::int32_t multiply_by_multiplier(std::int32_t x, std::int32_t multiplier, int shift) {
  if (shift <= 0) {
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), std::min(-shift, 62));
  }
  const std::int64_t shifted = std::int64_t{x} * (std::int64_t{1} << std::min(shift, 32));
  if (shift <= 32 && shifted >= kI32Min && shifted <= kI32Max) {
    return saturating_rounding_doubling_high_mul(static_cast<std::int32_t>(shifted), multiplier);
  }
  // x * 2^shift leaves int32: the exact product rounded (half up) and
  // saturated, where TFLite's shift would overflow.
  const __int128 p = static_cast<__int128>(x) * multiplier * (static_cast<__int128>(1) << std::min(shift, 63));
  const __int128 r = (p + (static_cast<__int128>(1) << 30)) >> 31;
  return static_cast<std::int32_t>(r < kI32Min ? kI32Min : (r > kI32Max ? kI32Max : r));
}

Tensor requantize_sums(const QuantizedGraph& qgraph, std::size_t i, std::span<const std::int64_t> sums) {
  const Layer& layer = qgraph.graph.layers[i];
  const QuantizedLayer& ql = qgraph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const auto channels = static_cast<std::size_t>(out.dims[0]);
  const std::size_t pixels = out.q.size() / std::max<std::size_t>(channels, 1);
  fail_unless(sums.size() == out.q.size(), layer, "sums do not match the output");
  const bool fp32_rule = ql.requant_mode == RequantMode::float_half_even;
  for (std::size_t n = 0; n < channels; ++n) {
    const FixedPointMultiplier fixed = ql.channel_requant.empty() ? ql.requant : ql.channel_requant.at(n);
    const float m_fp32 = ql.channel_requant_float.empty() ? ql.requant_float : ql.channel_requant_float.at(n);
    for (std::size_t p = 0; p < pixels; ++p) {
      const std::size_t at = n * pixels + p;
      if (out.format == NumberFormat::binary) {
        out.q[at] = to_binary(sums[at] >= 0, layer.activation, out.quant);
        continue;
      }
      const auto sum32 = static_cast<std::int32_t>(clamp64(sums[at], kI32Min, kI32Max));
      std::int64_t level = 0;
      if (fp32_rule) {
        float scaled = std::nearbyint(static_cast<float>(sum32) * m_fp32);
        scaled = scaled < -1e12f ? -1e12f : (scaled > 1e12f ? 1e12f : scaled);
        level = static_cast<std::int64_t>(scaled);
      } else {
        level = multiply_by_multiplier(sum32, fixed.multiplier, fixed.shift);
      }
      out.q[at] = to_level(level + out.quant.zero_point, layer.activation, out.quant, out.format);
    }
  }
  return out;
}

Tensor finish_float_sums(const QuantizedGraph& qgraph, std::size_t i, std::span<const float> acc) {
  const Layer& layer = qgraph.graph.layers[i];
  const QuantizedLayer& ql = qgraph.layers[i];
  Tensor out = empty_output(qgraph, i);
  fail_unless(acc.size() == out.f.size(), layer, "accumulators do not match the output");
  const auto channels = static_cast<std::size_t>(out.dims[0]);
  const std::size_t pixels = out.f.size() / std::max<std::size_t>(channels, 1);
  for (std::size_t n = 0; n < channels; ++n) {
    const float bias = ql.bias_float.empty() ? 0.0f : ql.bias_float.at(n);
    for (std::size_t p = 0; p < pixels; ++p) {
      const std::size_t at = n * pixels + p;
      out.f[at] = round_to_format(float_act(acc[at] + bias, layer.activation), out.format);
    }
  }
  return out;
}

// Softmax along the axis: fp32 dequantize, m = max, e_l = exp(x_l - m),
// sum left to right, p_l = e_l / sum; p quantized half away from zero in
// double (npusim's fixed output quantization, layer_ops.h).
Tensor detail::softmax_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  fail_unless(layer.axis >= 0 && layer.axis <= 2 && in.dims.size() == 3, layer, "softmax axis out of range");
  Tensor out = empty_output(qgraph, i);
  const bool integer = is_integer_class(out.format);
  const auto axis = static_cast<std::size_t>(layer.axis);
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= in.dims[d];
  for (std::size_t d = axis + 1; d < 3; ++d) inner *= in.dims[d];
  const std::int64_t length = in.dims[axis];
  std::vector<float> e(static_cast<std::size_t>(length));
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < inner; ++j) {
      for (std::int64_t l = 0; l < length; ++l) {
        const auto at = static_cast<std::size_t>((o * length + l) * inner + j);
        e[static_cast<std::size_t>(l)] = integer ? dequantize_fp32(in.q[at], in.quant) : in.f[at];
      }
      float max = e[0];
      for (std::int64_t l = 1; l < length; ++l)
        max = e[static_cast<std::size_t>(l)] > max ? e[static_cast<std::size_t>(l)] : max;
      float sum = 0.0f;
      for (std::int64_t l = 0; l < length; ++l) {
        e[static_cast<std::size_t>(l)] = std::exp(e[static_cast<std::size_t>(l)] - max);
        sum += e[static_cast<std::size_t>(l)];
      }
      for (std::int64_t l = 0; l < length; ++l) {
        const auto at = static_cast<std::size_t>((o * length + l) * inner + j);
        const float p = e[static_cast<std::size_t>(l)] / sum;
        if (!integer) {
          out.f[at] = round_to_format(p, out.format);
        } else if (out.format == NumberFormat::binary) {
          out.q[at] = p / out.quant.scale + out.quant.zero_point >= 0.0 ? 1 : -1;
        } else {
          double level = std::round(p / out.quant.scale);
          level = level < -1e12 ? -1e12 : (level > 1e12 ? 1e12 : level);
          out.q[at] = to_level(static_cast<std::int64_t>(level) + out.quant.zero_point, Activation::none, out.quant,
                               out.format);
        }
      }
    }
  }
  return out;
}

// Clamp to [min, max]: integer bounds zp + round(bound / s) (half away from
// zero); a binary level's real value is clamped and binarized again.
Tensor detail::clip_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  const float lo = layer.clip.min, hi = layer.clip.max;
  fail_unless(lo <= hi, layer, "clip min above max");
  Tensor out = empty_output(qgraph, i);
  for (std::size_t j = 0; j < out.f.size(); ++j) {
    const float v = in.f[j];
    out.f[j] = round_to_format(v < lo ? lo : (v > hi ? hi : v), out.format);
  }
  const QuantParams& q = out.quant;
  const auto level_of = [&](float bound) {
    double r = std::round(bound / q.scale);
    r = r < -1e12 ? -1e12 : (r > 1e12 ? 1e12 : r);
    return q.zero_point + static_cast<std::int64_t>(r);
  };
  const std::int64_t qlo = level_of(lo), qhi = level_of(hi);
  for (std::size_t j = 0; j < out.q.size(); ++j) {
    if (out.format == NumberFormat::binary) {
      double real = (in.q[j] - q.zero_point) * q.scale;
      real = real < lo ? double{lo} : (real > hi ? double{hi} : real);
      out.q[j] = real / q.scale + q.zero_point >= 0.0 ? 1 : -1;
    } else {
      out.q[j] = to_level(clamp64(in.q[j], qlo, qhi), Activation::none, q, out.format);
    }
  }
  return out;
}

// Per-channel affine y = x * w[c] + b[c]: float formats in fp32 then rounded
// to the format; integer levels through their real value in double,
// requantized zp + round(y / s) (half away from zero), saturated; binary the
// sign of y / s + zp.
Tensor detail::scale_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const std::size_t channels = static_cast<std::size_t>(out.dims[0]);
  fail_unless(layer.weights.size() == channels && layer.bias.size() == channels, layer,
              "scale needs C multipliers and C addends");
  const std::size_t per_channel = static_cast<std::size_t>(out.dims[1] * out.dims[2]);
  for (std::size_t c = 0; c < channels; ++c) {
    const float w = layer.weights[c], b = layer.bias[c];
    for (std::size_t p = 0; p < per_channel; ++p) {
      const std::size_t j = c * per_channel + p;
      if (!out.f.empty()) {
        const float product = in.f[j] * w;
        out.f[j] = round_to_format(product + b, out.format);
        continue;
      }
      const QuantParams& q = out.quant;
      const double y = static_cast<double>(in.q[j] - in.quant.zero_point) * in.quant.scale * w + b;
      if (out.format == NumberFormat::binary) {
        out.q[j] = y / q.scale + q.zero_point >= 0.0 ? 1 : -1;
        continue;
      }
      double r = std::round(y / q.scale);
      r = r < -1e12 ? -1e12 : (r > 1e12 ? 1e12 : r);
      out.q[j] = to_level(q.zero_point + static_cast<std::int64_t>(r), Activation::none, q, out.format);
    }
  }
  return out;
}

namespace {

// An integer-class level of output `out` for real value y: zp + round(y / s)
// (half away from zero), saturated; binary +1 iff y / s + zp >= 0.
std::int8_t level_for(double y, const Tensor& out) {
  const QuantParams& q = out.quant;
  if (out.format == NumberFormat::binary) return y / q.scale + q.zero_point >= 0.0 ? 1 : -1;
  double r = std::round(y / q.scale);
  r = r < -1e12 ? -1e12 : (r > 1e12 ? 1e12 : r);
  return to_level(q.zero_point + static_cast<std::int64_t>(r), Activation::none, q, out.format);
}

}  // namespace

// ONNX Sigmoid 1 / (1 + e^-x) and HardSigmoid max(0, min(1, alpha x + beta)):
// fp32 for float formats (then rounded to the format), double on the real
// value of an integer level.
Tensor detail::sigmoid_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  const bool hard = layer.type == LayerType::hard_sigmoid;
  const float alpha = layer.hard_sigmoid.alpha, beta = layer.hard_sigmoid.beta;
  Tensor out = empty_output(qgraph, i);
  for (std::size_t j = 0; j < out.f.size(); ++j) {
    float y;
    if (hard) {
      const float t = alpha * in.f[j] + beta;
      y = t > 1.0f ? 1.0f : t;
      y = y < 0.0f ? 0.0f : y;
    } else {
      y = 1.0f / (1.0f + std::exp(-in.f[j]));
    }
    out.f[j] = round_to_format(y, out.format);
  }
  for (std::size_t j = 0; j < out.q.size(); ++j) {
    const double x = static_cast<double>(in.q[j] - in.quant.zero_point) * in.quant.scale;
    double y;
    if (hard) {
      const double t = double{alpha} * x + double{beta};
      y = t > 1.0 ? 1.0 : (t < 0.0 ? 0.0 : t);
    } else {
      y = 1.0 / (1.0 + std::exp(-x));
    }
    out.q[j] = level_for(y, out);
  }
  return out;
}

// a * b with b either a's shape or one value per channel of a.
Tensor detail::mul_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& a, const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const std::size_t channels = static_cast<std::size_t>(a.dims[0]);
  const std::size_t per_channel = static_cast<std::size_t>(a.dims[1] * a.dims[2]);
  const bool broadcast = b.dims != a.dims;
  fail_unless(!broadcast || (b.dims[0] == a.dims[0] && b.dims[1] * b.dims[2] == 1), layer,
              "mul: second input neither the first's shape nor one value per channel");
  for (std::size_t c = 0; c < channels; ++c) {
    for (std::size_t p = 0; p < per_channel; ++p) {
      const std::size_t j = c * per_channel + p;
      const std::size_t k = broadcast ? c : j;
      if (!out.f.empty()) {
        out.f[j] = round_to_format(a.f[j] * b.f[k], out.format);
      } else {
        const double x = static_cast<double>(a.q[j] - a.quant.zero_point) * a.quant.scale;
        const double y = static_cast<double>(b.q[k] - b.quant.zero_point) * b.quant.scale;
        out.q[j] = level_for(x * y, out);
      }
    }
  }
  return out;
}

}  // namespace npusim::reference
