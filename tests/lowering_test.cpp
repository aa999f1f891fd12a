#include "sim/mapper/lowering.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace npusim {
namespace {

using I8 = std::vector<std::int8_t>;

Tensor int_tensor(std::vector<std::int64_t> dims, I8 values, std::int32_t zero_point = 0) {
  Tensor t;
  t.dims = std::move(dims);
  t.format = NumberFormat::int8;
  t.q = std::move(values);
  t.quant.zero_point = zero_point;
  return t;
}

Tensor float_tensor(std::vector<std::int64_t> dims, std::vector<float> values) {
  Tensor t;
  t.dims = std::move(dims);
  t.format = NumberFormat::fp32;
  t.f = std::move(values);
  return t;
}

I8 iota_values(int count, int first = 1) {
  I8 v(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) v[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(first + i);
  return v;
}

Conv2dParams conv(std::int64_t filters, int kh, int kw) {
  Conv2dParams c;
  c.out_channels = filters;
  c.kernel_h = kh;
  c.kernel_w = kw;
  return c;
}

void expect_shape(const GemmShape& s, std::int64_t m, std::int64_t n, std::int64_t k) {
  EXPECT_EQ(s.m, m);
  EXPECT_EQ(s.n, n);
  EXPECT_EQ(s.k, k);
}

TEST(Lowering, ValidConvRowsAreSlidingWindows) {
  // 1x3x3 input 1..9, 2x2 kernel, stride 1: four windows.
  const Tensor input = int_tensor({1, 3, 3}, iota_values(9));
  const Tensor weights = int_tensor({1, 1, 2, 2}, {10, 20, 30, 40});
  const LoweredGemm g = lower_conv2d_group(conv(1, 2, 2), input, weights, 0);
  expect_shape(g.shape, 4, 1, 4);
  EXPECT_EQ(g.a_int, (I8{1, 2, 4, 5, /**/ 2, 3, 5, 6, /**/ 4, 5, 7, 8, /**/ 5, 6, 8, 9}));
  EXPECT_EQ(g.w_int, (I8{10, 20, 30, 40}));
  EXPECT_TRUE(g.a_float.empty());
  EXPECT_TRUE(g.w_float.empty());
}

TEST(Lowering, StrideTwoWithSymmetricPaddingFillsZeros) {
  Conv2dParams c = conv(1, 3, 3);
  c.stride_h = c.stride_w = 2;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  const Tensor input = int_tensor({1, 3, 3}, iota_values(9));
  const Tensor weights = int_tensor({1, 1, 3, 3}, iota_values(9));
  const LoweredGemm g = lower_conv2d_group(c, input, weights, 0);
  expect_shape(g.shape, 4, 1, 9);
  EXPECT_EQ(g.a_int, (I8{0, 0, 0, 0, 1, 2, 0, 4, 5,  // (oy, ox) = (0, 0)
                         0, 0, 0, 2, 3, 0, 5, 6, 0,  // (0, 1)
                         0, 4, 5, 0, 7, 8, 0, 0, 0,  // (1, 0)
                         5, 6, 0, 8, 9, 0, 0, 0, 0}));
}

TEST(Lowering, AsymmetricPaddingUsesEachSide) {
  Conv2dParams c = conv(1, 2, 2);
  c.pad_top = 1;
  c.pad_right = 1;
  const Tensor input = int_tensor({1, 2, 2}, {1, 2, 3, 4});
  const LoweredGemm g = lower_conv2d_group(c, input, int_tensor({1, 1, 2, 2}, {1, 1, 1, 1}), 0);
  expect_shape(g.shape, 4, 1, 4);
  EXPECT_EQ(g.a_int, (I8{0, 0, 1, 2, /**/ 0, 0, 2, 0, /**/ 1, 2, 3, 4, /**/ 2, 0, 4, 0}));
}

TEST(Lowering, DilationSpreadsTheTaps) {
  Conv2dParams c = conv(1, 2, 2);
  c.dilation_h = c.dilation_w = 2;
  const Tensor input = int_tensor({1, 4, 4}, iota_values(16));  // v(y, x) = 4y + x + 1
  const LoweredGemm g = lower_conv2d_group(c, input, int_tensor({1, 1, 2, 2}, {1, 1, 1, 1}), 0);
  expect_shape(g.shape, 4, 1, 4);
  EXPECT_EQ(g.a_int, (I8{1, 3, 9, 11, /**/ 2, 4, 10, 12, /**/ 5, 7, 13, 15, /**/ 6, 8, 14, 16}));
}

TEST(Lowering, ReductionRunsChannelOuterThenRowThenColumn) {
  // N = 2, C = 2, R = 1, S = 2; w[n][c][0][s] = 100n + 10c + s.
  const Tensor input = int_tensor({2, 1, 2}, {1, 2, 3, 4});
  const Tensor weights = int_tensor({2, 2, 1, 2}, {0, 1, 10, 11, 100, 101, 110, 111});
  const LoweredGemm g = lower_conv2d_group(conv(2, 1, 2), input, weights, 0);
  expect_shape(g.shape, 1, 2, 4);
  EXPECT_EQ(g.a_int, (I8{1, 2, 3, 4}));
  // W[k][n], row-major K x N.
  EXPECT_EQ(g.w_int, (I8{0, 100, 1, 101, 10, 110, 11, 111}));
}

TEST(Lowering, GroupsSelectTheirChannelsAndFilters) {
  Conv2dParams c = conv(4, 1, 1);
  c.groups = 2;
  const Tensor input = int_tensor({4, 1, 1}, {1, 2, 3, 4});
  // filter f, channel-in-group c: 10f + c.
  const Tensor weights = int_tensor({4, 2, 1, 1}, {0, 1, 10, 11, 20, 21, 30, 31});
  const LoweredGemm g0 = lower_conv2d_group(c, input, weights, 0);
  const LoweredGemm g1 = lower_conv2d_group(c, input, weights, 1);
  expect_shape(g0.shape, 1, 2, 2);
  expect_shape(g1.shape, 1, 2, 2);
  EXPECT_EQ(g0.a_int, (I8{1, 2}));
  EXPECT_EQ(g0.w_int, (I8{0, 10, 1, 11}));
  EXPECT_EQ(g1.a_int, (I8{3, 4}));
  EXPECT_EQ(g1.w_int, (I8{20, 30, 21, 31}));
  EXPECT_THROW(lower_conv2d_group(c, input, weights, 2), std::invalid_argument);
}

TEST(Lowering, DepthwiseIsOneSingleChannelGemmPerChannel) {
  Conv2dParams c = conv(2, 2, 1);
  c.groups = 2;
  const Tensor input = int_tensor({2, 2, 1}, {1, 2, 3, 4});
  const Tensor weights = int_tensor({2, 1, 2, 1}, {5, 6, 7, 8});
  const LoweredGemm g1 = lower_conv2d_group(c, input, weights, 1);
  expect_shape(g1.shape, 1, 1, 2);
  EXPECT_EQ(g1.a_int, (I8{3, 4}));
  EXPECT_EQ(g1.w_int, (I8{7, 8}));
}

TEST(Lowering, IntegerPaddingHoldsTheZeroPoint) {
  Conv2dParams c = conv(1, 1, 2);
  c.pad_left = 1;
  const Tensor input = int_tensor({1, 1, 2}, {7, 9}, /*zero_point=*/-3);
  const LoweredGemm g = lower_conv2d_group(c, input, int_tensor({1, 1, 1, 2}, {1, 1}), 0);
  expect_shape(g.shape, 2, 1, 2);
  EXPECT_EQ(g.a_int, (I8{-3, 7, 7, 9}));
}

TEST(Lowering, FloatTensorsFillTheFloatBuffersWithPositiveZeroPadding) {
  Conv2dParams c = conv(1, 2, 2);
  c.pad_top = c.pad_left = 1;
  const Tensor input = float_tensor({1, 1, 1}, {-2.5f});
  const Tensor weights = float_tensor({1, 1, 2, 2}, {0.5f, -0.25f, 1.0f, 2.0f});
  const LoweredGemm g = lower_conv2d_group(c, input, weights, 0);
  expect_shape(g.shape, 1, 1, 4);
  EXPECT_TRUE(g.a_int.empty());
  ASSERT_EQ(g.a_float.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(g.a_float[i], 0.0f);
    EXPECT_FALSE(std::signbit(g.a_float[i]));
  }
  EXPECT_EQ(g.a_float[3], -2.5f);
  EXPECT_EQ(g.w_float, (std::vector<float>{0.5f, -0.25f, 1.0f, 2.0f}));
}

TEST(Lowering, FcFlattensInChwOrderAndTransposesWeights) {
  const Tensor input = int_tensor({2, 1, 2}, {1, 2, 3, 4});
  // w[n][k] = 10n + k, N = 3, K = 4.
  const Tensor weights = int_tensor({3, 4}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
  const LoweredGemm g = lower_fc(input, weights);
  expect_shape(g.shape, 1, 3, 4);
  EXPECT_EQ(g.a_int, (I8{1, 2, 3, 4}));
  EXPECT_EQ(g.w_int, (I8{0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23}));
  EXPECT_THROW(lower_fc(int_tensor({1, 1, 3}, {1, 2, 3}), weights), std::invalid_argument);

  const LoweredGemm f = lower_fc(float_tensor({2, 1, 1}, {1.5f, -1.0f}), float_tensor({1, 2}, {0.25f, 4.0f}));
  EXPECT_EQ(f.a_float, (std::vector<float>{1.5f, -1.0f}));
  EXPECT_EQ(f.w_float, (std::vector<float>{0.25f, 4.0f}));
}

TEST(Lowering, OperandsViewTheOwnedBuffers) {
  const LoweredGemm g = lower_fc(int_tensor({2, 1, 1}, {1, 2}), int_tensor({1, 2}, {3, 4}));
  const GemmOperands ops = g.operands();
  expect_shape(ops.shape, 1, 1, 2);
  EXPECT_EQ(ops.a_int.data(), g.a_int.data());
  EXPECT_EQ(ops.a_int.size(), 2u);
  EXPECT_EQ(ops.w_int.data(), g.w_int.data());
  EXPECT_TRUE(ops.a_float.empty());
  EXPECT_TRUE(ops.w_float.empty());
}

TEST(Lowering, MixedOperandClassesAreRejected) {
  EXPECT_THROW(lower_fc(int_tensor({1, 1, 1}, {1}), float_tensor({1, 1}, {1.0f})), std::invalid_argument);
  EXPECT_THROW(lower_conv2d_group(conv(1, 1, 1), int_tensor({1, 1, 1}, {1}), int_tensor({1, 1, 2, 2}, {1, 1, 1, 1}), 0),
               std::invalid_argument);  // weight dims do not match the params
}

TEST(Lowering, ScatterWritesChannelMajorAtTheGroupsChannels) {
  GemmOutput out;
  out.acc_int = {1, 2, 3, 4};  // M = 2 pixels x N = 2 filters, row-major
  std::vector<std::int32_t> acc(8, -7);
  scatter_gemm_output(out, GemmShape{2, 2, 5}, /*first_channel=*/2, acc, {});
  EXPECT_EQ(acc, (std::vector<std::int32_t>{-7, -7, -7, -7, 1, 3, 2, 4}));

  GemmOutput fout;
  fout.acc_float = {0.5f, -1.0f, 2.0f};  // M = 3, N = 1
  std::vector<float> facc(3, 9.0f);
  scatter_gemm_output(fout, GemmShape{3, 1, 1}, 0, {}, facc);
  EXPECT_EQ(facc, (std::vector<float>{0.5f, -1.0f, 2.0f}));
  EXPECT_THROW(scatter_gemm_output(out, GemmShape{3, 2, 1}, 0, acc, {}), std::invalid_argument);
}

// Direct convolution by nested loops (no im2col) against lowering + a plain
// matmul + scatter, over stride, padding, dilation and groups together.
TEST(Lowering, LoweredGemmsReproduceDirectConvolution) {
  Conv2dParams c = conv(6, 3, 2);
  c.groups = 3;
  c.stride_h = 2;
  c.stride_w = 1;
  c.pad_top = 1, c.pad_left = 2, c.pad_bottom = 0, c.pad_right = 1;
  c.dilation_h = 1;
  c.dilation_w = 2;
  const std::int64_t C = 6, H = 7, W = 5, Cg = C / c.groups, Ng = c.out_channels / c.groups;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> dist(-128, 127);
  I8 in_values(static_cast<std::size_t>(C * H * W)), w_values(static_cast<std::size_t>(6 * Cg * 3 * 2));
  for (auto& v : in_values) v = static_cast<std::int8_t>(dist(rng));
  for (auto& v : w_values) v = static_cast<std::int8_t>(dist(rng));
  const Tensor input = int_tensor({C, H, W}, in_values);
  const Tensor weights = int_tensor({6, Cg, 3, 2}, w_values);

  const std::int64_t OH = (H + 1 + 0 - 3) / 2 + 1;                  // 3
  const std::int64_t OW = (W + 2 + 1 - (2 * (2 - 1) + 1)) / 1 + 1;  // 6
  std::vector<std::int32_t> direct(static_cast<std::size_t>(6 * OH * OW), 0);
  for (std::int64_t f = 0; f < 6; ++f) {
    const std::int64_t g = f / Ng;
    for (std::int64_t oy = 0; oy < OH; ++oy)
      for (std::int64_t ox = 0; ox < OW; ++ox) {
        std::int32_t sum = 0;
        for (std::int64_t ci = 0; ci < Cg; ++ci)
          for (std::int64_t r = 0; r < 3; ++r)
            for (std::int64_t s = 0; s < 2; ++s) {
              const std::int64_t y = oy * 2 - 1 + r, x = ox - 2 + s * 2;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              sum += in_values[static_cast<std::size_t>((g * Cg + ci) * H * W + y * W + x)] *
                     w_values[static_cast<std::size_t>(((f * Cg + ci) * 3 + r) * 2 + s)];
            }
        direct[static_cast<std::size_t>((f * OH + oy) * OW + ox)] = sum;
      }
  }

  const ConvGeometry geo = conv_geometry(c, input.dims);
  EXPECT_EQ(geo.out_h, OH);
  EXPECT_EQ(geo.out_w, OW);
  std::vector<std::int32_t> acc(direct.size(), 0);
  for (std::int64_t g = 0; g < c.groups; ++g) {
    const LoweredGemm lowered = lower_conv2d_group(c, input, weights, g);
    expect_shape(lowered.shape, OH * OW, Ng, Cg * 3 * 2);
    const auto& s = lowered.shape;
    GemmOutput out;
    out.acc_int.assign(static_cast<std::size_t>(s.m * s.n), 0);
    for (std::int64_t m = 0; m < s.m; ++m)
      for (std::int64_t n = 0; n < s.n; ++n)
        for (std::int64_t k = 0; k < s.k; ++k)
          out.acc_int[static_cast<std::size_t>(m * s.n + n)] += lowered.a_int[static_cast<std::size_t>(m * s.k + k)] *
                                                                lowered.w_int[static_cast<std::size_t>(k * s.n + n)];
    scatter_gemm_output(out, s, g * Ng, acc, {});
  }
  EXPECT_EQ(acc, direct);
}

}  // namespace
}  // namespace npusim
