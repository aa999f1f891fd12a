// Facts about a compute layer's parameters that the quantizer, the fp32
// executor and the metrics share.
#pragma once

#include <cstdint>
#include <vector>

#include "models/graph.h"

namespace npusim {

bool is_compute_layer(const Layer& layer);  // conv2d or fc

// N: conv2d filters or fc outputs.
std::int64_t output_channels(const Layer& layer);

// Dims of Layer::weights: conv2d {N, C/groups, R, S}, fc {N, K}.
std::vector<std::int64_t> weight_dims(const Layer& layer);

// Layer::bias, or N zeros for a layer without bias.
std::vector<float> bias_or_zeros(const Layer& layer);

}  // namespace npusim
