#include "models/reference/reference_executor.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "accel/formats/float_formats.h"
#include "accel/formats/requantize.h"
#include "models/quant/layer_ops.h"
#include "reference_test_support.h"

// The accumulation contract of accel/array/mac_arithmetic.h as the reference
// executor implements it: the order of float additions and chunks, int32
// overflow detection, and agreement with an independent im2col formulation.

namespace npusim {
namespace {

using namespace npusim::test;

// K = 4 with x = [1, 1, 1e8, -1e8] and unit weights. fp32 cannot hold 1e8 + 2
// (its spacing there is 8), so the order of additions decides the result:
//   one chunk:   ((1 + 1) + 1e8) - 1e8 = 1e8 - 1e8 = 0
//   chunks of 2: (1 + 1) + (1e8 - 1e8) = 2
TEST(ReferenceFloat, ChunkingChangesTheFloatResultAsDocumented) {
  const Dims in{4, 1, 1};
  const auto q = float_graph(fc_layer(1), in, {1.0f, 1.0f, 1.0f, 1.0f}, kFp32);
  const Tensor x = float_tensor(in, {1.0f, 1.0f, 1e8f, -1e8f});
  EXPECT_EQ(run_reference(q, x, 0).outputs[0].f[0], 0.0f);
  EXPECT_EQ(run_reference(q, x, 4).outputs[0].f[0], 0.0f);
  EXPECT_EQ(run_reference(q, x, 2).outputs[0].f[0], 2.0f);
  EXPECT_EQ(run_reference(q, x, 1).outputs[0].f[0], 0.0f);
}

// fp16 accumulation with x = [1, 2048, 1, -2048]: fp16 spacing at 2048 is 2
// and 2049 rounds to even 2048.
//   one chunk:   1 + 2048 -> 2048, + 1 -> 2048, - 2048 = 0
//   chunks of 2: (1 + 2048 -> 2048) + (1 - 2048 = -2047) = 1
// while fp32 accumulation is exact: 2.
TEST(ReferenceFloat, Fp16AccumulatorRoundsEveryAddition) {
  const Dims in{4, 1, 1};
  const Tensor x = float_tensor(in, {1.0f, 2048.0f, 1.0f, -2048.0f}, NumberFormat::fp16);
  const auto q16 = float_graph(fc_layer(1), in, {1.0f, 1.0f, 1.0f, 1.0f}, kFp16Acc16);
  EXPECT_EQ(run_reference(q16, x, 0).outputs[0].f[0], 0.0f);
  EXPECT_EQ(run_reference(q16, x, 2).outputs[0].f[0], 1.0f);
  const MacFormat fp16_acc32{NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1};
  const auto q32 = float_graph(fc_layer(1), in, {1.0f, 1.0f, 1.0f, 1.0f}, fp16_acc32);
  EXPECT_EQ(run_reference(q32, x, 0).outputs[0].f[0], 2.0f);
}

// An independent formulation of the same contract: explicit im2col rows
// (zeros for padding), then one output at a time in the documented order.
std::vector<std::vector<double>> im2col(const Layer& layer, const Dims& in, const std::vector<double>& x) {
  const auto& c = layer.conv;
  const std::int64_t oh = layer.output_dims[1], ow = layer.output_dims[2];
  const std::int64_t cg = in[0] / c.groups;
  std::vector<std::vector<double>> rows;  // [group][pixel] -> K values, flattened below
  for (int g = 0; g < c.groups; ++g) {
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        std::vector<double> row;
        for (std::int64_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
          for (int r = 0; r < c.kernel_h; ++r) {
            for (int s = 0; s < c.kernel_w; ++s) {
              const std::int64_t iy = oy * c.stride_h - c.pad_top + r * c.dilation_h;
              const std::int64_t ix = ox * c.stride_w - c.pad_left + s * c.dilation_w;
              const bool inside = iy >= 0 && iy < in[1] && ix >= 0 && ix < in[2];
              row.push_back(inside ? x[static_cast<std::size_t>((ch * in[1] + iy) * in[2] + ix)] : 0.0);
            }
          }
        }
        rows.push_back(row);
      }
    }
  }
  return rows;
}

const ConvSpec kMixedSpec{.filters = 6,
                          .kernel_h = 3,
                          .kernel_w = 2,
                          .stride_h = 2,
                          .stride_w = 1,
                          .pad_top = 1,
                          .pad_left = 0,
                          .pad_bottom = 2,
                          .pad_right = 1,
                          .dilation_h = 2,
                          .dilation_w = 1,
                          .groups = 2};
const Dims kMixedInput{4, 9, 7};

TEST(ReferenceVsIm2col, Int8GroupedDilatedStridedPaddedConv) {
  const Layer layer = conv_layer(kMixedSpec, kMixedInput);
  std::mt19937 random(11);
  std::vector<std::int8_t> x(4 * 9 * 7), w(6 * 2 * 3 * 2);
  for (auto& v : x) v = static_cast<std::int8_t>(static_cast<int>(random() % 256) - 128);
  for (auto& v : w) v = static_cast<std::int8_t>(static_cast<int>(random() % 256) - 128);
  QuantizedGraph q = int8_graph(layer, kMixedInput, w, {100, -200, 300, 0, -7, 5});
  q.layers[0].requant = quantize_multiplier(1.0 / 512.0);
  const auto rows = im2col(layer, kMixedInput, std::vector<double>(x.begin(), x.end()));
  const std::int64_t pixels = layer.output_dims[1] * layer.output_dims[2];
  const std::size_t k = 2 * 3 * 2;
  std::vector<std::int32_t> acc;
  for (std::int64_t n = 0; n < 6; ++n) {
    const std::int64_t group = n / 3;
    for (std::int64_t p = 0; p < pixels; ++p) {
      std::int64_t sum = 0;
      for (std::size_t i = 0; i < k; ++i) {
        sum += static_cast<std::int64_t>(rows[static_cast<std::size_t>(group * pixels + p)][i]) * w[n * k + i];
      }
      acc.push_back(static_cast<std::int32_t>(sum));
    }
  }
  const Tensor expected = finish_compute_layer(q, 0, acc, {});
  for (const std::int64_t chunk : {0, 1, 5, 12}) {
    const auto r = run_reference(q, int_tensor(kMixedInput, x), chunk);
    EXPECT_EQ(r.outputs[0].q, expected.q) << "chunk " << chunk;
  }
  EXPECT_EQ(layer.output_dims, (Dims{6, 4, 7}));  // (9 + 3 - 5) / 2 + 1, (7 + 1 - 2) + 1
}

TEST(ReferenceVsIm2col, Fp16AccumulationOrderBitExact) {
  const Layer layer = conv_layer(kMixedSpec, kMixedInput);
  std::mt19937 random(12);
  auto fp16_value = [&random] {
    return round_to_format(static_cast<float>(static_cast<int>(random() % 20001) - 10000) / 64.0f, NumberFormat::fp16);
  };
  std::vector<float> x(4 * 9 * 7), w(6 * 2 * 3 * 2), bias(6);
  for (auto& v : x) v = fp16_value();
  for (auto& v : w) v = fp16_value();
  for (auto& v : bias) v = fp16_value();
  const QuantizedGraph q = float_graph(layer, kMixedInput, w, kFp16Acc16, bias);
  const auto rows = im2col(layer, kMixedInput, std::vector<double>(x.begin(), x.end()));
  const std::int64_t pixels = layer.output_dims[1] * layer.output_dims[2];
  const std::int64_t k = 12;
  for (const std::int64_t chunk : {1, 5, 12}) {
    std::vector<float> acc;
    for (std::int64_t n = 0; n < 6; ++n) {
      for (std::int64_t p = 0; p < pixels; ++p) {
        const auto& row = rows[static_cast<std::size_t>(n / 3 * pixels + p)];
        float total = 0.0f;
        for (std::int64_t start = 0; start < k; start += chunk) {
          float s = 0.0f;
          for (std::int64_t i = start; i < std::min(start + chunk, k); ++i) {
            s = round_to_format(s + static_cast<float>(row[static_cast<std::size_t>(i)]) * w[n * k + i],
                                NumberFormat::fp16);
          }
          total = round_to_format(total + s, NumberFormat::fp16);
        }
        acc.push_back(total);
      }
    }
    const Tensor expected = finish_compute_layer(q, 0, {}, acc);
    const auto r = run_reference(q, float_tensor(kMixedInput, x, NumberFormat::fp16), chunk);
    EXPECT_EQ(r.outputs[0].f, expected.f) << "chunk " << chunk;
  }
}

TEST(ReferenceOverflow, TightGateAtTwoToThe31) {
  constexpr std::int64_t kHalf = 131072;  // 2^17 products of 2^14 reach 2^31
  // 2^31 - 1 = 131071 * 16384 + 127 * 127 + 127 * 2: in range, no overflow.
  std::vector<std::int8_t> x(kHalf + 1, -128), w(kHalf + 1, -128);
  x[kHalf - 1] = 127, w[kHalf - 1] = 127;
  x[kHalf] = 127, w[kHalf] = 2;
  const Dims in{kHalf + 1, 1, 1};
  QuantizedGraph q = int8_graph(fc_layer(1), in, w, {0});
  q.layers[0].requant = quantize_multiplier(1.0 / 16777216.0);  // 2^31 - 1 -> 128 -> saturates 127
  auto r = run_reference(q, int_tensor(in, x), 0);
  EXPECT_EQ(r.overflow_outputs[0], 0);
  EXPECT_EQ(r.outputs[0].q[0], 127);
  // One more unit: 2^31 overflows; the stored value wraps to -2^31.
  w[kHalf] = 3;
  q.layers[0].weights.q = w;
  r = run_reference(q, int_tensor(in, x), 0);
  EXPECT_EQ(r.overflow_outputs[0], 1);
  EXPECT_EQ(r.outputs[0].q[0], -128);
}

TEST(ReferenceOverflow, TransientOverflowCountsEvenWhenTheSumFits) {
  // 2^17 products of +2^14 reach 2^31, then one of -16256 brings the sum back
  // into range: the output is flagged and holds the exact sum.
  constexpr std::int64_t k = 131073;
  std::vector<std::int8_t> x(k, -128), w(k, -128);
  w[k - 1] = 127;
  const Dims in{k, 1, 1};
  QuantizedGraph q = int8_graph(fc_layer(2), in, {}, {0, 0});
  // Output 1 uses weights of 1: a sum of -128 * k, far from overflowing.
  q.layers[0].weights.q = w;
  q.layers[0].weights.q.insert(q.layers[0].weights.q.end(), k, 1);
  q.layers[0].requant = quantize_multiplier(1.0 / 16777216.0);
  const auto r = run_reference(q, int_tensor(in, x), 0);
  EXPECT_EQ(r.overflow_outputs[0], 1);  // one of the two outputs
  EXPECT_EQ(r.outputs[0].q[0], 127);    // (2^31 - 16256) / 2^24 = 128 -> 127: not wrapped
  EXPECT_EQ(r.outputs[0].q[1], -1);     // -128 * 131073 / 2^24 = -1.0000076
}

TEST(ReferenceOverflow, ChunkingDecidesWhichSumsAreChecked) {
  // Chunk 1: 131072 products of -16256 (sum -2130706432, in range).
  // Chunk 2: 131072 products of +16384: its own sum s reaches 2^31 and
  // overflows, although the running total never leaves int32.
  constexpr std::int64_t c = 131072;
  std::vector<std::int8_t> x(2 * c, -128), w(2 * c, -128);
  for (std::int64_t i = 0; i < c; ++i) w[static_cast<std::size_t>(i)] = 127;
  const Dims in{4, 256, 256};
  const auto q = int8_graph(fc_layer(1), in, w, {0});
  const Tensor input = int_tensor(in, x);
  EXPECT_EQ(run_reference(q, input, 0).overflow_outputs[0], 0);  // one chunk: the prefix sums stay in range
  EXPECT_EQ(run_reference(q, input, c).overflow_outputs[0], 1);
  // Chunks of 2^16: every s stays within 2^30, and so does the total.
  EXPECT_EQ(run_reference(q, input, c / 2).overflow_outputs[0], 0);
}

TEST(ReferenceOverflow, AccumulatorCheckAcrossChunks) {
  // 2^17 products of 2^14 in chunks of 2^16: each chunk sums to 2^30, the
  // second chunk's addition brings acc to 2^31.
  constexpr std::int64_t k = 131072;
  const Dims in{k, 1, 1};
  const auto q = int8_graph(fc_layer(1), in, std::vector<std::int8_t>(k, -128), {0});
  const Tensor input = int_tensor(in, std::vector<std::int8_t>(k, -128));
  EXPECT_EQ(run_reference(q, input, k / 2).overflow_outputs[0], 1);
}

}  // namespace
}  // namespace npusim
