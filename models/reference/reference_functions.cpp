// The reference executor's function layers (issue 17's ONNX breadth): tanh,
// gelu, leaky_relu, prelu, hard_swish, log_softmax, sub, div, reduce,
// transpose and slice, restated from their ONNX definitions (docs/onnx.md)
// with loops of their own over {C, H, W} coordinates, not taken from
// models/quant/layer_ops_functions.cpp.
#include <cmath>
#include <cstdint>
#include <vector>

#include "accel/formats/float_formats.h"
#include "models/reference/reference_detail.h"

namespace npusim::reference {
namespace {

using detail::empty_output;
using detail::fail_unless;

// The value an fp32 function reads from element j: the float, or the level
// through DequantizeLinear in fp32.
float read(const Tensor& t, std::size_t j) { return t.f.empty() ? detail::dequantize_fp32(t.q[j], t.quant) : t.f[j]; }

// Writes fp32 y as element j: a float format rounds it; an integer format
// takes QuantizeLinear's level x / s (half to even) + zp, saturated (NaN:
// the zero point); binary the sign of y / s + zp.
void write(Tensor& out, std::size_t j, float y) {
  if (!is_integer_class(out.format)) {
    out.f[j] = round_to_format(y, out.format);
    return;
  }
  const float over_scale = y / static_cast<float>(out.quant.scale);
  if (out.format == NumberFormat::binary) {
    out.q[j] = over_scale + static_cast<float>(out.quant.zero_point) >= 0.0f ? 1 : -1;
    return;
  }
  const std::int64_t level = std::isnan(over_scale) ? out.quant.zero_point : detail::quantize_fp32(y, out.quant);
  out.q[j] =
      static_cast<std::int8_t>(detail::clamp64(level, detail::format_min(out.format), detail::format_max(out.format)));
}

// ONNX's definitions, fp32, the operation order of torch.onnx's exports.
float gelu_erf(float x) {
  const float e = std::erf(x / 1.41421353816986084f);
  return (x * (e + 1.0f)) * 0.5f;
}
float gelu_tanh(float x) {
  const float cube = x * (x * x);
  const float t = std::tanh(0.7978845834732056f * (x + 0.044715f * cube));
  return 0.5f * (x * (1.0f + t));
}
float hard_swish(float x) {
  float gate = (1.0f / 6.0f) * x + 0.5f;
  if (gate > 1.0f) gate = 1.0f;
  if (gate < 0.0f) gate = 0.0f;
  return x * gate;
}

}  // namespace

Tensor detail::function_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const std::int64_t C = out.dims[0], HW = out.dims[1] * out.dims[2];
  fail_unless(layer.type != LayerType::prelu || static_cast<std::int64_t>(layer.weights.size()) == C, layer,
              "prelu needs C slopes");
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t p = 0; p < HW; ++p) {
      const auto j = static_cast<std::size_t>(c * HW + p);
      const float x = read(in, j);
      float y = 0.0f;
      switch (layer.type) {
        case LayerType::tanh: y = std::tanh(x); break;
        case LayerType::gelu: y = layer.gelu.tanh_approximation ? gelu_tanh(x) : gelu_erf(x); break;
        case LayerType::leaky_relu: y = x < 0.0f ? layer.alpha * x : x; break;
        case LayerType::prelu: y = x < 0.0f ? layer.weights[static_cast<std::size_t>(c)] * x : x; break;
        case LayerType::hard_swish: y = hard_swish(x); break;
        default: fail_unless(false, layer, "not an elementwise function");
      }
      // NaN: ONNX's x < 0 is false, so leaky_relu / prelu pass it through.
      if (std::isnan(x) && (layer.type == LayerType::leaky_relu || layer.type == LayerType::prelu)) y = x;
      write(out, j, y);
    }
  }
  return out;
}

Tensor detail::sub_div_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& a, const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const bool channel_operand = b.dims != a.dims;
  fail_unless(!channel_operand || (b.dims[0] == a.dims[0] && b.dims[1] == 1 && b.dims[2] == 1), layer,
              "second input neither the first's shape nor one value per channel");
  const std::int64_t C = a.dims[0], HW = a.dims[1] * a.dims[2];
  for (std::int64_t c = 0; c < C; ++c) {
    for (std::int64_t p = 0; p < HW; ++p) {
      const auto j = static_cast<std::size_t>(c * HW + p);
      const float x = read(a, j);
      const float y = read(b, channel_operand ? static_cast<std::size_t>(c) : j);
      write(out, j, layer.type == LayerType::div ? x / y : x - y);
    }
  }
  return out;
}

// log_softmax and reduce along one axis: the other two axes' coordinates
// enumerated, then the axis walked in increasing order.
Tensor detail::axis_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  fail_unless(layer.axis >= 0 && layer.axis < 3, layer, "axis outside {C, H, W}");
  Tensor out = empty_output(qgraph, i);
  const auto ax = static_cast<std::size_t>(layer.axis);
  const std::int64_t D[3] = {in.dims[0], in.dims[1], in.dims[2]};
  const auto flat = [&](const std::int64_t* at, const std::int64_t* dims) {
    return static_cast<std::size_t>((at[0] * dims[1] + at[1]) * dims[2] + at[2]);
  };
  const std::int64_t O[3] = {out.dims[0], out.dims[1], out.dims[2]};
  std::int64_t at[3] = {0, 0, 0};
  for (at[0] = 0; at[0] < D[0]; at[0] += ax == 0 ? D[0] : 1) {
    for (at[1] = 0; at[1] < D[1]; at[1] += ax == 1 ? D[1] : 1) {
      for (at[2] = 0; at[2] < D[2]; at[2] += ax == 2 ? D[2] : 1) {
        std::int64_t k[3] = {at[0], at[1], at[2]};
        std::vector<float> x;
        for (k[ax] = 0; k[ax] < D[ax]; ++k[ax]) x.push_back(read(in, flat(k, D)));
        float max = x[0];
        for (std::size_t l = 1; l < x.size(); ++l)
          if (x[l] > max) max = x[l];
        float sum = 0.0f;
        if (layer.type == LayerType::log_softmax) {
          for (const float v : x) sum += std::exp(v - max);
          const float log_sum = std::log(sum);
          for (k[ax] = 0; k[ax] < D[ax]; ++k[ax])
            write(out, flat(k, D), (x[static_cast<std::size_t>(k[ax])] - max) - log_sum);
          continue;
        }
        for (const float v : x) sum += v;
        float y = sum;
        if (layer.reduce.op == ReduceOp::max) y = max;
        if (layer.reduce.op == ReduceOp::mean) y = sum / static_cast<float>(D[ax]);
        k[ax] = 0;
        write(out, flat(k, O), y);
      }
    }
  }
  return out;
}

// transpose: every input element scattered to its permuted coordinates;
// slice: the kept range gathered. Levels copied unchanged.
Tensor detail::move_layer(const QuantizedGraph& qgraph, std::size_t i, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[i];
  Tensor out = empty_output(qgraph, i);
  const std::int64_t D[3] = {in.dims[0], in.dims[1], in.dims[2]};
  const std::int64_t O[3] = {out.dims[0], out.dims[1], out.dims[2]};
  const bool transpose = layer.type == LayerType::transpose;
  fail_unless(!transpose || layer.perm.size() == 3, layer, "transpose needs 3 axes");
  std::int64_t k[3];
  for (k[0] = 0; k[0] < D[0]; ++k[0]) {
    for (k[1] = 0; k[1] < D[1]; ++k[1]) {
      for (k[2] = 0; k[2] < D[2]; ++k[2]) {
        std::int64_t to[3] = {k[0], k[1], k[2]};
        if (transpose) {
          for (int a = 0; a < 3; ++a) to[a] = k[layer.perm[static_cast<std::size_t>(a)]];
        } else {
          to[layer.axis] -= layer.slice.begin;
          if (to[layer.axis] < 0 || k[layer.axis] >= layer.slice.end) continue;
        }
        const auto src = static_cast<std::size_t>((k[0] * D[1] + k[1]) * D[2] + k[2]);
        const auto dst = static_cast<std::size_t>((to[0] * O[1] + to[1]) * O[2] + to[2]);
        if (out.f.empty())
          out.q.at(dst) = in.q[src];
        else
          out.f.at(dst) = in.f[src];
      }
    }
  }
  return out;
}

}  // namespace npusim::reference
