// A tensor of one number format. Batch size is 1 throughout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "accel/formats/number_format.h"

namespace npusim {

// real = (q - zero_point) * scale. Activations are asymmetric (any zero point
// in the format's range); weights are symmetric (zero_point 0) when
// quantize_graph made them (imported graphs may give them zero points, see
// models/quant/quantized_graph.h), with one scale per output channel (axis 0 of the
// weight dims) when `channel_scales` is not empty. The bit width is the
// Tensor's format.
struct QuantParams {
  // A constructor rather than an aggregate, so that {scale, zero_point}
  // initializers need not name the channel scales.
  QuantParams() = default;
  QuantParams(double scale_value, std::int32_t zero_point_value, std::vector<double> channel_scales_value = {})
      : scale(scale_value), zero_point(zero_point_value), channel_scales(std::move(channel_scales_value)) {}

  double scale = 1.0;  // per tensor; unused when channel_scales is not empty
  std::int32_t zero_point = 0;
  std::vector<double> channel_scales;  // per output channel, or empty
  // Weights of imported graphs only (models/quant/quantized_graph.h): a zero point
  // per output channel; unused when empty.
  std::vector<std::int32_t> channel_zero_points;

  double scale_of(std::size_t channel) const { return channel_scales.empty() ? scale : channel_scales[channel]; }
  std::int32_t zero_point_of(std::size_t channel) const {
    return channel_zero_points.empty() ? zero_point : channel_zero_points[channel];
  }
};

// Elements of a tensor of these dims (1 for no dims).
inline std::int64_t elements(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (const auto d : dims) n *= d;
  return n;
}

struct Tensor {
  // Activations: {C, H, W}. Conv weights: {N, C/groups, R, S}. FC weights: {N, K}.
  std::vector<std::int64_t> dims;
  NumberFormat format = NumberFormat::fp32;
  std::vector<std::int8_t> q;  // integer-class formats (binary as -1/+1)
  std::vector<float> f;        // float-class formats, rounded to `format`
  QuantParams quant;           // integer-class formats only

  std::int64_t elements() const { return npusim::elements(dims); }
};

}  // namespace npusim
