#include "models/quant/layer_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/formats/float_formats.h"
#include "accel/formats/requantize.h"
#include "models/quant/layer_ops_functions.h"

// Integer-class conventions (quantize.h): real = (q - zero_point) * scale. A
// binary tensor has two levels, q = -1 and q = +1: with zero point 0 they are
// -s and +s and a value binarizes to its sign after the activation (>= 0 gives
// +1, so relu and relu6 outputs are all +1); with zero point -1 they are 0 and
// 2s and a value binarizes to +1 from the midpoint s up (a threshold above 0,
// so relu and relu6 change nothing). The compute layers' thresholds are folded
// into bias_int (models/quant/quantize.cpp), leaving a sign test here.

namespace npusim {
namespace {

constexpr std::int32_t kInt32Lo = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kInt32Hi = std::numeric_limits<std::int32_t>::max();

// Quantized value of real 6.0 in `quant`.
std::int64_t relu6_ceiling(const QuantParams& quant) {
  const double six = std::min(std::round(6.0 / quant.scale), 1e12);
  return quant.zero_point + static_cast<std::int64_t>(six);
}

std::int8_t integer_output(std::int64_t v, Activation activation, const QuantParams& quant, NumberFormat format) {
  if (activation == Activation::relu || activation == Activation::relu6) {
    v = std::max<std::int64_t>(v, quant.zero_point);
  }
  if (activation == Activation::relu6) v = std::min(v, relu6_ceiling(quant));
  return static_cast<std::int8_t>(saturate(v, min_integer_value(format), max_integer_value(format)));
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

// QuantArithmetic::onnx: DequantizeLinear in fp32, ONNX Runtime's order
// (the int32 difference rounded to fp32, times the fp32 scale).
float onnx_dequantize(std::int32_t q, const QuantParams& quant) {
  return static_cast<float>(q - quant.zero_point) * static_cast<float>(quant.scale);
}

// QuantizeLinear before saturation: x / s in fp32 rounded half to even (the
// default rounding mode), plus the zero point; the clamp keeps the int64
// conversion defined.
std::int64_t onnx_quantize(float x, const QuantParams& quant) {
  const float level = std::nearbyint(x / static_cast<float>(quant.scale));
  return static_cast<std::int64_t>(std::clamp(level, -1e12f, 1e12f)) + quant.zero_point;
}

// QuantArithmetic::tflite add (TFLite's kernels/add.cc for int8): each
// q - zp is shifted left by 20 bits for headroom, scaled by
// s_i / (2 max(s_a, s_b)), the two summed, and the sum scaled once by
// 2 max(s_a, s_b) / (2^20 s_out).
constexpr int kTfliteAddLeftShift = 20;

struct TfliteAdd {
  FixedPointMultiplier a, b, out;
};

TfliteAdd tflite_add_multipliers(double scale_a, double scale_b, double scale_out) {
  const double twice_max = 2.0 * std::max(scale_a, scale_b);
  return {quantize_multiplier(scale_a / twice_max), quantize_multiplier(scale_b / twice_max),
          quantize_multiplier(twice_max / (std::ldexp(1.0, kTfliteAddLeftShift) * scale_out))};
}

// NaN passes through both activations unchanged.
float float_activation(float x, Activation activation) {
  if (activation == Activation::none) return x;
  if (x < 0.0f) return 0.0f;
  return activation == Activation::relu6 && x > 6.0f ? 6.0f : x;
}

}  // namespace

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

namespace {

void require(bool condition, const Layer& layer, const char* what) {
  if (!condition) throw std::invalid_argument("layer " + layer.name + ": " + what);
}

// QuantArithmetic::onnx average of a pooling window: the dequantized values
// summed in fp32 row by row, divided by the in-bounds count in fp32.
float onnx_window_mean(const Tensor& in, std::int64_t c, std::int64_t y_begin, std::int64_t y_end, std::int64_t x_begin,
                       std::int64_t x_end) {
  float sum = 0.0f;
  for (std::int64_t y = y_begin; y < y_end; ++y) {
    for (std::int64_t x = x_begin; x < x_end; ++x) {
      sum += onnx_dequantize(in.q[static_cast<std::size_t>((c * in.dims[1] + y) * in.dims[2] + x)], in.quant);
    }
  }
  return sum / static_cast<float>((y_end - y_begin) * (x_end - x_begin));
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
  const bool onnx = qgraph.arithmetic == QuantArithmetic::onnx;
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
          } else if (onnx) {
            out.q[o] = integer_output(onnx_quantize(onnx_window_mean(in, c, y_begin, y_end, x_begin, x_end), out.quant),
                                      Activation::none, out.quant, out.format);
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

Tensor run_add(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& a, const Tensor& b) {
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
  } else if (is_integer_class(out.format) && qgraph.arithmetic == QuantArithmetic::onnx) {
    for (std::size_t i = 0; i < n; ++i) {
      // ONNX Runtime fuses DequantizeLinear -> Add -> QuantizeLinear into
      // QLinearAdd (dropping a Relu before the Q), which MLAS computes on the
      // raw uint8 values in fp32 with two FMAs (docs/numerics.md); npusim
      // stores uint8 as q - 128, hence the + 128. int8-typed ONNX
      // activations would need no offset (not tracked: a known limitation).
      const float rac = static_cast<float>(a.quant.scale) / static_cast<float>(out.quant.scale);
      const float rbc = static_cast<float>(b.quant.scale) / static_cast<float>(out.quant.scale);
      const float fixed =
          static_cast<float>(out.quant.zero_point + 128) -
          (rac * static_cast<float>(a.quant.zero_point + 128) + rbc * static_cast<float>(b.quant.zero_point + 128));
      float t = std::fma(static_cast<float>(b.q[i] + 128), rbc, fixed);
      t = std::fma(static_cast<float>(a.q[i] + 128), rac, t);
      out.q[i] =
          integer_output(static_cast<std::int64_t>(std::nearbyint(t)) - 128, layer.activation, out.quant, out.format);
    }
  } else if (is_integer_class(out.format)) {
    const TfliteAdd m = tflite_add_multipliers(a.quant.scale, b.quant.scale, out.quant.scale);
    const std::int32_t one = std::int32_t{1} << kTfliteAddLeftShift;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t sum = multiply_by_quantized_multiplier((a.q[i] - a.quant.zero_point) * one, m.a) +
                               multiply_by_quantized_multiplier((b.q[i] - b.quant.zero_point) * one, m.b);
      const std::int64_t v = std::int64_t{multiply_by_quantized_multiplier(sum, m.out)} + out.quant.zero_point;
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
  const Activation activation = layer.type == LayerType::relu6 ? Activation::relu6 : Activation::relu;
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

// Integer value `q` of `from` in the output's parameters: copied when the two
// agree, else rescaled like an add operand, with the fixed-point multiplier
// s_in / s_out (a function of the two tensors' scales, so graphs built
// without quantize_graph need no extra field).
class Requantizer {
 public:
  Requantizer(const QuantParams& from, NumberFormat from_format, const QuantParams& to, NumberFormat to_format,
              QuantArithmetic arithmetic)
      : from_(from),
        to_(to),
        to_format_(to_format),
        onnx_(arithmetic == QuantArithmetic::onnx),
        same_(from.scale == to.scale && from.zero_point == to.zero_point &&
              (to_format != NumberFormat::binary || from_format == NumberFormat::binary)),
        multiplier_(quantize_multiplier(from.scale / to.scale)) {}

  std::int8_t operator()(std::int8_t q) const {
    if (to_format_ == NumberFormat::binary) {
      if (same_) return q;
      const std::int64_t one = std::int64_t{1} << kBinaryAddBits;
      const std::int64_t v = std::int64_t{multiply_by_quantized_multiplier((q - from_.zero_point) * one, multiplier_)} +
                             to_.zero_point * one;
      return binary_output(v >= 0, Activation::none, to_);
    }
    const std::int64_t v =
        same_   ? std::int64_t{q}
        : onnx_ ? onnx_quantize(onnx_dequantize(q, from_), to_)
                : std::int64_t{multiply_by_quantized_multiplier(q - from_.zero_point, multiplier_)} + to_.zero_point;
    return integer_output(v, Activation::none, to_, to_format_);
  }

 private:
  QuantParams from_, to_;
  NumberFormat to_format_;
  bool onnx_;
  bool same_;
  FixedPointMultiplier multiplier_;
};

// Joins the inputs along layer.axis; each input's block lands at its offset
// along that axis.
Tensor run_concat(const QuantizedGraph& qgraph, std::size_t layer_index, std::span<const Tensor* const> inputs) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  const auto axis = static_cast<std::size_t>(layer.axis);
  require(layer.axis >= 0 && layer.axis <= 2 && out.dims.size() == 3, layer, "concat axis out of range");
  const bool integer = is_integer_class(out.format);
  std::int64_t offset = 0;
  for (const Tensor* in : inputs) {
    require(in->dims.size() == 3, layer, "concat input is not {C, H, W}");
    for (std::size_t d = 0; d < 3; ++d) {
      require(d == axis || in->dims[d] == out.dims[d], layer, "concat inputs differ off the axis");
    }
    require(offset + in->dims[axis] <= out.dims[axis], layer, "concat inputs exceed the output");
    std::int64_t shift[3] = {0, 0, 0};
    shift[axis] = offset;
    const std::optional<Requantizer> requantize =
        integer
            ? std::optional<Requantizer>(std::in_place, in->quant, in->format, out.quant, out.format, qgraph.arithmetic)
            : std::nullopt;
    std::size_t i = 0;
    for (std::int64_t c = 0; c < in->dims[0]; ++c) {
      for (std::int64_t h = 0; h < in->dims[1]; ++h) {
        for (std::int64_t w = 0; w < in->dims[2]; ++w, ++i) {
          const auto o =
              static_cast<std::size_t>(((c + shift[0]) * out.dims[1] + h + shift[1]) * out.dims[2] + w + shift[2]);
          if (integer) {
            out.q[o] = (*requantize)(in->q[i]);
          } else {
            out.f[o] = round_to_format(in->f[i], out.format);
          }
        }
      }
    }
    offset += in->dims[axis];
  }
  require(offset == out.dims[axis], layer, "concat inputs do not fill the output");
  return out;
}

// Softmax along layer.axis. Integer-class: each value is dequantized to fp32
// ((q - zp) as float times the scale as float), then, per softmax vector, in
// fp32: m = max, e_l = exp(x_l - m), sum = e_0 + e_1 + ... in ascending l
// (left to right), p_l = e_l / sum; p_l is quantized to the output with
// round-half-away-from-zero and saturation. Float formats: the same fp32
// steps on the input values, each p_l rounded to the format.
Tensor run_softmax(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  require(layer.axis >= 0 && layer.axis <= 2 && in.dims.size() == 3, layer, "softmax axis out of range");
  Tensor out = output_tensor(qgraph, layer_index);
  const auto axis = static_cast<std::size_t>(layer.axis);
  const std::int64_t length = in.dims[axis];
  std::int64_t outer = 1, stride = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= in.dims[d];
  for (std::size_t d = axis + 1; d < 3; ++d) stride *= in.dims[d];
  const bool integer = is_integer_class(out.format);
  const auto in_scale = static_cast<float>(in.quant.scale);
  std::vector<float> x(static_cast<std::size_t>(length));
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < stride; ++j) {
      const auto at = [&](std::int64_t l) { return static_cast<std::size_t>((o * length + l) * stride + j); };
      for (std::int64_t l = 0; l < length; ++l) {
        x[static_cast<std::size_t>(l)] =
            integer ? static_cast<float>(in.q[at(l)] - in.quant.zero_point) * in_scale : in.f[at(l)];
      }
      float max = x[0];
      for (const float v : x) max = v > max ? v : max;
      float sum = 0.0f;
      for (float& v : x) {
        v = std::exp(v - max);
        sum += v;
      }
      for (std::int64_t l = 0; l < length; ++l) {
        const float p = x[static_cast<std::size_t>(l)] / sum;
        if (!integer) {
          out.f[at(l)] = round_to_format(p, out.format);
        } else if (out.format == NumberFormat::binary) {
          out.q[at(l)] = p / out.quant.scale + out.quant.zero_point >= 0.0 ? 1 : -1;
        } else {
          const double level = std::clamp(std::round(p / out.quant.scale), -1e12, 1e12);
          out.q[at(l)] = integer_output(static_cast<std::int64_t>(level) + out.quant.zero_point, Activation::none,
                                        out.quant, out.format);
        }
      }
    }
  }
  return out;
}

// Clamp to [clip.min, clip.max]. Integer-class: the bounds quantized with the
// tensor's parameters (lo = zp + round(min / s), hi = zp + round(max / s), half
// away from zero) and the values clamped to them. Binary: a level's real value
// is clamped and binarized again (the nearer level, +1 at the midpoint). Float:
// NaN passes through.
Tensor run_clip(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  const float lo_f = layer.clip.min, hi_f = layer.clip.max;
  require(lo_f <= hi_f, layer, "clip min above max");
  if (!is_integer_class(out.format)) {
    for (std::size_t i = 0; i < out.f.size(); ++i) {
      const float v = in.f[i];
      out.f[i] = round_to_format(v < lo_f ? lo_f : (v > hi_f ? hi_f : v), out.format);
    }
    return out;
  }
  const QuantParams& quant = out.quant;
  const auto bound = [&](float real) {
    return quant.zero_point + static_cast<std::int64_t>(std::clamp(std::round(real / quant.scale), -1e12, 1e12));
  };
  const std::int64_t lo = bound(lo_f), hi = bound(hi_f);
  for (std::size_t i = 0; i < out.q.size(); ++i) {
    if (out.format == NumberFormat::binary) {
      const double real = std::clamp((in.q[i] - quant.zero_point) * quant.scale, double{lo_f}, double{hi_f});
      out.q[i] = real / quant.scale + quant.zero_point >= 0.0 ? 1 : -1;
    } else {
      out.q[i] = integer_output(std::clamp<std::int64_t>(in.q[i], lo, hi), Activation::none, quant, out.format);
    }
  }
  return out;
}

// Real value `y` as a level of the integer-class output `out`: rounded half
// away from zero and saturated; binary: the sign against the midpoint.
std::int8_t real_to_level(double y, const Tensor& out) {
  const QuantParams& q = out.quant;
  if (out.format == NumberFormat::binary) return y / q.scale + q.zero_point >= 0.0 ? 1 : -1;
  const double level = std::clamp(std::round(y / q.scale), -1e12, 1e12);
  return integer_output(static_cast<std::int64_t>(level) + q.zero_point, Activation::none, q, out.format);
}

double real_of(const Tensor& t, std::size_t i) { return (t.q[i] - t.quant.zero_point) * t.quant.scale; }

// Per-channel affine, out = in * weights[c] + bias[c]. Float formats: in fp32,
// rounded to the format once. Integer-class: the real value
// (q - zp_in) * s_in * w + b in double, requantized to the output's
// parameters (real_to_level).
Tensor run_scale(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  const auto channels = static_cast<std::size_t>(layer.output_dims.at(0));
  require(layer.weights.size() == channels && layer.bias.size() == channels, layer,
          "scale needs one multiplier and one addend per channel");
  const std::size_t plane = channels == 0 ? 0 : static_cast<std::size_t>(out.elements()) / channels;
  for (std::size_t i = 0; i < out.f.size(); ++i) {
    const std::size_t c = i / plane;
    out.f[i] = round_to_format(in.f[i] * layer.weights[c] + layer.bias[c], out.format);
  }
  for (std::size_t i = 0; i < out.q.size(); ++i) {
    const std::size_t c = i / plane;
    out.q[i] = real_to_level(real_of(in, i) * double{layer.weights[c]} + double{layer.bias[c]}, out);
  }
  return out;
}

// sigmoid 1 / (1 + exp(-x)) and hard_sigmoid max(0, min(1, alpha x + beta)):
// float formats in fp32, rounded to the format; integer-class on the real
// value in double, requantized (real_to_level).
Tensor run_sigmoid(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const bool hard = layer.type == LayerType::hard_sigmoid;
  const float alpha = layer.hard_sigmoid.alpha, beta = layer.hard_sigmoid.beta;
  Tensor out = output_tensor(qgraph, layer_index);
  for (std::size_t i = 0; i < out.f.size(); ++i) {
    const float x = in.f[i];
    float y = 1.0f / (1.0f + std::exp(-x));
    if (hard) {  // NaN propagates, as ONNX's max(0, min(1, t)) in numpy
      const float t = alpha * x + beta;
      y = t > 1.0f ? 1.0f : (t < 0.0f ? 0.0f : t);
    }
    out.f[i] = round_to_format(y, out.format);
  }
  for (std::size_t i = 0; i < out.q.size(); ++i) {
    const double x = real_of(in, i);
    const double y = hard ? std::max(0.0, std::min(1.0, double{alpha} * x + double{beta})) : 1.0 / (1.0 + std::exp(-x));
    out.q[i] = real_to_level(y, out);
  }
  return out;
}

// a * b, b of a's dims or one value per channel ({C, 1, 1}). Float formats in
// fp32; integer-class the product of the real values, requantized.
Tensor run_mul(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& a, const Tensor& b) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const bool per_channel = b.dims != a.dims;
  require(!per_channel || (b.dims.size() == 3 && b.dims[0] == a.dims.at(0) && b.dims[1] == 1 && b.dims[2] == 1), layer,
          "mul's second input must have the first's dims or {C, 1, 1}");
  Tensor out = output_tensor(qgraph, layer_index);
  const std::size_t plane = static_cast<std::size_t>(a.dims.at(1) * a.dims.at(2));
  for (std::size_t i = 0; i < out.f.size(); ++i) {
    out.f[i] = round_to_format(a.f[i] * b.f[per_channel ? i / plane : i], out.format);
  }
  for (std::size_t i = 0; i < out.q.size(); ++i) {
    out.q[i] = real_to_level(real_of(a, i) * real_of(b, per_channel ? i / plane : i), out);
  }
  return out;
}

// flatten and reshape: the row-major values unchanged under new dims.
Tensor run_reshape(const QuantizedGraph& qgraph, std::size_t layer_index, const Tensor& in) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  require(out.elements() == in.elements(), layer, "reshape changes the element count");
  out.q = in.q;
  out.f = in.f;
  return out;
}

// The stored tensor, which quantization (or the fp32 executor) put in the
// layer's QuantizedLayer::weights in the output's format and quantization.
Tensor run_constant(const QuantizedGraph& qgraph, std::size_t layer_index) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  Tensor out = output_tensor(qgraph, layer_index);
  const Tensor& stored = qgraph.layers[layer_index].weights;
  require(stored.dims == out.dims && stored.format == out.format, layer,
          "stored constant tensor does not match the layer's output dims and format");
  if (is_integer_class(out.format)) {
    require(stored.q.size() == out.q.size() && stored.quant.scale == out.quant.scale &&
                stored.quant.zero_point == out.quant.zero_point,
            layer, "stored constant tensor does not match the layer's output quantization");
    out.q = stored.q;
  } else {
    require(stored.f.size() == out.f.size(), layer, "stored constant tensor has the wrong number of values");
    out.f = stored.f;
  }
  return out;
}

}  // namespace

QuantParams softmax_output_quant(NumberFormat format) {
  if (format == NumberFormat::binary) return {0.5, -1};
  const std::int32_t lo = min_integer_value(format), hi = max_integer_value(format);
  return {1.0 / (std::int64_t{hi} - lo + 1), lo};
}

bool has_weight_zero_points(const QuantParams& weight_quant) {
  if (weight_quant.channel_zero_points.empty()) return weight_quant.zero_point != 0;
  return std::any_of(weight_quant.channel_zero_points.begin(), weight_quant.channel_zero_points.end(),
                     [](std::int32_t zp) { return zp != 0; });
}

std::vector<std::int32_t> fold_weight_terms(const Tensor& weights, std::span<const std::int64_t> bias_acc,
                                            std::int32_t input_zero_point) {
  const auto channels = static_cast<std::size_t>(weights.dims.at(0));
  if (bias_acc.size() != channels || weights.q.size() % std::max<std::size_t>(channels, 1) != 0) {
    throw std::invalid_argument("fold_weight_terms: need one bias per output channel and integer weights");
  }
  const std::size_t k_len = channels > 0 ? weights.q.size() / channels : 0;
  std::vector<std::int32_t> folded(channels);
  for (std::size_t n = 0; n < channels; ++n) {
    std::int64_t weight_sum = 0;
    for (std::size_t k = 0; k < k_len; ++k) weight_sum += weights.q[n * k_len + k];
    const std::int64_t zp_w = weights.quant.zero_point_of(n);
    const std::int64_t v = bias_acc[n] - std::int64_t{input_zero_point} * weight_sum +
                           static_cast<std::int64_t>(k_len) * input_zero_point * zp_w;
    folded[n] = saturate(v, kInt32Lo, kInt32Hi);
  }
  return folded;
}

float float_requant_multiplier(double x_scale, double w_scale, double y_scale) {
  const float product = static_cast<float>(x_scale) * static_cast<float>(w_scale);
  return product / static_cast<float>(y_scale);
}

Tensor requantize_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                                std::span<const std::int64_t> sums) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const QuantizedLayer& ql = qgraph.layers[layer_index];
  require(layer.type == LayerType::conv2d || layer.type == LayerType::fc, layer,
          "requantize_compute_layer needs a conv2d or fc layer");
  require(qgraph.mac_of(layer_index).integer(), layer, "requantize_compute_layer needs an integer format");
  Tensor out = output_tensor(qgraph, layer_index);
  const std::size_t channels = static_cast<std::size_t>(out.dims[0]);
  const std::size_t pixels = static_cast<std::size_t>(out.dims[1] * out.dims[2]);
  require(sums.size() == channels * pixels, layer, "wrong number of sums");
  const bool float_mode = ql.requant_mode == RequantMode::float_half_even;
  require(float_mode ? ql.channel_requant_float.empty() || ql.channel_requant_float.size() == channels
                     : ql.channel_requant.empty() || ql.channel_requant.size() == channels,
          layer, "per-channel requantization needs one multiplier per output channel");
  for (std::size_t n = 0; n < channels; ++n) {
    const FixedPointMultiplier requant = ql.channel_requant.empty() ? ql.requant : ql.channel_requant[n];
    const float requant_float = ql.channel_requant_float.empty() ? ql.requant_float : ql.channel_requant_float[n];
    for (std::size_t p = 0; p < pixels; ++p) {
      const std::size_t i = n * pixels + p;
      const std::int64_t sum = sums[i];
      if (out.format == NumberFormat::binary) {
        out.q[i] = binary_output(sum >= 0, layer.activation, out.quant);
        continue;
      }
      const std::int32_t sum32 = saturate(sum, kInt32Lo, kInt32Hi);
      std::int64_t level = 0;
      if (float_mode) {
        // fp32 product, then half-to-even rounding (the default rounding mode);
        // the clamp keeps the int64 conversion defined (and NaN-free inputs
        // cannot arise: sum32 is finite and the multiplier is the layer's).
        const float scaled = static_cast<float>(sum32) * requant_float;
        level = static_cast<std::int64_t>(std::clamp(std::nearbyint(scaled), -1e12f, 1e12f));
      } else {
        level = multiply_by_quantized_multiplier(sum32, requant);
      }
      out.q[i] = integer_output(level + out.quant.zero_point, layer.activation, out.quant, out.format);
    }
  }
  return out;
}

Tensor finish_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                            std::span<const std::int32_t> acc_int, std::span<const float> acc_float,
                            std::span<const std::int64_t> row_sums) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const QuantizedLayer& ql = qgraph.layers[layer_index];
  require(layer.type == LayerType::conv2d || layer.type == LayerType::fc, layer,
          "finish_compute_layer needs a conv2d or fc layer");
  const std::size_t channels = static_cast<std::size_t>(layer.output_dims.at(0));
  const std::size_t pixels = static_cast<std::size_t>(layer.output_dims.at(1) * layer.output_dims.at(2));
  if (qgraph.mac_of(layer_index).integer()) {
    require(acc_int.size() == channels * pixels, layer, "wrong number of int32 accumulators");
    const QuantParams& wq = ql.weights.quant;
    require(wq.channel_zero_points.empty() || wq.channel_zero_points.size() == channels, layer,
            "channel_zero_points needs one zero point per output channel");
    const bool weight_zero_points = has_weight_zero_points(wq);
    require(!weight_zero_points || ql.weights.format != NumberFormat::binary, layer,
            "binary weights cannot have a zero point");
    const std::size_t groups = layer.type == LayerType::conv2d ? static_cast<std::size_t>(layer.conv.groups) : 1;
    require(!weight_zero_points || row_sums.size() == groups * pixels, layer,
            "weights with a zero point need the row sum of every group and output pixel");
    const std::size_t filters_per_group = channels / groups;
    std::vector<std::int64_t> sums(channels * pixels);
    for (std::size_t n = 0; n < channels; ++n) {
      const std::int64_t bias = ql.bias_int.empty() ? 0 : ql.bias_int[n];
      const std::int64_t zp_w = weight_zero_points ? wq.zero_point_of(n) : 0;
      const std::int64_t* rows = weight_zero_points ? row_sums.data() + (n / filters_per_group) * pixels : nullptr;
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = n * pixels + p;
        sums[i] = acc_int[i] + bias - (rows ? zp_w * rows[p] : 0);
      }
    }
    return requantize_compute_layer(qgraph, layer_index, sums);
  }
  Tensor out = output_tensor(qgraph, layer_index);
  require(acc_float.size() == channels * pixels, layer, "wrong number of float accumulators");
  for (std::size_t n = 0; n < channels; ++n) {
    const float bias = ql.bias_float.empty() ? 0.0f : ql.bias_float[n];
    for (std::size_t p = 0; p < pixels; ++p) {
      const std::size_t i = n * pixels + p;
      out.f[i] = round_to_format(float_activation(acc_float[i] + bias, layer.activation), out.format);
    }
  }
  return out;
}

Tensor run_elementwise_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                             std::span<const Tensor* const> inputs) {
  const Layer& layer = qgraph.graph.layers[layer_index];
  const bool binary_op = layer.type == LayerType::add || layer.type == LayerType::mul || layer.type == LayerType::sub ||
                         layer.type == LayerType::div;
  const std::size_t expected = binary_op ? 2 : layer.type == LayerType::constant ? 0 : 1;
  require(layer.type == LayerType::concat ? !inputs.empty() : inputs.size() == expected, layer,
          "wrong number of input tensors");
  const NumberFormat out_format = qgraph.output_format_of(layer_index);
  for (const Tensor* input : inputs) {
    // An add or concat rescales integer inputs of any format; the other
    // layers keep their input's format.
    const bool rescales = binary_op || layer.type == LayerType::concat;
    const bool format_ok =
        input != nullptr &&
        (rescales && is_integer_class(out_format) ? is_integer_class(input->format) : input->format == out_format);
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
    case LayerType::concat: return run_concat(qgraph, layer_index, inputs);
    case LayerType::softmax: return run_softmax(qgraph, layer_index, *inputs[0]);
    case LayerType::clip: return run_clip(qgraph, layer_index, *inputs[0]);
    case LayerType::scale: return run_scale(qgraph, layer_index, *inputs[0]);
    case LayerType::sigmoid:
    case LayerType::hard_sigmoid: return run_sigmoid(qgraph, layer_index, *inputs[0]);
    case LayerType::mul: return run_mul(qgraph, layer_index, *inputs[0], *inputs[1]);
    case LayerType::flatten:
    case LayerType::reshape: return run_reshape(qgraph, layer_index, *inputs[0]);
    case LayerType::constant: return run_constant(qgraph, layer_index);
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
    case LayerType::slice: return run_function_layer(qgraph, layer_index, inputs);
    case LayerType::conv2d:
    case LayerType::fc: break;
  }
  throw std::invalid_argument("layer " + layer.name + ": run_elementwise_layer needs a non-GEMM layer");
}

}  // namespace npusim
