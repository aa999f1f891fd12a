// The post-processing unit's function layers added for the ONNX importer's
// breadth (issue 17): tanh, gelu, leaky_relu, prelu, hard_swish, log_softmax,
// sub, div, reduce, and the data movers transpose and slice. Values as the
// simulator computes them; models/quant/layer_ops.cpp dispatches here, and
// models/reference/ restates every one with its own loops.
#pragma once

#include <cstddef>
#include <span>

#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

// Whether run_function_layer computes layers of this type.
bool is_function_layer(LayerType type);

// Layer `layer_index` of `qgraph` on `inputs` (two for sub and div, one
// otherwise; already checked for count and format by run_elementwise_layer).
// Float formats: the ONNX function in fp32, rounded to the format once.
// Integer-class: ONNX's arithmetic for a DequantizeLinear -> op ->
// QuantizeLinear chain: each level dequantized in fp32, the function in
// fp32, quantized x / s rounded half to even plus the zero point, saturated;
// binary the sign against the midpoint. transpose and slice copy levels.
// A layer's output tensor, sized, in its format and quantization, zero-filled
// (defined in layer_ops.cpp, which every layer's kernel shares).
Tensor output_tensor(const QuantizedGraph& qgraph, std::size_t layer_index);

Tensor run_function_layer(const QuantizedGraph& qgraph, std::size_t layer_index, std::span<const Tensor* const> inputs);

}  // namespace npusim
