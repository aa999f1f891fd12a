// One entry point for every model file npusim reads, chosen by extension:
//   .json  the project's network format (docs/network_format.md)
//   .onnx  an ONNX model (models/onnx/onnx_import.h): FP32, QDQ or QOperator
//   .csv   a SCALE-Sim topology (models/scalesim_csv.h): one Graph per row
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/graph.h"
#include "models/quant/quantized_graph.h"

namespace npusim {

struct LoadedModel {
  // The fp32 view of the network; for an already-quantized ONNX file its
  // weights are the dequantized integers, so the fp32 golden run is the
  // network the file describes.
  Graph graph;
  // Set when the file carries its own quantization (ONNX QDQ or QOperator):
  // the scales and zero points of the file, not calibrated by npusim.
  std::optional<QuantizedGraph> quantized;
};

// Throws InputError naming the file on any bad input; an unknown extension is
// an error listing the known ones. A SCALE-Sim CSV yields one LoadedModel per
// row; the other formats yield exactly one.
//
// `check`, when set, sees every graph of the file once its structure is read
// and before the parameters a .json or .csv network draws are allocated: the
// resource estimate (sim/commands/resource_estimate.h) refuses a network that
// would not fit before it takes the memory.
using GraphCheck = std::function<void(const std::vector<const Graph*>&)>;

// How to read a model file beyond its contents.
struct ModelLoadOptions {
  // `--input-shape name=1x3x224x224`: the full shape of an ONNX graph input,
  // fixing its dynamic dimensions (its static ones must agree). Any other
  // format refuses them.
  std::map<std::string, std::vector<std::int64_t>> input_shapes;
};
// "name=1x3x224x224" as (name, {1, 3, 224, 224}); std::invalid_argument
// saying what was expected otherwise.
std::pair<std::string, std::vector<std::int64_t>> parse_input_shape(const std::string& text);

std::vector<LoadedModel> load_models(const std::string& path, const GraphCheck& check = {},
                                     const ModelLoadOptions& options = {});

}  // namespace npusim
