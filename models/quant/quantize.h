// Post-training quantization: prepares a Graph for a MacFormat from fp32 runs
// of calibration inputs.
//
// Integer formats (real = (q - zero_point) * scale):
//  - weights symmetric (zero point 0), one scale per output channel (default)
//    or per tensor: max |w| / 127 (int8), max |w| / 7 (int4); binary weights
//    are sign(w) (zero counts as +1) scaled by mean |w| of their channel;
//  - activations asymmetric per tensor over [-128, 127] (int8) or [-8, 7]
//    (int4), the range [lo, hi] (always holding 0) chosen by min/max,
//    percentile or minimum MSE over the calibration inputs; binary
//    activations are two levels: {-s, +s} (zero point 0, the sign) for signed
//    tensors, {0, 2s} (zero point -1) for non-negative ones (after ReLU), the
//    levels fitted to the calibration data;
//  - pooling, standalone ReLU, clip, flatten and reshape layers keep their
//    input's quantization; concat outputs are calibrated like add outputs
//    (inputs rescaled to them); softmax outputs have fixed parameters
//    (softmax_output_quant, models/quant/layer_ops.h);
//  - constant layers need no calibration: their stored values are quantized
//    per tensor from their own min/max (quantize_constant);
//  - first and last compute layers at W8A8 for binary (configurable).
// Float formats (fp16, bf16, fp32): weights and activations rounded to the
// format, no calibration.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "accel/formats/number_format.h"
#include "models/graph.h"
#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

enum class CalibrationMethod { min_max, percentile, mse };

// Which compute layers run at W8A8 instead of a narrower integer MacFormat.
enum class EightBitEnds {
  none,         // every layer in the requested format
  binary_only,  // the first and last compute layers, when the format has a binary operand
  narrow,       // the first and last compute layers, when the format is narrower than W8A8
};

struct QuantizationOptions {
  CalibrationMethod method = CalibrationMethod::min_max;
  // percentile: the range keeps this share (in %) of the values at each end,
  // e.g. 99.99 clips the 0.01 % largest and the 0.01 % smallest.
  double percentile = 99.99;
  bool per_channel = true;  // weights: a scale per output channel, else per tensor
  // How many seeded sample inputs make_calibration_inputs() generates.
  int calibration_samples = 1;
  EightBitEnds eight_bit_ends = EightBitEnds::binary_only;
  // Further compute layers (by name) that run at W8A8 in an integer graph.
  std::vector<std::string> eight_bit_layers;
  // fp32 graph inputs to calibrate on instead of the seeded samples
  // (`npusim run --calibration-data x.npy`); empty: make_calibration_inputs().
  std::vector<Tensor> calibration_data;
};

std::string_view to_string(CalibrationMethod method);

// Seeded sample input, fp32, dims = graph.input_dims, values in [-1, 1].
Tensor make_sample_input(const Graph& graph);

// `count` seeded sample inputs; the first is make_sample_input(graph), the
// others come from further independent streams.
std::vector<Tensor> make_calibration_inputs(const Graph& graph, int count);

// Throws std::invalid_argument for an invalid MacFormat, options out of range,
// an unknown layer name in eight_bit_layers, or calibration inputs that are not
// fp32 of the graph's input dims (at least one is needed for integer formats).
QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac, std::span<const Tensor> calibration_inputs_fp32,
                              const QuantizationOptions& options = {});

// One calibration input.
QuantizedGraph quantize_graph(const Graph& graph, const MacFormat& mac, const Tensor& calibration_input_fp32,
                              const QuantizationOptions& options = {});

// A constant layer's stored tensor in `format` (dims output_dims): int8 /
// int4 per tensor asymmetric over the values' own [min, max] (range_quant,
// the range widened to hold 0), binary the two levels binary_quant fits to
// the values, float formats each value rounded to the format. Non-finite
// values are left out of the range (and saturate).
Tensor quantize_constant(const Layer& layer, NumberFormat format);

// The graph's input in the format of `qgraph`'s input tensor.
Tensor quantize_input(const QuantizedGraph& qgraph, const Tensor& input_fp32);

}  // namespace npusim
