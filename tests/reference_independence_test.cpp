// The reference executor as an independent check of the simulator's PPU:
// hand-derived outputs of the TFLite and ONNX rules for add, concat and
// average pooling (docs/numerics.md), the same numbers from both the
// reference and the simulator, and a deliberately wrong PPU result reported
// at its layer.
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/reference/reference_executor.h"
#include "models/reference/reference_ops.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/reference_test_support.h"

namespace npusim {
namespace {

using test::Dims;

// input (s 0.5) -> conv "conv" (1x1, weight 1, output s 0.5: a copy of the
// input) -> add "sum"(conv, input) with output scale 2: the real sum is x
// (0.5 x + 0.5 x), the output level x / 2, a tie for every odd x.
QuantizedGraph add_graph(QuantArithmetic arithmetic) {
  const Dims in{1, 1, 4};
  QuantizedGraph q = test::int8_graph(test::conv_layer({.filters = 1}, in), in, {1});
  q.arithmetic = arithmetic;
  q.input_quant = {0.5, 0};
  q.layers[0].output_quant = {0.5, 0};
  Layer add;
  add.name = "sum";
  add.type = LayerType::add;
  add.inputs = {"conv", "input"};
  add.output_dims = in;
  q.graph.layers.push_back(add);
  q.layers.resize(2);
  q.layers[1].output_quant = {2.0, 0};
  // What an importer stores for npusim's binary add; int8 add ignores it.
  q.layers[1].add_requant = {quantize_multiplier(0.25), quantize_multiplier(0.25)};
  return q;
}

Tensor add_input() {
  Tensor t = test::int_tensor({1, 1, 4}, {1, 3, 5, -1});
  t.quant = {0.5, 0};
  return t;
}

NetworkRun simulate(const QuantizedGraph& q, const Tensor& input) {
  AcceleratorConfig config;
  config.array.rows = 4;
  config.array.cols = 4;
  const auto engine = make_tile_engine(config.array);
  return run_network(q, input, *engine, config);
}

// Hand derivation (TFLite kernels/add.cc): s_i / (2 max s) = 0.5 each, so
// the shifted terms sum to x * 2^20; times 2 max s / (2^20 * 2) = 2^-21 ->
// x / 2 rounded half away from zero: 1 -> 1, 3 -> 2, 5 -> 3, -1 -> -1. The
// rescale-each-term rule (two roundings) gave 0, 2, 2, 0.
TEST(ReferenceIndependence, TfliteAddRoundsOnceAfterTheLeftShift) {
  const QuantizedGraph q = add_graph(QuantArithmetic::tflite);
  const std::vector<std::int8_t> expected{1, 2, 3, -1};
  EXPECT_EQ(run_reference(q, add_input(), 0).outputs[1].q, expected);
  EXPECT_EQ(simulate(q, add_input()).layers[1].output.q, expected);
}

// ONNX (ONNX Runtime's QLinearAdd on uint8 u = q + 128): ratios 0.25, fixed
// part 128 - (0.25 * 128 + 0.25 * 128) = 64, t = 0.25 u_a + 0.25 u_b + 64 =
// 128 + x / 2 exactly; rounded half to even: 128.5 -> 128, 129.5 -> 130,
// 130.5 -> 130, 127.5 -> 128, i.e. levels 0, 2, 2, 0.
TEST(ReferenceIndependence, OnnxAddRoundsHalfToEven) {
  const QuantizedGraph q = add_graph(QuantArithmetic::onnx);
  const std::vector<std::int8_t> expected{0, 2, 2, 0};
  EXPECT_EQ(run_reference(q, add_input(), 0).outputs[1].q, expected);
  EXPECT_EQ(simulate(q, add_input()).layers[1].output.q, expected);
}

// A PPU that computes the add by the wrong rule (ONNX's on a TFLite graph)
// is off by one step on three of four values; the check names that layer
// and passes the conv before it.
TEST(ReferenceIndependence, WrongPpuAddIsReportedAtItsLayer) {
  const NetworkRun wrong = simulate(add_graph(QuantArithmetic::onnx), add_input());
  const auto checks = check_against_reference(wrong, run_reference(add_graph(QuantArithmetic::tflite), add_input(), 0));
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(checks[0].bit_exact) << checks[0].detail;
  EXPECT_FALSE(checks[1].bit_exact);
  // element 0: the wrong PPU's 0 against the reference's 1.
  EXPECT_NE(checks[1].detail.find("element 0"), std::string::npos) << checks[1].detail;

  // One corrupted value in a correct run is reported too.
  NetworkRun corrupted = simulate(add_graph(QuantArithmetic::tflite), add_input());
  corrupted.layers[1].output.q[2] += 1;
  const auto corrupted_checks =
      check_against_reference(corrupted, run_reference(add_graph(QuantArithmetic::tflite), add_input(), 0));
  EXPECT_TRUE(corrupted_checks[0].bit_exact);
  EXPECT_FALSE(corrupted_checks[1].bit_exact);
}

QuantizedGraph one_layer_graph(const Layer& layer, QuantArithmetic arithmetic, QuantParams out) {
  QuantizedGraph q;
  q.arithmetic = arithmetic;
  q.graph.input_dims = {1, 2, 2};
  q.graph.layers = {layer};
  q.layers.resize(1);
  q.layers[0].output_quant = out;
  return q;
}

// Average of {1, 1, 0, 0} at scale 1: 0.5, which TFLite's integer division
// rounds away from zero (1) and ONNX's QuantizeLinear to even (0).
TEST(ReferenceIndependence, AveragePoolTieByEachRule) {
  const Layer pool = test::pool_layer(LayerType::avgpool, 2, 2, 0, 0, 0, 0, {1, 1, 1});
  const Tensor x = test::int_tensor({1, 2, 2}, {1, 1, 0, 0});
  for (const auto& [arithmetic, expected] :
       {std::pair{QuantArithmetic::tflite, std::int8_t{1}}, std::pair{QuantArithmetic::onnx, std::int8_t{0}}}) {
    const QuantizedGraph q = one_layer_graph(pool, arithmetic, {1.0, 0});
    EXPECT_EQ(run_reference(q, x, 0).outputs[0].q, std::vector<std::int8_t>{expected});
    EXPECT_EQ(simulate(q, x).layers[0].output.q, std::vector<std::int8_t>{expected});
  }
}

// Concat of an input at scale 0.5 into an output at scale 1: levels 5, 3,
// -5 are 2.5, 1.5, -2.5. TFLite's Requantize: the doubling high multiply by
// 0.5 rounds ties towards +inf (3, 2, -2); ONNX to even (2, 2, -2).
TEST(ReferenceIndependence, ConcatRescaleByEachRule) {
  Layer concat;
  concat.name = "joined";
  concat.type = LayerType::concat;
  concat.inputs = {"input"};
  concat.axis = 0;
  concat.output_dims = {1, 1, 3};
  Tensor x = test::int_tensor({1, 1, 3}, {5, 3, -5});
  x.quant = {0.5, 0};
  for (const auto& [arithmetic, expected] : {std::pair{QuantArithmetic::tflite, std::vector<std::int8_t>{3, 2, -2}},
                                             std::pair{QuantArithmetic::onnx, std::vector<std::int8_t>{2, 2, -2}}}) {
    QuantizedGraph q = one_layer_graph(concat, arithmetic, {1.0, 0});
    q.graph.input_dims = {1, 1, 3};
    q.input_quant = {0.5, 0};
    EXPECT_EQ(run_reference(q, x, 0).outputs[0].q, expected) << to_string(arithmetic);
    EXPECT_EQ(simulate(q, x).layers[0].output.q, expected) << to_string(arithmetic);
  }
}

// gemmlowp's definitions, by hand: the one overflowing doubling product
// saturates; ties of the rounding shift go away from zero; a positive shift
// multiplies first (3 * 2 * 0.5 = 3).
TEST(ReferenceIndependence, FixedPointPrimitives) {
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(kMin, kMin), std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(reference::saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1 (towards +inf)
  EXPECT_EQ(reference::rounding_divide_by_pot(3, 1), 2);
  EXPECT_EQ(reference::rounding_divide_by_pot(-3, 1), -2);
  EXPECT_EQ(reference::rounding_divide_by_pot(5, 2), 1);
  EXPECT_EQ(reference::multiply_by_multiplier(3, 1 << 30, 1), 3);
  EXPECT_EQ(reference::multiply_by_multiplier(1 << 30, 1 << 30, 2), std::numeric_limits<std::int32_t>::max());
}

}  // namespace
}  // namespace npusim
