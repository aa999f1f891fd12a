// A tensor of one number format. Batch size is 1 throughout.
#pragma once

#include <cstdint>
#include <vector>

#include "accel/number_format.h"

namespace npusim {

// real = (q - zero_point) * scale. Weights are symmetric (zero_point 0).
struct QuantParams {
  double scale = 1.0;
  std::int32_t zero_point = 0;
};

struct Tensor {
  // Activations: {C, H, W}. Conv weights: {N, C/groups, R, S}. FC weights: {N, K}.
  std::vector<std::int64_t> dims;
  NumberFormat format = NumberFormat::fp32;
  std::vector<std::int8_t> q;  // integer-class formats (binary as -1/+1)
  std::vector<float> f;        // float-class formats, rounded to `format`
  QuantParams quant;           // integer-class formats only

  std::int64_t elements() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

}  // namespace npusim
