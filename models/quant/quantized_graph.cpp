#include "models/quant/quantized_graph.h"

namespace npusim {

MacFormat QuantizedGraph::mac_of(std::size_t layer) const {
  return layers.at(layer).mac.value_or(mac);
}

NumberFormat QuantizedGraph::output_format_of(std::size_t layer) const {
  return layers.at(layer).output_format.value_or(mac.activation);
}

NumberFormat QuantizedGraph::graph_input_format() const {
  return input_format.value_or(mac.activation);
}

const char* to_string(QuantArithmetic arithmetic) {
  return arithmetic == QuantArithmetic::onnx ? "onnx" : "tflite";
}

bool same_mac_format(const MacFormat& a, const MacFormat& b) {
  return a.weight == b.weight && a.activation == b.activation &&
         a.accumulator == b.accumulator && a.lanes == b.lanes;
}

}  // namespace npusim
