// The layer arithmetic outside the GEMM, shared by the reference executor and the
// simulator's post-processing unit: bias, requantization, activation, pooling,
// elementwise add.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "models/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

// Output tensor of compute layer `layer_index` (conv2d or fc) from its
// accumulators in {N, OH, OW} order (channel-major): adds the bias, requantizes
// (integer-class) or rounds to the activation format (float-class), applies the
// fused activation.
Tensor finish_compute_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                            std::span<const std::int32_t> acc_int,
                            std::span<const float> acc_float);

// Non-GEMM layers (maxpool, avgpool, add, relu, relu6). `inputs` are the layer's
// input tensors in order.
Tensor run_elementwise_layer(const QuantizedGraph& qgraph, std::size_t layer_index,
                             std::span<const Tensor* const> inputs);

}  // namespace npusim
