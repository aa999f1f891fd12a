#include "models/layer_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "accel/float_formats.h"
#include "accel/requantize.h"

// Integer-class conventions (quantize.h): real = (q - zero_point) * scale. A
// binary tensor has two levels, q = -1 and q = +1: with zero point 0 they are
// -s and +s and a value binarizes to its sign after the activation (>= 0 gives
// +1, so relu and relu6 outputs are all +1); with zero point -1 they are 0 and
// 2s and a value binarizes to +1 from the midpoint s up (a threshold above 0,
// so relu and relu6 change nothing). The compute layers' thresholds are folded
// into bias_int (models/quantize.cpp), leaving a sign test here.

namespace npusim {
namespace {

constexpr std::int32_t kInt32Lo = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kInt32Hi = std::numeric_limits<std::int32_t>::max();

// Quantized value of real 6.0 in `quant`.
std::int64_t relu6_ceiling(const QuantParams& quant) {
  const double six = std::min(std::round(6.0 / quant.scale), 1e12);
  return quant.zero_point + static_cast<std::int64_t>(six);
}

std::int8_t integer_output(std::int64_t v, Activation activation, const QuantParams& quant,
                           NumberFormat format) {
  if (activation == Activation::relu || activation == Activation::relu6) {
    v = std::max<std::int64_t>(v, quant.zero_point);
  }
  if (activation == Activation::relu6) v = std::min(v, relu6_ceiling(quant));
  return static_cast<std::int8_t>(
      saturate(v, min_integer_value(format), max_integer_value(format)));
}

// `reaches_threshold`: the real value before the activation is at least the
// midpoint of the two levels.
std::int8_t binary_output(bool reaches_threshold, Activation activation, const QuantParams& quant) {
  if (quant.zero_point != 0) return reaches_threshold ? 1 : -1;
  return activation != Activation::none || reaches_threshold ? 1 : -1;
}

// Binary add: the inputs rescaled to the output scale with kBinaryAddBits
// fraction bits, so that the threshold test is not lost to the rounding of
// each term. |q - zp| <= 255 keeps the shifted value far inside int32.
constexpr int kBinaryAddBits = 8;

// NaN passes through both activations unchanged.
float float_activation(float x, Activation activation) {
  if (activation == Activation::none) return x;
  if (x < 0.0f) return 0.0f;
  return activation == Activation::relu6 && x > 6.0f ? 6.0f : x;
}

Tensor output_tensor(const QuantizedGraph& qgraph, std::size_t layer_index) {
  Tensor out;
  out.dims = qgraph.graph.layers[layer_index].output_dims;
  out.format = qgraph.output_format_of(layer_index);
  const auto n = static_cast<std::size_t>(out.elements());
  if (is_integer_class(out.format)) {
    out.quant = qgraph.layers[layer_index].output_quant;
    out.q.resize(n);
  } else {
    out.f.resize(n);
  }
  return out;
}

void require(bool condition, const Layer& layer, const char* what) {
  if (!condition) throw std::invalid_argument("layer " + layer.name + ": " + what);
}

// Max or average pooling over the in-bounds part of each window.
Tensor run_pool(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const PoolParams& p = layer.pool;
  const bool average = layer.type == LayerType::avgpool;
  const std::int64_t channels = in.dims[0], height = in.dims[1], width = in.dims[2];
  const int kernel_h = p.global ? static_cast<int>(height) : p.kernel_h;
  const int kernel_w = p.global ? static_cast<int>(width) : p.kernel_w;
  const int stride_h = p.global ? 1 : p.stride_h, stride_w = p.global ? 1 : p.stride_w;
  const int pad_top = p.global ? 0 : p.pad_top, pad_left = p.global ? 0 : p.pad_left;
  Tensor out = output_tensor(qgraph, layer_index);
  const std::int64_t out_h = out.dims[1], out_w = out.dims[2];
  const bool integer = is_integer_class(out.format);
  const bool binary = out.format == NumberFormat::binary;
  std::size_t o = 0;
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t oy = 0; oy < out_h; ++oy) {
      const std::int64_t y0 = oy * stride_h - pad_top;
      const std::int64_t y_begin = std::max<std::int64_t>(y0, 0);
      const std::int64_t y_end = std::min<std::int64_t>(y0 + kernel_h, height);
      for (std::int64_t ox = 0; ox < out_w; ++ox, ++o) {
        const std::int64_t x0 = ox * stride_w - pad_left;
        const std::int64_t x_begin = std::max<std::int64_t>(x0, 0);
        const std::int64_t x_end = std::min<std::int64_t>(x0 + kernel_w, width);
        const std::int64_t count = (y_end - y_begin) * (x_end - x_begin);
        require(count > 0, layer, "pooling window without an input element");
        const std::size_t first = static_cast<std::size_t>((c * height + y_begin) * width + x_begin);
        if (integer) {
          std::int64_t sum = 0;
          std::int32_t max = in.q[first];
          for (std::int64_t y = y_begin; y < y_end; ++y) {
            for (std::int64_t x = x_begin; x < x_end; ++x) {
              const std::int32_t v = in.q[static_cast<std::size_t>((c * height + y) * width + x)];
              sum += v;
              max = std::max(max, v);
            }
          }
          if (!average) {
            out.q[o] = static_cast<std::int8_t>(max);
          } else if (binary) {
            out.q[o] = sum >= 0 ? 1 : -1;
          } else {
            out.q[o] = static_cast<std::int8_t>(rounding_divide(sum, count));
          }
        } else {
          float sum = 0.0f;
          float max = in.f[first];
          for (std::int64_t y = y_begin; y < y_end; ++y) {
            for (std::int64_t x = x_begin; x < x_end; ++x) {
              const float v = in.f[static_cast<std::size_t>((c * height + y) * width + x)];
              sum += v;
              max = v > max ? v : max;
            }
          }
          const float value = average ? sum / static_cast<float>(count) : max;
          out.f[o] = round_to_format(value, out.format);
        }
      }
    }
  }
  return out;
}

Tensor run_add(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& a,
               const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const QuantizedLayer& ql = qgraph.layers[layer_index];
  require(a.dims == b.dims, layer, "add inputs differ in shape");
  Tensor out = output_tensor(qgraph, layer_index);
  const std::size_t n = out.q.size() + out.f.size();
  if (out.format == NumberFormat::binary) {
    const std::int64_t one = std::int64_t{1} << kBinaryAddBits;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v =
          std::int64_t{multiply_by_quantized_multiplier((a.q[i] - a.quant.zero_point) * one, ql.add_requant[0])} +
          multiply_by_quantized_multiplier((b.q[i] - b.quant.zero_point) * one, ql.add_requant[1]) +
          out.quant.zero_point * one;
      out.q[i] = binary_output(v >= 0, layer.activation, out.quant);
    }
  } else if (is_integer_class(out.format)) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v =
          std::int64_t{multiply_by_quantized_multiplier(a.q[i] - a.quant.zero_point, ql.add_requant[0])} +
          multiply_by_quantized_multiplier(b.q[i] - b.quant.zero_point, ql.add_requant[1]) +
          out.quant.zero_point;
      out.q[i] = integer_output(v, layer.activation, out.quant, out.format);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      out.f[i] = round_to_format(float_activation(a.f[i] + b.f[i], layer.activation), out.format);
    }
  }
  return out;
}

Tensor run_activation_layer(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const Activation activation =
      layer.type == LayerType::relu6 ? Activation::relu6 : Activation::relu;
  Tensor out = output_tensor(qgraph, layer_index);
  const std::size_t n = out.q.size() + out.f.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (out.format == NumberFormat::binary) {
      out.q[i] = binary_output(in.q[i] > 0, activation, out.quant);
    } else if (is_integer_class(out.format)) {
      out.q[i] = integer_output(in.q[i], activation, out.quant, out.format);
    } else {
      out.f[i] = round_to_format(float_activation(in.f[i], activation), out.format);
    }
  }
  return out;
}

}  // namespace

Tensor finish_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                            std::span<const std::int32_t> acc_int,
                            std::span<const float> acc_float) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const QuantizedLayer& ql = qgraph.layers[layer_index];
  require(layer.type == LayerType::conv2d || layer.type == LayerType::fc, layer,
          "finish_compute_layer needs a conv2d or fc layer");
  Tensor out = output_tensor(qgraph, layer_index);
  const std::size_t channels = static_cast<std::size_t>(out.dims[0]);
  const std::size_t pixels = static_cast<std::size_t>(out.dims[1] * out.dims[2]);
  if (qgraph.mac_of(layer_index).integer()) {
    require(acc_int.size() == channels * pixels, layer, "wrong number of int32 accumulators");
    require(ql.channel_requant.empty() || ql.channel_requant.size() == channels, layer,
            "channel_requant needs one multiplier per output channel");
    for (std::size_t n = 0; n < channels; ++n) {
      const std::int64_t bias = ql.bias_int.empty() ? 0 : ql.bias_int[n];
      const FixedPointMultiplier requant = ql.channel_requant.empty() ? ql.requant : ql.channel_requant[n];
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = n * pixels + p;
        const std::int64_t sum = acc_int[i] + bias;
        if (out.format == NumberFormat::binary) {
          out.q[i] = binary_output(sum >= 0, layer.activation, out.quant);
          continue;
        }
        const std::int64_t v =
            std::int64_t{multiply_by_quantized_multiplier(saturate(sum, kInt32Lo, kInt32Hi), requant)} +
            out.quant.zero_point;
        out.q[i] = integer_output(v, layer.activation, out.quant, out.format);
      }
    }
  } else {
    require(acc_float.size() == channels * pixels, layer, "wrong number of float accumulators");
    for (std::size_t n = 0; n < channels; ++n) {
      const float bias = ql.bias_float.empty() ? 0.0f : ql.bias_float[n];
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = n * pixels + p;
        out.f[i] = round_to_format(float_activation(acc_float[i] + bias, layer.activation), out.format);
      }
    }
  }
  return out;
}

Tensor run_elementwise_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                             std::span<const Tensor* const> inputs) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const std::size_t expected = layer.type == LayerType::add ? 2 : 1;
  require(inputs.size() == expected, layer, "wrong number of input tensors");
  const NumberFormat out_format = qgraph.output_format_of(layer_index);
  for (const Tensor* input : inputs) {
    // An add rescales integer inputs of any format; the other layers keep
    // their input's format.
    const bool format_ok =
        input != nullptr && (layer.type == LayerType::add && is_integer_class(out_format)
                                 ? is_integer_class(input->format)
                                 : input->format == out_format);
    require(format_ok, layer, "input tensor missing or not in the layer's format");
    require(input->q.size() + input->f.size() == static_cast<std::size_t>(input->elements()), layer,
            "input tensor values do not match its dims");
  }
  switch (layer.type) {
    case LayerType::maxpool:
    case LayerType::avgpool: return run_pool(qgraph, layer_index, *inputs[0]);
    case LayerType::add: return run_add(qgraph, layer_index, *inputs[0], *inputs[1]);
    case LayerType::relu:
    case LayerType::relu6: return run_activation_layer(qgraph, layer_index, *inputs[0]);
    case LayerType::conv2d:
    case LayerType::fc: break;
  }
  throw std::invalid_argument("layer " + layer.name + ": run_elementwise_layer needs a non-GEMM layer");
}

}  // namespace npusim
