#include "models/reference/fp32_executor.h"

#include <stdexcept>
#include <utility>

#include "models/layer_weights.h"
#include "models/reference/reference_executor.h"

namespace npusim {

Fp32Executor::Fp32Executor(const Graph& graph) {
  fp32_.graph = graph;
  fp32_.mac = {NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  fp32_.layers.resize(graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    Layer& layer = fp32_.graph.layers[i];
    if (layer.type == LayerType::constant) {
      Tensor& values = fp32_.layers[i].weights;
      values.dims = layer.output_dims;
      values.format = NumberFormat::fp32;
      values.f = std::move(layer.weights);
      layer.weights.clear();
      continue;
    }
    if (!is_compute_layer(layer)) continue;
    Tensor& weights = fp32_.layers[i].weights;
    weights.dims = weight_dims(layer);
    weights.format = NumberFormat::fp32;
    // The executor reads the weight tensors only: move rather than hold two copies.
    weights.f = std::move(layer.weights);
    layer.weights.clear();
    fp32_.layers[i].bias_float = bias_or_zeros(layer);
  }
}

std::vector<Tensor> Fp32Executor::run(const Tensor& input_fp32) const {
  if (input_fp32.format != NumberFormat::fp32 || input_fp32.dims != fp32_.graph.input_dims ||
      input_fp32.f.size() != static_cast<std::size_t>(input_fp32.elements())) {
    throw std::invalid_argument("fp32 run: the input must be fp32 of the graph's input dims");
  }
  return run_reference(fp32_, input_fp32, 0).outputs;
}

}  // namespace npusim
