// A graph prepared for one MacFormat: weights in the weight format, activations
// quantized per tensor, biases and requantization multipliers precomputed.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "accel/number_format.h"
#include "accel/requantize.h"
#include "models/graph.h"
#include "models/tensor.h"

namespace npusim {

struct QuantizedLayer {
  // conv2d / fc: the weights in the weight format, dims as in Layer::weights.
  Tensor weights;
  // Integer-class: bias in accumulator units, round(bias / (s_in * s_w)).
  std::vector<std::int32_t> bias_int;
  // Float-class: bias as fp32.
  std::vector<float> bias_float;
  // Integer-class activations: quantization of this layer's output tensor.
  QuantParams output_quant;
  // conv2d / fc, integer-class: s_in * s_w / s_out.
  FixedPointMultiplier requant;
  // add, integer-class: s_input_i / s_out for each input.
  std::array<FixedPointMultiplier, 2> add_requant{};
};

struct QuantizedGraph {
  Graph graph;
  MacFormat mac;
  QuantParams input_quant;
  std::vector<QuantizedLayer> layers;  // parallel to graph.layers
};

}  // namespace npusim
