// .npy helpers of the onnxruntime comparisons (tests/onnxruntime_compare_test.cpp,
// tests/onnx_torchvision_fp32_test.cpp): a float32 array's values, and one
// sample of an {N, C, H, W} batch as a graph's fp32 {C, H, W} input.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "models/npy_io.h"
#include "models/tensor.h"

namespace npusim::testing {

inline std::vector<float> floats_of(const NpyArray& a) {
  std::vector<float> v(static_cast<std::size_t>(a.elements()));
  std::memcpy(v.data(), a.bytes.data(), v.size() * 4);
  return v;
}

inline Tensor sample(const NpyArray& inputs, const std::vector<float>& values, std::int64_t n) {
  Tensor t;
  t.dims = {inputs.shape[1], inputs.shape[2], inputs.shape[3]};
  const auto size = static_cast<std::size_t>(t.elements());
  t.f.assign(values.begin() + static_cast<std::ptrdiff_t>(n * size),
             values.begin() + static_cast<std::ptrdiff_t>((n + 1) * size));
  return t;
}

}  // namespace npusim::testing
