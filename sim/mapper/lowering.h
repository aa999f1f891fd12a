// Lowers conv2d and fc layers to GEMMs on real data (im2col), and scatters GEMM
// results back to channel-major accumulators.
//
// conv2d with g groups is g GEMMs, one per group, each
//   M = OH*OW, N = filters/g, K = (C/g)*R*S,
//   A[m][k], m = oy*OW + ox, k = (c*R + r)*S + s (c within the group outermost,
//            s innermost: the reference executor's reduction order),
//   W[k][n] = weights[g*N + n][c][r][s].
// Padded positions of A hold the input's zero point (integer formats) or +0.
// fc is one GEMM: M = 1, N = out_features, K = C*H*W in (C, H, W) order,
// W[k][n] = weights[n][k].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "accel/array/gemm.h"
#include "models/graph.h"
#include "models/tensor.h"

namespace npusim {

// A GEMM that owns its operand buffers. Integer-class tensors fill the *_int
// buffers, float-class tensors the *_float ones.
struct LoweredGemm {
  GemmShape shape;
  std::vector<std::int8_t> a_int;
  std::vector<std::int8_t> w_int;
  std::vector<float> a_float;
  std::vector<float> w_float;
  // A view of this object's buffers: valid while it lives and is not modified.
  GemmOperands operands() const;
};

struct ConvGeometry {
  std::int64_t in_channels = 0, in_h = 0, in_w = 0;
  std::int64_t out_h = 0, out_w = 0;
  std::int64_t groups = 1;
  std::int64_t channels_per_group = 0;  // C/g
  std::int64_t filters_per_group = 0;   // N/g
  GemmShape gemm;                       // the shape of each group's GEMM
};

// Throws std::invalid_argument when the dims do not fit the parameters (the
// network loader validates user input; reaching this is a program error).
ConvGeometry conv_geometry(const Conv2dParams& conv, const std::vector<std::int64_t>& input_dims);

// The GEMM of group `group` of a conv2d layer. `input` dims {C, H, W}; `weights`
// dims {N, C/g, R, S}.
LoweredGemm lower_conv2d_group(const Conv2dParams& conv, const Tensor& input, const Tensor& weights,
                               std::int64_t group);

// `weights` dims {N, K} with K = the input's element count.
LoweredGemm lower_fc(const Tensor& input, const Tensor& weights);

// Writes a GEMM's M x N output (row-major, m = output pixel) into channel-major
// accumulators {channels, M}: acc[(first_channel + n) * M + m] = out[m][n].
// Fills `acc_int` for integer outputs, `acc_float` for float outputs; the
// accumulator vector must already have its full size.
void scatter_gemm_output(const GemmOutput& output, const GemmShape& shape, std::int64_t first_channel,
                         std::span<std::int32_t> acc_int, std::span<float> acc_float);

}  // namespace npusim
