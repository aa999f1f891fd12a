// A GEMM as the MAC array sees it: out[M][N] = sum_k A[M][K] * W[K][N].
// A holds activations (one row per output pixel), W holds weights (one column
// per filter). Both are row-major and hold values of their operand format:
// integer-class formats as int8 values (binary as -1/+1; im2col pads with the
// input's zero point, which is -1 for a {0, 2s} binary tensor and 0 for a
// sign-binarized one, a masked position an XNOR-popcount array skips with a
// padding mask), float-class formats as floats already rounded to the format.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace npusim {

struct GemmShape {
  std::int64_t m = 0;  // output rows (output pixels)
  std::int64_t n = 0;  // output columns (filters)
  std::int64_t k = 0;  // reduction length
};

struct GemmOperands {
  GemmShape shape;
  std::span<const std::int8_t> a_int;  // M*K, integer-class formats
  std::span<const std::int8_t> w_int;  // K*N
  std::span<const float> a_float;      // M*K, float-class formats
  std::span<const float> w_float;      // K*N
};

struct GemmOutput {
  std::vector<std::int32_t> acc_int;  // M*N, integer-class formats
  std::vector<float> acc_float;       // M*N, float-class formats
  // Outputs whose int32 accumulation left [-2^31, 2^31) at some step of the
  // documented accumulation order; the stored value wraps as two's complement.
  std::int64_t overflow_outputs = 0;
};

}  // namespace npusim
