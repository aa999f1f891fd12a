#include "models/quant/quantized_graph.h"

namespace npusim {

MacFormat QuantizedGraph::mac_of(std::size_t layer) const { return layers.at(layer).mac.value_or(mac); }

NumberFormat QuantizedGraph::output_format_of(std::size_t layer) const {
  return layers.at(layer).output_format.value_or(mac.activation);
}

NumberFormat QuantizedGraph::graph_input_format() const { return input_format.value_or(mac.activation); }

bool keeps_input_quantization(LayerType type) {
  switch (type) {
    case LayerType::maxpool:
    case LayerType::avgpool:
    case LayerType::relu:
    case LayerType::relu6:
    case LayerType::clip:
    case LayerType::flatten:
    case LayerType::reshape:
    case LayerType::transpose:
    case LayerType::slice: return true;
    case LayerType::conv2d:
    case LayerType::fc:
    case LayerType::add:
    case LayerType::concat:
    case LayerType::softmax:
    case LayerType::constant:
    case LayerType::scale:
    case LayerType::sigmoid:
    case LayerType::hard_sigmoid:
    case LayerType::mul:
    case LayerType::tanh:
    case LayerType::gelu:
    case LayerType::leaky_relu:
    case LayerType::prelu:
    case LayerType::hard_swish:
    case LayerType::log_softmax:
    case LayerType::reduce:
    case LayerType::sub:
    case LayerType::div: return false;
  }
  return false;
}

const char* to_string(QuantArithmetic arithmetic) { return arithmetic == QuantArithmetic::onnx ? "onnx" : "tflite"; }

bool same_mac_format(const MacFormat& a, const MacFormat& b) {
  return a.weight == b.weight && a.activation == b.activation && a.accumulator == b.accumulator && a.lanes == b.lanes;
}

}  // namespace npusim
