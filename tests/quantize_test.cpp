#include "models/quantize.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/float_formats.h"
#include "accel/requantize.h"
#include "models/network_json.h"
#include "models/reference_executor.h"

namespace npusim {
namespace {

using Dims = std::vector<std::int64_t>;

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";
const MacFormat kW8A8{};
const MacFormat kFp32{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};

// input {K, 1, 1} -> one fc layer.
Graph fc_graph(std::vector<float> weights, std::vector<float> bias) {
  Graph graph;
  graph.name = "fc";
  const auto units = static_cast<std::int64_t>(bias.size());
  graph.input_dims = {static_cast<std::int64_t>(weights.size()) / units, 1, 1};
  Layer layer;
  layer.name = "fc";
  layer.type = LayerType::fc;
  layer.inputs = {"input"};
  layer.fc.out_features = units;
  layer.output_dims = {units, 1, 1};
  layer.has_bias = true;
  layer.weights = std::move(weights);
  layer.bias = std::move(bias);
  graph.layers.push_back(layer);
  return graph;
}

Tensor fp32_input(const Dims& dims, std::vector<float> values) {
  Tensor t;
  t.dims = dims;
  t.f = std::move(values);
  return t;
}

std::size_t index_of(const Graph& graph, const std::string& name) {
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (graph.layers[i].name == name) return i;
  }
  throw std::runtime_error("no layer " + name);
}

bool same_multiplier(FixedPointMultiplier a, FixedPointMultiplier b) {
  return a.multiplier == b.multiplier && a.shift == b.shift;
}

TEST(QuantizeInt8, HandComputedFcLayer) {
  const Graph graph = fc_graph({0.6f, -1.0f, 0.25f, 0.0f, 0.1f, 0.2f, -0.3f, 0.4f}, {0.05f, -0.02f});
  const Tensor calibration = fp32_input({4, 1, 1}, {0.6f, -1.0f, 0.25f, 0.0f});
  const QuantizedGraph q = quantize_graph(graph, kW8A8, calibration);
  // max |x| = 1 and max |w| = 1: both scales 1/127.
  EXPECT_EQ(q.input_quant.scale, 1.0 / 127);
  EXPECT_EQ(q.input_quant.zero_point, 0);
  const QuantizedLayer& fc = q.layers[0];
  EXPECT_EQ(fc.weights.quant.scale, 1.0 / 127);
  EXPECT_EQ(fc.weights.format, NumberFormat::int8);
  EXPECT_EQ(fc.weights.dims, (Dims{2, 4}));
  // 0.6 * 127 = 76.2, 31.75, 12.7, 25.4, -38.1, 50.8
  EXPECT_EQ(fc.weights.q, (std::vector<std::int8_t>{76, -127, 32, 0, 13, 25, -38, 51}));
  // bias / (1/127)^2: 0.05 * 16129 = 806.45, -0.02 * 16129 = -322.58
  EXPECT_EQ(fc.bias_int, (std::vector<std::int32_t>{806, -323}));
  // fp32 outputs: 0.36 + 1 + 0.0625 + 0.05 = 1.4725 and -0.235; s_out = 1.4725 / 127.
  EXPECT_NEAR(fc.output_quant.scale, 1.4725 / 127, 1e-7);
  EXPECT_TRUE(same_multiplier(fc.requant, quantize_multiplier((1.0 / 127) * (1.0 / 127) / fc.output_quant.scale)));
  const Tensor input = quantize_input(q, calibration);
  EXPECT_EQ(input.q, (std::vector<std::int8_t>{76, -127, 32, 0}));
  EXPECT_EQ(input.quant.scale, q.input_quant.scale);
  // acc = 5776 + 16129 + 1024 + 806 = 23735 -> * 127 / (16129 * 1.4725) = 126.9
  // acc = 988 - 3175 - 1216 - 323 = -3726 -> -19.9
  const auto r = run_reference(q, input, 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{127, -20}));
  EXPECT_EQ(r.outputs[0].quant.scale, fc.output_quant.scale);
}

TEST(QuantizeInt8, RoundsHalfAwayFromZeroAndSaturates) {
  // max |x| = 127/64: the input scale is exactly 1/64, so x/scale is exact.
  const Graph graph = fc_graph(std::vector<float>(8, 0.5f), {0.0f});
  std::vector<float> calibration(8, 0.0f);
  calibration[0] = 127.0f / 64;
  const QuantizedGraph q = quantize_graph(graph, kW8A8, fp32_input({8, 1, 1}, calibration));
  ASSERT_EQ(q.input_quant.scale, 1.0 / 64);
  const Tensor t = quantize_input(
      q, fp32_input({8, 1, 1}, {2.5f / 64, -2.5f / 64, 0.5f / 64, -0.5f / 64, 3.0f / 64, 10.0f, -10.0f, 0.0f}));
  EXPECT_EQ(t.q, (std::vector<std::int8_t>{3, -3, 1, -1, 3, 127, -128, 0}));
}

TEST(QuantizeInt4, ScalesUseSevenAndValuesClampToMinusEight) {
  const Graph graph = fc_graph({0.7f, -0.3f, 0.1f, -0.7f}, {0.0f});
  const MacFormat w4a4{NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1};
  const QuantizedGraph q = quantize_graph(graph, w4a4, fp32_input({4, 1, 1}, {1.0f, 0.5f, -0.25f, 0.0f}));
  EXPECT_EQ(q.layers[0].weights.quant.scale, double{0.7f} / 7);
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{7, -3, 1, -7}));
  EXPECT_EQ(q.input_quant.scale, 1.0 / 7);
  const Tensor t = quantize_input(q, fp32_input({4, 1, 1}, {-2.0f, 2.0f, 0.3f, -0.3f}));
  EXPECT_EQ(t.q, (std::vector<std::int8_t>{-8, 7, 2, -2}));  // -14, 14, 2.1, -2.1
  EXPECT_EQ(t.format, NumberFormat::int4);
}

TEST(QuantizeBinary, SignWithMeanMagnitudeScales) {
  const Graph graph = fc_graph({0.5f, -1.0f, -0.0f, -0.25f}, {0.1f});
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  const QuantizedGraph q = quantize_graph(graph, w1a1, fp32_input({4, 1, 1}, {0.5f, -1.0f, 0.25f, 0.0f}));
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{1, -1, 1, -1}));  // -0 counts as >= 0
  EXPECT_EQ(q.layers[0].weights.quant.scale, 1.75 / 4);
  EXPECT_EQ(q.input_quant.scale, 1.75 / 4);
  const Tensor t = quantize_input(q, fp32_input({4, 1, 1}, {0.5f, -1.0f, 0.25f, 0.0f}));
  EXPECT_EQ(t.q, (std::vector<std::int8_t>{1, -1, 1, 1}));
  // bias in accumulator units: 0.1 / (0.4375 * 0.4375) = 0.522 -> 1
  EXPECT_EQ(q.layers[0].bias_int, (std::vector<std::int32_t>{1}));
}

TEST(QuantizeInt8, ZeroTensorGetsScaleOne) {
  const Graph graph = fc_graph({0.0f, 0.0f}, {0.0f});
  const QuantizedGraph q = quantize_graph(graph, kW8A8, fp32_input({2, 1, 1}, {0.0f, 0.0f}));
  EXPECT_EQ(q.input_quant.scale, 1.0);
  EXPECT_EQ(q.layers[0].weights.quant.scale, 1.0);
  EXPECT_EQ(q.layers[0].output_quant.scale, 1.0);
}

// Pooling and relu layers reuse their input's quantization; compute and add
// layers get max |x| / 127 of their fp32 outputs, and multipliers that link them.
TEST(QuantizeInt8, ScalesFollowTheGraph) {
  const Graph graph = load_network_json(kZoo + "tiny_mixed.json");
  const Tensor input = make_sample_input(graph);
  const QuantizedGraph q = quantize_graph(graph, kW8A8, input);
  const auto fp32 = run_reference(quantize_graph(graph, kFp32, input), input, 0);
  auto scale = [&](const std::string& name) { return q.layers[index_of(graph, name)].output_quant.scale; };
  for (const std::string name : {"stem", "grouped", "depthwise", "pointwise", "residual", "tall", "classifier"}) {
    double max_abs = 0.0;
    for (const float v : fp32.outputs[index_of(graph, name)].f) max_abs = std::max(max_abs, std::fabs(double{v}));
    EXPECT_EQ(scale(name), max_abs / 127) << name;
  }
  EXPECT_EQ(scale("clip"), scale("residual"));
  EXPECT_EQ(scale("maxpool"), scale("clip"));
  EXPECT_EQ(scale("smooth"), scale("maxpool"));
  EXPECT_EQ(scale("tall_relu"), scale("tall"));
  EXPECT_EQ(scale("gap"), scale("tall_relu"));
  const QuantizedLayer& residual = q.layers[index_of(graph, "residual")];
  EXPECT_TRUE(same_multiplier(residual.add_requant[0], quantize_multiplier(scale("depthwise") / scale("residual"))));
  EXPECT_TRUE(same_multiplier(residual.add_requant[1], quantize_multiplier(scale("pointwise") / scale("residual"))));
  const QuantizedLayer& tall = q.layers[index_of(graph, "tall")];
  EXPECT_TRUE(same_multiplier(tall.requant,
                              quantize_multiplier(scale("smooth") * tall.weights.quant.scale / scale("tall"))));
  // A layer without bias still gets N zero biases, so consumers can index them.
  EXPECT_EQ(q.layers[index_of(graph, "pointwise")].bias_int, std::vector<std::int32_t>(8, 0));
}

TEST(QuantizeFloat, WeightsAndInputsRoundToTheFormat) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const Tensor input = make_sample_input(graph);
  for (const NumberFormat format : {NumberFormat::fp16, NumberFormat::bf16}) {
    const MacFormat mac{format, format, AccumulatorFormat::fp32, 1};
    const QuantizedGraph q = quantize_graph(graph, mac, input);
    const std::size_t conv2 = index_of(graph, "conv2");
    const auto& w = q.layers[conv2].weights;
    EXPECT_EQ(w.format, format);
    EXPECT_EQ(w.dims, (Dims{16, 6, 5, 5}));
    ASSERT_EQ(w.f.size(), graph.layers[conv2].weights.size());
    std::size_t changed = 0;
    for (std::size_t i = 0; i < w.f.size(); ++i) {
      EXPECT_EQ(w.f[i], round_to_format(graph.layers[conv2].weights[i], format));
      changed += w.f[i] != graph.layers[conv2].weights[i];
    }
    EXPECT_GT(changed, w.f.size() / 2);  // the rounding did something
    EXPECT_EQ(q.layers[conv2].bias_float, graph.layers[conv2].bias);
    const Tensor t = quantize_input(q, input);
    EXPECT_EQ(t.format, format);
    for (std::size_t i = 0; i < t.f.size(); ++i) EXPECT_EQ(t.f[i], round_to_format(input.f[i], format));
  }
}

TEST(SampleInput, SeededUniformAndDeterministic) {
  Graph graph = load_network_json(kZoo + "lenet5.json");
  const Tensor a = make_sample_input(graph);
  const Tensor b = make_sample_input(graph);
  EXPECT_EQ(a.dims, (Dims{1, 32, 32}));
  EXPECT_EQ(a.format, NumberFormat::fp32);
  ASSERT_EQ(a.f.size(), 1024u);
  EXPECT_EQ(std::memcmp(a.f.data(), b.f.data(), a.f.size() * sizeof(float)), 0);
  float lo = 1.0f, hi = -1.0f;
  for (const float v : a.f) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -1.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_LT(lo, -0.99f);
  EXPECT_GT(hi, 0.99f);
  graph.seed += 1;
  EXPECT_NE(make_sample_input(graph).f, a.f);
}

TEST(QuantizeInt8, SameSeedSameBytes) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const Tensor input = make_sample_input(graph);
  const QuantizedGraph a = quantize_graph(graph, kW8A8, input);
  const QuantizedGraph b = quantize_graph(load_network_json(kZoo + "lenet5.json"), kW8A8, input);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  EXPECT_EQ(a.input_quant.scale, b.input_quant.scale);
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].weights.q, b.layers[i].weights.q);
    EXPECT_EQ(a.layers[i].bias_int, b.layers[i].bias_int);
    EXPECT_EQ(a.layers[i].output_quant.scale, b.layers[i].output_quant.scale);
    EXPECT_TRUE(same_multiplier(a.layers[i].requant, b.layers[i].requant));
  }
  // The master weights survive calibration, which borrows them.
  for (std::size_t i = 0; i < graph.layers.size(); ++i) EXPECT_EQ(a.graph.layers[i].weights, graph.layers[i].weights);
}

// Largest |dequantized - fp32| of the network output, relative to max |fp32|.
double relative_error(const Graph& graph, const MacFormat& mac) {
  const Tensor input = make_sample_input(graph);
  const auto reference = run_reference(quantize_graph(graph, kFp32, input), input, 0).outputs.back();
  const QuantizedGraph q = quantize_graph(graph, mac, input);
  const auto out = run_reference(q, quantize_input(q, input), 0).outputs.back();
  double max_ref = 0.0, max_err = 0.0;
  for (std::size_t i = 0; i < reference.f.size(); ++i) {
    const double real = (out.q[i] - out.quant.zero_point) * out.quant.scale;
    max_ref = std::max(max_ref, std::fabs(double{reference.f[i]}));
    max_err = std::max(max_err, std::fabs(real - reference.f[i]));
  }
  return max_err / max_ref;
}

TEST(QuantizeAccuracy, Int8TracksFp32AndInt4IsWorse) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const double int8 = relative_error(graph, kW8A8);
  const double int4 = relative_error(graph, {NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1});
  EXPECT_LT(int8, 0.05);
  EXPECT_GT(int4, 2 * int8);
}

}  // namespace
}  // namespace npusim
