// ONNX import of the PPU function layers and data movers (issue 17):
// Tanh, GELU (torch's Erf form and tanh approximation, fused), LeakyRelu,
// PRelu, HardSwish, LogSoftmax, Sub/Div, ReduceSum/ReduceMax/ReduceMean,
// Transpose (a channel shuffle), Split, Slice. Small ModelProtos built here.
// Expected values: the ONNX operator definitions evaluated by hand (in
// double, Python's math module, written into each test), and onnxruntime
// (scripts/onnxruntime/run.js) on the same file for the composite graphs; the
// simulator is held to the independent reference executor bit for bit.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/npy_io.h"
#include "models/onnx/onnx_import.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/cli_test_support.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

using Dims = std::vector<std::int64_t>;
constexpr int kInt64 = onnx::TensorProto_DataType_INT64;

class OnnxFunctionsTest : public testing::OnnxModelTest {
 protected:
  LoadedModel load() { return load_onnx_model(save()); }

  static std::vector<float> run(const LoadedModel& m, const std::vector<float>& x) {
    Tensor in;
    in.dims = m.graph.input_dims;
    in.f = x;
    return Fp32Executor(m.graph).run(in).back().f;
  }
  static void expect_near(const std::vector<float>& got, const std::vector<double>& want, double tolerance = 1e-6) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tolerance) << "element " << i;
  }
  // x [1, 1, 1, n] through one node `op` to y.
  onnx::NodeProto& unary(const std::string& op, std::int64_t n) {
    input("x", {1, 1, 1, n});
    auto& k = node(op, "f", {"x"}, {"y"});
    output("y", {1, 1, 1, n});
    return k;
  }
  std::size_t count(const LoadedModel& m, LayerType type) {
    std::size_t k = 0;
    for (const auto& l : m.graph.layers) k += l.type == type ? 1 : 0;
    return k;
  }

  // The simulator (tile engine, 4 x 4 array) against the reference executor,
  // every layer bit for bit, fp32 and int8 (calibrated on `x`).
  static void expect_simulator_equals_reference(const Graph& graph, const Tensor& x) {
    for (const NumberFormat f : {NumberFormat::fp32, NumberFormat::int8, NumberFormat::fp16}) {
      const bool integer = f == NumberFormat::int8;
      const MacFormat mac{f, f, integer ? AccumulatorFormat::int32 : AccumulatorFormat::fp32, 1};
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

  // onnxruntime's output for input `x` of the saved model (float32), or
  // empty when onnxruntime-node is not installed.
  std::vector<float> onnxruntime(const Dims& shape, const std::vector<float>& x) {
    if (!std::filesystem::exists(testing::kSourceDir + "/.deps/npm/node_modules/onnxruntime-node")) return {};
    const std::string model = save(), in = (dir_ / "in.npy").string(), out = (dir_ / "ort.npy").string();
    Dims batched = {1};
    batched.insert(batched.end(), shape.begin(), shape.end());
    write_npy(in, npy_float32(batched, x));
    const std::string command =
        "node " + testing::kSourceDir + "/scripts/onnxruntime/run.js " + model + " " + in + " " + out;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    const NpyArray a = read_npy(out);
    std::vector<float> v(static_cast<std::size_t>(a.elements()));
    std::memcpy(v.data(), a.bytes.data(), v.size() * 4);
    return v;
  }
};

TEST_F(OnnxFunctionsTest, TanhLeakyReluAndHardSwishByTheirDefinitions) {
  const std::vector<float> x = {-2.0f, -0.5f, 0.0f, 3.0f};
  unary("Tanh", 4);
  LoadedModel m = load();
  EXPECT_EQ(m.graph.layers.at(0).type, LayerType::tanh);
  expect_near(run(m, x), {-0.96402758, -0.46211716, 0.0, 0.99505475});  // math.tanh

  model_.mutable_graph()->Clear();
  float_attr(unary("LeakyRelu", 4), "alpha", 0.1f);
  expect_near(run(load(), x), {-0.2, -0.05, 0.0, 3.0});  // 0.1 x below 0

  model_.mutable_graph()->Clear();
  unary("LeakyRelu", 4);  // no alpha: ONNX's default 0.01
  expect_near(run(load(), x), {-0.02, -0.005, 0.0, 3.0});

  model_.mutable_graph()->Clear();
  unary("HardSwish", 4);  // x * clamp(x / 6 + 1/2, 0, 1)
  expect_near(run(load(), x), {-1.0 / 3.0, -0.5 * (5.0 / 12.0), 0.0, 3.0});
}

TEST_F(OnnxFunctionsTest, PReluTakesOneSlopePerChannel) {
  // slopes {0.25, -1} ([C, 1, 1] as torch's nn.PReLU(2) writes them) on
  // {-4, 2 | -3, 5}: {-1, 2 | 3, 5}.
  input("x", {1, 2, 1, 2});
  floats("slope", {2, 1, 1}, {0.25f, -1.0f});
  node("PRelu", "prelu", {"x", "slope"}, {"y"});
  output("y", {1, 2, 1, 2});
  const LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::prelu), 1u);
  expect_near(run(m, {-4.0f, 2.0f, -3.0f, 5.0f}), {-1.0, 2.0, 3.0, 5.0});
}

TEST_F(OnnxFunctionsTest, PReluWithARuntimeSlopeIsRefusedNamingTheNode) {
  input("x", {1, 2, 1, 2});
  node("Relu", "relu", {"x"}, {"s"});
  node("PRelu", "odd_prelu", {"x", "s"}, {"y"});
  output("y", {1, 2, 1, 2});
  EXPECT_NE(import_error().find("node \"odd_prelu\" (PRelu): a slope computed at run time is not supported"),
            std::string::npos);
}

TEST_F(OnnxFunctionsTest, TorchsErfGeluIsFusedIntoOneGeluLayer) {
  // x -> Div(sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5, node for node as
  // torch 1.13 exports nn.GELU() (its Constant nodes as initializers here).
  input("x", {1, 1, 1, 5});
  floats("sqrt2", {}, {1.41421353816986084f});
  floats("one", {}, {1.0f});
  floats("half", {}, {0.5f});
  node("Div", "div", {"x", "sqrt2"}, {"d"});
  node("Erf", "erf", {"d"}, {"e"});
  node("Add", "add", {"e", "one"}, {"a"});
  node("Mul", "mul", {"x", "a"}, {"m"});
  node("Mul", "mul_half", {"m", "half"}, {"y"});
  output("y", {1, 1, 1, 5});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].type, LayerType::gelu);
  EXPECT_FALSE(m.graph.layers[0].gelu.tanh_approximation);
  const std::vector<float> x = {-1.0f, 0.0f, 1.0f, 2.0f, -3.0f};
  // x * 0.5 * (1 + math.erf(x / math.sqrt(2)))
  expect_near(run(m, x), {-0.15865525393145707, 0.0, 0.8413447460685429, 1.9544997361036416, -0.00404969409489031});
}

TEST_F(OnnxFunctionsTest, TorchsTanhGeluIsFusedIntoOneGeluLayer) {
  // nn.GELU(approximate="tanh") as torch 1.13 exports it.
  input("x", {1, 1, 1, 5});
  floats("kappa", {}, {0.044714998453855515f});
  floats("beta", {}, {0.7978845834732056f});
  floats("one", {}, {1.0f});
  floats("half", {}, {0.5f});
  node("Mul", "sq", {"x", "x"}, {"s"});
  node("Mul", "cube", {"x", "s"}, {"c"});
  node("Mul", "kc", {"kappa", "c"}, {"k"});
  node("Add", "sum", {"x", "k"}, {"a"});
  node("Mul", "inner", {"beta", "a"}, {"i"});
  node("Tanh", "tanh", {"i"}, {"t"});
  node("Add", "plus", {"one", "t"}, {"p"});
  node("Mul", "times_x", {"x", "p"}, {"m"});
  node("Mul", "times_half", {"half", "m"}, {"y"});
  output("y", {1, 1, 1, 5});
  const LoadedModel m = load();
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].type, LayerType::gelu);
  EXPECT_TRUE(m.graph.layers[0].gelu.tanh_approximation);
  // 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
  expect_near(run(m, {-1.0f, 0.0f, 1.0f, 2.0f, -3.0f}),
              {-0.15880800939172324, 0.0, 0.8411919906082768, 1.954597694087775, -0.0036373920817729943});
}

TEST_F(OnnxFunctionsTest, AnErfWhoseIntermediateIsReadElsewhereIsNotFused) {
  // The Div's output also feeds the graph's Add: no fusion, and the Erf is
  // then an unsupported node, named.
  input("x", {1, 1, 1, 2});
  floats("sqrt2", {}, {1.41421353816986084f});
  floats("one", {}, {1.0f});
  floats("half", {}, {0.5f});
  node("Div", "div", {"x", "sqrt2"}, {"d"});
  node("Erf", "erf", {"d"}, {"e"});
  node("Add", "add", {"e", "one"}, {"a"});
  node("Mul", "mul", {"x", "a"}, {"m"});
  node("Mul", "mul_half", {"m", "half"}, {"h"});
  node("Add", "also_d", {"h", "d"}, {"y"});
  output("y", {1, 1, 1, 2});
  const std::string message = import_error();
  EXPECT_NE(message.find("1 unsupported node: node \"erf\" (Erf)"), std::string::npos) << message;
}

TEST_F(OnnxFunctionsTest, LogSoftmaxAlongTheLastAxis) {
  input("x", {1, 3});
  node("LogSoftmax", "lsm", {"x"}, {"y"});
  output("y", {1, 3});
  const LoadedModel m = load();
  EXPECT_EQ(m.graph.layers.at(0).type, LayerType::log_softmax);
  // x - log(e^1 + e^2 + e^3)
  expect_near(run(m, {1.0f, 2.0f, 3.0f}), {-2.40760596444438, -1.4076059644443801, -0.40760596444438013});
}

TEST_F(OnnxFunctionsTest, SubAndDivByAPerChannelConstantAreScaleLayers) {
  // (x - [1, 2]) / 4 per channel, then 1 / that (a div layer of a
  // materialised constant): x = {3, 5 | 6, 10} -> {0.5, 1 | 1, 2} -> {2, 1 | 1, 0.5}.
  input("x", {1, 2, 1, 2});
  floats("c", {1, 2, 1, 1}, {1.0f, 2.0f});
  floats("four", {}, {4.0f});
  floats("one", {1}, {1.0f});
  node("Sub", "minus_c", {"x", "c"}, {"s"});
  node("Div", "quarter", {"s", "four"}, {"q"});
  node("Div", "inverse", {"one", "q"}, {"y"});
  output("y", {1, 2, 1, 2});
  const LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::scale), 2u);
  EXPECT_EQ(count(m, LayerType::div), 1u);
  expect_near(run(m, {3.0f, 5.0f, 6.0f, 10.0f}), {2.0, 1.0, 1.0, 0.5});
}

TEST_F(OnnxFunctionsTest, SubAndDivOfTwoActivations) {
  // a = Relu(x), b = channel max (ReduceMax over H, W, keepdims); (x - b) / a
  // of x = {1, 4 | 2, 8}: b = {4 | 8}; {-3 / 1, 0 / 4 | -6 / 2, 0 / 8} = {-3, 0 | -3, 0}.
  input("x", {1, 2, 1, 2});
  ints_attr(node("ReduceMax", "peak", {"x"}, {"b"}), "axes", {2, 3});
  node("Relu", "relu", {"x"}, {"a"});
  node("Sub", "centre", {"x", "b"}, {"s"});
  node("Div", "ratio", {"s", "a"}, {"y"});
  output("y", {1, 2, 1, 2});
  const LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::sub), 1u);
  EXPECT_EQ(count(m, LayerType::div), 1u);
  expect_near(run(m, {1.0f, 4.0f, 2.0f, 8.0f}), {-3.0, 0.0, -3.0, 0.0});
}

TEST_F(OnnxFunctionsTest, ReduceSumOverHeightAndWidthAndReduceMaxOverChannels) {
  // ReduceSum (opset 13: axes an input) over H, W, keepdims 0, of
  // {1, 2, 3, 4 | 10, 20, 30, 40}: {10, 100}.
  input("x", {1, 2, 2, 2});
  ints("axes", kInt64, {2}, {2, 3});
  int_attr(node("ReduceSum", "sum", {"x", "axes"}, {"y"}), "keepdims", 0);
  output("y", {1, 2});
  const std::vector<float> x = {1, 2, 3, 4, 10, 20, 30, 40};
  expect_near(run(load(), x), {10.0, 100.0});

  // ReduceMax over C, keepdims 1: {10, 20, 30, 40}.
  model_.mutable_graph()->Clear();
  input("x", {1, 2, 2, 2});
  ints_attr(node("ReduceMax", "max", {"x"}, {"y"}), "axes", {1});
  output("y", {1, 1, 2, 2});
  const LoadedModel m = load();
  EXPECT_EQ(m.graph.layers.at(0).type, LayerType::reduce);
  expect_near(run(m, x), {10.0, 20.0, 30.0, 40.0});
}

TEST_F(OnnxFunctionsTest, ReduceOverAxesThatAreNotAdjacentIsRefusedNamingTheNode) {
  input("x", {1, 2, 2, 2});
  ints_attr(node("ReduceMax", "odd_max", {"x"}, {"y"}), "axes", {1, 3});
  output("y", {1, 1, 2, 1});
  EXPECT_NE(import_error().find("node \"odd_max\" (ReduceMax): reducing axes [1, 3] of [1, 2, 2, 2] is not supported"),
            std::string::npos);
}

TEST_F(OnnxFunctionsTest, ChannelShuffleIsOneTransposeLayer) {
  // ShuffleNetV2's channel shuffle, groups 2, on 4 channels of 1 x 2: channel
  // order 0, 2, 1, 3.
  input("x", {1, 4, 1, 2});
  ints("to5", kInt64, {5}, {1, 2, 2, 1, 2});
  ints("to4", kInt64, {4}, {1, 4, 1, 2});
  node("Reshape", "split_groups", {"x", "to5"}, {"g"});
  ints_attr(node("Transpose", "shuffle", {"g"}, {"t"}), "perm", {0, 2, 1, 3, 4});
  node("Reshape", "merge", {"t", "to4"}, {"y"});
  output("y", {1, 4, 1, 2});
  const LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::transpose), 1u);
  EXPECT_EQ(run(m, {0, 1, 2, 3, 4, 5, 6, 7}), (std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7}));
}

TEST_F(OnnxFunctionsTest, TransposeOfHeightAndWidth) {
  // [1, 1, 2, 3] -> perm (0, 1, 3, 2) -> [1, 1, 3, 2]: the matrix transposed.
  input("x", {1, 1, 2, 3});
  ints_attr(node("Transpose", "t", {"x"}, {"y"}), "perm", {0, 1, 3, 2});
  output("y", {1, 1, 3, 2});
  EXPECT_EQ(run(load(), {1, 2, 3, 4, 5, 6}), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST_F(OnnxFunctionsTest, BadTransposePermIsAnInputErrorNamingTheNode) {
  input("x", {1, 1, 2, 3});
  ints_attr(node("Transpose", "bad_t", {"x"}, {"y"}), "perm", {0, 1, 1, 2});
  output("y", {1, 1, 2, 2});
  EXPECT_NE(import_error().find("node \"bad_t\" (Transpose): attribute perm: [0, 1, 1, 2] is not a permutation"),
            std::string::npos);
}

TEST_F(OnnxFunctionsTest, SplitInTwoAndConcatInTheOtherOrderAndASliceOfChannels) {
  // Split {1, 2 | 3, 4} on C (sizes [1, 1] as an input): Concat(b, a) = {3, 4, 1, 2}.
  input("x", {1, 2, 1, 2});
  ints("sizes", kInt64, {2}, {1, 1});
  auto& split = node("Split", "halves", {"x", "sizes"}, {"a", "b"});
  int_attr(split, "axis", 1);
  int_attr(node("Concat", "cat", {"b", "a"}, {"y"}), "axis", 1);
  output("y", {1, 2, 1, 2});
  LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::slice), 2u);
  EXPECT_EQ(run(m, {1, 2, 3, 4}), (std::vector<float>{3, 4, 1, 2}));

  // Slice channels [1, 3) of 4 (ends past the end clamp): {2, 3}.
  model_.mutable_graph()->Clear();
  input("x", {1, 4, 1, 1});
  ints("starts", kInt64, {1}, {1});
  ints("ends", kInt64, {1}, {3});
  ints("axes", kInt64, {1}, {1});
  node("Slice", "middle", {"x", "starts", "ends", "axes"}, {"y"});
  output("y", {1, 2, 1, 1});
  EXPECT_EQ(run(load(), {1, 2, 3, 4}), (std::vector<float>{2, 3}));
}

TEST_F(OnnxFunctionsTest, SplitThatDoesNotAddUpAndStridedSliceAreRefusedNamingTheNode) {
  input("x", {1, 4, 1, 1});
  ints("sizes", kInt64, {2}, {1, 2});
  int_attr(node("Split", "bad_split", {"x", "sizes"}, {"a", "b"}), "axis", 1);
  node("Add", "sum", {"a", "a"}, {"y"});
  output("y", {1, 1, 1, 1});
  EXPECT_NE(import_error().find("node \"bad_split\" (Split): split [1, 2] does not divide axis 1 of [1, 4, 1, 1]"),
            std::string::npos);

  model_.mutable_graph()->Clear();
  input("x", {1, 4, 1, 1});
  ints("starts", kInt64, {1}, {0});
  ints("ends", kInt64, {1}, {4});
  ints("axes", kInt64, {1}, {1});
  ints("steps", kInt64, {1}, {2});
  node("Slice", "every_other", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  output("y", {1, 2, 1, 1});
  EXPECT_NE(import_error().find("node \"every_other\" (Slice): steps other than 1"), std::string::npos);
}

// Every new layer in one graph: x [1, 4, 3, 3] -> Conv 1x1 -> Tanh + LeakyRelu
// -> PRelu -> HardSwish -> GELU (Erf) -> channel shuffle -> Split -> Sub /
// Div of the halves and a per-channel constant -> Concat -> ReduceSum over C
// (keepdims) -> LogSoftmax over W.
class OnnxFunctionsGraphTest : public OnnxFunctionsTest {
 protected:
  void build() {
    model_.mutable_opset_import(0)->set_version(14);  // HardSwish is opset 14
    input("x", {1, 4, 3, 3});
    std::vector<float> w;
    for (int i = 0; i < 16; ++i) w.push_back(0.25f * static_cast<float>((i * 7) % 9) - 1.0f);
    floats("w", {4, 4, 1, 1}, w);
    floats("slope", {4, 1, 1}, {0.5f, -0.25f, 2.0f, 0.1f});
    floats("sqrt2", {}, {1.41421353816986084f});
    floats("one", {}, {1.0f});
    floats("half", {}, {0.5f});
    floats("bias", {1, 2, 1, 1}, {0.5f, -0.5f});
    ints("to5", kInt64, {5}, {1, 2, 2, 3, 3});
    ints("to4", kInt64, {4}, {1, 4, 3, 3});
    ints("sizes", kInt64, {2}, {2, 2});
    ints("sum_axes", kInt64, {1}, {1});
    node("Conv", "conv", {"x", "w"}, {"c"});
    node("Tanh", "tanh", {"c"}, {"t"});
    float_attr(node("LeakyRelu", "leaky", {"c"}, {"l"}), "alpha", 0.2f);
    node("Add", "mix", {"t", "l"}, {"tl"});
    node("PRelu", "prelu", {"tl", "slope"}, {"p"});
    node("HardSwish", "hswish", {"p"}, {"h"});
    node("Div", "gdiv", {"h", "sqrt2"}, {"gd"});
    node("Erf", "gerf", {"gd"}, {"ge"});
    node("Add", "gadd", {"ge", "one"}, {"ga"});
    node("Mul", "gmul", {"h", "ga"}, {"gm"});
    node("Mul", "ghalf", {"gm", "half"}, {"g"});
    node("Reshape", "groups", {"g", "to5"}, {"g5"});
    ints_attr(node("Transpose", "shuffle", {"g5"}, {"gt"}), "perm", {0, 2, 1, 3, 4});
    node("Reshape", "ungroup", {"gt", "to4"}, {"s"});
    int_attr(node("Split", "split", {"s", "sizes"}, {"s0", "s1"}), "axis", 1);
    node("Sub", "sub", {"s0", "s1"}, {"d"});
    node("Sub", "sub_bias", {"s1", "bias"}, {"sb"});
    node("Relu", "relu", {"sb"}, {"r"});
    node("Add", "eps", {"r", "one"}, {"r1"});
    node("Div", "div", {"d", "r1"}, {"q"});
    int_attr(node("Concat", "cat", {"q", "s0"}, {"k"}), "axis", 1);
    auto& sum = node("ReduceSum", "rsum", {"k", "sum_axes"}, {"rs"});
    int_attr(sum, "keepdims", 1);
    int_attr(node("LogSoftmax", "lsm", {"rs"}, {"y"}), "axis", -1);
    output("y", {1, 1, 3, 3});
  }
  static std::vector<float> input_values() {
    std::vector<float> x;
    for (int i = 0; i < 36; ++i) x.push_back(0.15f * static_cast<float>((i * 5) % 13) - 0.9f);
    return x;
  }
};

TEST_F(OnnxFunctionsGraphTest, MatchesOnnxruntimeInFp32) {
  build();
  const LoadedModel m = load();
  EXPECT_EQ(count(m, LayerType::gelu), 1u);
  const std::vector<float> x = input_values();
  const std::vector<float> ours = run(m, x);
  const std::vector<float> theirs = onnxruntime({4, 3, 3}, x);
  if (theirs.empty()) GTEST_SKIP() << "onnxruntime-node not installed (scripts/install_deps.sh)";
  ASSERT_EQ(ours.size(), theirs.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_NEAR(ours[i], theirs[i], 1e-5 * std::abs(theirs[i]) + 1e-6) << i;
    worst = std::max(worst, std::abs(double{ours[i]} - theirs[i]));
  }
  std::printf("largest difference from onnxruntime: %.3g\n", worst);
}

TEST_F(OnnxFunctionsGraphTest, SimulatesBitExactWithTheReferenceInFp32Fp16AndInt8) {
  build();
  const LoadedModel m = load();
  Tensor x;
  x.dims = {4, 3, 3};
  x.f = input_values();
  expect_simulator_equals_reference(m.graph, x);
}

}  // namespace
}  // namespace npusim
