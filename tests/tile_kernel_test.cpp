// The tile fidelity's GEMM kernel against the plain sum of products it must
// equal: W1A1 runs on packed bits (XNOR and popcount, with the padding mask for
// the positions im2col padded), every K across word boundaries.
#include "accel/array/tile_kernel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace npusim {
namespace {

MacFormat binary_mac() {
  MacFormat mac;
  mac.weight = mac.activation = NumberFormat::binary;
  mac.accumulator = AccumulatorFormat::int32;
  return mac;
}

std::vector<std::int32_t> plain_sums(const GemmShape& s, const std::vector<std::int8_t>& a,
                                     const std::vector<std::int8_t>& w) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(s.m * s.n), 0);
  for (std::int64_t m = 0; m < s.m; ++m) {
    for (std::int64_t n = 0; n < s.n; ++n) {
      for (std::int64_t k = 0; k < s.k; ++k) out[m * s.n + n] += a[m * s.k + k] * w[k * s.n + n];
    }
  }
  return out;
}

TEST(TileKernel, BinaryOnPackedBitsEqualsThePlainSumWithPaddingSkipped) {
  std::mt19937 rng(7);
  for (const std::int64_t k : {1, 5, 63, 64, 65, 128, 200}) {
    const GemmShape shape{6, 5, k};
    std::vector<std::int8_t> a(static_cast<std::size_t>(shape.m * k)), w(static_cast<std::size_t>(k * shape.n));
    for (auto& v : w) v = rng() % 2 ? 1 : -1;
    // Rows 0-2: +-1 only; rows 3-5 also hold 0 (padded positions) at random.
    for (std::int64_t m = 0; m < shape.m; ++m) {
      for (std::int64_t i = 0; i < k; ++i) {
        const unsigned r = rng() % 3;
        a[m * k + i] = m >= 3 && r == 0 ? 0 : (r == 1 ? -1 : 1);
      }
    }
    GemmOperands op;
    op.shape = shape;
    op.a_int = a;
    op.w_int = w;
    const GemmOutput out = compute_gemm_values(op, binary_mac(), 8);
    EXPECT_EQ(out.acc_int, plain_sums(shape, a, w)) << "K " << k;
    EXPECT_EQ(out.overflow_outputs, 0);
  }
}

TEST(TileKernel, BinaryWithAValueOutsidePlusMinusOneTakesTheIntegerKernel) {
  // A weight of 0 is no binary value: the packed datapath declines it and the
  // integer kernel gives the same plain sum.
  const GemmShape shape{2, 2, 3};
  const std::vector<std::int8_t> a{1, -1, 1, -1, -1, 1}, w{1, 0, -1, 1, 1, -1};
  GemmOperands op;
  op.shape = shape;
  op.a_int = a;
  op.w_int = w;
  EXPECT_EQ(compute_gemm_values(op, binary_mac(), 8).acc_int, plain_sums(shape, a, w));
}

}  // namespace
}  // namespace npusim
