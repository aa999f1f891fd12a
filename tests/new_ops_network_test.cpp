// A network JSON using concat (an inception-like block), clip, reshape,
// flatten before fc and softmax at the end: loading, strict validation, and
// the simulator bit-exact against the reference executor in every format.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "cli_test_support.h"
#include "graph_test_support.h"
#include "models/input_error.h"
#include "models/network_json.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "network_text_test_support.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

using npusim::testing::find_layer;
using Dims = std::vector<std::int64_t>;

#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(::testing::IsSubstring, part, text)

// stem [8,8,8] -> three branches (1x1; 1x1 then 3x3; maxpool then 1x1)
// concatenated on channels [12,8,8] -> clip -> avgpool [12,4,4] -> reshape
// [48,2,2] -> 1x1 conv [16,2,2] -> concat with itself along W [16,2,4] ->
// flatten [128,1,1] -> fc 10 -> reshape [2,5,1] -> softmax along H.
const char* kInceptionNet = R"({
  "format_version": 1,
  "name": "tiny_inception",
  "seed": 11,
  "input": {"shape": [3, 8, 8]},
  "layers": [
    {"name": "stem", "type": "conv2d", "input": "input", "filters": 8, "kernel": [3, 3], "padding": [1, 1], "activation": "relu"},
    {"name": "b1", "type": "conv2d", "input": "stem", "filters": 4, "kernel": [1, 1], "activation": "relu"},
    {"name": "b2a", "type": "conv2d", "input": "stem", "filters": 4, "kernel": [1, 1], "activation": "relu"},
    {"name": "b2", "type": "conv2d", "input": "b2a", "filters": 6, "kernel": [3, 3], "padding": [1, 1]},
    {"name": "b3a", "type": "maxpool", "input": "stem", "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]},
    {"name": "b3", "type": "conv2d", "input": "b3a", "filters": 2, "kernel": [1, 1]},
    {"name": "mix", "type": "concat", "inputs": ["b1", "b2", "b3"]},
    {"name": "clamp", "type": "clip", "input": "mix", "min": -1.0, "max": 1.5},
    {"name": "pool", "type": "avgpool", "input": "clamp", "kernel": [2, 2], "stride": [2, 2]},
    {"name": "regroup", "type": "reshape", "input": "pool", "shape": [48, 2, 2]},
    {"name": "mixc", "type": "conv2d", "input": "regroup", "filters": 16, "kernel": [1, 1], "activation": "relu"},
    {"name": "wide", "type": "concat", "inputs": ["mixc", "mixc"], "axis": 2},
    {"name": "flat", "type": "flatten", "input": "wide"},
    {"name": "fc1", "type": "fc", "input": "flat", "units": 10},
    {"name": "logits", "type": "reshape", "input": "fc1", "shape": [2, 5, 1]},
    {"name": "prob", "type": "softmax", "input": "logits", "axis": 1}
  ]
})";

class NewOpsNetwork : public testing::NetworkTextTest {
 protected:
  // kInceptionNet with `from` replaced by `to` (which must occur).
  static std::string edited(const std::string& from, const std::string& to) {
    return NetworkTextTest::edited(kInceptionNet, from, to);
  }
};

TEST_F(NewOpsNetwork, LoadsShapesAndParameters) {
  const Graph graph = load(kInceptionNet);
  EXPECT_EQ(find_layer(graph, "mix").type, LayerType::concat);
  EXPECT_EQ(find_layer(graph, "mix").inputs, (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(find_layer(graph, "mix").output_dims, (Dims{12, 8, 8}));
  EXPECT_EQ(find_layer(graph, "clamp").clip.min, -1.0f);
  EXPECT_EQ(find_layer(graph, "clamp").clip.max, 1.5f);
  EXPECT_EQ(find_layer(graph, "regroup").output_dims, (Dims{48, 2, 2}));
  EXPECT_EQ(find_layer(graph, "wide").axis, 2);
  EXPECT_EQ(find_layer(graph, "wide").output_dims, (Dims{16, 2, 4}));
  EXPECT_EQ(find_layer(graph, "flat").output_dims, (Dims{128, 1, 1}));
  EXPECT_EQ(find_layer(graph, "logits").output_dims, (Dims{2, 5, 1}));
  EXPECT_EQ(find_layer(graph, "prob").axis, 1);
  EXPECT_EQ(find_layer(graph, "prob").output_dims, (Dims{2, 5, 1}));
  // The layer after a reshape sees its dims: 1x1 conv over 48 channels.
  EXPECT_EQ(find_layer(graph, "mixc").weights.size(), 16u * 48);
  EXPECT_EQ(find_layer(graph, "fc1").weights.size(), 10u * 128);
  // MACs: stem 64*8*27, b1 64*4*8, b2a 64*4*8, b2 64*6*36, b3 64*2*8, mixc 4*16*48, fc1 1280.
  EXPECT_EQ(graph.total_macs(), 13824 + 2048 + 2048 + 13824 + 1024 + 3072 + 1280);
}

TEST_F(NewOpsNetwork, StrictValidationNamesFileAndPath) {
  std::string message = error_of(edited(R"("inputs": ["b1", "b2", "b3"])", R"("inputs": ["b1", "b2", "pool"])"));
  // "pool" is defined later: reported as such.
  EXPECT_CONTAINS(message, "$.layers[6].inputs[2]");
  // Along H the channels must agree: b1 has 4, b3a 8.
  message = error_of(edited(R"("inputs": ["b1", "b2", "b3"])", R"("inputs": ["b1", "b3a"], "axis": 1)"));
  EXPECT_CONTAINS(message,
                  "net.json: $.layers[6].inputs[1]: expected a tensor whose shape matches \"b1\" [4, 8, 8] on every "
                  "axis but 1, got \"b3a\" [8, 8, 8]");
  // The same two along C are fine: [12, 8, 8].
  EXPECT_EQ(
      find_layer(load(edited(R"("inputs": ["b1", "b2", "b3"])", R"("inputs": ["b1", "b3a"])")), "mix").output_dims,
      (Dims{12, 8, 8}));
  message = error_of(edited(R"("inputs": ["mixc", "mixc"], "axis": 2)", R"("inputs": ["mixc", "mixc"], "axis": 3)"));
  EXPECT_CONTAINS(message,
                  "net.json: $.layers[11].axis: expected an integer in [0, 2] (an index into [C, H, W]), got 3");
  message = error_of(edited(R"("axis": 1})", R"("axis": -1})"));
  EXPECT_CONTAINS(message, "$.layers[15].axis: expected an integer in [0, 2]");
  message = error_of(edited(R"("inputs": ["mixc", "mixc"], "axis": 2)", R"("inputs": [], "axis": 2)"));
  EXPECT_CONTAINS(message, "$.layers[11].inputs: expected a non-empty list of tensor names");
  message = error_of(edited(R"("shape": [48, 2, 2])", R"("shape": [48, 2, 1])"));
  EXPECT_CONTAINS(message,
                  "net.json: $.layers[9].shape: expected [C, H, W] with as many elements as the input [12, 4, 4] "
                  "(192), got [48, 2, 1] (96)");
  message = error_of(edited(R"("shape": [48, 2, 2])", R"("shape": [192, 1])"));
  EXPECT_CONTAINS(message, "$.layers[9].shape: expected a list of 3 integers");
  message = error_of(edited(R"("min": -1.0, "max": 1.5)", R"("min": 2.0, "max": 1.5)"));
  EXPECT_CONTAINS(message, "net.json: $.layers[7].max: expected a bound at least min (2.0), got 1.5");
  message = error_of(edited(R"("min": -1.0, "max": 1.5)", R"("min": "low")"));
  EXPECT_CONTAINS(message, "$.layers[7].min: expected a number");
  message = error_of(edited(R"("min": -1.0, "max": 1.5)", R"("min": -1.0, "max": 1e39)"));
  EXPECT_CONTAINS(message, "$.layers[7].max: expected a number");
  message =
      error_of(edited(R"("type": "flatten", "input": "wide")", R"("type": "flatten", "input": "wide", "axis": 1)"));
  EXPECT_CONTAINS(message, "$.layers[12].axis: unknown field");
  message = error_of(edited(R"("type": "softmax")", R"("type": "softmax", "activation": "relu")"));
  EXPECT_CONTAINS(message, "$.layers[15].activation: unknown field");
  message = error_of(edited(R"("type": "softmax")", R"("type": "softmaxx")"));
  EXPECT_CONTAINS(message, "concat, softmax, flatten, reshape, clip");
}

// In process: the tile engine and PPU against the reference executor for
// every format, with the default (ideal) memory.
TEST_F(NewOpsNetwork, SimulatorIsBitExactInEveryFormat) {
  const Graph graph = load(kInceptionNet);
  const Tensor sample = make_sample_input(graph);
  const MacFormat formats[] = {{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1},
                               {NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 2},
                               {NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1},
                               {NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1},
                               {NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1}};
  for (const MacFormat& mac : formats) {
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
      const auto checks =
          check_against_reference(run, run_reference(q, input, reference_reduction_chunk(config.array)));
      for (std::size_t i = 0; i < checks.size(); ++i) {
        EXPECT_TRUE(checks[i].bit_exact) << mac.label() << " " << graph.layers[i].name << ": " << checks[i].detail;
      }
      // The softmax output is a distribution over each column of 5.
      const Tensor& prob = run.layers.back().output;
      for (int column = 0; column < 2; ++column) {
        double sum = 0;
        for (int l = 0; l < 5; ++l) {
          const auto at = static_cast<std::size_t>(column * 5 + l);
          sum += is_integer_class(prob.format) ? (prob.q[at] - prob.quant.zero_point) * prob.quant.scale : prob.f[at];
        }
        // Each of the 5 values is off by at most half a step of the output.
        const double tolerance = is_integer_class(prob.format) ? 2.5 * prob.quant.scale + 1e-6 : 1e-3;
        if (prob.format != NumberFormat::binary) {
          EXPECT_NEAR(sum, 1.0, tolerance) << mac.label();
        }
      }
    }
  }
}

TEST_F(NewOpsNetwork, QuantizationOfTheNewOps) {
  const Graph graph = load(kInceptionNet);
  const Tensor sample = make_sample_input(graph);
  const MacFormat w8a8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  const QuantizedGraph q = quantize_graph(graph, w8a8, sample);
  auto index = [&](const std::string& name) {
    for (std::size_t i = 0; i < graph.layers.size(); ++i) {
      if (graph.layers[i].name == name) return i;
    }
    return graph.layers.size();
  };
  const QuantParams& prob = q.layers[index("prob")].output_quant;
  EXPECT_EQ(prob.scale, 1.0 / 256);
  EXPECT_EQ(prob.zero_point, -128);
  // clip, reshape, flatten keep their input's quantization.
  EXPECT_EQ(q.layers[index("clamp")].output_quant.scale, q.layers[index("mix")].output_quant.scale);
  EXPECT_EQ(q.layers[index("flat")].output_quant.zero_point, q.layers[index("wide")].output_quant.zero_point);
  EXPECT_EQ(q.layers[index("logits")].output_quant.scale, q.layers[index("fc1")].output_quant.scale);
  // The concat's range covers its inputs': its scale is at least each input's.
  for (const char* branch : {"b1", "b2", "b3"}) {
    EXPECT_GE(q.layers[index("mix")].output_quant.scale, q.layers[index(branch)].output_quant.scale * 0.999) << branch;
  }
  // A binary network keeps the softmax in its (8-bit) input's format.
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  const QuantizedGraph b = quantize_graph(graph, w1a1, sample);
  EXPECT_EQ(b.output_format_of(index("prob")), NumberFormat::int8);
  EXPECT_EQ(b.output_format_of(index("flat")), NumberFormat::int8);  // read by fc1, kept at W8A8
}

TEST_F(NewOpsNetwork, PpuCyclesPerType) {
  const Graph graph = load(kInceptionNet);
  const Tensor sample = make_sample_input(graph);
  const MacFormat w8a8{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  AcceleratorConfig config;
  config.array.rows = 4;
  config.array.cols = 4;
  config.ppu.elements_per_cycle = 16;
  const QuantizedGraph q = quantize_graph(graph, w8a8, sample);
  const auto engine = make_tile_engine(config.array);
  const NetworkRun run = run_network(q, quantize_input(q, sample), *engine, config);
  std::map<std::string, const LayerRecord*> by_name;
  for (const auto& record : run.layers) by_name[record.name] = &record;
  EXPECT_EQ(by_name.at("mix")->cycles, 12 * 64 / 16);  // one pass over the output
  EXPECT_EQ(by_name.at("wide")->cycles, 16 * 8 / 16);  // two inputs, still one pass
  EXPECT_EQ(by_name.at("clamp")->cycles, 12 * 64 / 16);
  EXPECT_EQ(by_name.at("regroup")->cycles, 0);  // address remap
  EXPECT_EQ(by_name.at("flat")->cycles, 0);
  EXPECT_EQ(by_name.at("prob")->cycles, 2);  // ceil(3 * 10 / 16)
  EXPECT_EQ(by_name.at("prob")->unit, ExecutionUnit::ppu);
  EXPECT_EQ(to_string(LayerType::concat), "concat");
  EXPECT_EQ(to_string(LayerType::softmax), "softmax");
  EXPECT_EQ(to_string(LayerType::flatten), "flatten");
  EXPECT_EQ(to_string(LayerType::reshape), "reshape");
  EXPECT_EQ(to_string(LayerType::clip), "clip");
}

// End to end through `npusim run` with each bundled config (memory modeled):
// the CLI checks every layer against the reference and exits 3 on a mismatch.
TEST_F(NewOpsNetwork, CliRunIsBitExactWithTheMemoryModel) {
  const std::string net = write("net.json", kInceptionNet);
  for (const char* format : {"int8", "int4", "binary", "fp16", "fp32"}) {
    const std::string config = testing::kSourceDir + "/configs/edge_" + format + "_32x32.json";
    const auto r = testing::run_npusim("run --config " + config + " --model " + net + " --json " +
                                       (dir_ / (std::string(format) + ".json")).string());
    EXPECT_EQ(r.status, 0) << format << "\n" << r.out;
    EXPECT_CONTAINS(r.out, "softmax");
    EXPECT_CONTAINS(r.out, "concat");
    const std::string json = slurp(dir_ / (std::string(format) + ".json"));
    EXPECT_CONTAINS(json, "\"reshape\"");
  }
}

}  // namespace
}  // namespace npusim
