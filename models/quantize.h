// Prepares a Graph for a MacFormat. For this first version: weights symmetric per
// tensor, activations symmetric per tensor (zero point 0) with scales calibrated
// by max |x| over an fp32 run of the calibration input.
#pragma once

#include "accel/number_format.h"
#include "models/graph.h"
#include "models/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

// Seeded sample input, fp32, dims = graph.input_dims, values in [-1, 1].
Tensor make_sample_input(const Graph& graph);

QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac,
                              const Tensor& calibration_input_fp32);

// The graph's input in the activation format of `qgraph`.
Tensor quantize_input(const QuantizedGraph& qgraph, const Tensor& input_fp32);

}  // namespace npusim
