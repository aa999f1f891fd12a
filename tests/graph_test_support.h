// Looking into loaded graphs from tests.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/graph.h"

namespace npusim::testing {

inline const Layer& find_layer(const Graph& graph, const std::string& name) {
  for (const auto& layer : graph.layers) {
    if (layer.name == name) return layer;
  }
  throw std::runtime_error("no layer " + name);
}

// MACs of each layer, looking up input dims the way Graph::total_macs does.
inline std::map<std::string, std::int64_t> macs_by_layer(const Graph& graph) {
  std::map<std::string, std::vector<std::int64_t>> dims{{graph.input_name, graph.input_dims}};
  std::map<std::string, std::int64_t> macs;
  for (const auto& layer : graph.layers) {
    macs[layer.name] = layer_macs(layer, dims.at(layer.inputs[0]));
    dims[layer.name] = layer.output_dims;
  }
  return macs;
}

}  // namespace npusim::testing
