#include "models/reference/reference_executor.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "accel/formats/requantize.h"
#include "reference_test_support.h"

// Hand-computed layers: padding, stride, dilation, groups, requantization,
// pooling, add and binary, each small enough to check on paper.

namespace npusim {
namespace {

using namespace npusim::test;

const std::vector<std::int8_t> kOneToNine{1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST(ReferenceInt8, ConvValidWindowPlusBias) {
  // [1 2 3; 4 5 6; 7 8 9] (*) [1 2; 3 4]: 1+4+12+20 = 37, 47, 67, 77; + 3.
  const Dims in{1, 3, 3};
  const auto q = int8_graph(conv_layer({.filters = 1, .kernel_h = 2, .kernel_w = 2}, in), in, {1, 2, 3, 4}, {3});
  const auto r = run_reference(q, int_tensor(in, kOneToNine), 0);
  EXPECT_EQ(r.outputs[0].dims, (Dims{1, 2, 2}));
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{40, 50, 70, 80}));
  EXPECT_EQ(r.overflow_outputs, (std::vector<std::int64_t>{0}));
}

TEST(ReferenceInt8, ConvPaddingAndStride) {
  // Padding 1, stride 2: windows at rows/cols {-1, 0} and {1, 2}.
  //   (0,0): 1*4 = 4            (0,1): 2*3 + 3*4 = 18
  //   (1,0): 4*2 + 7*4 = 36     (1,1): 5*1 + 6*2 + 8*3 + 9*4 = 77
  const Dims in{1, 3, 3};
  const ConvSpec spec{.filters = 1,
                      .kernel_h = 2,
                      .kernel_w = 2,
                      .stride_h = 2,
                      .stride_w = 2,
                      .pad_top = 1,
                      .pad_left = 1,
                      .pad_bottom = 1,
                      .pad_right = 1};
  const auto q = int8_graph(conv_layer(spec, in), in, {1, 2, 3, 4});
  const auto r = run_reference(q, int_tensor(in, kOneToNine), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{4, 18, 36, 77}));
}

TEST(ReferenceInt8, ConvAsymmetricPadding) {
  // Top 1, left 0, bottom 0, right 1, kernel 2x2 of ones, stride 1: 3x3 output.
  const Dims in{1, 3, 3};
  const ConvSpec spec{.filters = 1, .kernel_h = 2, .kernel_w = 2, .pad_top = 1, .pad_right = 1};
  const auto q = int8_graph(conv_layer(spec, in), in, {1, 1, 1, 1});
  const auto r = run_reference(q, int_tensor(in, kOneToNine), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{3, 5, 3, 12, 16, 9, 24, 28, 15}));
}

TEST(ReferenceInt8, ConvDilation) {
  // Dilation 2 spreads the 2x2 kernel over the corners: 1*1 + 3*2 + 7*3 + 9*4.
  const Dims in{1, 3, 3};
  const ConvSpec spec{.filters = 1, .kernel_h = 2, .kernel_w = 2, .dilation_h = 2, .dilation_w = 2};
  const auto q = int8_graph(conv_layer(spec, in), in, {1, 2, 3, 4});
  const auto r = run_reference(q, int_tensor(in, kOneToNine), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{64}));
}

TEST(ReferenceInt8, GroupedConvSeesOnlyItsGroup) {
  // Two groups of one channel: filter 0 doubles channel 0, filter 1 negates channel 1.
  const Dims in{2, 2, 2};
  const auto q = int8_graph(conv_layer({.filters = 2, .groups = 2}, in), in, {2, -1});
  const auto r = run_reference(q, int_tensor(in, {1, 2, 3, 4, 5, 6, 7, 8}), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{2, 4, 6, 8, -5, -6, -7, -8}));
  // One group: each filter sums both channels.
  const auto q1 = int8_graph(conv_layer({.filters = 1}, in), in, {1, 10});
  const auto r1 = run_reference(q1, int_tensor(in, {1, 2, 3, 4, 5, 6, 7, 8}), 0);
  EXPECT_EQ(r1.outputs[0].q, (std::vector<std::int8_t>{51, 62, 73, 84}));
}

TEST(ReferenceInt8, FcFlattensChannelsFirstAndAppliesRelu) {
  const Dims in{2, 1, 2};  // flattened (C, H, W): [1, 2, 3, 4]
  const auto q =
      int8_graph(fc_layer(3, Activation::relu), in, {1, 0, 0, 1, /**/ 1, 1, 1, 1, /**/ -1, -1, -1, -1}, {0, 1, 2});
  const auto r = run_reference(q, int_tensor(in, {1, 2, 3, 4}), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{5, 11, 0}));
}

TEST(ReferenceInt8, RequantizationSaturationAndRelu6) {
  const Dims in{1, 1, 3};
  auto q = int8_graph(fc_layer(3, Activation::relu6), in, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  q.layers[0].requant = quantize_multiplier(0.5);
  q.layers[0].output_quant = {0.5, 0};  // relu6 ceiling: 6 / 0.5 = 12
  const auto r = run_reference(q, int_tensor(in, {20, -40, 9}), 0);
  // 20 * 0.5 = 10; -20 -> relu 0; 9 * 0.5 = 4.5 -> 5 (ties away from zero).
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{10, 0, 5}));
  const auto clipped = run_reference(q, int_tensor(in, {40, 100, -9}), 0);
  EXPECT_EQ(clipped.outputs[0].q, (std::vector<std::int8_t>{12, 12, 0}));
  // Without activation the int8 range clamps instead.
  q.graph.layers[0].activation = Activation::none;
  q.layers[0].requant = quantize_multiplier(2.0);
  const auto wide = run_reference(q, int_tensor(in, {100, -100, 3}), 0);
  EXPECT_EQ(wide.outputs[0].q, (std::vector<std::int8_t>{127, -128, 6}));
}

TEST(ReferenceInt8, MaxPoolIgnoresPadding) {
  // All-negative input: a zero from padding would win if padding took part.
  const Dims in{1, 4, 4};
  std::vector<std::int8_t> values;
  for (int i = 1; i <= 16; ++i) values.push_back(static_cast<std::int8_t>(-i));
  const auto q = int8_graph(pool_layer(LayerType::maxpool, 3, 2, 1, 1, 1, 1, {1, 2, 2}), in, {});
  const auto r = run_reference(q, int_tensor(in, values), 0);
  // Windows rows/cols {-1..1} and {1..3}: maxima at their top-left in-bounds element.
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{-1, -2, -5, -6}));
}

TEST(ReferenceInt8, AvgPoolDividesByInBoundsCountRoundingAway) {
  // Padding top 1, left 1 only, kernel 2, stride 1 on 1..9: a 3x3 output.
  const Dims in{1, 3, 3};
  const auto q = int8_graph(pool_layer(LayerType::avgpool, 2, 1, 1, 1, 0, 0, {1, 3, 3}), in, {});
  const auto r = run_reference(q, int_tensor(in, kOneToNine), 0);
  // (0,0): 1/1; (0,1): 3/2 = 1.5 -> 2; (0,2): 5/2 -> 3; (1,0): 5/2 -> 3; (1,1): 12/4 = 3 ...
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{1, 2, 3, 3, 3, 4, 6, 6, 7}));
  std::vector<std::int8_t> negated;
  for (const auto v : kOneToNine) negated.push_back(static_cast<std::int8_t>(-v));
  const auto n = run_reference(q, int_tensor(in, negated), 0);
  EXPECT_EQ(n.outputs[0].q, (std::vector<std::int8_t>{-1, -2, -3, -3, -3, -4, -6, -6, -7}));
}

TEST(ReferenceInt8, GlobalAvgPool) {
  const Dims in{2, 2, 2};
  Layer layer = pool_layer(LayerType::avgpool, 1, 1, 0, 0, 0, 0, {2, 1, 1});
  layer.pool.global = true;
  const auto q = int8_graph(layer, in, {});
  const auto r = run_reference(q, int_tensor(in, {1, 2, 3, 5, -1, -2, -3, -4}), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{3, -3}));  // 11/4 = 2.75, -10/4 = -2.5
}

// conv -> relu6 layer -> add(conv, relu6): tensors are routed by name, and the
// add rescales each input by its own multiplier.
TEST(ReferenceInt8, ChainedLayersWithAddAndRelu6) {
  const Dims in{1, 1, 4};
  QuantizedGraph q = int8_graph(conv_layer({.filters = 1}, in), in, {3});
  Layer relu6;
  relu6.name = "clip";
  relu6.type = LayerType::relu6;
  relu6.inputs = {"conv"};
  relu6.output_dims = {1, 1, 4};
  Layer add;
  add.name = "sum";
  add.type = LayerType::add;
  add.inputs = {"conv", "clip"};
  add.output_dims = {1, 1, 4};
  add.activation = Activation::relu;
  q.graph.layers.push_back(relu6);
  q.graph.layers.push_back(add);
  q.layers.resize(3);
  q.layers[0].output_quant = {0.5, 0};
  q.layers[1].output_quant = {0.5, 0};  // relu6 ceiling 12
  q.layers[2].output_quant = {1.0, 0};
  q.layers[2].add_requant = {quantize_multiplier(0.5), quantize_multiplier(0.5)};
  const auto r = run_reference(q, int_tensor(in, {-2, 1, 5, 40}), 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{-6, 3, 15, 120}));
  EXPECT_EQ(r.outputs[1].q, (std::vector<std::int8_t>{0, 3, 12, 12}));
  // TFLite's add rounds once (docs/numerics.md): -3 + 0 -> relu 0;
  // 1.5 + 1.5 = 3; 7.5 + 6 = 13.5 -> 14 (half away from zero); 60 + 6.
  EXPECT_EQ(r.outputs[2].q, (std::vector<std::int8_t>{0, 3, 14, 66}));
  EXPECT_EQ(r.overflow_outputs, (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(ReferenceBinary, SignOfTheSumAndReluGivesAllOnes) {
  const Dims in{1, 1, 3};
  QuantizedGraph q = int8_graph(fc_layer(3), in, {1, 1, 1, -1, -1, -1, 1, -1, 1}, {0, 0, -1});
  q.mac = {NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  q.layers[0].weights.format = NumberFormat::binary;
  const Tensor x = int_tensor(in, {1, -1, -1}, NumberFormat::binary);
  const auto r = run_reference(q, x, 0);
  // sums -1, +1, +1 - 1 = 0 -> +1 (zero counts as non-negative)
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{-1, 1, 1}));
  q.graph.layers[0].activation = Activation::relu;
  EXPECT_EQ(run_reference(q, x, 0).outputs[0].q, (std::vector<std::int8_t>{1, 1, 1}));
}

TEST(ReferenceFloat, ConvWithPaddingAndBiasInFp32) {
  const Dims in{1, 2, 2};
  const ConvSpec spec{.filters = 1, .kernel_h = 2, .kernel_w = 2, .pad_top = 1, .pad_left = 1};
  const auto q = float_graph(conv_layer(spec, in), in, {0.5f, 0.25f, -1.0f, 2.0f}, kFp32, {0.125f});
  const auto r = run_reference(q, float_tensor(in, {1.0f, 2.0f, 3.0f, 4.0f}), 0);
  // (0,0): 1*2; (0,1): 1*-1 + 2*2; (1,0): 1*0.25 + 3*2; (1,1): 1*.5 + 2*.25 + 3*-1 + 4*2.
  EXPECT_EQ(r.outputs[0].f, (std::vector<float>{2.125f, 3.125f, 6.375f, 6.125f}));
}

TEST(ReferenceFloat, PoolsRoundToTheActivationFormat) {
  const Dims in{1, 1, 2};
  // fp16 holds 1 + 2^-10 but not 1 + 2^-11 (a tie, rounded to even 1.0).
  const float a = 1.0f, b = std::ldexp(1.0f, -11);
  QuantizedGraph q = float_graph(pool_layer(LayerType::avgpool, 1, 1, 0, 0, 0, 0, {1, 1, 1}), in, {},
                                 {NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1});
  q.graph.layers[0].pool.global = true;
  // (1 + 2^-10 + 1) / 2 = 1 + 2^-11, which fp16 rounds to 1.0.
  const auto r = run_reference(q, float_tensor(in, {a + 2 * b, a}, NumberFormat::fp16), 0);
  EXPECT_EQ(r.outputs[0].f[0], 1.0f);
  q.graph.layers[0].type = LayerType::maxpool;
  EXPECT_EQ(run_reference(q, float_tensor(in, {a + 2 * b, a}, NumberFormat::fp16), 0).outputs[0].f[0], a + 2 * b);
}

TEST(ReferenceFloat, AddAppliesItsFusedActivation) {
  const Dims in{1, 1, 3};
  const MacFormat fp16{NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1};
  QuantizedGraph q = float_graph(pool_layer(LayerType::maxpool, 1, 1, 0, 0, 0, 0, in), in, {}, fp16);
  q.graph.layers[0].type = LayerType::relu;
  q.graph.layers[0].name = "r";
  Layer add;
  add.name = "sum";
  add.type = LayerType::add;
  add.inputs = {"input", "r"};
  add.output_dims = in;
  add.activation = Activation::relu6;
  q.graph.layers.push_back(add);
  q.layers.resize(2);
  const float x2 = 1.0f + std::ldexp(1.0f, -10);
  const auto r = run_reference(q, float_tensor(in, {4.0f, -1.0f, x2}, NumberFormat::fp16), 0);
  EXPECT_EQ(r.outputs[0].f, (std::vector<float>{4.0f, 0.0f, x2}));
  EXPECT_EQ(r.outputs[1].f, (std::vector<float>{6.0f, 0.0f, 2.0f * x2}));
}

}  // namespace
}  // namespace npusim
