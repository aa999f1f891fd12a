#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "models/input_error.h"
#include "models/layer_weights.h"
#include "models/onnx/onnx_builder.h"
#include "models/quant/layer_ops.h"
#include "models/quant/quantize.h"

// Assembles the QuantizedGraph of a QDQ or QOperator file from the scales and
// zero points the import recorded: bias_int and requantization multipliers as
// models/quant/quantize.cpp computes them, requantized the ONNX Runtime way
// (RequantMode::float_half_even).

namespace npusim {
namespace {

std::string quant_text(const OnnxQuant& q) {
  return "scale " + std::to_string(q.scale) + ", zero point " + std::to_string(q.zero_point);
}

// Bias scales the file gives agree with s_in * s_w[n] when they differ by
// less than fp32 rounding of the product.
bool same_scale(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b); }

void fill_compute_layer(const Layer& layer, const OnnxLayerQuant& lq, const OnnxQuant& in, const OnnxQuant& out,
                        QuantizedLayer& ql) {
  const auto channels = static_cast<std::size_t>(output_channels(layer));
  const bool per_channel = lq.weight_scales.size() > 1;
  ql.weights.dims = weight_dims(layer);
  ql.weights.format = NumberFormat::int8;
  ql.weights.q = lq.weights;
  if (per_channel) {
    ql.weights.quant.channel_scales = lq.weight_scales;
    ql.weights.quant.channel_zero_points = lq.weight_zero_points;
  } else {
    ql.weights.quant.scale = lq.weight_scales[0];
    ql.weights.quant.zero_point = lq.weight_zero_points[0];
  }
  std::vector<std::int64_t> bias_acc(channels, 0);
  for (std::size_t n = 0; n < channels; ++n) {
    const double acc_scale = in.scale * ql.weights.quant.scale_of(n);
    if (lq.bias_int32 && same_scale(lq.bias_scales[n], acc_scale)) {
      bias_acc[n] = (*lq.bias_int32)[n];
    } else if (layer.has_bias) {
      bias_acc[n] = static_cast<std::int64_t>(std::round(double{layer.bias[n]} / acc_scale));
    }
  }
  ql.bias_int = fold_weight_terms(ql.weights, bias_acc, in.zero_point);
  ql.output_quant = QuantParams(out.scale, out.zero_point);
  ql.requant_mode = RequantMode::float_half_even;
  if (per_channel) {
    for (std::size_t n = 0; n < channels; ++n) {
      ql.channel_requant.push_back(quantize_multiplier(in.scale * lq.weight_scales[n] / out.scale));
      ql.channel_requant_float.push_back(float_requant_multiplier(in.scale, lq.weight_scales[n], out.scale));
    }
  } else {
    ql.requant = quantize_multiplier(in.scale * lq.weight_scales[0] / out.scale);
    ql.requant_float = float_requant_multiplier(in.scale, lq.weight_scales[0], out.scale);
  }
}

// A constant's values in int8 with the given parameters (the file's, or its
// own min/max ones): round half away from zero, saturate.
Tensor quantize_constant_with(const Layer& layer, const QuantParams& quant) {
  Tensor t;
  t.dims = layer.output_dims;
  t.format = NumberFormat::int8;
  t.quant = quant;
  t.q.reserve(layer.weights.size());
  for (const float x : layer.weights) {
    const double level = std::clamp(std::round(double{x} / quant.scale), -1e12, 1e12);
    t.q.push_back(static_cast<std::int8_t>(
        std::clamp<std::int64_t>(static_cast<std::int64_t>(level) + quant.zero_point, -128, 127)));
  }
  return t;
}

}  // namespace

namespace {

using TensorIndex = std::map<std::string, std::size_t>;

// Sets the quantization of layer i's output tensor from the file's and its
// input's, or throws where npusim's arithmetic cannot follow the file.
void resolve_layer_quant(OnnxBuilder& b, const TensorIndex& index, std::size_t i) {
  auto& tensors = b.tensors();
  const Graph& graph = b.graph();
  const Layer& layer = graph.layers[i];
  OnnxIrTensor& t = tensors[i + 1];
  const std::optional<OnnxQuant> in = layer.inputs.empty() ? std::nullopt : tensors[index.at(layer.inputs[0])].quant;
  const auto& lq = b.layer_quant()[i];
  if (keeps_input_quantization(layer.type)) {
    if (in && t.quant && !(*t.quant == *in)) {
      throw InputError(b.file() + ": layer \"" + layer.name + "\" (" + std::string(to_string(layer.type)) +
                       ") keeps its input's quantization in npusim (" + quant_text(*in) +
                       "), but the file quantizes its output with " + quant_text(*t.quant));
    }
    if (in) t.quant = in;
    return;
  }
  switch (layer.type) {
    case LayerType::conv2d:
    case LayerType::fc:
      if (!lq) {
        throw InputError(b.file() + ": layer \"" + layer.name +
                         "\": fp32 weights in a quantized graph; expected DequantizeLinear of integer weights");
      }
      if (lq->accumulator_output && in) {
        // ConvInteger / MatMulInteger: the accumulators in their own units.
        const bool uniform = std::all_of(lq->weight_scales.begin(), lq->weight_scales.end(),
                                         [&](double s) { return s == lq->weight_scales[0]; });
        if (!uniform) throw std::logic_error("onnx import: integer op with per-channel scales");
        t.quant = OnnxQuant{in->scale * lq->weight_scales[0], 0};
      }
      break;
    case LayerType::softmax: {
      const QuantParams fixed = softmax_output_quant(NumberFormat::int8);
      const OnnxQuant q{fixed.scale, fixed.zero_point};
      if (t.quant && !(*t.quant == q)) {
        throw InputError(b.file() + ": layer \"" + layer.name + "\": the file quantizes the softmax output with " +
                         quant_text(*t.quant) + " (int8 terms); npusim's int8 softmax output has " + quant_text(q) +
                         " (uint8: scale 1/256, zero point 0)");
      }
      t.quant = q;
      break;
    }
    case LayerType::add:
    case LayerType::scale:  // the file's QuantizeLinear gives its output's parameters
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
    case LayerType::reduce: break;
    case LayerType::constant:
      // Not quantized in the file: per tensor from its own min/max, as
      // quantize_graph does.
      if (!t.quant) {
        const QuantParams q = quantize_constant(layer, NumberFormat::int8).quant;
        t.quant = OnnxQuant{q.scale, q.zero_point};
      }
      break;
    case LayerType::concat: {
      bool same = true;
      for (const auto& name : layer.inputs) {
        const auto& q = tensors[index.at(name)].quant;
        same = same && q && in && *q == *in;
      }
      if (!t.quant && same) t.quant = in;
      break;
    }
    default:  // the layers that keep their input's quantization, handled above
      break;
  }
}

// The quantized graph once every tensor has its parameters.
QuantizedGraph assemble_quantized_graph(OnnxBuilder& b, const TensorIndex& index) {
  auto& tensors = b.tensors();
  const Graph& graph = b.graph();
  QuantizedGraph qg;
  qg.graph = graph;
  qg.mac = MacFormat{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  qg.input_quant = QuantParams(tensors[0].quant->scale, tensors[0].quant->zero_point);
  qg.input_rounding = InputRounding::half_even_fp32;
  qg.arithmetic = QuantArithmetic::onnx;
  qg.layers.resize(graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    QuantizedLayer& ql = qg.layers[i];
    const OnnxQuant& out = *tensors[i + 1].quant;
    ql.output_quant = QuantParams(out.scale, out.zero_point);
    if (layer.type == LayerType::constant) {
      ql.weights = quantize_constant_with(layer, ql.output_quant);
      continue;
    }
    const OnnxQuant& in = *tensors[index.at(layer.inputs[0])].quant;
    if (layer.type == LayerType::conv2d || layer.type == LayerType::fc) {
      fill_compute_layer(layer, *b.layer_quant()[i], in, out, ql);
    } else if (layer.type == LayerType::add) {
      for (std::size_t j = 0; j < 2; ++j) {
        ql.add_requant[j] = quantize_multiplier(tensors[index.at(layer.inputs[j])].quant->scale / out.scale);
      }
    }
  }
  return qg;
}

}  // namespace

QuantizedGraph build_file_quantized_graph(OnnxBuilder& b) {
  auto& tensors = b.tensors();
  const Graph& graph = b.graph();
  TensorIndex index;
  for (std::size_t t = 0; t < tensors.size(); ++t) index[tensors[t].name] = t;
  std::vector<std::string> missing;
  if (!tensors[0].quant) missing.push_back("\"" + tensors[0].name + "\" (the graph input)");

  // Resolve every tensor's quantization in topological order.
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    resolve_layer_quant(b, index, i);
    if (!tensors[i + 1].quant) missing.push_back("\"" + tensors[i + 1].name + "\" (layer " + std::to_string(i) + ")");
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t j = 0; j < missing.size(); ++j) list += (j ? ", " : "") + missing[j];
    throw InputError(b.file() + ": a quantized graph needs the quantization of every tensor; none given for " + list +
                     " (expected QuantizeLinear after each float op)");
  }
  return assemble_quantized_graph(b, index);
}

}  // namespace npusim
