// The reference executor's non-GEMM layers (reference_ops.h), one direct loop
// each, from the formulas of docs/numerics.md.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/formats/float_formats.h"
#include "models/reference/reference_detail.h"
#include "models/reference/reference_ops.h"

namespace npusim::reference {
namespace {

using namespace detail;  // NOLINT: this file is detail's user

std::size_t at3(const Tensor& t, std::int64_t c, std::int64_t y, std::int64_t x) {
  return static_cast<std::size_t>((c * t.dims[1] + y) * t.dims[2] + x);
}

Tensor pool(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  const PoolParams& p = layer.pool;
  Tensor out = empty_output(qgraph, i);
  const std::int64_t kh = p.global ? in.dims[1] : p.kernel_h, kw = p.global ? in.dims[2] : p.kernel_w;
  const std::int64_t sh = p.global ? 1 : p.stride_h, sw = p.global ? 1 : p.stride_w;
  const std::int64_t pt = p.global ? 0 : p.pad_top, pl = p.global ? 0 : p.pad_left;
  const bool average = layer.type == LayerType::avgpool;
  const bool integer = is_integer_class(out.format);
  for (std::int64_t c = 0; c < out.dims[0]; ++c) {
    for (std::int64_t oy = 0; oy < out.dims[1]; ++oy) {
      for (std::int64_t ox = 0; ox < out.dims[2]; ++ox) {
        const std::int64_t y0 = std::max<std::int64_t>(oy * sh - pt, 0), y1 = std::min(oy * sh - pt + kh, in.dims[1]);
        const std::int64_t x0 = std::max<std::int64_t>(ox * sw - pl, 0), x1 = std::min(ox * sw - pl + kw, in.dims[2]);
        fail_unless(y1 > y0 && x1 > x0, layer, "pooling window without an input element");
        const std::int64_t count = (y1 - y0) * (x1 - x0);
        std::int64_t sum = 0, max = std::numeric_limits<std::int64_t>::min();
        float fsum = 0.0f, fmax = integer ? 0.0f : in.f[at3(in, c, y0, x0)];
        for (std::int64_t y = y0; y < y1; ++y) {
          for (std::int64_t x = x0; x < x1; ++x) {
            if (integer) {
              const std::int64_t v = in.q[at3(in, c, y, x)];
              sum += v;
              max = std::max(max, v);
              fsum += dequantize_fp32(static_cast<std::int32_t>(v), in.quant);
            } else {
              const float v = in.f[at3(in, c, y, x)];
              fsum += v;
              if (v > fmax) fmax = v;
            }
          }
        }
        const std::size_t o = at3(out, c, oy, ox);
        if (!integer) {
          out.f[o] = round_to_format(average ? fsum / static_cast<float>(count) : fmax, out.format);
        } else if (!average) {
          out.q[o] = static_cast<std::int8_t>(max);
        } else if (out.format == NumberFormat::binary) {
          out.q[o] = sum >= 0 ? 1 : -1;
        } else if (qgraph.arithmetic == QuantArithmetic::onnx) {
          out.q[o] = to_level(quantize_fp32(fsum / static_cast<float>(count), out.quant), Activation::none, out.quant,
                              out.format);
        } else {  // round(sum / count), ties away from zero
          const std::int64_t magnitude = (2 * (sum < 0 ? -sum : sum) + count) / (2 * count);
          out.q[o] = static_cast<std::int8_t>(sum < 0 ? -magnitude : magnitude);
        }
      }
    }
  }
  return out;
}

Tensor add(const QuantizedGraph& qgraph, std::size_t i, const Tensor& a, const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[i];
  fail_unless(a.dims == b.dims, layer, "add inputs differ in shape");
  Tensor out = empty_output(qgraph, i);
  const QuantParams& oq = out.quant;
  if (!is_integer_class(out.format)) {
    for (std::size_t j = 0; j < out.f.size(); ++j) {
      out.f[j] = round_to_format(float_act(a.f[j] + b.f[j], layer.activation), out.format);
    }
    return out;
  }
  const FixedPointMultiplier* given = qgraph.layers[i].add_requant.data();
  const Multiplier ma{given[0].multiplier, given[0].shift}, mb{given[1].multiplier, given[1].shift};
  const double twice_max = 2.0 * std::max(a.quant.scale, b.quant.scale);
  const Multiplier ta = multiplier_of(a.quant.scale / twice_max), tb = multiplier_of(b.quant.scale / twice_max);
  const Multiplier tout = multiplier_of(twice_max / (std::ldexp(1.0, kAddLeftShift) * oq.scale));
  for (std::size_t j = 0; j < out.q.size(); ++j) {
    const std::int32_t da = a.q[j] - a.quant.zero_point, db = b.q[j] - b.quant.zero_point;
    if (out.format == NumberFormat::binary) {
      const std::int64_t v = std::int64_t{times(da * kBinaryOne, ma)} + times(db * kBinaryOne, mb) +
                             std::int64_t{oq.zero_point} * kBinaryOne;
      out.q[j] = to_binary(v >= 0, layer.activation, oq);
    } else if (qgraph.arithmetic == QuantArithmetic::onnx) {
      // ONNX Runtime's QLinearAdd (MLAS, AVX2): on the raw uint8 values u = q + 128,
      // t = fma(u_a, s_a/s_c, fma(u_b, s_b/s_c, zp_c - (s_a/s_c zp_a + s_b/s_c zp_b))), rne.
      const float rac = static_cast<float>(a.quant.scale) / static_cast<float>(oq.scale);
      const float rbc = static_cast<float>(b.quant.scale) / static_cast<float>(oq.scale);
      const float fixed =
          static_cast<float>(oq.zero_point + 128) -
          (rac * static_cast<float>(a.quant.zero_point + 128) + rbc * static_cast<float>(b.quant.zero_point + 128));
      float t = std::fma(static_cast<float>(b.q[j] + 128), rbc, fixed);
      t = std::fma(static_cast<float>(a.q[j] + 128), rac, t);
      out.q[j] = to_level(static_cast<std::int64_t>(std::nearbyint(t)) - 128, layer.activation, oq, out.format);
    } else {
      const std::int32_t raw = times(da * (1 << kAddLeftShift), ta) + times(db * (1 << kAddLeftShift), tb);
      out.q[j] = to_level(std::int64_t{times(raw, tout)} + oq.zero_point, layer.activation, oq, out.format);
    }
  }
  return out;
}

Tensor activation(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  const Activation act = layer.type == LayerType::relu6 ? Activation::relu6 : Activation::relu;
  Tensor out = empty_output(qgraph, i);
  for (std::size_t j = 0; j < out.q.size(); ++j) {
    out.q[j] = out.format == NumberFormat::binary ? to_binary(in.q[j] > 0, act, out.quant)
                                                  : to_level(in.q[j], act, out.quant, out.format);
  }
  for (std::size_t j = 0; j < out.f.size(); ++j) out.f[j] = round_to_format(float_act(in.f[j], act), out.format);
  return out;
}

// One value of a concat input in the output's quantization.
std::int8_t rescaled(std::int8_t q, const Tensor& from, const Tensor& to, QuantArithmetic arithmetic) {
  const bool same = from.quant.scale == to.quant.scale && from.quant.zero_point == to.quant.zero_point &&
                    (to.format != NumberFormat::binary || from.format == NumberFormat::binary);
  if (to.format == NumberFormat::binary) {
    if (same) return q;
    const std::int64_t v = std::int64_t{times((q - from.quant.zero_point) * kBinaryOne,
                                              multiplier_of(from.quant.scale / to.quant.scale))} +
                           std::int64_t{to.quant.zero_point} * kBinaryOne;
    return to_binary(v >= 0, Activation::none, to.quant);
  }
  std::int64_t v = q;
  if (!same && arithmetic == QuantArithmetic::onnx) {
    v = quantize_fp32(dequantize_fp32(q, from.quant), to.quant);
  } else if (!same) {  // TFLite's Requantize op
    v = std::int64_t{times(q - from.quant.zero_point, multiplier_of(from.quant.scale / to.quant.scale))} +
        to.quant.zero_point;
  }
  return to_level(v, Activation::none, to.quant, to.format);
}

Tensor concat(const QuantizedGraph& qgraph, std::size_t i, std::span<const Tensor* const> inputs) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  fail_unless(layer.axis >= 0 && layer.axis <= 2 && out.dims.size() == 3, layer, "concat axis out of range");
  std::int64_t offset = 0;
  for (const Tensor* in : inputs) {
    fail_unless(in->dims.size() == 3, layer, "concat input is not {C, H, W}");
    for (std::int64_t c = 0; c < in->dims[0]; ++c) {
      for (std::int64_t y = 0; y < in->dims[1]; ++y) {
        for (std::int64_t x = 0; x < in->dims[2]; ++x) {
          const std::int64_t oc = c + (layer.axis == 0 ? offset : 0), oy = y + (layer.axis == 1 ? offset : 0);
          const std::int64_t ox = x + (layer.axis == 2 ? offset : 0);
          fail_unless(oc < out.dims[0] && oy < out.dims[1] && ox < out.dims[2], layer,
                      "concat inputs exceed the output");
          if (is_integer_class(out.format)) {
            out.q[at3(out, oc, oy, ox)] = rescaled(in->q[at3(*in, c, y, x)], *in, out, qgraph.arithmetic);
          } else {
            out.f[at3(out, oc, oy, ox)] = round_to_format(in->f[at3(*in, c, y, x)], out.format);
          }
        }
      }
    }
    offset += in->dims[static_cast<std::size_t>(layer.axis)];
  }
  fail_unless(offset == out.dims[static_cast<std::size_t>(layer.axis)], layer, "concat inputs do not fill the output");
  return out;
}

}  // namespace

Tensor run_other_layer(const QuantizedGraph& qgraph, std::size_t i, std::span<const Tensor* const> inputs) {
  using namespace detail;  // NOLINT
  const Layer& layer = qgraph.graph.layers[i];
  const bool two = layer.type == LayerType::add || layer.type == LayerType::mul || layer.type == LayerType::sub ||
                   layer.type == LayerType::div;
  const std::size_t needed = two ? 2 : (layer.type == LayerType::constant ? 0 : 1);
  fail_unless(layer.type == LayerType::concat ? !inputs.empty() : inputs.size() == needed, layer,
              "wrong number of inputs");
  switch (layer.type) {
    case LayerType::maxpool:
    case LayerType::avgpool: return pool(qgraph, i, *inputs[0]);
    case LayerType::add: return add(qgraph, i, *inputs[0], *inputs[1]);
    case LayerType::relu:
    case LayerType::relu6: return activation(qgraph, i, *inputs[0]);
    case LayerType::concat: return concat(qgraph, i, inputs);
    case LayerType::softmax: return softmax_layer(qgraph, i, *inputs[0]);
    case LayerType::clip: return clip_layer(qgraph, i, *inputs[0]);
    case LayerType::scale: return scale_layer(qgraph, i, *inputs[0]);
    case LayerType::sigmoid:
    case LayerType::hard_sigmoid: return sigmoid_layer(qgraph, i, *inputs[0]);
    case LayerType::mul: return mul_layer(qgraph, i, *inputs[0], *inputs[1]);
    case LayerType::tanh:
    case LayerType::gelu:
    case LayerType::leaky_relu:
    case LayerType::prelu:
    case LayerType::hard_swish: return function_layer(qgraph, i, *inputs[0]);
    case LayerType::sub:
    case LayerType::div: return sub_div_layer(qgraph, i, *inputs[0], *inputs[1]);
    case LayerType::log_softmax:
    case LayerType::reduce: return axis_layer(qgraph, i, *inputs[0]);
    case LayerType::transpose:
    case LayerType::slice: return move_layer(qgraph, i, *inputs[0]);
    case LayerType::flatten:
    case LayerType::reshape: {
      Tensor out = empty_output(qgraph, i);
      fail_unless(out.q.size() == inputs[0]->q.size() && out.f.size() == inputs[0]->f.size(), layer,
                  "reshape changes the element count");
      out.q = inputs[0]->q;
      out.f = inputs[0]->f;
      return out;
    }
    case LayerType::constant: {
      Tensor out = empty_output(qgraph, i);
      const Tensor& stored = qgraph.layers[i].weights;
      fail_unless(stored.dims == out.dims && stored.format == out.format && stored.q.size() == out.q.size() &&
                      stored.f.size() == out.f.size() &&
                      (!is_integer_class(out.format) ||
                       (stored.quant.scale == out.quant.scale && stored.quant.zero_point == out.quant.zero_point)),
                  layer, "stored constant does not match the layer's output");
      out.q = stored.q;
      out.f = stored.f;
      return out;
    }
    case LayerType::conv2d:
    case LayerType::fc: break;
  }
  throw std::invalid_argument("reference: layer " + layer.name + ": not a non-GEMM layer");
}

}  // namespace npusim::reference
