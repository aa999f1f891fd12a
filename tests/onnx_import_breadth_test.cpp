// ONNX import breadth (issue 17): the shape arithmetic torch.onnx writes
// folded to constants, Identity of an initializer, Pad (no-op, folded into a
// Conv, or refused), ReduceMean over H,W as a global average pool,
// BatchNormalization folded into a Gemm, and every unsupported node of a
// file in one message even when one sits downstream of another. Small
// ModelProtos built here; expected values are derived by hand in each test.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/input_error.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_shape_fold.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

using Dims = std::vector<std::int64_t>;
constexpr int kInt64 = onnx::TensorProto_DataType_INT64;

class OnnxImportBreadthTest : public testing::OnnxModelTest {
 protected:
  LoadedModel load() { return load_onnx_model(save()); }

  // x [1, 2, 1, 2] = {0, 2 | -2, 6}; gate = HardSigmoid(alpha 0.25, beta 0.5)
  // of its channel means {1, 2} = {0.75, 1}; m = x * gate (per channel) =
  // {0, 1.5 | -2, 6}; y = Sigmoid(m) * m (SiLU, same-shape Mul).
  void build_squeeze_excite() {
    input("x", {1, 2, 1, 2});
    node("GlobalAveragePool", "gap", {"x"}, {"p"});
    auto& hs = node("HardSigmoid", "gate", {"p"}, {"g"});
    float_attr(hs, "alpha", 0.25f);
    float_attr(hs, "beta", 0.5f);
    node("Mul", "excite", {"g", "x"}, {"m"});
    node("Sigmoid", "sig", {"m"}, {"s"});
    node("Mul", "silu", {"m", "s"}, {"y"});
    output("y", {1, 2, 1, 2});
  }
  // "r" [1, 1, 2, 1] from x [1, 2, 2, 2]: a 1x1 conv to one channel, then a
  // max over W; a Mul by it broadcasts along C and W, not a channel gate.
  void add_row_factor() {
    floats("w1", {1, 2, 1, 1}, {1.0f, 1.0f});
    node("Conv", "to_one", {"x", "w1"}, {"one"});
    auto& pool = node("MaxPool", "over_w", {"one"}, {"r"});
    ints_attr(pool, "kernel_shape", {1, 2});
  }

  // The simulator (tile engine, 4 x 4 array) against the independent
  // reference executor, every layer bit for bit, in fp32 and in int8
  // (calibrated on `x`).
  static void expect_simulator_equals_reference(const Graph& graph, const Tensor& x) {
    for (const NumberFormat f : {NumberFormat::fp32, NumberFormat::int8}) {
      const MacFormat mac{f, f, f == NumberFormat::fp32 ? AccumulatorFormat::fp32 : AccumulatorFormat::int32, 1};
      const QuantizedGraph qg = quantize_graph(graph, mac, x);
      AcceleratorConfig config;
      config.array.rows = 4;
      config.array.cols = 4;
      config.array.mac = mac;
      const auto engine = make_tile_engine(config.array);
      const Tensor input = quantize_input(qg, x);
      const NetworkRun sim = run_network(qg, input, *engine, config);
      EXPECT_TRUE(all_bit_exact(
          check_against_reference(sim, run_reference(qg, input, reference_reduction_chunk(config.array)))))
          << to_string(f);
    }
  }

  static std::vector<float> run(const LoadedModel& m, const Dims& dims, const std::vector<float>& x) {
    Tensor in;
    in.dims = dims;
    in.f = x;
    return Fp32Executor(m.graph).run(in).back().f;
  }
};

TEST_F(OnnxImportBreadthTest, ShapeArithmeticOfAFlattenFoldsToAConstantShape) {
  // torch's x.view(x.size(0), -1): Shape -> Gather(0) -> Unsqueeze(0) ->
  // Concat with [-1] -> Reshape, then a Gemm with all-one weights, so the
  // output is the sum of the 8 inputs (1 + ... + 8 = 36).
  input("x", {1, 2, 2, 2});
  ints("zero", kInt64, {}, {0});
  ints("axes0", kInt64, {1}, {0});
  ints("minus1", kInt64, {1}, {-1});
  floats("w", {1, 8}, std::vector<float>(8, 1.0f));
  node("Shape", "shape", {"x"}, {"s"});
  node("Gather", "gather", {"s", "zero"}, {"n"});
  node("Unsqueeze", "unsq", {"n", "axes0"}, {"n1"});
  int_attr(node("Concat", "cat", {"n1", "minus1"}, {"target"}), "axis", 0);
  node("Reshape", "flat", {"x", "target"}, {"f"});
  int_attr(node("Gemm", "fc", {"f", "w"}, {"y"}), "transB", 1);
  output("y", {1, 1});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u) << "the shape ops add no layer";
  EXPECT_EQ(m.graph.layers[0].type, LayerType::fc);
  EXPECT_EQ(run(m, {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), std::vector<float>{36.0f});
}

TEST_F(OnnxImportBreadthTest, IdentityOfAnInitializerIsThatInitializer) {
  // torch merges equal initializers and reads the copy through Identity
  // (SqueezeNet): two 1x1 convs, weight 2 each, give y = 4x.
  input("x", {1, 1, 1, 2});
  floats("w", {1, 1, 1, 1}, {2.0f});
  node("Identity", "same_w", {"w"}, {"w2"});
  node("Conv", "c1", {"x", "w"}, {"a"});
  node("Conv", "c2", {"a", "w2"}, {"y"});
  output("y", {1, 1, 1, 2});
  const LoadedModel m = load();
  EXPECT_EQ(run(m, {1, 1, 2}, {1.5f, -3.0f}), (std::vector<float>{6.0f, -12.0f}));
}

TEST_F(OnnxImportBreadthTest, SqueezeAndUnsqueezeOfARuntimeTensorAddNoLayer) {
  // [1, 3, 1, 1] -> Squeeze(axes 2, 3) -> [1, 3] -> Unsqueeze(axes -1) ->
  // [1, 3, 1] -> Relu: values unchanged but for the relu.
  input("x", {1, 3, 1, 1});
  ints("sq_axes", kInt64, {2}, {2, 3});
  ints("unsq_axes", kInt64, {1}, {-1});
  node("Squeeze", "sq", {"x", "sq_axes"}, {"s"});
  node("Unsqueeze", "unsq", {"s", "unsq_axes"}, {"u"});
  node("Relu", "relu", {"u"}, {"y"});
  output("y", {1, 3, 1});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(run(m, {3, 1, 1}, {-1.0f, 2.0f, 0.5f}), (std::vector<float>{0.0f, 2.0f, 0.5f}));
}

TEST_F(OnnxImportBreadthTest, AllZeroPadIsRemovedAndZeroPadFoldsIntoTheConv) {
  // Pad [0,0,1,2, 0,0,3,4] (top 1, left 2, bottom 3, right 4) then a 1x1 conv
  // with pads 1 on every side: one conv2d padded top 2, left 3, bottom 4,
  // right 5; its output is (1+2+4) x (1+3+5) = 7 x 9. A zero Pad before it
  // vanishes. Weight 1: the input value at (0, 0) lands at row 2, column 3.
  input("x", {1, 1, 1, 1});
  ints("nopads", kInt64, {8}, {0, 0, 0, 0, 0, 0, 0, 0});
  ints("pads", kInt64, {8}, {0, 0, 1, 2, 0, 0, 3, 4});
  floats("w", {1, 1, 1, 1}, {1.0f});
  node("Pad", "nothing", {"x", "nopads"}, {"x0"});
  node("Pad", "pad", {"x0", "pads"}, {"p"});
  ints_attr(node("Conv", "conv", {"p", "w"}, {"y"}), "pads", {1, 1, 1, 1});
  output("y", {1, 1, 7, 9});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  const Conv2dParams& c = m.graph.layers[0].conv;
  EXPECT_EQ((std::vector<int>{c.pad_top, c.pad_left, c.pad_bottom, c.pad_right}), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(m.graph.layers[0].output_dims, (Dims{1, 7, 9}));
  const std::vector<float> y = run(m, {1, 1, 1}, {5.0f});
  ASSERT_EQ(y.size(), 63u);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], i == 2 * 9 + 3 ? 5.0f : 0.0f) << i;
}

TEST_F(OnnxImportBreadthTest, PadModesAndReadersOtherThanAConvAreRefusedNamingTheNode) {
  input("x", {1, 1, 4, 4});
  ints("pads", kInt64, {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  auto& reflect = node("Pad", "reflect_pad", {"x", "pads"}, {"r"});
  auto* mode = reflect.add_attribute();
  mode->set_name("mode");
  mode->set_type(onnx::AttributeProto_AttributeType_STRING);
  mode->set_s("reflect");
  node("Pad", "zero_pad", {"x", "pads"}, {"z"});
  ints_attr(node("MaxPool", "pool", {"z"}, {"pz"}), "kernel_shape", {2, 2});
  ints_attr(node("MaxPool", "pool_r", {"r"}, {"pr"}), "kernel_shape", {2, 2});
  node("Add", "sum", {"pz", "pr"}, {"y"});
  output("y", {1, 1, 5, 5});
  const std::string message = import_error();
  EXPECT_NE(message.find("2 unsupported nodes"), std::string::npos) << message;
  EXPECT_NE(message.find("node \"reflect_pad\" (Pad): mode \"reflect\" is not supported"), std::string::npos)
      << message;
  EXPECT_NE(message.find("node \"pool\" (MaxPool): reads the output of node \"zero_pad\" (Pad)"), std::string::npos)
      << message;
}

TEST_F(OnnxImportBreadthTest, ReduceMeanOverHeightAndWidthIsAGlobalAveragePool) {
  // mean of 1, 2, 3, 4 = 2.5 and of 10, 20, 30, 40 = 25, with keepdims 0 ([1, 2]).
  input("x", {1, 2, 2, 2});
  auto& mean = node("ReduceMean", "mean", {"x"}, {"y"});
  ints_attr(mean, "axes", {-2, -1});
  int_attr(mean, "keepdims", 0);
  output("y", {1, 2});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].type, LayerType::avgpool);
  EXPECT_TRUE(m.graph.layers[0].pool.global);
  EXPECT_EQ(run(m, {2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}), (std::vector<float>{2.5f, 25.0f}));
}

TEST_F(OnnxImportBreadthTest, ReduceMeanOverChannelsIsAReduceLayer) {
  // mean over C of {1, 2, 3, 4 | 10, 20, 30, 40}: {5.5, 11, 16.5, 22} (by hand).
  input("x", {1, 2, 2, 2});
  ints_attr(node("ReduceMean", "channel_mean", {"x"}, {"y"}), "axes", {1});
  output("y", {1, 1, 2, 2});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].type, LayerType::reduce);
  EXPECT_EQ(run(m, {2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}), (std::vector<float>{5.5f, 11.0f, 16.5f, 22.0f}));
}

TEST_F(OnnxImportBreadthTest, BatchNormalizationAfterAGemmFoldsIntoIt) {
  // fc: [1, 1] . [[1], [2]] + 0.5 = 3.5; BN: (3.5 - 0.5) * 2 / sqrt(3 + 1) + 1 = 4.
  input("x", {1, 2});
  floats("w", {2, 1}, {1.0f, 2.0f});
  floats("b", {1}, {0.5f});
  floats("gamma", {1}, {2.0f});
  floats("beta", {1}, {1.0f});
  floats("mean", {1}, {0.5f});
  floats("var", {1}, {3.0f});
  node("Gemm", "fc", {"x", "w", "b"}, {"f"});
  float_attr(node("BatchNormalization", "bn", {"f", "gamma", "beta", "mean", "var"}, {"y"}), "epsilon", 1.0f);
  output("y", {1, 1});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(run(m, {2, 1, 1}, {1.0f, 1.0f}), std::vector<float>{4.0f});
}

TEST_F(OnnxImportBreadthTest, BatchNormalizationAfterAConcatIsAPerChannelScaleLayer) {
  // ONNX's definition (x - mean) / sqrt(var + eps) * gamma + beta, eps 1, on
  // Concat(x, x) of x = {1, 2}: channel 0 (gamma 4, beta 0.5, mean 1, var 3)
  // gives 0.5, 2.5; channel 1 (gamma 1, beta -1, mean 0, var 0) gives 0, 1.
  input("x", {1, 1, 1, 2});
  floats("gamma", {2}, {4.0f, 1.0f});
  floats("beta", {2}, {0.5f, -1.0f});
  floats("mean", {2}, {1.0f, 0.0f});
  floats("var", {2}, {3.0f, 0.0f});
  int_attr(node("Concat", "cat", {"x", "x"}, {"c"}), "axis", 1);
  float_attr(node("BatchNormalization", "bn", {"c", "gamma", "beta", "mean", "var"}, {"y"}), "epsilon", 1.0f);
  output("y", {1, 2, 1, 2});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 2u);
  EXPECT_EQ(m.graph.layers[1].type, LayerType::scale);
  EXPECT_EQ(run(m, {1, 1, 2}, {1.0f, 2.0f}), (std::vector<float>{0.5f, 2.5f, 0.0f, 1.0f}));
}

TEST_F(OnnxImportBreadthTest, ScaleLayerSimulatesBitExactWithTheReferenceInFp32AndInt8) {
  // Conv -> Relu -> BatchNormalization (a Relu between: no fold) -> scale on
  // the PPU; the simulator's layers must equal the independent reference's.
  input("x", {1, 2, 3, 3});
  floats("w", {3, 2, 1, 1}, {0.5f, -1.0f, 1.5f, 0.25f, -0.75f, 2.0f});
  floats("gamma", {3}, {1.5f, -0.5f, 2.0f});
  floats("beta", {3}, {0.1f, 0.2f, -0.3f});
  floats("mean", {3}, {0.05f, -0.1f, 0.2f});
  floats("var", {3}, {0.5f, 2.0f, 1.0f});
  node("Conv", "conv", {"x", "w"}, {"c"});
  node("Relu", "relu", {"c"}, {"r"});
  node("BatchNormalization", "bn", {"r", "gamma", "beta", "mean", "var"}, {"y"});
  output("y", {1, 3, 3, 3});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.back().type, LayerType::scale);
  Tensor x;
  x.dims = {2, 3, 3};
  for (int i = 0; i < 18; ++i) x.f.push_back(0.1f * static_cast<float>(i) - 0.8f);
  expect_simulator_equals_reference(m.graph, x);
}

TEST_F(OnnxImportBreadthTest, SigmoidHardSigmoidAndAChannelGateMul) {
  build_squeeze_excite();
  const LoadedModel m = load();
  const std::vector<float> y = run(m, {2, 1, 2}, {0.0f, 2.0f, -2.0f, 6.0f});
  const std::vector<double> gated = {0.0, 1.5, -2.0, 6.0};
  ASSERT_EQ(y.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const double expected = gated[i] / (1.0 + std::exp(-gated[i]));  // ONNX Sigmoid's definition
    EXPECT_NEAR(y[i], expected, 1e-6) << i;
  }
}

TEST_F(OnnxImportBreadthTest, SigmoidAndMulSimulateBitExactWithTheReferenceInFp32AndInt8) {
  build_squeeze_excite();
  const LoadedModel m = load();
  Tensor x;
  x.dims = {2, 1, 2};
  x.f = {0.0f, 2.0f, -2.0f, 6.0f};
  expect_simulator_equals_reference(m.graph, x);
}

TEST_F(OnnxImportBreadthTest, MulBroadcastOtherThanAChannelGateIsRefused) {
  input("x", {1, 2, 2, 2});
  add_row_factor();
  node("Mul", "odd_mul", {"x", "r"}, {"y"});
  output("y", {1, 2, 2, 2});
  EXPECT_NE(import_error().find("node \"odd_mul\" (Mul): broadcasting [1, 2, 2, 2] * [1, 1, 2, 1] is not supported"),
            std::string::npos);
}

TEST_F(OnnxImportBreadthTest, EveryUnsupportedNodeIsListedEvenBehindAnotherOne) {
  // Three BatchNormalizations in training mode (unsupported), each behind
  // the one before, after a Concat as in DenseNet; then an Elu. All four
  // are listed: a failed node that keeps its input's shape passes the input on.
  input("x", {1, 1, 2, 2});
  floats("w", {1, 1, 1, 1}, {1.0f});
  std::string in = "x";
  for (int i = 1; i <= 3; ++i) {
    const std::string k = std::to_string(i);
    const int channels = 1 << i;
    std::vector<float> ones(static_cast<std::size_t>(channels), 1.0f), zeros(static_cast<std::size_t>(channels), 0.0f);
    floats("g" + k, {channels}, ones);
    floats("b" + k, {channels}, zeros);
    floats("m" + k, {channels}, zeros);
    floats("v" + k, {channels}, ones);
    int_attr(node("Concat", "cat" + k, {in, in}, {"c" + k}), "axis", 1);
    int_attr(node("BatchNormalization", "bn" + k, {"c" + k, "g" + k, "b" + k, "m" + k, "v" + k}, {"n" + k}),
             "training_mode", 1);
    node("Relu", "relu" + k, {"n" + k}, {"r" + k});
    in = "r" + k;
  }
  node("Elu", "th", {in}, {"y"});
  output("y", {1, 8, 2, 2});
  const std::string message = import_error();
  EXPECT_NE(message.find("4 unsupported nodes"), std::string::npos) << message;
  for (const std::string name : {"bn1", "bn2", "bn3"}) {
    EXPECT_NE(message.find("node \"" + name + "\" (BatchNormalization): training mode"), std::string::npos) << message;
  }
  EXPECT_NE(message.find("node \"th\" (Elu)"), std::string::npos) << message;
}

// The folds on their own, against values worked out from the ONNX operator
// definitions by hand.
class OnnxShapeFoldTest : public testing::OnnxModelTest {
 protected:
  static OnnxTensor int64s(const Dims& dims, const std::vector<std::int64_t>& values) {
    OnnxTensor t;
    t.dims = dims;
    t.data_type = kInt64;
    t.i = values;
    return t;
  }
  OnnxTensor fold(const std::string& op, const std::vector<const OnnxTensor*>& in, std::int64_t opset = 13,
                  const std::function<void(onnx::NodeProto&)>& attrs = {}) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(op);
    n.add_output("out");
    if (attrs) attrs(n);
    const auto out = fold_shape_op(n, in, "m.onnx", opset);
    EXPECT_TRUE(out.has_value());
    return out.value_or(OnnxTensor{});
  }
};

TEST_F(OnnxShapeFoldTest, GatherTakesNegativeIndicesAlongTheAxis) {
  // data [[1, 2, 3], [4, 5, 6]], indices [-1, 0] along axis 1 -> [[3, 1], [6, 4]].
  const OnnxTensor data = int64s({2, 3}, {1, 2, 3, 4, 5, 6});
  const OnnxTensor idx = int64s({2}, {-1, 0});
  const OnnxTensor out = fold("Gather", {&data, &idx}, 13, [](onnx::NodeProto& n) { int_attr(n, "axis", 1); });
  EXPECT_EQ(out.dims, (Dims{2, 2}));
  EXPECT_EQ(out.i, (std::vector<std::int64_t>{3, 1, 6, 4}));
}

TEST_F(OnnxShapeFoldTest, SliceClampsEndsAndStepsBackwards) {
  // [0..9][8:2:-2] = 8, 6, 4; [0..9][-3:INT64_MAX] = 7, 8, 9.
  OnnxTensor x = int64s({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const OnnxTensor s1 = int64s({1}, {8}), e1 = int64s({1}, {2}), a = int64s({1}, {0}), st = int64s({1}, {-2});
  EXPECT_EQ(fold("Slice", {&x, &s1, &e1, &a, &st}).i, (std::vector<std::int64_t>{8, 6, 4}));
  const OnnxTensor s2 = int64s({1}, {-3}), e2 = int64s({1}, {std::numeric_limits<std::int64_t>::max()});
  EXPECT_EQ(fold("Slice", {&x, &s2, &e2}).i, (std::vector<std::int64_t>{7, 8, 9}));
}

TEST_F(OnnxShapeFoldTest, ConcatSqueezeUnsqueezeAndIntegerArithmetic) {
  const OnnxTensor a = int64s({1, 2}, {1, 2}), c = int64s({1, 1}, {3});
  const OnnxTensor cat = fold("Concat", {&a, &c}, 13, [](onnx::NodeProto& n) { int_attr(n, "axis", 1); });
  EXPECT_EQ(cat.dims, (Dims{1, 3}));
  EXPECT_EQ(cat.i, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(fold("Squeeze", {&cat}).dims, (Dims{3}));  // no axes: every 1 goes
  const OnnxTensor axes = int64s({2}, {0, -1});
  EXPECT_EQ(fold("Unsqueeze", {&a, &axes}).dims, (Dims{1, 1, 2, 1}));  // rank 4 output: axes 0 and 3
  // opset 11: axes as an attribute.
  EXPECT_EQ(fold("Unsqueeze", {&a}, 11, [](onnx::NodeProto& n) { ints_attr(n, "axes", {1}); }).dims, (Dims{1, 1, 2}));
  // [1, 2] * [[3]] broadcasts to [[3, 6]]; 7 / 2 truncates to 3.
  EXPECT_EQ(fold("Mul", {&a, &c}).i, (std::vector<std::int64_t>{3, 6}));
  const OnnxTensor seven = int64s({}, {7}), two = int64s({}, {2});
  EXPECT_EQ(fold("Div", {&seven, &two}).i, (std::vector<std::int64_t>{3}));
}

TEST_F(OnnxShapeFoldTest, OutOfRangeIndexIsAnInputErrorNamingTheNode) {
  const OnnxTensor data = int64s({3}, {1, 2, 3});
  const OnnxTensor idx = int64s({}, {3});
  onnx::NodeProto n;
  n.set_op_type("Gather");
  n.set_name("g");
  n.add_output("out");
  try {
    fold_shape_op(n, {&data, &idx}, "m.onnx", 13);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.onnx: node \"g\" (Gather): index 3 is outside [-3, 2]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace npusim
