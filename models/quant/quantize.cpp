#include "models/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

#include "accel/formats/float_formats.h"
#include "accel/formats/requantize.h"
#include "models/layer_weights.h"
#include "models/quant/calibration.h"
#include "models/quant/format_plan.h"
#include "models/quant/layer_ops.h"
#include "models/reference/fp32_executor.h"
#include "models/seeded_random.h"

// The integer-only scheme. For a compute layer with input (s_a, zp_a),
// per-channel weight scales s_w[n] (zero point 0) and output (s_o, zp_o), the
// real output of channel n is
//
//   y[n] = sum_k (q_a[k] - zp_a) s_a * q_w[k][n] s_w[n] + b[n]
//        = s_a s_w[n] * ( sum_k q_a[k] q_w[k][n]          <- the array's plain integer GEMM
//                         - zp_a * sum_k q_w[k][n]         <- depends on the weights only
//                         + b[n] / (s_a s_w[n]) )          <- the bias in accumulator units
//
// so bias_int[n] = round(b[n] / (s_a s_w[n])) - zp_a * sum_k q_w[k][n] is fixed
// at quantization time, and the post-processing unit computes
//
//   q_y[n] = zp_o + round((acc + bias_int[n]) * M[n]),  M[n] = s_a s_w[n] / s_o
//
// with M[n] a fixed-point multiplier and shift (accel/formats/requantize.h), then clamps
// to the format (and to [zp_o, zp_o + round(6 / s_o)] for ReLU / ReLU6). im2col
// pads with zp_a, a real 0, so padded positions cancel in the cross term too.

namespace npusim {
namespace {

constexpr double kInt32Lo = std::numeric_limits<std::int32_t>::min();
constexpr double kInt32Hi = std::numeric_limits<std::int32_t>::max();

std::int32_t round_to_int32(double x) {
  return static_cast<std::int32_t>(std::clamp(std::round(x), kInt32Lo, kInt32Hi));
}

// Integer-class value of x: binary is the level nearest to x (+1 at the
// midpoint, so sign(x) with -0 and 0 giving +1 when the zero point is 0).
std::int8_t quantize_value(double x, const QuantParams& quant, NumberFormat format) {
  if (format == NumberFormat::binary) return x / quant.scale + quant.zero_point >= 0.0 ? 1 : -1;
  // std::round rounds half away from zero; the clamp keeps the int64 cast defined.
  const double q = std::clamp(std::round(x / quant.scale), -1e12, 1e12);
  return static_cast<std::int8_t>(
      saturate(static_cast<std::int64_t>(q) + quant.zero_point, min_integer_value(format), max_integer_value(format)));
}

// Symmetric scale of a group of weights: max |w| onto the largest symmetric
// integer (127, 7); binary: mean |w|, the L1-optimal scale of sign(w).
double weight_scale(std::span<const float> w, NumberFormat format) {
  double max_abs = 0.0, sum_abs = 0.0;
  for (const float v : w) {
    max_abs = std::max(max_abs, std::fabs(double{v}));
    sum_abs += std::fabs(double{v});
  }
  const double scale = format == NumberFormat::binary ? (w.empty() ? 0.0 : sum_abs / static_cast<double>(w.size()))
                                                      : max_abs / max_integer_value(format);
  return scale > 0.0 && std::isfinite(scale) ? scale : 1.0;
}

Tensor quantize_weights(const Layer& layer, NumberFormat format, bool per_channel) {
  Tensor t;
  t.dims = weight_dims(layer);
  t.format = format;
  const std::span<const float> all(layer.weights);
  const auto channels = static_cast<std::size_t>(t.dims[0]);
  const std::size_t per = channels > 0 ? all.size() / channels : 0;
  if (per_channel) {
    for (std::size_t n = 0; n < channels; ++n) {
      t.quant.channel_scales.push_back(weight_scale(all.subspan(n * per, per), format));
    }
  } else {
    t.quant.scale = weight_scale(all, format);
  }
  t.q.resize(all.size());
  for (std::size_t j = 0; j < all.size(); ++j) {
    const QuantParams channel{t.quant.scale_of(per > 0 ? j / per : 0), 0, {}};
    t.q[j] = quantize_value(all[j], channel, format);
  }
  return t;
}

// Weights, bias (with the cross term of the header comment) and
// requantization of one compute layer.
void quantize_compute_layer(const Layer& layer, const MacFormat& mac, const QuantParams& in, NumberFormat out_format,
                            bool per_channel, QuantizedLayer& ql) {
  ql.weights = quantize_weights(layer, mac.weight, per_channel);
  const auto channels = static_cast<std::size_t>(ql.weights.dims[0]);
  const std::size_t k_len = channels > 0 ? ql.weights.q.size() / channels : 0;
  const QuantParams& out = ql.output_quant;
  ql.bias_int.assign(channels, 0);
  ql.channel_requant.clear();
  for (std::size_t n = 0; n < channels; ++n) {
    const double acc_scale = in.scale * ql.weights.quant.scale_of(n);
    std::int64_t weight_sum = 0;
    for (std::size_t k = 0; k < k_len; ++k) weight_sum += ql.weights.q[n * k_len + k];
    std::int64_t bias = layer.has_bias ? round_to_int32(layer.bias[n] / acc_scale) : 0;
    bias -= std::int64_t{in.zero_point} * weight_sum;
    if (out_format == NumberFormat::binary && out.zero_point != 0) {
      // Binary output with levels {0, 2 s_o}: +1 iff y >= -zp_o * s_o, i.e. iff
      // the accumulator sum reaches ceil(-zp_o * s_o / (s_a s_w[n])); folding
      // that threshold into the bias leaves the PPU a sign test.
      bias -= round_to_int32(std::ceil(-out.zero_point * out.scale / acc_scale));
    }
    ql.bias_int[n] = saturate(bias, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
    if (per_channel) ql.channel_requant.push_back(quantize_multiplier(acc_scale / out.scale));
  }
  if (!per_channel) ql.requant = quantize_multiplier(in.scale * ql.weights.quant.scale / out.scale);
}

// Whether calibration measures tensor t (0: the graph input, i + 1: layer i:
// every layer that computes new values: conv2d, fc, add, concat, mul, scale
// and the PPU functions); pooling, ReLU, clip, flatten, reshape, transpose and
// slice layers inherit their input's parameters instead
// (keeps_input_quantization), softmax has fixed ones and a constant its own.
bool calibrated_tensor(const Graph& graph, std::size_t t) {
  if (t == 0) return true;
  const LayerType type = graph.layers[t - 1].type;
  return type != LayerType::softmax && type != LayerType::constant && !keeps_input_quantization(type);
}

// Quantization parameters of the calibrated tensors, from fp32 runs of every
// calibration input: one pass for min/max and mean |x|, a second to fill the
// histograms when the method or a binary fit needs them.
std::vector<QuantParams> calibrate(const Graph& graph, std::span<const Tensor> inputs, const FormatPlan& plan,
                                   const QuantizationOptions& options) {
  const std::size_t count = graph.layers.size() + 1;
  auto format_of = [&](std::size_t t) { return t == 0 ? plan.input_format : plan.output_formats[t - 1]; };
  const Fp32Executor fp32(graph);
  std::vector<RangeStats> stats(count);
  auto for_each_tensor = [&](auto&& visit) {
    for (const Tensor& input : inputs) {
      const std::vector<Tensor> outputs = fp32.run(input);
      visit(0, input.f);
      for (std::size_t t = 1; t < count; ++t) visit(t, outputs[t - 1].f);
    }
  };
  for_each_tensor([&](std::size_t t, std::span<const float> values) {
    if (calibrated_tensor(graph, t)) stats[t].add(values);
  });

  std::vector<Histogram> histograms(count);
  bool any_histogram = false;
  for (std::size_t t = 0; t < count; ++t) {
    if (!calibrated_tensor(graph, t)) continue;
    const bool needed = format_of(t) == NumberFormat::binary ? binary_needs_histogram(stats[t])
                                                             : options.method != CalibrationMethod::min_max;
    if (!needed || stats[t].count == 0) continue;
    histograms[t] = Histogram(stats[t].min, stats[t].max, kCalibrationBins);
    any_histogram = true;
  }
  if (any_histogram) {
    for_each_tensor([&](std::size_t t, std::span<const float> values) {
      if (!histograms[t].counts.empty()) histograms[t].add(values);
    });
  }

  std::vector<QuantParams> params(count);
  for (std::size_t t = 0; t < count; ++t) {
    if (!calibrated_tensor(graph, t)) continue;
    const NumberFormat format = format_of(t);
    params[t] = format == NumberFormat::binary
                    ? binary_quant(stats[t], histograms[t])
                    : range_quant(choose_range(stats[t], histograms[t], options.method, options, format), format);
  }
  return params;
}

void quantize_integer_layers(QuantizedGraph& qgraph, const std::vector<QuantParams>& calibrated,
                             const QuantizationOptions& options) {
  const Graph& graph = qgraph.graph;
  qgraph.input_quant = calibrated[0];
  std::map<std::string, QuantParams> tensor_quant{{graph.input_name, qgraph.input_quant}};
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    QuantizedLayer& ql = qgraph.layers[i];
    if (layer.type == LayerType::constant) {
      ql.weights = quantize_constant(layer, qgraph.output_format_of(i));
      ql.output_quant = ql.weights.quant;
      tensor_quant[layer.name] = ql.output_quant;
      continue;
    }
    const QuantParams& in = tensor_quant.at(layer.inputs[0]);
    if (keeps_input_quantization(layer.type)) {
      // No rescaling on the post-processing unit.
      ql.output_quant = in;
      tensor_quant[layer.name] = ql.output_quant;
      continue;
    }
    switch (layer.type) {
      case LayerType::conv2d:
      case LayerType::fc:
        ql.output_quant = calibrated[i + 1];
        quantize_compute_layer(layer, qgraph.mac_of(i), in, qgraph.output_format_of(i), options.per_channel, ql);
        break;
      case LayerType::add:
        ql.output_quant = calibrated[i + 1];
        for (std::size_t j = 0; j < 2; ++j) {
          ql.add_requant[j] = quantize_multiplier(tensor_quant.at(layer.inputs[j]).scale / ql.output_quant.scale);
        }
        break;
      case LayerType::concat:
        // Inputs whose parameters differ from the output's are rescaled on the
        // post-processing unit (layer_ops.cpp), the others copied.
        ql.output_quant = calibrated[i + 1];
        break;
      case LayerType::softmax: ql.output_quant = softmax_output_quant(qgraph.output_format_of(i)); break;
      case LayerType::scale:
      case LayerType::sigmoid:
      case LayerType::hard_sigmoid:
      case LayerType::mul:
      case LayerType::tanh:
      case LayerType::gelu:
      case LayerType::leaky_relu:
      case LayerType::prelu:
      case LayerType::hard_swish:
      case LayerType::log_softmax:
      case LayerType::sub:
      case LayerType::div:
      case LayerType::reduce: ql.output_quant = calibrated[i + 1]; break;
      default:  // constant and keeps_input_quantization(): handled above
        break;
    }
    tensor_quant[layer.name] = ql.output_quant;
  }
}

void prepare_float_layers(QuantizedGraph& qgraph) {
  const NumberFormat format = qgraph.mac.weight;
  for (std::size_t i = 0; i < qgraph.graph.layers.size(); ++i) {
    const Layer& layer = qgraph.graph.layers[i];
    QuantizedLayer& ql = qgraph.layers[i];
    if (layer.type == LayerType::constant) {
      ql.weights = quantize_constant(layer, format);
      continue;
    }
    if (!is_compute_layer(layer)) continue;
    ql.weights.dims = weight_dims(layer);
    ql.weights.format = format;
    ql.weights.f.resize(layer.weights.size());
    std::transform(layer.weights.begin(), layer.weights.end(), ql.weights.f.begin(),
                   [format](float w) { return round_to_format(w, format); });
    ql.bias_float = bias_or_zeros(layer);
  }
}

void check_options(const QuantizationOptions& options) {
  if (!(options.percentile > 50.0 && options.percentile <= 100.0)) {
    throw std::invalid_argument("quantize_graph: percentile must be in (50, 100], got " +
                                std::to_string(options.percentile));
  }
  if (options.calibration_samples < 1) {
    throw std::invalid_argument("quantize_graph: calibration_samples must be at least 1");
  }
}

}  // namespace

std::string_view to_string(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::min_max: return "minmax";
    case CalibrationMethod::percentile: return "percentile";
    case CalibrationMethod::mse: return "mse";
  }
  return "?";
}

Tensor make_sample_input(const Graph& graph) { return make_calibration_inputs(graph, 1).front(); }

std::vector<Tensor> make_calibration_inputs(const Graph& graph, int count) {
  std::vector<Tensor> inputs;
  for (int sample = 0; sample < std::max(count, 1); ++sample) {
    Tensor& input = inputs.emplace_back();
    input.dims = graph.input_dims;
    input.format = NumberFormat::fp32;
    input.f.resize(static_cast<std::size_t>(input.elements()));
    // Sample 0 keeps the stream the run's input has always used.
    SeededRandom random(stream_seed(graph.seed, kSampleInputStream + static_cast<std::uint64_t>(sample)));
    for (auto& v : input.f) v = random.uniform(-1.0, 1.0);
  }
  return inputs;
}

QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac, std::span<const Tensor> calibration_inputs_fp32,
                              const QuantizationOptions& options) {
  if (const auto problem = validate(mac)) throw std::invalid_argument("quantize_graph: " + *problem);
  check_options(options);
  QuantizedGraph qgraph;
  qgraph.graph = graph;
  qgraph.mac = mac;
  qgraph.layers.resize(graph.layers.size());
  if (!mac.integer()) {
    prepare_float_layers(qgraph);
    return qgraph;
  }
  if (calibration_inputs_fp32.empty()) {
    throw std::invalid_argument("quantize_graph: an integer format needs at least one calibration input");
  }
  for (const Tensor& input : calibration_inputs_fp32) {
    if (input.format != NumberFormat::fp32 || input.dims != graph.input_dims ||
        input.f.size() != static_cast<std::size_t>(input.elements())) {
      throw std::invalid_argument("quantize_graph: calibration inputs must be fp32 of the graph's input dims");
    }
  }
  const FormatPlan plan = plan_formats(graph, mac, options);
  qgraph.input_format = plan.input_format;
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (is_compute_layer(graph.layers[i])) qgraph.layers[i].mac = plan.layer_macs[i];
    qgraph.layers[i].output_format = plan.output_formats[i];
  }
  quantize_integer_layers(qgraph, calibrate(graph, calibration_inputs_fp32, plan, options), options);
  return qgraph;
}

QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac, const Tensor& calibration_input_fp32,
                              const QuantizationOptions& options) {
  return quantize_graph(graph, mac, std::span<const Tensor>(&calibration_input_fp32, 1), options);
}

Tensor quantize_constant(const Layer& layer, NumberFormat format) {
  Tensor out;
  out.dims = layer.output_dims;
  out.format = format;
  if (layer.type != LayerType::constant || static_cast<std::int64_t>(layer.weights.size()) != out.elements()) {
    throw std::invalid_argument("quantize_constant: layer " + layer.name +
                                " is not a constant with one value per output element");
  }
  if (!is_integer_class(format)) {
    out.f.reserve(layer.weights.size());
    for (const float x : layer.weights) out.f.push_back(round_to_format(x, format));
    return out;
  }
  RangeStats stats;
  stats.add(layer.weights);
  if (format == NumberFormat::binary) {
    Histogram histogram;
    if (binary_needs_histogram(stats)) {
      histogram = Histogram(stats.min, stats.max, kCalibrationBins);
      histogram.add(layer.weights);
    }
    out.quant = binary_quant(stats, histogram);
  } else {
    out.quant = range_quant({stats.min, stats.max}, format);
  }
  out.q.reserve(layer.weights.size());
  for (const float x : layer.weights) out.q.push_back(quantize_value(x, out.quant, format));
  return out;
}

Tensor quantize_input(const QuantizedGraph& qgraph, const Tensor& input_fp32) {
  if (input_fp32.format != NumberFormat::fp32 || input_fp32.dims != qgraph.graph.input_dims ||
      input_fp32.f.size() != static_cast<std::size_t>(input_fp32.elements())) {
    throw std::invalid_argument("quantize_input: expected an fp32 tensor of the graph's input dims");
  }
  Tensor out;
  out.dims = input_fp32.dims;
  out.format = qgraph.graph_input_format();
  if (is_integer_class(out.format)) {
    out.quant = qgraph.input_quant;
    out.q.reserve(input_fp32.f.size());
    if (qgraph.input_rounding == InputRounding::half_even_fp32 && out.format != NumberFormat::binary) {
      const auto scale = static_cast<float>(out.quant.scale);
      for (const float x : input_fp32.f) {
        // nearbyint rounds half to even in the default rounding mode.
        const float q = std::clamp(std::nearbyint(x / scale), -1e12f, 1e12f);
        out.q.push_back(
            static_cast<std::int8_t>(saturate(static_cast<std::int64_t>(q) + out.quant.zero_point,
                                              min_integer_value(out.format), max_integer_value(out.format))));
      }
    } else {
      for (const float x : input_fp32.f) out.q.push_back(quantize_value(x, out.quant, out.format));
    }
  } else {
    out.f.reserve(input_fp32.f.size());
    for (const float x : input_fp32.f) out.f.push_back(round_to_format(x, out.format));
  }
  return out;
}

}  // namespace npusim
