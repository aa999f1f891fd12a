#include "models/graph.h"

#include <map>
#include <stdexcept>

namespace npusim {

std::int64_t layer_macs(const Layer& layer, const std::vector<std::int64_t>& input_dims) {
  switch (layer.type) {
    case LayerType::conv2d: {
      const auto& c = layer.conv;
      const std::int64_t output_pixels = layer.output_dims.at(1) * layer.output_dims.at(2);
      const std::int64_t channels_per_group = input_dims.at(0) / c.groups;
      return output_pixels * c.out_channels * channels_per_group * c.kernel_h * c.kernel_w;
    }
    case LayerType::fc: {
      std::int64_t k = 1;
      for (const auto d : input_dims) k *= d;
      return layer.fc.out_features * k;
    }
    case LayerType::maxpool:
    case LayerType::avgpool:
    case LayerType::add:
    case LayerType::relu:
    case LayerType::relu6:
    case LayerType::concat:
    case LayerType::softmax:
    case LayerType::flatten:
    case LayerType::reshape:
    case LayerType::clip:
    case LayerType::constant:
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
    case LayerType::reduce:
    case LayerType::transpose:
    case LayerType::slice: return 0;
  }
  return 0;
}

std::int64_t Graph::total_macs() const {
  std::map<std::string, const std::vector<std::int64_t>*> dims_by_name{{input_name, &input_dims}};
  std::int64_t total = 0;
  for (const auto& layer : layers) {
    if (layer.type == LayerType::constant) {
      dims_by_name[layer.name] = &layer.output_dims;
      continue;
    }
    if (layer.inputs.empty()) throw std::logic_error("layer " + layer.name + " has no input");
    const auto it = dims_by_name.find(layer.inputs.front());
    if (it == dims_by_name.end()) {
      throw std::logic_error("layer " + layer.name + " reads " + layer.inputs.front() +
                             ", which is not defined before it");
    }
    total += layer_macs(layer, *it->second);
    dims_by_name[layer.name] = &layer.output_dims;
  }
  return total;
}

std::string_view to_string(LayerType type) {
  switch (type) {
    case LayerType::conv2d: return "conv2d";
    case LayerType::fc: return "fc";
    case LayerType::maxpool: return "maxpool";
    case LayerType::avgpool: return "avgpool";
    case LayerType::add: return "add";
    case LayerType::relu: return "relu";
    case LayerType::relu6: return "relu6";
    case LayerType::concat: return "concat";
    case LayerType::softmax: return "softmax";
    case LayerType::flatten: return "flatten";
    case LayerType::reshape: return "reshape";
    case LayerType::clip: return "clip";
    case LayerType::constant: return "constant";
    case LayerType::scale: return "scale";
    case LayerType::sigmoid: return "sigmoid";
    case LayerType::hard_sigmoid: return "hard_sigmoid";
    case LayerType::mul: return "mul";
    case LayerType::tanh: return "tanh";
    case LayerType::gelu: return "gelu";
    case LayerType::leaky_relu: return "leaky_relu";
    case LayerType::prelu: return "prelu";
    case LayerType::hard_swish: return "hard_swish";
    case LayerType::log_softmax: return "log_softmax";
    case LayerType::sub: return "sub";
    case LayerType::div: return "div";
    case LayerType::reduce: return "reduce";
    case LayerType::transpose: return "transpose";
    case LayerType::slice: return "slice";
  }
  return "?";
}

}  // namespace npusim
