#include "models/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>

#include "accel/float_formats.h"
#include "accel/requantize.h"
#include "models/reference_executor.h"
#include "models/seeded_random.h"

namespace npusim {
namespace {

struct TensorStats {
  double max_abs = 0.0;
  double mean_abs = 0.0;
};

TensorStats stats_of(std::span<const float> values) {
  TensorStats stats;
  double sum = 0.0;
  for (const float v : values) {
    const double a = std::fabs(static_cast<double>(v));
    stats.max_abs = std::max(stats.max_abs, a);
    sum += a;
  }
  if (!values.empty()) stats.mean_abs = sum / static_cast<double>(values.size());
  return stats;
}

bool is_compute(const Layer& layer) {
  return layer.type == LayerType::conv2d || layer.type == LayerType::fc;
}

std::int64_t output_channels(const Layer& layer) {
  return layer.type == LayerType::conv2d ? layer.conv.out_channels : layer.fc.out_features;
}

// Layer::weights dims: conv {N, C/groups, R, S}, fc {N, K}.
std::vector<std::int64_t> weight_dims(const Layer& layer) {
  const auto count = static_cast<std::int64_t>(layer.weights.size());
  const std::int64_t n = output_channels(layer);
  if (layer.type == LayerType::fc) return {n, count / n};
  const std::int64_t window = std::int64_t{layer.conv.kernel_h} * layer.conv.kernel_w;
  return {n, count / (n * window), layer.conv.kernel_h, layer.conv.kernel_w};
}

// Symmetric per-tensor scale: max |x| maps to the format's largest positive
// value; binary uses the mean magnitude (the L1-optimal scale for sign(x)).
QuantParams symmetric_quant(const TensorStats& stats, NumberFormat format) {
  const double scale = format == NumberFormat::binary
                           ? stats.mean_abs
                           : stats.max_abs / max_integer_value(format);
  return {scale > 0.0 ? scale : 1.0, 0};
}

std::int8_t quantize_value(double x, const QuantParams& quant, NumberFormat format) {
  if (format == NumberFormat::binary) return x >= 0.0 ? 1 : -1;
  // std::round rounds half away from zero; the clamp keeps the int64 cast defined.
  const double q = std::clamp(std::round(x / quant.scale), -1e12, 1e12);
  return static_cast<std::int8_t>(saturate(static_cast<std::int64_t>(q) + quant.zero_point,
                                           min_integer_value(format), max_integer_value(format)));
}

std::vector<float> bias_or_zeros(const Layer& layer) {
  if (layer.has_bias) return layer.bias;
  return std::vector<float>(static_cast<std::size_t>(output_channels(layer)), 0.0f);
}

// max |x| and mean |x| of the input (entry 0) and of every layer output
// (entry i + 1), from an fp32 run. The run borrows the master weights from
// `graph` instead of copying them and gives them back before returning.
std::vector<TensorStats> calibrate(Graph& graph, const Tensor& input) {
  QuantizedGraph fp32;
  fp32.mac = {NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  fp32.layers.resize(graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    Layer& layer = graph.layers[i];
    if (!is_compute(layer)) continue;
    Tensor& weights = fp32.layers[i].weights;
    weights.dims = weight_dims(layer);
    weights.format = NumberFormat::fp32;
    weights.f = std::move(layer.weights);
    fp32.layers[i].bias_float = bias_or_zeros(layer);
  }
  fp32.graph = std::move(graph);
  const ReferenceResult run = run_reference(fp32, input, 0);
  graph = std::move(fp32.graph);
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (is_compute(graph.layers[i])) graph.layers[i].weights = std::move(fp32.layers[i].weights.f);
  }
  std::vector<TensorStats> stats{stats_of(input.f)};
  for (const Tensor& out : run.outputs) stats.push_back(stats_of(out.f));
  return stats;
}

void prepare_float_layers(QuantizedGraph& qgraph) {
  const NumberFormat format = qgraph.mac.weight;
  for (std::size_t i = 0; i < qgraph.graph.layers.size(); ++i) {
    const Layer& layer = qgraph.graph.layers[i];
    if (!is_compute(layer)) continue;
    QuantizedLayer& ql = qgraph.layers[i];
    ql.weights.dims = weight_dims(layer);
    ql.weights.format = format;
    ql.weights.f.resize(layer.weights.size());
    std::transform(layer.weights.begin(), layer.weights.end(), ql.weights.f.begin(),
                   [format](float w) { return round_to_format(w, format); });
    ql.bias_float = bias_or_zeros(layer);
  }
}

// Integer weights of one compute layer plus its bias and requantization,
// given the quantization of its input and output tensors.
void quantize_compute_layer(const Layer& layer, NumberFormat format, const QuantParams& in,
                            QuantizedLayer& ql) {
  const QuantParams wq = symmetric_quant(stats_of(layer.weights), format);
  ql.weights.dims = weight_dims(layer);
  ql.weights.format = format;
  ql.weights.quant = wq;
  ql.weights.q.resize(layer.weights.size());
  for (std::size_t j = 0; j < layer.weights.size(); ++j) {
    ql.weights.q[j] = quantize_value(layer.weights[j], wq, format);
  }
  const double acc_scale = in.scale * wq.scale;
  ql.bias_int.assign(static_cast<std::size_t>(output_channels(layer)), 0);
  if (layer.has_bias) {
    for (std::size_t n = 0; n < ql.bias_int.size(); ++n) {
      const double b = std::clamp(std::round(layer.bias[n] / acc_scale), -1e12, 1e12);
      ql.bias_int[n] = saturate(static_cast<std::int64_t>(b), std::numeric_limits<std::int32_t>::min(),
                                std::numeric_limits<std::int32_t>::max());
    }
  }
  ql.requant = quantize_multiplier(acc_scale / ql.output_quant.scale);
}

void quantize_integer_layers(QuantizedGraph& qgraph, const std::vector<TensorStats>& stats) {
  const Graph& graph = qgraph.graph;
  const NumberFormat act = qgraph.mac.activation;
  qgraph.input_quant = symmetric_quant(stats[0], act);
  std::map<std::string, QuantParams> tensor_quant{{graph.input_name, qgraph.input_quant}};
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    QuantizedLayer& ql = qgraph.layers[i];
    const QuantParams& in = tensor_quant.at(layer.inputs[0]);
    switch (layer.type) {
      case LayerType::conv2d:
      case LayerType::fc:
        ql.output_quant = symmetric_quant(stats[i + 1], act);
        quantize_compute_layer(layer, qgraph.mac.weight, in, ql);
        break;
      case LayerType::add:
        ql.output_quant = symmetric_quant(stats[i + 1], act);
        for (std::size_t j = 0; j < 2; ++j) {
          ql.add_requant[j] =
              quantize_multiplier(tensor_quant.at(layer.inputs[j]).scale / ql.output_quant.scale);
        }
        break;
      case LayerType::maxpool:
      case LayerType::avgpool:
      case LayerType::relu:
      case LayerType::relu6:
        // These keep the input's scale: no rescaling on the post-processing unit.
        ql.output_quant = in;
        break;
    }
    tensor_quant[layer.name] = ql.output_quant;
  }
}

}  // namespace

Tensor make_sample_input(const Graph& graph) {
  Tensor input;
  input.dims = graph.input_dims;
  input.format = NumberFormat::fp32;
  input.f.resize(static_cast<std::size_t>(input.elements()));
  SeededRandom random(stream_seed(graph.seed, kSampleInputStream));
  for (auto& v : input.f) v = random.uniform(-1.0, 1.0);
  return input;
}

QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac,
                              const Tensor& calibration_input_fp32) {
  if (const auto problem = validate(mac)) throw std::invalid_argument("quantize_graph: " + *problem);
  QuantizedGraph qgraph;
  qgraph.graph = graph;
  qgraph.mac = mac;
  qgraph.layers.resize(graph.layers.size());
  if (!mac.integer()) {
    prepare_float_layers(qgraph);
    return qgraph;
  }
  const Tensor& calibration = calibration_input_fp32;
  if (calibration.format != NumberFormat::fp32 || calibration.dims != graph.input_dims ||
      calibration.f.size() != static_cast<std::size_t>(calibration.elements())) {
    throw std::invalid_argument("quantize_graph: the calibration input must be fp32 of the graph's input dims");
  }
  const std::vector<TensorStats> stats = calibrate(qgraph.graph, calibration);
  quantize_integer_layers(qgraph, stats);
  return qgraph;
}

Tensor quantize_input(const QuantizedGraph& qgraph, const Tensor& input_fp32) {
  if (input_fp32.format != NumberFormat::fp32 || input_fp32.dims != qgraph.graph.input_dims ||
      input_fp32.f.size() != static_cast<std::size_t>(input_fp32.elements())) {
    throw std::invalid_argument("quantize_input: expected an fp32 tensor of the graph's input dims");
  }
  Tensor out;
  out.dims = input_fp32.dims;
  out.format = qgraph.mac.activation;
  if (is_integer_class(out.format)) {
    out.quant = qgraph.input_quant;
    out.q.reserve(input_fp32.f.size());
    for (const float x : input_fp32.f) out.q.push_back(quantize_value(x, out.quant, out.format));
  } else {
    out.f.reserve(input_fp32.f.size());
    for (const float x : input_fp32.f) out.f.push_back(round_to_format(x, out.format));
  }
  return out;
}

}  // namespace npusim
