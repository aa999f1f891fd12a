// Integer weights with a zero point (graphs imported from quantized ONNX
// files) and the float_half_even requantization of ONNX QLinearConv /
// QLinearMatMul: hand-derived cases, two ONNX conformance cases, and random
// graphs on which the simulator (plain GEMM + row sums on the PPU) equals the
// reference executor (nested loops over (x - zx)(w - zw)) bit for bit.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "accel/formats/requantize.h"
#include "models/quant/layer_ops.h"
#include "models/reference/reference_executor.h"
#include "models/seeded_random.h"
#include "reference_test_support.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

using namespace npusim::test;

const MacFormat kW8A8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};

Tensor with_quant(Tensor t, QuantParams quant) {
  t.quant = std::move(quant);
  return t;
}

// The reference outputs and the simulator's, for each dataflow; fails the
// test on any difference. Returns the reference's last output.
Tensor run_both(const QuantizedGraph& q, const Tensor& input, int rows = 3, int cols = 2) {
  const ReferenceResult reference = run_reference(q, input, 0);
  for (const Dataflow dataflow : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
    AcceleratorConfig config;
    config.array.rows = rows;
    config.array.cols = cols;
    config.array.mac = q.mac;
    config.array.dataflow = dataflow;
    const auto engine = make_tile_engine(config.array);
    const NetworkRun run = run_network(q, input, *engine, config);
    const auto checks = check_against_reference(run, run_reference(q, input, reference_reduction_chunk(config.array)));
    for (std::size_t i = 0; i < checks.size(); ++i) {
      EXPECT_TRUE(checks[i].bit_exact) << q.graph.layers[i].name << " " << static_cast<int>(dataflow) << ": "
                                       << checks[i].detail;
    }
  }
  return reference.outputs.back();
}

// fc, K = 2, N = 2: x = (7, 1), zx = 3; W = [[10, -4], [7, 2]], zw = 5.
//   out0 = (7-3)(10-5) + (1-3)(-4-5) = 20 + 18 = 38
//   out1 = (7-3)(7-5) + (1-3)(2-5) + 100 = 8 + 6 + 100 = 114
// bias_int = bias - zx * sum_k w + K * zx * zw: 0 - 18 + 30 = 12; 100 - 27 + 30 = 103.
// The array's plain sums 66 and 51 plus bias_int minus zw * (7 + 1) give the same.
TEST(WeightZeroPoint, HandDerivedFc2x2) {
  QuantizedGraph q = int8_graph(fc_layer(2), {2, 1, 1}, {10, -4, 7, 2});
  q.mac = kW8A8;
  q.input_quant = {1.0, 3};
  q.layers[0].weights.quant = {1.0, 5};
  const std::vector<std::int64_t> bias_acc{0, 100};
  q.layers[0].bias_int = fold_weight_terms(q.layers[0].weights, bias_acc, 3);
  EXPECT_EQ(q.layers[0].bias_int, (std::vector<std::int32_t>{12, 103}));
  const Tensor input = with_quant(int_tensor({2, 1, 1}, {7, 1}), {1.0, 3});
  EXPECT_EQ(run_both(q, input).q, (std::vector<std::int8_t>{38, 114}));
  // finish_compute_layer from the plain sums and the row sum 8.
  const std::vector<std::int32_t> plain{66, 51};
  const std::vector<std::int64_t> row_sums{8};
  EXPECT_EQ(finish_compute_layer(q, 0, plain, {}, row_sums).q, (std::vector<std::int8_t>{38, 114}));
  EXPECT_THROW(finish_compute_layer(q, 0, plain, {}, {}), std::invalid_argument);

  // Per-channel zero points (5, -2), bias (0, 50): out1 = 4 * 9 + (-2)(4) + 50 = 78;
  // bias_int[1] = 50 - 27 + 2 * 3 * (-2) = 11.
  q.layers[0].weights.quant.channel_zero_points = {5, -2};
  q.layers[0].bias_int = fold_weight_terms(q.layers[0].weights, std::vector<std::int64_t>{0, 50}, 3);
  EXPECT_EQ(q.layers[0].bias_int, (std::vector<std::int32_t>{12, 11}));
  EXPECT_EQ(run_both(q, input).q, (std::vector<std::int8_t>{38, 78}));
}

// conv 2x2 kernel, padding top/left 1, on x = [1 2; 3 4] with zx = 1 (x - zx =
// [0 1; 2 3]) and w = [1 2 3 4], zw = 2 (w - zw = [-1 0 1 2]):
//   (0,0): only x(0,0) under tap (1,1): 0 * 2 = 0
//   (0,1): x(0,0) * 1 + x(0,1) * 2 -> 0 + 2 = 2
//   (1,0): x(0,0) * 0 + x(1,0) * 2 -> 4
//   (1,1): 0*-1 + 1*0 + 2*1 + 3*2 = 8
// Padded taps hold zx, so they add nothing; in the row-sum form they count as
// zx: bias_int = -1 * 10 + 4 * 1 * 2 = -2, and at (0,0) the A row is (1,1,1,1):
// plain 10 - 2 - 2 * 4 = 0.
TEST(WeightZeroPoint, HandDerivedPaddedConv) {
  const Dims in{1, 2, 2};
  const ConvSpec spec{.filters = 1, .kernel_h = 2, .kernel_w = 2, .pad_top = 1, .pad_left = 1};
  QuantizedGraph q = int8_graph(conv_layer(spec, in), in, {1, 2, 3, 4});
  q.mac = kW8A8;
  q.input_quant = {1.0, 1};
  q.layers[0].weights.quant = {1.0, 2};
  q.layers[0].bias_int = fold_weight_terms(q.layers[0].weights, std::vector<std::int64_t>{0}, 1);
  EXPECT_EQ(q.layers[0].bias_int, (std::vector<std::int32_t>{-2}));
  const Tensor input = with_quant(int_tensor(in, {1, 2, 3, 4}), {1.0, 1});
  EXPECT_EQ(run_both(q, input).q, (std::vector<std::int8_t>{0, 2, 4, 8}));
}

TEST(RequantMode, FloatHalfEvenRoundsTiesToEvenBeforeTheZeroPoint) {
  // m = 0.5, zp_out = 1: 5 -> 2.5 -> 2 (+1 = 3); 7 -> 3.5 -> 4 (5); -5 -> -2.5 -> -2 (-1);
  // 1 -> 0.5 -> 0 (1). The fixed-point mode rounds 2.5 and 0.5 up instead.
  QuantizedGraph q = int8_graph(fc_layer(4), {1, 1, 1}, {1, 1, 1, 1});
  q.mac = kW8A8;
  q.layers[0].output_quant = {1.0, 1};
  q.layers[0].requant = quantize_multiplier(0.5);
  const std::vector<std::int64_t> sums{5, 7, -5, 1};
  std::vector<std::int8_t> fixed;
  for (const auto s : sums) {
    fixed.push_back(static_cast<std::int8_t>(
        multiply_by_quantized_multiplier(static_cast<std::int32_t>(s), q.layers[0].requant) + 1));
  }
  EXPECT_EQ(fixed[0], 4);
  EXPECT_EQ(fixed[3], 2);
  EXPECT_EQ(requantize_compute_layer(q, 0, sums).q, fixed);
  q.layers[0].requant_mode = RequantMode::float_half_even;
  q.layers[0].requant_float = 0.5f;
  EXPECT_EQ(requantize_compute_layer(q, 0, sums).q, (std::vector<std::int8_t>{3, 5, -1, 1}));
  // Saturation after the zero point; per-channel multipliers.
  q.layers[0].channel_requant_float = {100.0f, 0.25f, 1.0f, -0.0f};
  EXPECT_EQ(requantize_compute_layer(q, 0, sums).q, (std::vector<std::int8_t>{127, 3, -4, 1}));
  // The multiplier is computed in fp32, product first.
  const float m = float_requant_multiplier(0.0066, 0.00705, 0.0107);
  EXPECT_EQ(m, (0.0066f * 0.00705f) / 0.0107f);
}

// onnx/backend/test/case/node/qlinearmatmul.py, test_qlinearmatmul_2D, with
// uint8 mapped to int8 by subtracting 128 from values and zero points.
TEST(RequantMode, OnnxQLinearMatMul2D) {
  const std::vector<std::vector<int>> a{{208, 236, 0, 238}, {3, 214, 255, 29}};
  const std::vector<std::vector<int>> b{{152, 51, 244}, {60, 26, 255}, {0, 127, 246}, {127, 254, 247}};
  const std::vector<std::vector<int>> expected{{168, 115, 255}, {1, 66, 151}};
  std::vector<std::int8_t> weights;  // {N = 3, K = 4}: W[n][k] = b[k][n]
  for (int n = 0; n < 3; ++n) {
    for (int k = 0; k < 4; ++k) weights.push_back(static_cast<std::int8_t>(b[k][n] - 128));
  }
  QuantizedGraph q = int8_graph(fc_layer(3), {4, 1, 1}, weights);
  q.mac = kW8A8;
  q.input_quant = {0.0066f, 113 - 128};
  q.layers[0].weights.quant = {0.00705f, 114 - 128};
  q.layers[0].output_quant = {0.0107f, 118 - 128};
  q.layers[0].bias_int = fold_weight_terms(q.layers[0].weights, std::vector<std::int64_t>(3, 0), 113 - 128);
  q.layers[0].requant_mode = RequantMode::float_half_even;
  q.layers[0].requant_float = float_requant_multiplier(0.0066f, 0.00705f, 0.0107f);
  for (int row = 0; row < 2; ++row) {
    std::vector<std::int8_t> x;
    for (int v : a[row]) x.push_back(static_cast<std::int8_t>(v - 128));
    const Tensor out = run_both(q, with_quant(int_tensor({4, 1, 1}, x), q.input_quant));
    for (int n = 0; n < 3; ++n) EXPECT_EQ(out.q[n] + 128, expected[row][n]) << row << "," << n;
  }
}

// onnx/backend/test/case/node/qlinearconv.py, test_qlinearconv: a 1x1 conv of
// a 7x7 uint8 image with one weight 0 at zero point 255 (int8: -128, zp 127).
TEST(RequantMode, OnnxQLinearConv) {
  const std::vector<int> x{255, 174, 162, 25,  203, 168, 58,  15,  59,  237, 95,  129, 0,  64,  56, 242, 153,
                           221, 168, 12,  166, 232, 178, 186, 195, 237, 162, 237, 188, 39, 124, 77, 80,  102,
                           43,  127, 230, 21,  83,  41,  40,  134, 255, 154, 92,  141, 42, 148, 247};
  const std::vector<int> expected{0,   81,  93,  230, 52,  87,  197, 240, 196, 18,  160, 126, 255, 191, 199, 13,  102,
                                  34,  87,  243, 89,  23,  77,  69,  60,  18,  93,  18,  67,  216, 131, 178, 175, 153,
                                  212, 128, 25,  234, 172, 214, 215, 121, 0,   101, 163, 114, 213, 107, 8};
  const Dims in{1, 7, 7};
  QuantizedGraph q = int8_graph(conv_layer({.filters = 1}, in), in, {-128});
  q.mac = kW8A8;
  q.input_quant = {0.00369204697f, 132 - 128};
  q.layers[0].weights.quant = {0.00172794575f, 255 - 128};
  q.layers[0].output_quant = {0.00162681262f, 123 - 128};
  q.layers[0].bias_int = fold_weight_terms(q.layers[0].weights, std::vector<std::int64_t>{0}, 132 - 128);
  q.layers[0].requant_mode = RequantMode::float_half_even;
  q.layers[0].requant_float = float_requant_multiplier(0.00369204697f, 0.00172794575f, 0.00162681262f);
  std::vector<std::int8_t> xs;
  for (int v : x) xs.push_back(static_cast<std::int8_t>(v - 128));
  const Tensor out = run_both(q, with_quant(int_tensor(in, xs), q.input_quant), 4, 4);
  ASSERT_EQ(out.q.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(out.q[i] + 128, expected[i]) << i;
}

// A random graph: conv (padded, strided) -> grouped conv -> fc, every layer
// with random weights and weight zero points (per tensor or per channel),
// random biases, fixed-point or float requantization.
QuantizedGraph random_graph(SeededRandom& random, NumberFormat weight_format, bool per_channel, RequantMode mode) {
  const auto uniform_int = [&](int lo, int hi) {
    return lo + static_cast<int>(random.uniform(0.0, 1.0) * (hi - lo + 1) * 0.999999);
  };
  QuantizedGraph q;
  q.mac = {weight_format, NumberFormat::int8, AccumulatorFormat::int32, 1};
  q.graph.input_dims = {4, 6, 5};
  q.input_quant = {0.02, uniform_int(-60, 60)};
  Layer conv1 = conv_layer({.filters = 6,
                            .kernel_h = 3,
                            .kernel_w = 2,
                            .stride_h = 2,
                            .stride_w = 1,
                            .pad_top = 1,
                            .pad_left = 0,
                            .pad_bottom = 1,
                            .pad_right = 1},
                           q.graph.input_dims);
  conv1.name = "conv1";
  Layer conv2 = conv_layer({.filters = 4,
                            .kernel_h = 3,
                            .kernel_w = 3,
                            .pad_top = 1,
                            .pad_left = 1,
                            .pad_bottom = 1,
                            .pad_right = 1,
                            .groups = 2},
                           conv1.output_dims, Activation::relu);
  conv2.name = "conv2";
  conv2.inputs = {"conv1"};
  Layer fc = fc_layer(5);
  fc.inputs = {"conv2"};
  q.graph.layers = {conv1, conv2, fc};
  q.layers.resize(3);
  Dims in = q.graph.input_dims;
  QuantParams in_quant = q.input_quant;
  const int w_lo = min_integer_value(weight_format), w_hi = max_integer_value(weight_format);
  for (std::size_t i = 0; i < 3; ++i) {
    const Layer& layer = q.graph.layers[i];
    QuantizedLayer& ql = q.layers[i];
    ql.weights.dims = weight_dims(layer, in);
    ql.weights.format = weight_format;
    ql.weights.q.resize(static_cast<std::size_t>(ql.weights.elements()));
    for (auto& w : ql.weights.q) w = static_cast<std::int8_t>(uniform_int(w_lo, w_hi));
    const auto channels = static_cast<std::size_t>(ql.weights.dims[0]);
    ql.weights.quant = {0.01, uniform_int(w_lo, w_hi)};
    if (per_channel) {
      for (std::size_t n = 0; n < channels; ++n)
        ql.weights.quant.channel_zero_points.push_back(uniform_int(w_lo, w_hi));
    }
    std::vector<std::int64_t> bias(channels);
    for (auto& b : bias) b = uniform_int(-3000, 3000);
    ql.bias_int = fold_weight_terms(ql.weights, bias, in_quant.zero_point);
    // Outputs spread over the int8 range: s_out of the order of the sums' spread.
    ql.output_quant = {in_quant.scale * 0.01 * (weight_format == NumberFormat::int8 ? 800.0 : 40.0),
                       uniform_int(-20, 20)};
    ql.requant = quantize_multiplier(in_quant.scale * 0.01 / ql.output_quant.scale);
    ql.requant_mode = mode;
    ql.requant_float = float_requant_multiplier(in_quant.scale, 0.01, ql.output_quant.scale);
    in = layer.output_dims;
    in_quant = ql.output_quant;
  }
  return q;
}

TEST(WeightZeroPoint, RandomGraphsSimulatorMatchesReference) {
  SeededRandom random(4242);
  int distinct_outputs = 0;
  for (const NumberFormat weight_format : {NumberFormat::int8, NumberFormat::int4}) {
    for (const bool per_channel : {false, true}) {
      for (const RequantMode mode : {RequantMode::fixed_point, RequantMode::float_half_even}) {
        const QuantizedGraph q = random_graph(random, weight_format, per_channel, mode);
        Tensor input;
        input.dims = q.graph.input_dims;
        input.format = NumberFormat::int8;
        input.quant = q.input_quant;
        input.q.resize(static_cast<std::size_t>(input.elements()));
        for (auto& v : input.q) v = static_cast<std::int8_t>(-128 + static_cast<int>(random.uniform(0.0, 255.999)));
        const Tensor out = run_both(q, input);
        // The test means something only if the outputs are not all saturated.
        for (const auto v : out.q) distinct_outputs += v != out.q[0];
      }
    }
  }
  EXPECT_GT(distinct_outputs, 8);
}

}  // namespace
}  // namespace npusim
