// concat, softmax, flatten, reshape and clip on the post-processing unit's
// arithmetic (models/quant/layer_ops.cpp), each checked against values derived by hand
// in fp32 and in int8.
#include "models/quant/layer_ops.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "models/reference/fp32_executor.h"
#include "reference_test_support.h"

namespace npusim {
namespace {

using namespace npusim::test;

Layer op_layer(LayerType type, const Dims& output, std::vector<std::string> inputs = {"input"}) {
  Layer layer;
  layer.name = "op";
  layer.type = type;
  layer.inputs = std::move(inputs);
  layer.output_dims = output;
  return layer;
}

// One non-GEMM layer with the output in `format` and quantization `out`.
QuantizedGraph op_graph(const Layer& layer, const Dims& input, NumberFormat format, QuantParams out = {}) {
  QuantizedGraph q;
  q.mac = is_integer_class(format) ? MacFormat{format, format, AccumulatorFormat::int32, 1}
                                   : MacFormat{format, format, AccumulatorFormat::fp32, 1};
  q.graph.input_dims = input;
  q.graph.layers = {layer};
  q.layers.resize(1);
  q.layers[0].output_quant = out;
  q.layers[0].output_format = format;
  return q;
}

Tensor quantized(const Dims& dims, std::vector<std::int8_t> values, QuantParams quant,
                 NumberFormat format = NumberFormat::int8) {
  Tensor t = int_tensor(dims, std::move(values), format);
  t.quant = quant;
  return t;
}

Tensor run_one(const QuantizedGraph& q, std::vector<const Tensor*> inputs) {
  return run_elementwise_layer(q, 0, inputs);
}

TEST(ConcatOp, Fp32AlongWidthInterleavesRows) {
  // a = [[1], [2]] (1x2x1), b = [[3, 4], [5, 6]] (1x2x2): rows joined side by side.
  const Tensor a = float_tensor({1, 2, 1}, {1, 2});
  const Tensor b = float_tensor({1, 2, 2}, {3, 4, 5, 6});
  Layer layer = op_layer(LayerType::concat, {1, 2, 3}, {"a", "b"});
  layer.axis = 2;
  const Tensor out = run_one(op_graph(layer, {1, 2, 1}, NumberFormat::fp32), {&a, &b});
  EXPECT_EQ(out.dims, (Dims{1, 2, 3}));
  EXPECT_EQ(out.f, (std::vector<float>{1, 3, 4, 2, 5, 6}));
}

TEST(ConcatOp, Fp32AlongChannelsAndHeight) {
  const Tensor a = float_tensor({1, 1, 2}, {1, 2});
  const Tensor b = float_tensor({2, 1, 2}, {3, 4, 5, 6});
  Layer layer = op_layer(LayerType::concat, {3, 1, 2}, {"a", "b"});
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 2}, NumberFormat::fp32), {&a, &b}).f,
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Along H, the same tensor twice: [[1, 2], [1, 2]].
  layer = op_layer(LayerType::concat, {1, 2, 2}, {"a", "a"});
  layer.axis = 1;
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 2}, NumberFormat::fp32), {&a, &a}).f, (std::vector<float>{1, 2, 1, 2}));
}

TEST(ConcatOp, Fp16RoundsNothingThatIsAlreadyFp16) {
  const Tensor a = float_tensor({1, 1, 1}, {0.5f}, NumberFormat::fp16);
  const Tensor b = float_tensor({1, 1, 1}, {-3.0f}, NumberFormat::fp16);
  const Layer layer = op_layer(LayerType::concat, {2, 1, 1}, {"a", "b"});
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 1}, NumberFormat::fp16), {&a, &b}).f, (std::vector<float>{0.5f, -3.0f}));
}

TEST(ConcatOp, Int8CopiesEqualParamsAndRequantizesOthers) {
  // a: scale 1, zp 0, the output's parameters: copied as is (even -128).
  // b: scale 0.5, zp 2: q 6 is real 2 -> q 2; q 12 is real 5 -> 5; q 3 is
  //    real 0.5 -> 0.5 rounds away from zero to 1; q -128 is real -65 -> -65.
  const QuantParams out{1.0, 0};
  const Tensor a = quantized({1, 1, 2}, {-128, 127}, out);
  const Tensor b = quantized({1, 1, 4}, {6, 12, 3, -128}, {0.5, 2});
  Layer layer = op_layer(LayerType::concat, {1, 1, 6}, {"a", "b"});
  layer.axis = 2;
  const Tensor result = run_one(op_graph(layer, {1, 1, 2}, NumberFormat::int8, out), {&a, &b});
  EXPECT_EQ(result.q, (std::vector<std::int8_t>{-128, 127, 2, 5, 1, -65}));
  EXPECT_EQ(result.quant.scale, 1.0);
}

TEST(ConcatOp, Int8SaturatesAndShiftsZeroPoints) {
  // Output scale 0.25, zp -10: input c (scale 1, zp 0) q 20 -> real 20 -> 80 - 10 = 70;
  // q 40 -> 160 - 10 = 150 saturates to 127; q -30 -> -120 - 10 = -130 -> -128.
  const QuantParams out{0.25, -10};
  const Tensor c = quantized({1, 1, 3}, {20, 40, -30}, {1.0, 0});
  const Layer layer = op_layer(LayerType::concat, {1, 1, 3}, {"c"});
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 3}, NumberFormat::int8, out), {&c}).q,
            (std::vector<std::int8_t>{70, 127, -128}));
}

TEST(ConcatOp, RejectsMismatchedShapes) {
  const Tensor a = float_tensor({1, 1, 2}, {1, 2});
  const Tensor b = float_tensor({1, 2, 2}, {3, 4, 5, 6});
  const Layer layer = op_layer(LayerType::concat, {2, 1, 2}, {"a", "b"});
  EXPECT_THROW(run_one(op_graph(layer, {1, 1, 2}, NumberFormat::fp32), {&a, &b}), std::invalid_argument);
}

TEST(SoftmaxOp, Fp32HandValues) {
  // softmax(1, 2, 3) = e^(x - 3) / (e^-2 + e^-1 + 1) = 0.0900306, 0.2447285, 0.6652410.
  const Tensor in = float_tensor({3, 1, 1}, {1, 2, 3});
  const Tensor out = run_one(op_graph(op_layer(LayerType::softmax, {3, 1, 1}), {3, 1, 1}, NumberFormat::fp32), {&in});
  ASSERT_EQ(out.f.size(), 3u);
  EXPECT_NEAR(out.f[0], 0.0900306, 1e-6);
  EXPECT_NEAR(out.f[1], 0.2447285, 1e-6);
  EXPECT_NEAR(out.f[2], 0.6652410, 1e-6);
  // Subtracting the max keeps huge logits finite: (1000, 1000) -> (0.5, 0.5) exactly.
  const Tensor big = float_tensor({2, 1, 1}, {1000, 1000});
  EXPECT_EQ(run_one(op_graph(op_layer(LayerType::softmax, {2, 1, 1}), {2, 1, 1}, NumberFormat::fp32), {&big}).f,
            (std::vector<float>{0.5f, 0.5f}));
}

TEST(SoftmaxOp, Fp32AlongHeightNormalizesEachColumn) {
  // [[0, 5], [0, 5]] along H (axis 1): each column is two equal values -> 0.5.
  const Tensor in = float_tensor({1, 2, 2}, {0, 5, 0, 5});
  Layer layer = op_layer(LayerType::softmax, {1, 2, 2});
  layer.axis = 1;
  EXPECT_EQ(run_one(op_graph(layer, {1, 2, 2}, NumberFormat::fp32), {&in}).f,
            (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  // Along W (axis 2), row (0, 5): e^-5 / (1 + e^-5) = 0.00669285, 0.99330715.
  layer.axis = 2;
  const Tensor out = run_one(op_graph(layer, {1, 2, 2}, NumberFormat::fp32), {&in});
  EXPECT_NEAR(out.f[0], 0.00669285, 1e-7);
  EXPECT_NEAR(out.f[1], 0.99330715, 1e-7);
  EXPECT_EQ(out.f[0], out.f[2]);
}

TEST(SoftmaxOp, Int8UsesScaleOneOver256ZeroPointMinus128) {
  EXPECT_EQ(softmax_output_quant(NumberFormat::int8).scale, 1.0 / 256);
  EXPECT_EQ(softmax_output_quant(NumberFormat::int8).zero_point, -128);
  EXPECT_EQ(softmax_output_quant(NumberFormat::int4).scale, 1.0 / 16);
  EXPECT_EQ(softmax_output_quant(NumberFormat::int4).zero_point, -8);
  const QuantParams out = softmax_output_quant(NumberFormat::int8);
  // Four equal values: 0.25 each -> -128 + 64 = -64.
  const Tensor flat = quantized({4, 1, 1}, {7, 7, 7, 7}, {0.1, 3});
  EXPECT_EQ(run_one(op_graph(op_layer(LayerType::softmax, {4, 1, 1}), {4, 1, 1}, NumberFormat::int8, out), {&flat}).q,
            (std::vector<std::int8_t>{-64, -64, -64, -64}));
  // Scale ln 3: q (0, 1) are real (0, ln 3): p = (1/4, 3/4) -> -128 + 64, -128 + 192.
  const Tensor thirds = quantized({2, 1, 1}, {0, 1}, {std::log(3.0), 0});
  EXPECT_EQ(run_one(op_graph(op_layer(LayerType::softmax, {2, 1, 1}), {2, 1, 1}, NumberFormat::int8, out), {&thirds}).q,
            (std::vector<std::int8_t>{-64, 64}));
  // A certain class: p = 1 -> 128 saturates to 127; p ~ 0 -> -128.
  const Tensor sure = quantized({2, 1, 1}, {-100, 100}, {1.0, 0});
  EXPECT_EQ(run_one(op_graph(op_layer(LayerType::softmax, {2, 1, 1}), {2, 1, 1}, NumberFormat::int8, out), {&sure}).q,
            (std::vector<std::int8_t>{-128, 127}));
}

TEST(ClipOp, Fp32ClampsAndPassesNaN) {
  Layer layer = op_layer(LayerType::clip, {1, 1, 4});
  layer.clip = {-1.0f, 2.0f};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor in = float_tensor({1, 1, 4}, {-5, 0.5f, 7, nan});
  const Tensor out = run_one(op_graph(layer, {1, 1, 4}, NumberFormat::fp32), {&in});
  EXPECT_EQ(out.f[0], -1.0f);
  EXPECT_EQ(out.f[1], 0.5f);
  EXPECT_EQ(out.f[2], 2.0f);
  EXPECT_TRUE(std::isnan(out.f[3]));
}

TEST(ClipOp, Int8ClampsToQuantizedBounds) {
  // Scale 0.5, zp 10: min -1 -> 10 + round(-2) = 8; max 2.2 -> 10 + round(4.4) = 14.
  Layer layer = op_layer(LayerType::clip, {1, 1, 6});
  layer.clip = {-1.0f, 2.2f};
  const QuantParams quant{0.5, 10};
  const Tensor in = quantized({1, 1, 6}, {0, 8, 9, 14, 15, 127}, quant);
  const Tensor out = run_one(op_graph(layer, {1, 1, 6}, NumberFormat::int8, quant), {&in});
  EXPECT_EQ(out.q, (std::vector<std::int8_t>{8, 8, 9, 14, 14, 14}));
  // The default bounds (+-FLT_MAX) change nothing.
  layer.clip = ClipParams{};
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 6}, NumberFormat::int8, quant), {&in}).q, in.q);
}

TEST(ClipOp, BinaryLevelsAreClampedThenBinarized) {
  // Levels {-s, +s}, s = 1 (zp 0). clip [0, 6]: -1 -> 0, the midpoint, -> +1.
  // clip [-6, -0.5]: +1 -> -0.5, below the midpoint -> -1.
  const QuantParams quant{1.0, 0};
  const Tensor in = quantized({1, 1, 2}, {-1, 1}, quant, NumberFormat::binary);
  Layer layer = op_layer(LayerType::clip, {1, 1, 2});
  layer.clip = {0.0f, 6.0f};
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 2}, NumberFormat::binary, quant), {&in}).q,
            (std::vector<std::int8_t>{1, 1}));
  layer.clip = {-6.0f, -0.5f};
  EXPECT_EQ(run_one(op_graph(layer, {1, 1, 2}, NumberFormat::binary, quant), {&in}).q,
            (std::vector<std::int8_t>{-1, -1}));
}

TEST(FlattenReshapeOp, KeepRowMajorValues) {
  const QuantParams quant{0.1, -3};
  const Tensor in = quantized({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, quant);
  const Tensor flat =
      run_one(op_graph(op_layer(LayerType::flatten, {12, 1, 1}), {2, 2, 3}, NumberFormat::int8, quant), {&in});
  EXPECT_EQ(flat.dims, (Dims{12, 1, 1}));
  EXPECT_EQ(flat.q, in.q);
  EXPECT_EQ(flat.quant.zero_point, -3);
  const Tensor in_f = float_tensor({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const Tensor reshaped =
      run_one(op_graph(op_layer(LayerType::reshape, {3, 4, 1}), {2, 2, 3}, NumberFormat::fp32), {&in_f});
  EXPECT_EQ(reshaped.dims, (Dims{3, 4, 1}));
  EXPECT_EQ(reshaped.f, in_f.f);
  EXPECT_THROW(run_one(op_graph(op_layer(LayerType::reshape, {3, 3, 1}), {2, 2, 3}, NumberFormat::fp32), {&in_f}),
               std::invalid_argument);
}

// The fp32 executor runs the new layers through the same graph walk: a
// flatten before an fc gives the fc of the unflattened tensor, and the
// softmax of a reshape normalizes along the chosen axis.
TEST(Fp32Executor, RunsFlattenFcReshapeSoftmax) {
  Graph graph;
  graph.input_dims = {2, 1, 2};
  Layer flat = op_layer(LayerType::flatten, {4, 1, 1});
  flat.name = "flat";
  Layer fc;
  fc.name = "fc";
  fc.type = LayerType::fc;
  fc.inputs = {"flat"};
  fc.fc.out_features = 2;
  fc.output_dims = {2, 1, 1};
  fc.weights = {1, 0, 0, 0, /**/ 0, 0, 0, 1};  // picks elements 0 and 3
  Layer rows = op_layer(LayerType::reshape, {1, 1, 2}, {"fc"});
  rows.name = "rows";
  Layer prob = op_layer(LayerType::softmax, {1, 1, 2}, {"rows"});
  prob.name = "prob";
  prob.axis = 2;
  graph.layers = {flat, fc, rows, prob};
  const auto outputs = Fp32Executor(graph).run(float_tensor({2, 1, 2}, {3, 9, 9, 3}));
  EXPECT_EQ(outputs[1].f, (std::vector<float>{3, 3}));
  EXPECT_EQ(outputs[3].f, (std::vector<float>{0.5f, 0.5f}));
}

}  // namespace
}  // namespace npusim
