// A graph prepared for execution: weights in their weight format, activations
// quantized per tensor, biases and requantization multipliers precomputed.
// Every compute layer may have its own MacFormat (binary networks keep their
// first and last layers at 8 bits); `mac` is the default for layers without one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "accel/number_format.h"
#include "accel/requantize.h"
#include "models/graph.h"
#include "models/tensor.h"

namespace npusim {

struct QuantizedLayer {
  // conv2d / fc: the weights in the weight format, dims as in Layer::weights;
  // weights.quant holds the per-tensor scale or the per-channel scales.
  Tensor weights;
  // Integer-class: what the post-processing unit adds to the array's plain
  // integer GEMM sum before requantizing, per output channel: the bias in
  // accumulator units round(bias / (s_in * s_w[n])), plus the input's
  // zero-point cross term -zp_in * sum_k q_w[k][n] (models/quantize.cpp shows
  // the algebra), minus the binarization threshold for binary outputs with a
  // zero point (see layer_ops.cpp).
  std::vector<std::int32_t> bias_int;
  // Float-class: bias as fp32.
  std::vector<float> bias_float;
  // Integer-class activations: quantization of this layer's output tensor.
  QuantParams output_quant;
  // conv2d / fc, integer-class: s_in * s_w / s_out, per tensor...
  FixedPointMultiplier requant;
  // ...or per output channel, s_in * s_w[n] / s_out, when not empty.
  std::vector<FixedPointMultiplier> channel_requant;
  // add, integer-class: s_input_i / s_out for each input.
  std::array<FixedPointMultiplier, 2> add_requant{};
  // conv2d / fc: this layer's MacFormat; empty means QuantizedGraph::mac.
  std::optional<MacFormat> mac;
  // The format of this layer's output tensor; empty means the activation
  // format of QuantizedGraph::mac.
  std::optional<NumberFormat> output_format;
};

struct QuantizedGraph {
  Graph graph;
  MacFormat mac;  // the default for every layer
  QuantParams input_quant;
  std::optional<NumberFormat> input_format;  // empty means mac.activation
  std::vector<QuantizedLayer> layers;        // parallel to graph.layers

  // The MacFormat compute layer `layer` runs in.
  MacFormat mac_of(std::size_t layer) const;
  // The format of layer `layer`'s output tensor.
  NumberFormat output_format_of(std::size_t layer) const;
  // The format of the graph's input tensor.
  NumberFormat graph_input_format() const;
};

bool same_mac_format(const MacFormat& a, const MacFormat& b);

}  // namespace npusim
