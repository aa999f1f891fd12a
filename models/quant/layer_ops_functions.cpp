#include "models/quant/layer_ops_functions.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/formats/float_formats.h"
#include "accel/formats/requantize.h"

namespace npusim {
namespace {

void require(bool condition, const Layer& layer, const char* what) {
  if (!condition) throw std::invalid_argument("layer " + layer.name + ": " + what);
}

// Level i of an integer-class tensor as DequantizeLinear gives it (fp32).
float real_at(const Tensor& t, std::size_t i) {
  return static_cast<float>(t.q[i] - t.quant.zero_point) * static_cast<float>(t.quant.scale);
}

// Element i of `t` as the fp32 value the function reads.
float value_at(const Tensor& t, std::size_t i) { return t.q.empty() ? t.f[i] : real_at(t, i); }

// Stores fp32 result y as element i of `out`: rounded to a float format, or
// QuantizeLinear's level (NaN: the zero point), or binary's sign test.
void store(Tensor& out, std::size_t i, float y) {
  if (!is_integer_class(out.format)) {
    out.f[i] = round_to_format(y, out.format);
    return;
  }
  const QuantParams& q = out.quant;
  const float scaled = y / static_cast<float>(q.scale);
  if (out.format == NumberFormat::binary) {
    out.q[i] = scaled + static_cast<float>(q.zero_point) >= 0.0f ? 1 : -1;
    return;
  }
  const float level = std::isnan(scaled) ? 0.0f : std::fmin(std::fmax(std::nearbyint(scaled), -1e12f), 1e12f);
  out.q[i] = static_cast<std::int8_t>(saturate(static_cast<std::int64_t>(level) + q.zero_point,
                                               min_integer_value(out.format), max_integer_value(out.format)));
}

// The one-input elementwise functions, in fp32, in the order torch.onnx and
// ONNX Runtime write them (docs/onnx.md).
float unary(const Layer& layer, float x, std::size_t channel) {
  switch (layer.type) {
    case LayerType::tanh: return std::tanh(x);
    case LayerType::gelu:
      if (layer.gelu.tanh_approximation) {
        const float inner = 0.7978845834732056f * (x + 0.044715f * (x * (x * x)));
        return 0.5f * (x * (1.0f + std::tanh(inner)));
      }
      return (x * (std::erf(x / 1.41421353816986084f) + 1.0f)) * 0.5f;
    case LayerType::leaky_relu: return x >= 0.0f ? x : layer.alpha * x;
    case LayerType::prelu: return x >= 0.0f ? x : layer.weights[channel] * x;
    case LayerType::hard_swish: {
      const float t = (1.0f / 6.0f) * x + 0.5f;
      return x * (t > 1.0f ? 1.0f : (t < 0.0f ? 0.0f : t));
    }
    default: throw std::logic_error("unary: not an elementwise function layer");
  }
}

Tensor run_unary(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  const auto channels = static_cast<std::size_t>(out.dims.at(0));
  require(layer.type != LayerType::prelu || layer.weights.size() == channels, layer,
          "prelu needs one slope per channel");
  const std::size_t plane = channels == 0 ? 1 : static_cast<std::size_t>(out.elements()) / channels;
  const auto n = static_cast<std::size_t>(out.elements());
  for (std::size_t i = 0; i < n; ++i) store(out, i, unary(layer, value_at(in, i), i / plane));
  return out;
}

// sub and div: b of a's dims, or one value per channel ({C, 1, 1}).
Tensor run_binary(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& a, const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const bool per_channel = b.dims != a.dims;
  require(!per_channel || (b.dims.size() == 3 && b.dims[0] == a.dims.at(0) && b.dims[1] == 1 && b.dims[2] == 1), layer,
          "the second input must have the first's dims or {C, 1, 1}");
  Tensor out = output_tensor(qgraph, layer_index);
  const auto plane = static_cast<std::size_t>(a.dims.at(1) * a.dims.at(2));
  const bool divide = layer.type == LayerType::div;
  const auto n = static_cast<std::size_t>(out.elements());
  for (std::size_t i = 0; i < n; ++i) {
    const float x = value_at(a, i), y = value_at(b, per_channel ? i / plane : i);
    store(out, i, divide ? x / y : x - y);
  }
  return out;
}

// Geometry of a reduction or softmax along `axis` of {C, H, W}.
struct AxisWalk {
  std::int64_t outer = 1, length = 1, stride = 1;
};
AxisWalk walk_of(const std::vector<std::int64_t>& dims, int axis) {
  AxisWalk w;
  const auto a = static_cast<std::size_t>(axis);
  w.length = dims.at(a);
  for (std::size_t d = 0; d < a; ++d) w.outer *= dims[d];
  for (std::size_t d = a + 1; d < 3; ++d) w.stride *= dims[d];
  return w;
}

// log_softmax: (x - max) - log(sum exp(x - max)); reduce: sum, max or mean
// (the fp32 sum divided by the length), summed in increasing index order.
Tensor run_along_axis(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  require(layer.axis >= 0 && layer.axis <= 2 && in.dims.size() == 3, layer, "axis out of range");
  Tensor out = output_tensor(qgraph, layer_index);
  const AxisWalk w = walk_of(in.dims, layer.axis);
  const bool softmax = layer.type == LayerType::log_softmax;
  std::vector<float> x(static_cast<std::size_t>(w.length));
  for (std::int64_t o = 0; o < w.outer; ++o) {
    for (std::int64_t j = 0; j < w.stride; ++j) {
      const auto at = [&](std::int64_t l) { return static_cast<std::size_t>((o * w.length + l) * w.stride + j); };
      for (std::int64_t l = 0; l < w.length; ++l) x[static_cast<std::size_t>(l)] = value_at(in, at(l));
      float max = x[0], sum = 0.0f;
      for (const float v : x) max = v > max ? v : max;
      if (softmax) {
        for (const float v : x) sum += std::exp(v - max);
        const float log_sum = std::log(sum);
        for (std::int64_t l = 0; l < w.length; ++l) store(out, at(l), (x[static_cast<std::size_t>(l)] - max) - log_sum);
        continue;
      }
      for (const float v : x) sum += v;
      const float y = layer.reduce.op == ReduceOp::max    ? max
                      : layer.reduce.op == ReduceOp::mean ? sum / static_cast<float>(w.length)
                                                          : sum;
      store(out, static_cast<std::size_t>(o * w.stride + j), y);
    }
  }
  return out;
}

// transpose (output axis a is input axis perm[a]) and slice: levels or
// values copied, nothing computed.
Tensor run_move(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  require(in.dims.size() == 3 && out.dims.size() == 3, layer, "expected {C, H, W} tensors");
  const bool integer = is_integer_class(out.format);
  require(!integer || (in.quant.scale == out.quant.scale && in.quant.zero_point == out.quant.zero_point), layer,
          "a data move keeps its input's quantization");
  const std::int64_t in_stride[3] = {in.dims[1] * in.dims[2], in.dims[2], 1};
  std::int64_t step[3] = {0, 0, 0};  // input offset per step of each output axis
  std::int64_t base = 0;
  if (layer.type == LayerType::transpose) {
    require(layer.perm.size() == 3, layer, "transpose needs a permutation of 3 axes");
    for (std::size_t a = 0; a < 3; ++a) step[a] = in_stride[static_cast<std::size_t>(layer.perm[a])];
  } else {
    require(layer.axis >= 0 && layer.axis <= 2 && layer.slice.begin >= 0 &&
                layer.slice.end <= in.dims[static_cast<std::size_t>(layer.axis)],
            layer, "slice out of range");
    for (std::size_t a = 0; a < 3; ++a) step[a] = in_stride[a];
    base = layer.slice.begin * in_stride[static_cast<std::size_t>(layer.axis)];
  }
  std::size_t i = 0;
  for (std::int64_t c = 0; c < out.dims[0]; ++c) {
    for (std::int64_t h = 0; h < out.dims[1]; ++h) {
      for (std::int64_t x = 0; x < out.dims[2]; ++x, ++i) {
        const auto from = static_cast<std::size_t>(base + c * step[0] + h * step[1] + x * step[2]);
        if (integer)
          out.q[i] = in.q[from];
        else
          out.f[i] = in.f[from];
      }
    }
  }
  return out;
}

}  // namespace

bool is_function_layer(LayerType type) {
  switch (type) {
    case LayerType::tanh:
    case LayerType::gelu:
    case LayerType::leaky_relu:
    case LayerType::prelu:
    case LayerType::hard_swish:
    case LayerType::log_softmax:
    case LayerType::sub:
    case LayerType::div:
    case LayerType::reduce:
    case LayerType::transpose:
    case LayerType::slice: return true;
    default: return false;
  }
}

Tensor run_function_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                          std::span<const Tensor* const> inputs) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  switch (layer.type) {
    case LayerType::sub:
    case LayerType::div: return run_binary(qgraph, layer_index, *inputs[0], *inputs[1]);
    case LayerType::log_softmax:
    case LayerType::reduce: return run_along_axis(qgraph, layer_index, *inputs[0]);
    case LayerType::transpose:
    case LayerType::slice: return run_move(qgraph, layer_index, *inputs[0]);
    default: return run_unary(qgraph, layer_index, *inputs[0]);
  }
}

}  // namespace npusim
