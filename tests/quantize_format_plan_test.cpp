// Per-layer MacFormats and tensor formats of mixed-precision integer graphs,
// and the simulator running them on one engine per format.
#include "models/quant/format_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "accel/array/gemm_engine.h"
#include "models/input_error.h"
#include "models/network_json.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";
const MacFormat kW1A1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
const MacFormat kW4A4{NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1};

std::size_t index_of(const Graph& graph, const std::string& name) {
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (graph.layers[i].name == name) return i;
  }
  throw std::runtime_error("no layer " + name);
}

Layer layer(std::string name, LayerType type, std::vector<std::string> inputs) {
  Layer l;
  l.name = std::move(name);
  l.type = type;
  l.inputs = std::move(inputs);
  return l;
}

// conv_a -> pool -> {conv_b, add}; conv_b -> add -> conv_c. Only the formats
// matter here, so the layers carry no parameters.
Graph residual_graph() {
  Graph g;
  g.name = "residual";
  g.layers = {layer("conv_a", LayerType::conv2d, {"input"}), layer("pool", LayerType::maxpool, {"conv_a"}),
              layer("conv_b", LayerType::conv2d, {"pool"}), layer("add", LayerType::add, {"pool", "conv_b"}),
              layer("conv_c", LayerType::conv2d, {"add"})};
  return g;
}

TEST(FormatPlan, BinaryKeepsTheEndsAtEightBitsAndBinarizesTheRest) {
  const FormatPlan plan = plan_formats(residual_graph(), kW1A1, {});
  EXPECT_EQ(plan.input_format, NumberFormat::int8);  // read by conv_a, W8A8
  EXPECT_EQ(plan.layer_macs[0].label(), "W8A8");
  EXPECT_EQ(plan.layer_macs[2].label(), "W1A1");
  EXPECT_EQ(plan.layer_macs[4].label(), "W8A8");
  EXPECT_EQ(plan.output_formats[0], NumberFormat::binary);  // through pool to conv_b
  EXPECT_EQ(plan.output_formats[1], NumberFormat::binary);
  EXPECT_EQ(plan.output_formats[2], NumberFormat::binary);  // read by the add only: its own activation
  EXPECT_EQ(plan.output_formats[3], NumberFormat::int8);    // read by conv_c
  EXPECT_EQ(plan.output_formats[4], NumberFormat::int8);    // the network output
}

TEST(FormatPlan, ConflictingReadersWidenTheNarrowOne) {
  // conv_c reads pool too: pool's readers want binary (conv_b) and int8 (conv_c).
  Graph g = residual_graph();
  g.layers[4].inputs = {"pool"};
  const FormatPlan plan = plan_formats(g, kW1A1, {});
  EXPECT_EQ(plan.output_formats[1], NumberFormat::int8);
  EXPECT_EQ(plan.output_formats[0], NumberFormat::int8);  // pool keeps its input's format
  EXPECT_EQ(plan.layer_macs[2].label(), "W1A8");          // conv_b reads int8 now
}

TEST(FormatPlan, OptionsChooseTheEightBitLayers) {
  QuantizationOptions none;
  none.eight_bit_ends = EightBitEnds::none;
  FormatPlan plan = plan_formats(residual_graph(), kW1A1, none);
  EXPECT_EQ(plan.layer_macs[0].label(), "W1A1");
  EXPECT_EQ(plan.input_format, NumberFormat::binary);
  // int4 keeps its ends only when asked.
  EXPECT_EQ(plan_formats(residual_graph(), kW4A4, {}).layer_macs[0].label(), "W4A4");
  QuantizationOptions narrow;
  narrow.eight_bit_ends = EightBitEnds::narrow;
  plan = plan_formats(residual_graph(), kW4A4, narrow);
  EXPECT_EQ(plan.layer_macs[0].label(), "W8A8");
  EXPECT_EQ(plan.layer_macs[2].label(), "W4A4");
  EXPECT_EQ(plan.output_formats[0], NumberFormat::int4);
  QuantizationOptions named;
  named.eight_bit_ends = EightBitEnds::none;
  named.eight_bit_layers = {"conv_b"};
  plan = plan_formats(residual_graph(), kW4A4, named);
  EXPECT_EQ(plan.layer_macs[2].label(), "W8A8");
  EXPECT_EQ(plan.output_formats[1], NumberFormat::int8);  // conv_b's input
  named.eight_bit_layers = {"pool"};
  EXPECT_THROW(plan_formats(residual_graph(), kW4A4, named), std::invalid_argument);
  // Float graphs are uniform.
  const MacFormat fp16{NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1};
  plan = plan_formats(residual_graph(), fp16, named);
  EXPECT_EQ(plan.layer_macs[2].label(), "fp16/fp16");
  EXPECT_EQ(plan.output_formats[3], NumberFormat::fp16);
}

TEST(MixedFormatRun, EachLayerRunsOnAnEngineOfItsFormat) {
  const Graph graph = load_network_json(kZoo + "tiny_mixed.json");
  const Tensor sample = make_sample_input(graph);
  AcceleratorConfig config;
  config.array.rows = 4;
  config.array.cols = 4;
  config.array.mac = kW1A1;
  const QuantizedGraph q = quantize_graph(graph, config.array.mac, sample);
  const Tensor input = quantize_input(q, sample);
  const auto engine = make_tile_engine(config.array);
  const NetworkRun run = run_network(q, input, *engine, config);
  EXPECT_EQ(run.layers[index_of(graph, "stem")].format, "W8A8");
  EXPECT_EQ(run.layers[index_of(graph, "grouped")].format, "W1A1");
  EXPECT_EQ(run.layers[index_of(graph, "classifier")].format, "W8A8");
  EXPECT_EQ(run.layers[index_of(graph, "residual")].format, "binary");
  const auto reference = run_reference(q, input, reference_reduction_chunk(config.array));
  const auto checks = check_against_reference(run, reference);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    EXPECT_TRUE(checks[i].bit_exact) << graph.layers[i].name << ": " << checks[i].detail;
  }
}

TEST(MixedFormatRun, PeFidelityRejectsASecondFormat) {
  const Graph graph = load_network_json(kZoo + "tiny_mixed.json");
  const Tensor sample = make_sample_input(graph);
  AcceleratorConfig config;
  config.array.mac = kW1A1;
  config.fidelity = Fidelity::pe;
  const QuantizedGraph q = quantize_graph(graph, config.array.mac, sample);
  // The check comes before any GEMM, so a tile engine stands in for the pe one.
  const auto engine = make_tile_engine(config.array);
  try {
    run_network(q, quantize_input(q, sample), *engine, config);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("pe fidelity"), std::string::npos) << message;
    EXPECT_NE(message.find("stem"), std::string::npos) << message;
    EXPECT_NE(message.find("W8A8"), std::string::npos) << message;
  }
  QuantizationOptions uniform;
  uniform.eight_bit_ends = EightBitEnds::none;
  const QuantizedGraph all_binary = quantize_graph(graph, config.array.mac, sample, uniform);
  const Tensor input = quantize_input(all_binary, sample);
  const NetworkRun run = run_network(all_binary, input, *engine, config);
  const auto reference = run_reference(all_binary, input, reference_reduction_chunk(config.array));
  EXPECT_TRUE(all_bit_exact(check_against_reference(run, reference)));
}

}  // namespace
}  // namespace npusim
