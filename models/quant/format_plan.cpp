#include "models/quant/format_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace npusim {
namespace {

bool is_compute(const Layer& layer) { return layer.type == LayerType::conv2d || layer.type == LayerType::fc; }

// Layers whose output is in their input's format (softmax: not its quantization).
bool keeps_format(const Layer& layer) {
  switch (layer.type) {
    case LayerType::maxpool:
    case LayerType::avgpool:
    case LayerType::relu:
    case LayerType::relu6:
    case LayerType::softmax:
    case LayerType::flatten:
    case LayerType::reshape:
    case LayerType::clip:
    case LayerType::scale:
    case LayerType::sigmoid:
    case LayerType::hard_sigmoid:
    case LayerType::tanh:
    case LayerType::gelu:
    case LayerType::leaky_relu:
    case LayerType::prelu:
    case LayerType::hard_swish:
    case LayerType::log_softmax:
    case LayerType::reduce:
    case LayerType::transpose:
    case LayerType::slice: return true;
    case LayerType::conv2d:
    case LayerType::fc:
    case LayerType::add:
    case LayerType::mul:
    case LayerType::sub:
    case LayerType::div:
    case LayerType::concat:
    case LayerType::constant: return false;
  }
  return false;
}

int width_rank(NumberFormat format) {
  switch (format) {
    case NumberFormat::binary: return 0;
    case NumberFormat::int4: return 1;
    default: return 2;
  }
}

NumberFormat wider(std::optional<NumberFormat> a, NumberFormat b) {
  return a && width_rank(*a) >= width_rank(b) ? *a : b;
}

bool keeps_ends(const MacFormat& mac, EightBitEnds ends) {
  switch (ends) {
    case EightBitEnds::none: return false;
    case EightBitEnds::binary_only: return mac.weight == NumberFormat::binary || mac.activation == NumberFormat::binary;
    case EightBitEnds::narrow: return storage_bits(mac.weight) < 8 || storage_bits(mac.activation) < 8;
  }
  return false;
}

void assign_eight_bit_layers(const Graph& graph, const MacFormat& mac, const QuantizationOptions& options,
                             std::vector<MacFormat>& macs) {
  // The same PE runs the W8A8 layers, so it keeps its bit-products per cycle:
  // a 64-lane XNOR-popcount PE (64 1x1-bit products) does one 8x8-bit MAC per
  // cycle (bit-serially), not 64; a 2-lane W4A4 PE does one as well.
  const int bit_products = mac.lanes * storage_bits(mac.weight) * storage_bits(mac.activation);
  const MacFormat w8a8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32,
                       std::max(1, bit_products / 64)};
  std::vector<std::size_t> compute;
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (is_compute(graph.layers[i])) compute.push_back(i);
  }
  if (!compute.empty() && keeps_ends(mac, options.eight_bit_ends)) {
    macs[compute.front()] = w8a8;
    macs[compute.back()] = w8a8;
  }
  for (const std::string& name : options.eight_bit_layers) {
    std::size_t i = 0;
    while (i < graph.layers.size() && graph.layers[i].name != name) ++i;
    if (i == graph.layers.size() || !is_compute(graph.layers[i])) {
      throw std::invalid_argument("quantize: eight_bit_layers names " + name +
                                  ", which is not a conv2d or fc layer of " + graph.name);
    }
    macs[i] = w8a8;
  }
}

}  // namespace

FormatPlan plan_formats(const Graph& graph, const MacFormat& mac, const QuantizationOptions& options) {
  const std::size_t n = graph.layers.size();
  FormatPlan plan;
  plan.layer_macs.assign(n, mac);
  plan.input_format = mac.activation;
  plan.output_formats.assign(n, mac.activation);
  if (!mac.integer()) return plan;
  assign_eight_bit_layers(graph, mac, options, plan.layer_macs);

  // Tensor t: 0 is the graph input, i + 1 the output of layer i.
  std::map<std::string, std::size_t> tensor_of{{graph.input_name, 0}};
  std::vector<std::vector<std::size_t>> readers(n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    for (const std::string& input : graph.layers[i].inputs) {
      const auto found = tensor_of.find(input);
      if (found == tensor_of.end()) {
        throw std::invalid_argument("quantize: layer " + graph.layers[i].name + " reads unknown tensor " + input);
      }
      readers[found->second].push_back(i);
    }
    tensor_of[graph.layers[i].name] = i + 1;
  }
  auto preferred = [&](std::size_t t) -> std::optional<NumberFormat> {
    if (t == 0) return mac.activation;
    const Layer& producer = graph.layers[t - 1];
    if (is_compute(producer)) return plan.layer_macs[t - 1].activation;
    if (keeps_format(producer)) return std::nullopt;  // its input's format
    return mac.activation;
  };

  // Formats only ever widen, so this settles after a few sweeps.
  std::vector<std::optional<NumberFormat>> format(n + 1);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t t = n + 1; t-- > 0;) {
      std::optional<NumberFormat> f = format[t];
      for (const std::size_t reader : readers[t]) {
        if (is_compute(graph.layers[reader])) {
          f = wider(f, plan.layer_macs[reader].activation);
        } else if (keeps_format(graph.layers[reader]) && format[reader + 1]) {
          f = wider(f, *format[reader + 1]);
        }
      }
      if (!f) f = preferred(t);
      if (!f) continue;
      if (format[t] != f) {
        format[t] = f;
        changed = true;
      }
      for (const std::size_t reader : readers[t]) {
        if (is_compute(graph.layers[reader])) {
          NumberFormat& activation = plan.layer_macs[reader].activation;
          if (activation != *f) activation = *f, changed = true;
        } else if (keeps_format(graph.layers[reader]) && format[reader + 1] != f) {
          format[reader + 1] = f;
          changed = true;
        }
      }
    }
  }
  plan.input_format = format[0].value_or(mac.activation);
  for (std::size_t i = 0; i < n; ++i) plan.output_formats[i] = format[i + 1].value_or(mac.activation);
  return plan;
}

}  // namespace npusim
