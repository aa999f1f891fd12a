// Which format every tensor and every compute layer of a graph uses.
//
// An integer graph need not be uniform: binary networks keep their first and
// last compute layers at W8A8, and a tensor read by compute layers must be in
// their activation format. Rules:
//  - a compute layer's MacFormat is the requested one, or W8A8 (same lanes)
//    for the layers QuantizationOptions keeps at 8 bits;
//  - a tensor is in the activation format of the compute layers that read it
//    (directly or through pooling, standalone ReLU, softmax, clip, flatten and
//    reshape layers, which keep their input's format); when they disagree it
//    takes the widest, and the narrower readers run with that activation
//    format instead (W1A1 becomes W1A8);
//  - a tensor no compute layer reads (read by adds only, or the network
//    output) stays in its producer's activation format (the requested one for
//    an add, a concat, a constant or the graph input).
// Float graphs are uniform: every tensor in the requested activation format.
#pragma once

#include <vector>

#include "accel/formats/number_format.h"
#include "models/graph.h"
#include "models/quant/quantize.h"

namespace npusim {

struct FormatPlan {
  std::vector<MacFormat> layer_macs;  // parallel to graph.layers (non-compute: the requested one)
  NumberFormat input_format = NumberFormat::int8;
  std::vector<NumberFormat> output_formats;  // parallel to graph.layers
};

// Throws std::invalid_argument when options.eight_bit_layers names a layer
// that is not a compute layer of the graph.
FormatPlan plan_formats(const Graph& graph, const MacFormat& mac, const QuantizationOptions& options);

}  // namespace npusim
