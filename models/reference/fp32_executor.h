// The fp32 golden run of a Graph (its master weights, fp32 arithmetic): what
// calibration measures and what quantized runs are compared against.
#pragma once

#include <vector>

#include "models/graph.h"
#include "models/quant/quantized_graph.h"
#include "models/tensor.h"

namespace npusim {

class Fp32Executor {
 public:
  // Copies the graph's weights once; run() may then be called many times.
  explicit Fp32Executor(const Graph& graph);

  // Every layer's output, fp32, for an fp32 input of the graph's input dims.
  std::vector<Tensor> run(const Tensor& input_fp32) const;

 private:
  QuantizedGraph fp32_;
};

}  // namespace npusim
