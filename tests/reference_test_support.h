// Small hand-built graphs for the reference executor tests: one layer (or a
// few), with the quantization chosen by the test rather than calibrated.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "accel/formats/requantize.h"
#include "models/quant/quantized_graph.h"

namespace npusim::test {

using Dims = std::vector<std::int64_t>;

struct ConvSpec {
  std::int64_t filters = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
};

inline Layer conv_layer(const ConvSpec& s, const Dims& input, Activation activation = Activation::none) {
  Layer layer;
  layer.name = "conv";
  layer.type = LayerType::conv2d;
  layer.inputs = {"input"};
  layer.conv = {s.filters,  s.kernel_h,   s.kernel_w,  s.stride_h,   s.stride_w,   s.pad_top,
                s.pad_left, s.pad_bottom, s.pad_right, s.dilation_h, s.dilation_w, s.groups};
  const std::int64_t oh = (input[1] + s.pad_top + s.pad_bottom - s.dilation_h * (s.kernel_h - 1) - 1) / s.stride_h + 1;
  const std::int64_t ow = (input[2] + s.pad_left + s.pad_right - s.dilation_w * (s.kernel_w - 1) - 1) / s.stride_w + 1;
  layer.output_dims = {s.filters, oh, ow};
  layer.activation = activation;
  layer.has_bias = true;
  return layer;
}

inline Layer fc_layer(std::int64_t units, Activation activation = Activation::none) {
  Layer layer;
  layer.name = "fc";
  layer.type = LayerType::fc;
  layer.inputs = {"input"};
  layer.fc.out_features = units;
  layer.output_dims = {units, 1, 1};
  layer.activation = activation;
  layer.has_bias = true;
  return layer;
}

inline Dims weight_dims(const Layer& layer, const Dims& input) {
  if (layer.type == LayerType::fc) return {layer.fc.out_features, input[0] * input[1] * input[2]};
  return {layer.conv.out_channels, input[0] / layer.conv.groups, layer.conv.kernel_h, layer.conv.kernel_w};
}

// One layer in W8A8 with every scale 1 and an identity requantization: the
// outputs are the accumulators plus bias, saturated to int8.
inline QuantizedGraph int8_graph(const Layer& layer, const Dims& input, std::vector<std::int8_t> weights,
                                 std::vector<std::int32_t> bias = {}) {
  QuantizedGraph q;
  q.graph.input_dims = input;
  q.graph.layers = {layer};
  q.layers.resize(1);
  q.layers[0].weights.dims = weight_dims(layer, input);
  q.layers[0].weights.format = NumberFormat::int8;
  q.layers[0].weights.q = std::move(weights);
  q.layers[0].bias_int = std::move(bias);
  q.layers[0].requant = quantize_multiplier(1.0);
  q.layers[0].add_requant = {quantize_multiplier(1.0), quantize_multiplier(1.0)};
  return q;
}

inline QuantizedGraph float_graph(const Layer& layer, const Dims& input, std::vector<float> weights,
                                  const MacFormat& mac, std::vector<float> bias = {}) {
  QuantizedGraph q;
  q.mac = mac;
  q.graph.input_dims = input;
  q.graph.layers = {layer};
  q.layers.resize(1);
  q.layers[0].weights.dims = weight_dims(layer, input);
  q.layers[0].weights.format = mac.weight;
  q.layers[0].weights.f = std::move(weights);
  q.layers[0].bias_float = std::move(bias);
  return q;
}

inline const MacFormat kFp32{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
inline const MacFormat kFp16Acc16{NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp16, 1};

inline Tensor int_tensor(const Dims& dims, std::vector<std::int8_t> values, NumberFormat format = NumberFormat::int8) {
  Tensor t;
  t.dims = dims;
  t.format = format;
  t.q = std::move(values);
  return t;
}

inline Tensor float_tensor(const Dims& dims, std::vector<float> values, NumberFormat format = NumberFormat::fp32) {
  Tensor t;
  t.dims = dims;
  t.format = format;
  t.f = std::move(values);
  return t;
}

inline Layer pool_layer(LayerType type, int kernel, int stride, int pad_top, int pad_left, int pad_bottom,
                        int pad_right, const Dims& output) {
  Layer layer;
  layer.name = "pool";
  layer.type = type;
  layer.inputs = {"input"};
  layer.pool = {false, kernel, kernel, stride, stride, pad_top, pad_left, pad_bottom, pad_right};
  layer.output_dims = output;
  return layer;
}

}  // namespace npusim::test
