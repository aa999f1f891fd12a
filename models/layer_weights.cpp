#include "models/layer_weights.h"

namespace npusim {

bool is_compute_layer(const Layer& layer) { return layer.type == LayerType::conv2d || layer.type == LayerType::fc; }

std::int64_t output_channels(const Layer& layer) {
  return layer.type == LayerType::conv2d ? layer.conv.out_channels : layer.fc.out_features;
}

std::vector<std::int64_t> weight_dims(const Layer& layer) {
  const auto count = static_cast<std::int64_t>(layer.weights.size());
  const std::int64_t n = output_channels(layer);
  if (n <= 0) return {n, 0};
  if (layer.type == LayerType::fc) return {n, count / n};
  const std::int64_t window = std::int64_t{layer.conv.kernel_h} * layer.conv.kernel_w;
  return {n, count / (n * window), layer.conv.kernel_h, layer.conv.kernel_w};
}

std::vector<float> bias_or_zeros(const Layer& layer) {
  if (layer.has_bias) return layer.bias;
  return std::vector<float>(static_cast<std::size_t>(output_channels(layer)), 0.0f);
}

}  // namespace npusim
