// A plain, direct executor of a QuantizedGraph: nested loops over the layer
// definitions (no im2col, no tiling), accumulating in the order documented in
// docs/numerics.md (the accumulation order of accel/array/mac_arithmetic.h).
// Every layer is computed with its own loops (reference_ops.h), sharing no
// code with the simulator but the number formats; the simulator's outputs
// are checked against it bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

struct ReferenceResult {
  std::vector<Tensor> outputs;                 // one per layer
  std::vector<std::int64_t> overflow_outputs;  // per layer (compute layers)
};

// `reduction_chunk`: the chunk length of accel/array/mac_arithmetic.h (K for OS,
// rows*lanes for WS/IS); a value <= 0 means one chunk covering all of K.
ReferenceResult run_reference(const QuantizedGraph& qgraph, const Tensor& input, std::int64_t reduction_chunk);

}  // namespace npusim
