// The constant layer (models/graph.h): a stored tensor as an activation.
// Hand-derived fp32 and integer values, the network JSON syntax and its
// errors, and the simulator bit-exact against the reference executor in every
// format (in process, and through `npusim run` with the memory model).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/array/gemm_engine.h"
#include "accel/formats/float_formats.h"
#include "cli_test_support.h"
#include "models/input_error.h"
#include "models/network_json.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "network_text_test_support.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

// input [1, 2, 2] + constant [1, 2, 2] {-1, 0, 0.5, 2}, then the constant
// concatenated after the sum along W.
Graph constant_add_graph() {
  Graph g;
  g.name = "constant_add";
  g.input_dims = {1, 2, 2};
  Layer c;
  c.name = "c";
  c.type = LayerType::constant;
  c.output_dims = {1, 2, 2};
  c.weights = {-1.0f, 0.0f, 0.5f, 2.0f};
  Layer add;
  add.name = "sum";
  add.type = LayerType::add;
  add.inputs = {"input", "c"};
  add.output_dims = {1, 2, 2};
  Layer cat;
  cat.name = "cat";
  cat.type = LayerType::concat;
  cat.axis = 2;
  cat.inputs = {"sum", "c"};
  cat.output_dims = {1, 2, 4};
  g.layers = {c, add, cat};
  return g;
}

Tensor fp32_input(std::vector<float> values) {
  Tensor t;
  t.dims = {1, 2, 2};
  t.format = NumberFormat::fp32;
  t.f = std::move(values);
  return t;
}

TEST(ConstantLayer, Fp32ExecutorAddsAndConcatenatesTheStoredValues) {
  const Graph g = constant_add_graph();
  EXPECT_EQ(g.total_macs(), 0);
  const auto out = Fp32Executor(g).run(fp32_input({0.25f, -3.0f, 1.0f, 0.5f}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].f, (std::vector<float>{-1.0f, 0.0f, 0.5f, 2.0f}));
  EXPECT_EQ(out[1].f, (std::vector<float>{-0.75f, -3.0f, 1.5f, 2.5f}));
  // Row 0: sum row 0, then c row 0; row 1 likewise.
  EXPECT_EQ(out[2].f, (std::vector<float>{-0.75f, -3.0f, -1.0f, 0.0f, 1.5f, 2.5f, 0.5f, 2.0f}));
}

// min -1, max 2. int8: scale 3/255, zero point -128 - round(-85) = -43;
// levels round(x / s) + zp: -85 - 43 = -128, -43, round(42.5) = 43 -> 0,
// 170 - 43 = 127. int4: scale 3/15 = 0.2, zero point -8 + 5 = -3; levels
// -5 - 3 = -8, -3, round(2.5) = 3 -> 0, 10 - 3 = 7.
TEST(ConstantLayer, IntegerFormatsQuantizePerTensorFromTheirOwnMinMax) {
  const Graph g = constant_add_graph();
  const Tensor sample = fp32_input({0.25f, -3.0f, 1.0f, 0.5f});
  struct Case {
    MacFormat mac;
    double scale;
    std::int32_t zero_point;
    std::vector<std::int8_t> levels;
  };
  const Case cases[] = {
      {{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1}, 3.0 / 255, -43, {-128, -43, 0, 127}},
      {{NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 2}, 3.0 / 15, -3, {-8, -3, 0, 7}}};
  for (const Case& c : cases) {
    // Calibration on other data changes nothing: the constant has its own range.
    const QuantizedGraph q = quantize_graph(g, c.mac, sample);
    EXPECT_DOUBLE_EQ(q.layers[0].output_quant.scale, c.scale) << c.mac.label();
    EXPECT_EQ(q.layers[0].output_quant.zero_point, c.zero_point) << c.mac.label();
    EXPECT_EQ(q.layers[0].weights.q, c.levels) << c.mac.label();
    const Tensor input = quantize_input(q, sample);
    const ReferenceResult r = run_reference(q, input, 0);
    EXPECT_EQ(r.outputs[0].q, c.levels) << c.mac.label();
    EXPECT_EQ(r.outputs[0].quant.scale, c.scale) << c.mac.label();
    // The sum dequantizes to input + constant within a step of each operand.
    const Tensor& sum = r.outputs[1];
    const std::vector<float> expected{-0.75f, -3.0f, 1.5f, 2.5f};
    for (std::size_t i = 0; i < 4; ++i) {
      const double real = (sum.q[i] - sum.quant.zero_point) * sum.quant.scale;
      EXPECT_NEAR(real, expected[i], sum.quant.scale + c.scale + input.quant.scale) << c.mac.label() << " " << i;
    }
  }
}

// fp16 keeps 10 fraction bits: 1/3 = 1.0101010101|01.. x 2^-2 rounds down to
// 1365/4096; bf16 keeps 7: 1.0101010|101.. rounds up to 171/512.
TEST(ConstantLayer, FloatFormatsRoundTheStoredValues) {
  Graph g = constant_add_graph();
  g.layers[0].weights = {1.0f / 3.0f, 0.0f, 0.5f, 2.0f};
  const Tensor sample = fp32_input({0.0f, 0.0f, 0.0f, 0.0f});
  const std::pair<NumberFormat, float> cases[] = {{NumberFormat::fp16, 1365.0f / 4096.0f},
                                                  {NumberFormat::bf16, 171.0f / 512.0f},
                                                  {NumberFormat::fp32, 1.0f / 3.0f}};
  for (const auto& [format, third] : cases) {
    const QuantizedGraph q = quantize_graph(g, {format, format, AccumulatorFormat::fp32, 1}, sample);
    const ReferenceResult r = run_reference(q, quantize_input(q, sample), 0);
    EXPECT_EQ(r.outputs[0].f, (std::vector<float>{third, 0.0f, 0.5f, 2.0f})) << to_string(format);
    EXPECT_EQ(r.outputs[1].f[0], third) << to_string(format);  // 0 + c
  }
}

TEST(ConstantLayer, BinaryConstantTakesTheFittedLevels) {
  Graph g = constant_add_graph();
  g.layers[0].weights = {-1.0f, -3.0f, 1.0f, 3.0f};  // signed: levels {-s, +s}, s = mean |x| = 2
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  const QuantizedGraph q = quantize_graph(g, w1a1, fp32_input({0.0f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(q.layers[0].weights.format, NumberFormat::binary);
  EXPECT_DOUBLE_EQ(q.layers[0].output_quant.scale, 2.0);
  EXPECT_EQ(q.layers[0].output_quant.zero_point, 0);
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{-1, -1, 1, 1}));
}

// conv -> add a seeded constant; a given constant through relu; concat of the
// two on channels; 1x1 conv; concat with a seeded constant along W.
const char* kConstantNet = R"({
  "format_version": 1,
  "name": "constant_net",
  "seed": 5,
  "input": {"shape": [2, 4, 4]},
  "layers": [
    {"name": "conv1", "type": "conv2d", "input": "input", "filters": 4, "kernel": [3, 3], "padding": [1, 1], "activation": "relu"},
    {"name": "bias", "type": "constant", "shape": [4, 4, 4]},
    {"name": "sum", "type": "add", "inputs": ["conv1", "bias"]},
    {"name": "table", "type": "constant", "shape": [1, 4, 4],
     "values": [0.5, -0.25, 1, 2, -1, 0, 0.75, 1.5, -2, 0.125, 3, -0.5, 0, 1, -1.5, 0.25]},
    {"name": "crelu", "type": "relu", "input": "table"},
    {"name": "mix", "type": "concat", "inputs": ["sum", "crelu"], "axis": 0},
    {"name": "head", "type": "conv2d", "input": "mix", "filters": 3, "kernel": [1, 1]},
    {"name": "pad", "type": "constant", "shape": [3, 4, 2]},
    {"name": "wide", "type": "concat", "inputs": ["head", "pad"], "axis": 2}
  ]
})";

class ConstantNetwork : public testing::NetworkTextTest {
 protected:
  static std::string edited(const std::string& from, const std::string& to) {
    return NetworkTextTest::edited(kConstantNet, from, to);
  }
};

TEST_F(ConstantNetwork, LoadsGivenAndSeededValues) {
  const Graph g = load(kConstantNet);
  ASSERT_EQ(g.layers.size(), 9u);
  const Layer& table = g.layers[3];
  EXPECT_EQ(table.type, LayerType::constant);
  EXPECT_TRUE(table.inputs.empty());
  EXPECT_EQ(table.output_dims, (std::vector<std::int64_t>{1, 4, 4}));
  EXPECT_EQ(table.weights.size(), 16u);
  EXPECT_EQ(table.weights[2], 1.0f);
  EXPECT_EQ(table.weights[9], 0.125f);
  const Layer& bias = g.layers[1];
  ASSERT_EQ(bias.weights.size(), 64u);
  for (const float v : bias.weights) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_NE(bias.weights[0], bias.weights[1]);
  // Seeded per layer index: the same file gives the same values, another seed others.
  EXPECT_EQ(load(kConstantNet).layers[1].weights, bias.weights);
  EXPECT_NE(load(edited("\"seed\": 5", "\"seed\": 6")).layers[1].weights, bias.weights);
  EXPECT_EQ(g.layers[8].output_dims, (std::vector<std::int64_t>{3, 4, 6}));
  EXPECT_EQ(g.layers[5].output_dims, (std::vector<std::int64_t>{5, 4, 4}));
}

TEST_F(ConstantNetwork, StrictValidationNamesFileAndPath) {
  EXPECT_CONTAINS(error_of(edited("\"shape\": [4, 4, 4]}", "\"shape\": [4, 4]}")), "$.layers[1].shape: expected");
  EXPECT_CONTAINS(error_of(edited("\"shape\": [4, 4, 4]}", "\"shape\": [4, 4, 4], \"input\": \"conv1\"}")),
                  "$.layers[1].input: unknown field");
  EXPECT_CONTAINS(error_of(edited("\"shape\": [4, 4, 4]}", "\"values\": [1]}")), "$.layers[1].shape");
  EXPECT_CONTAINS(
      error_of(edited(", 0.25]", "]")),
      "$.layers[3].values: expected a list of 16 numbers (the elements of shape [1, 4, 4]), got a list of 15");
  EXPECT_CONTAINS(error_of(edited("0.125", "\"x\"")), "$.layers[3].values[9]: expected a number");
  EXPECT_CONTAINS(error_of(edited("0.125", "true")), "$.layers[3].values[9]: expected a number");
  EXPECT_CONTAINS(error_of(edited("0.125", "1e39")), "$.layers[3].values[9]: expected a number of magnitude");
  EXPECT_CONTAINS(error_of(edited("\"values\": [0.5,", "\"values\": {\"a\": 1}, \"v\": [0.5,")), "$.layers[3].values");
  // An add with a constant still needs equal shapes.
  EXPECT_CONTAINS(error_of(edited("\"shape\": [4, 4, 4]}", "\"shape\": [4, 4, 2]}")),
                  "$.layers[2].inputs: expected two tensors of the same shape");
  const std::string message = error_of(edited("\"shape\": [4, 4, 4]}", "\"shape\": [4, 4]}"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_CONTAINS(message, "net.json");
}

const MacFormat kFormats[] = {{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1},
                              {NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 2},
                              {NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1},
                              {NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1},
                              {NumberFormat::bf16, NumberFormat::bf16, AccumulatorFormat::fp32, 1},
                              {NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1}};

TEST_F(ConstantNetwork, SimulatorIsBitExactInEveryFormat) {
  const Graph graph = load(kConstantNet);
  const Tensor sample = make_sample_input(graph);
  for (const MacFormat& mac : kFormats) {
    for (const Dataflow dataflow : {Dataflow::ws, Dataflow::os}) {
      AcceleratorConfig config;
      config.array.rows = 4;
      config.array.cols = 4;
      config.array.mac = mac;
      config.array.dataflow = dataflow;
      const QuantizedGraph q = quantize_graph(graph, mac, sample);
      const Tensor input = quantize_input(q, sample);
      const auto engine = make_tile_engine(config.array);
      const NetworkRun run = run_network(q, input, *engine, config);
      const ReferenceResult reference = run_reference(q, input, reference_reduction_chunk(config.array));
      const auto checks = check_against_reference(run, reference);
      ASSERT_EQ(checks.size(), graph.layers.size());
      for (std::size_t i = 0; i < checks.size(); ++i) {
        EXPECT_TRUE(checks[i].bit_exact) << mac.label() << " " << graph.layers[i].name << ": " << checks[i].detail;
      }
      // A constant costs nothing and runs on no unit's time.
      for (const std::size_t i : {1u, 3u, 7u}) {
        EXPECT_EQ(run.layers[i].cycles, 0) << mac.label();
        EXPECT_EQ(run.layers[i].macs, 0);
        EXPECT_EQ(run.layers[i].type, LayerType::constant);
      }
      // The wide concat's last two columns of each row are the pad constant.
      const Tensor& wide = run.layers[8].output;
      const Tensor& pad = run.layers[7].output;
      const bool integer = is_integer_class(wide.format);
      if (integer && wide.quant.scale == pad.quant.scale && wide.quant.zero_point == pad.quant.zero_point) {
        EXPECT_EQ(wide.q[4], pad.q[0]) << mac.label();
      } else if (!integer) {
        EXPECT_EQ(wide.f[4], pad.f[0]) << mac.label();
      }
    }
  }
  EXPECT_EQ(to_string(LayerType::constant), "constant");
  EXPECT_EQ(ppu_element_ops(LayerType::constant, 64, 0), 0);
}

// With the memory model (the bundled configs): the CLI checks every layer
// against the reference (exit 3 on a mismatch); a constant moves no data
// itself, and the layer reading it loads it from DRAM.
TEST_F(ConstantNetwork, CliRunWithTheMemoryModel) {
  const std::string net = write("net.json", kConstantNet);
  for (const char* format : {"int8", "fp16"}) {
    const auto report = dir_ / (std::string(format) + ".json");
    const std::string config = testing::kSourceDir + "/configs/edge_" + format + "_32x32.json";
    const auto r = testing::run_npusim("run --config " + config + " --model " + net + " --json " + report.string());
    ASSERT_EQ(r.status, 0) << format << "\n" << r.out;
    const auto json = nlohmann::json::parse(slurp(report));
    const auto& layers = json.at("layers");
    ASSERT_EQ(layers.size(), 9u);
    const int element_bytes = std::string(format) == "int8" ? 1 : 2;
    for (const int i : {1, 3, 7}) {
      const auto& layer = layers[static_cast<std::size_t>(i)];
      EXPECT_EQ(layer.at("type"), "constant");
      EXPECT_EQ(layer.at("cycles"), 0) << format << " " << layer.dump();
      EXPECT_EQ(layer.at("memory").at("dram_read_bytes"), 0) << format;
      EXPECT_EQ(layer.at("memory").at("dram_write_bytes"), 0) << format;
      EXPECT_TRUE(layer.at("check").at("bit_exact"));
    }
    // sum loads conv1's output (64 elements) and the 64-element bias
    // constant; crelu loads the 16-element table; wide loads head's output
    // (48) and the 24-element pad.
    EXPECT_EQ(layers[2].at("memory").at("dram_read_bytes").get<std::int64_t>(), (64 + 64) * element_bytes) << format;
    EXPECT_EQ(layers[4].at("memory").at("dram_read_bytes").get<std::int64_t>(), 16 * element_bytes) << format;
    EXPECT_EQ(layers[8].at("memory").at("dram_read_bytes").get<std::int64_t>(), (48 + 24) * element_bytes) << format;
  }
}

}  // namespace
}  // namespace npusim
