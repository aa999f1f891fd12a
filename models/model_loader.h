// One entry point for every model file npusim reads, chosen by extension:
//   .json  the project's network format (docs/network_format.md)
//   .onnx  an ONNX model (models/onnx/onnx_import.h): FP32, QDQ or QOperator
//   .csv   a SCALE-Sim topology (models/scalesim_csv.h): one Graph per row
#pragma once

#include <functional>
#include <optional>
#include <string>
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
std::vector<LoadedModel> load_models(const std::string& path, const GraphCheck& check = {});

}  // namespace npusim
