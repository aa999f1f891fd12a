// quantize_graph on small graphs worked by hand, and on the zoo's graphs
// against the rules of models/quant/quantize.h.
#include "models/quant/quantize.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/formats/float_formats.h"
#include "accel/formats/requantize.h"
#include "models/network_json.h"
#include "models/quant/quant_metrics.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"

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

const Graph kHandFc = fc_graph({0.6f, -1.0f, 0.25f, 0.0f, 0.1f, 0.22f, -0.3f, 0.4f}, {0.05f, -0.02f});
const Tensor kHandInput = fp32_input({4, 1, 1}, {0.6f, -1.0f, 0.25f, 0.0f});

TEST(QuantizeInt8, HandComputedFcLayerPerChannel) {
  const QuantizedGraph q = quantize_graph(kHandFc, kW8A8, kHandInput);
  // Input range [-1, 0.6]: s_a = 1.6 / 255, zp_a = -128 - round(-1 / s_a) = -128 + 159 = 31.
  const double s_a = (double{0.6f} + 1.0) / 255;
  EXPECT_DOUBLE_EQ(q.input_quant.scale, s_a);
  EXPECT_EQ(q.input_quant.zero_point, 31);
  const QuantizedLayer& fc = q.layers[0];
  EXPECT_EQ(fc.weights.format, NumberFormat::int8);
  EXPECT_EQ(fc.weights.dims, (Dims{2, 4}));
  // Channel 0: max |w| = 1 -> 1/127; channel 1: max |w| = 0.4 -> 0.4/127.
  ASSERT_EQ(fc.weights.quant.channel_scales.size(), 2u);
  EXPECT_EQ(fc.weights.quant.channel_scales[0], 1.0 / 127);
  EXPECT_EQ(fc.weights.quant.channel_scales[1], double{0.4f} / 127);
  EXPECT_EQ(fc.weights.quant.zero_point, 0);
  // 76.2, -127, 31.75, 0 | 31.75, 69.85, -95.25, 127
  EXPECT_EQ(fc.weights.q, (std::vector<std::int8_t>{76, -127, 32, 0, 32, 70, -95, 127}));
  // round(0.05 / (s_a / 127)) = round(1012.03) = 1012, cross term -31 * (76 - 127 + 32) = +589;
  // round(-0.02 / (s_a * 0.4 / 127)) = -1012, cross term -31 * (32 + 70 - 95 + 127) = -4154.
  EXPECT_EQ(fc.bias_int, (std::vector<std::int32_t>{1601, -5166}));
  // fp32 outputs 1.4725 and -0.255: s_o = 1.7275 / 255, zp_o = -128 + round(37.6) = -90.
  EXPECT_NEAR(fc.output_quant.scale, 1.7275 / 255, 1e-8);
  EXPECT_EQ(fc.output_quant.zero_point, -90);
  ASSERT_EQ(fc.channel_requant.size(), 2u);
  EXPECT_TRUE(same_multiplier(fc.channel_requant[0], quantize_multiplier(s_a / 127 / fc.output_quant.scale)));
  EXPECT_TRUE(
      same_multiplier(fc.channel_requant[1], quantize_multiplier(s_a * (double{0.4f} / 127) / fc.output_quant.scale)));
  const Tensor input = quantize_input(q, kHandInput);
  // 95.6 + 31, -159.4 + 31, 39.8 + 31, 0 + 31
  EXPECT_EQ(input.q, (std::vector<std::int8_t>{127, -128, 71, 31}));
  EXPECT_EQ(input.quant.zero_point, 31);
  // acc0 = 127*76 + 128*127 + 71*32 = 28180, + 1601 = 29781 -> 1.4714 / s_o = 217.2 -> 217 - 90 = 127
  // acc1 = 127*32 - 128*70 - 71*95 + 31*127 = -7704, - 5166 = -12870 -> -0.2543 / s_o = -37.5
  //   -> -38 - 90 = -128
  const auto r = run_reference(q, input, 0);
  EXPECT_EQ(r.outputs[0].q, (std::vector<std::int8_t>{127, -128}));
  EXPECT_EQ(r.outputs[0].quant.zero_point, -90);
}

TEST(QuantizeInt8, PerTensorWeightsShareOneScale) {
  QuantizationOptions options;
  options.per_channel = false;
  const QuantizedGraph q = quantize_graph(kHandFc, kW8A8, kHandInput, options);
  const QuantizedLayer& fc = q.layers[0];
  EXPECT_TRUE(fc.weights.quant.channel_scales.empty());
  EXPECT_EQ(fc.weights.quant.scale, 1.0 / 127);
  // 12.7, 27.94, -38.1, 50.8 in the second channel now
  EXPECT_EQ(fc.weights.q, (std::vector<std::int8_t>{76, -127, 32, 0, 13, 28, -38, 51}));
  EXPECT_TRUE(fc.channel_requant.empty());
  EXPECT_TRUE(same_multiplier(fc.requant, quantize_multiplier(q.input_quant.scale / 127 / fc.output_quant.scale)));
  // round(-0.02 * 127 / s_a) = round(-404.8) = -405, cross term -31 * (13 + 28 - 38 + 51) = -1674
  EXPECT_EQ(fc.bias_int[1], -405 - 1674);
}

TEST(QuantizeInt8, InputRoundsHalfAwayFromZeroAroundTheZeroPointAndSaturates) {
  // Range [-1, 191/64]: scale exactly 1/64, zero point -128 + 64 = -64.
  const Graph graph = fc_graph(std::vector<float>(8, 0.5f), {0.0f});
  std::vector<float> calibration(8, 0.0f);
  calibration[0] = -1.0f;
  calibration[1] = 191.0f / 64;
  const QuantizedGraph q = quantize_graph(graph, kW8A8, fp32_input({8, 1, 1}, calibration));
  ASSERT_EQ(q.input_quant.scale, 1.0 / 64);
  ASSERT_EQ(q.input_quant.zero_point, -64);
  const Tensor t = quantize_input(
      q, fp32_input({8, 1, 1}, {2.5f / 64, -2.5f / 64, 0.5f / 64, -0.5f / 64, 3.0f / 64, 10.0f, -10.0f, 0.0f}));
  EXPECT_EQ(t.q, (std::vector<std::int8_t>{-61, -67, -63, -65, -61, 127, -128, -64}));
}

TEST(QuantizeInt4, WeightsUseSevenActivationsUseMinusEightToSeven) {
  const Graph graph = fc_graph({0.7f, -0.3f, 0.1f, -0.7f}, {0.0f});
  const MacFormat w4a4{NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1};
  const QuantizedGraph q = quantize_graph(graph, w4a4, fp32_input({4, 1, 1}, {1.0f, 0.5f, -0.25f, 0.0f}));
  EXPECT_EQ(q.layers[0].weights.quant.channel_scales, (std::vector<double>{double{0.7f} / 7}));
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{7, -3, 1, -7}));
  // [-0.25, 1] over 15 steps; zero point -8 + 3 = -5.
  EXPECT_DOUBLE_EQ(q.input_quant.scale, 1.25 / 15);
  EXPECT_EQ(q.input_quant.zero_point, -5);
  const Tensor t = quantize_input(q, fp32_input({4, 1, 1}, {-2.0f, 2.0f, 0.3f, -0.3f}));
  EXPECT_EQ(t.q, (std::vector<std::int8_t>{-8, 7, -1, -8}));  // -29, 19, 3.6 - 5, -3.6 - 5
  EXPECT_EQ(t.format, NumberFormat::int4);
  EXPECT_EQ(q.mac_of(0).label(), "W4A4");  // int4 keeps its ends by default
}

TEST(QuantizeBinary, SignWeightsWithMeanMagnitudePerChannel) {
  const Graph graph = fc_graph({0.5f, -1.0f, -0.0f, -0.25f, 0.125f, 0.125f, -0.5f, 0.25f}, {0.1f, 0.0f});
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  QuantizationOptions options;
  options.eight_bit_ends = EightBitEnds::none;
  const Tensor calibration = fp32_input({4, 1, 1}, {0.5f, -1.0f, 0.25f, 0.0f});
  const QuantizedGraph q = quantize_graph(graph, w1a1, calibration, options);
  EXPECT_EQ(q.mac_of(0).label(), "W1A1");
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{1, -1, 1, -1, 1, 1, -1, 1}));  // -0 -> +1
  EXPECT_EQ(q.layers[0].weights.quant.channel_scales, (std::vector<double>{1.75 / 4, 1.0 / 4}));
  // A signed input: levels +-mean |x| = +-1.75/4, zero point 0 (the sign).
  EXPECT_EQ(q.input_quant.scale, 1.75 / 4);
  EXPECT_EQ(q.input_quant.zero_point, 0);
  EXPECT_EQ(quantize_input(q, calibration).q, (std::vector<std::int8_t>{1, -1, 1, 1}));
  // bias 0.1 / (0.4375 * 0.4375) = 0.52 -> 1 (no cross term with zero point 0)
  EXPECT_EQ(q.layers[0].bias_int[0], 1);
}

TEST(QuantizeBinary, NonNegativeTensorsUseLevelsZeroAndTwoS) {
  // Calibration input: half 0, half 1 -> levels {0, 1}: scale 0.5, zero point -1.
  const Graph graph = fc_graph({1.0f, 1.0f, 1.0f, 1.0f}, {0.0f});
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  QuantizationOptions options;
  options.eight_bit_ends = EightBitEnds::none;
  const QuantizedGraph q = quantize_graph(graph, w1a1, fp32_input({4, 1, 1}, {0.0f, 1.0f, 0.0f, 1.0f}), options);
  EXPECT_NEAR(q.input_quant.scale, 0.5, 1e-3);  // the histogram's bin centers
  EXPECT_EQ(q.input_quant.zero_point, -1);
  // +1 from the midpoint 0.5 up: real 0 -> -1, 1 -> +1
  EXPECT_EQ(quantize_input(q, fp32_input({4, 1, 1}, {0.0f, 1.0f, 0.4f, 0.6f})).q,
            (std::vector<std::int8_t>{-1, 1, -1, 1}));
  // The one output, 2 in fp32, gets levels {0, 2}: scale 1, zero point -1 (a
  // histogram of width 0 has its one bin center at 2). Its threshold in
  // accumulator units, s_o / (s_a s_w) = 1 / 0.49988 = 2.0005, rounds up to 3
  // and is folded into the bias with the cross term +sum q_w = +4.
  const QuantizedLayer& fc = q.layers[0];
  EXPECT_EQ(fc.output_quant.scale, 1.0);
  EXPECT_EQ(fc.output_quant.zero_point, -1);
  EXPECT_EQ(std::ceil(1.0 / q.input_quant.scale), 3.0);
  EXPECT_EQ(fc.bias_int, (std::vector<std::int32_t>{1}));
  // Inputs with 2, 1 and 3 ones: reals 2 s_a < 1 <= 4 s_a: -1 for the one, +1 else.
  auto run = [&](std::vector<float> x) {
    return run_reference(q, quantize_input(q, fp32_input({4, 1, 1}, std::move(x))), 0).outputs[0].q[0];
  };
  EXPECT_EQ(run({0.0f, 1.0f, 0.0f, 1.0f}), 1);
  EXPECT_EQ(run({0.0f, 0.0f, 0.0f, 1.0f}), -1);
  EXPECT_EQ(run({0.0f, 1.0f, 1.0f, 1.0f}), 1);
}

TEST(QuantizeBinary, EightBitLayersKeepThePesBitProductsPerCycle) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const auto end_lanes = [&](NumberFormat w, NumberFormat a, int lanes, EightBitEnds ends) {
    QuantizationOptions options;
    options.eight_bit_ends = ends;
    const QuantizedGraph q =
        quantize_graph(graph, MacFormat{w, a, AccumulatorFormat::int32, lanes}, make_sample_input(graph), options);
    EXPECT_EQ(q.mac_of(index_of(graph, "conv1")).label(), "W8A8");
    return q.mac_of(index_of(graph, "conv1")).lanes;
  };
  // lanes * w_bits * a_bits / 64, at least 1.
  EXPECT_EQ(end_lanes(NumberFormat::binary, NumberFormat::binary, 64, EightBitEnds::binary_only), 1);
  EXPECT_EQ(end_lanes(NumberFormat::binary, NumberFormat::binary, 256, EightBitEnds::binary_only), 4);
  EXPECT_EQ(end_lanes(NumberFormat::int4, NumberFormat::int4, 2, EightBitEnds::narrow), 1);
  EXPECT_EQ(end_lanes(NumberFormat::int4, NumberFormat::int8, 4, EightBitEnds::narrow), 2);
}

TEST(QuantizeBinary, FirstAndLastLayersStayAtEightBits) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 2};
  const QuantizedGraph q = quantize_graph(graph, w1a1, make_sample_input(graph));
  EXPECT_EQ(q.mac_of(index_of(graph, "conv1")).label(), "W8A8");
  // The W8A8 layers run on the same PEs at the same bit-products per cycle:
  // 2 lanes of 1x1-bit products are less than one 8x8-bit MAC, so one lane.
  EXPECT_EQ(q.mac_of(index_of(graph, "conv1")).lanes, 1);
  EXPECT_EQ(q.mac_of(index_of(graph, "conv2")).label(), "W1A1");
  EXPECT_EQ(q.mac_of(index_of(graph, "fc2")).label(), "W1A1");
  EXPECT_EQ(q.mac_of(index_of(graph, "fc3")).label(), "W8A8");
  EXPECT_EQ(q.graph_input_format(), NumberFormat::int8);
  EXPECT_EQ(q.output_format_of(index_of(graph, "conv1")), NumberFormat::binary);  // read by conv2 via pool1
  EXPECT_EQ(q.output_format_of(index_of(graph, "fc2")), NumberFormat::int8);      // read by fc3
  EXPECT_EQ(q.layers[index_of(graph, "conv1")].weights.format, NumberFormat::int8);
  EXPECT_EQ(q.layers[index_of(graph, "conv2")].weights.format, NumberFormat::binary);
  const Tensor input = quantize_input(q, make_sample_input(graph));
  EXPECT_EQ(input.format, NumberFormat::int8);
  const auto r = run_reference(q, input, 0);
  EXPECT_EQ(r.outputs[index_of(graph, "pool1")].format, NumberFormat::binary);
  EXPECT_EQ(r.outputs.back().format, NumberFormat::int8);
}

TEST(QuantizeInt8, ZeroTensorGetsScaleOne) {
  const Graph graph = fc_graph({0.0f, 0.0f}, {0.0f});
  const QuantizedGraph q = quantize_graph(graph, kW8A8, fp32_input({2, 1, 1}, {0.0f, 0.0f}));
  EXPECT_EQ(q.input_quant.scale, 1.0);
  EXPECT_EQ(q.input_quant.zero_point, 0);
  EXPECT_EQ(q.layers[0].weights.quant.channel_scales, (std::vector<double>{1.0}));
  EXPECT_EQ(q.layers[0].output_quant.scale, 1.0);
}

// Pooling and relu layers reuse their input's quantization; compute and add
// layers get [min, max] of their fp32 outputs over 255 steps, and multipliers
// that link them.
TEST(QuantizeInt8, ParametersFollowTheGraph) {
  const Graph graph = load_network_json(kZoo + "tiny_mixed.json");
  const Tensor input = make_sample_input(graph);
  const QuantizedGraph q = quantize_graph(graph, kW8A8, input);
  const std::vector<Tensor> fp32 = Fp32Executor(graph).run(input);
  auto quant = [&](const std::string& name) { return q.layers[index_of(graph, name)].output_quant; };
  for (const std::string name : {"stem", "grouped", "depthwise", "pointwise", "residual", "tall", "classifier"}) {
    double lo = 0.0, hi = 0.0;
    for (const float v : fp32[index_of(graph, name)].f) lo = std::min(lo, double{v}), hi = std::max(hi, double{v});
    const double scale = (hi - lo) / 255;
    EXPECT_EQ(quant(name).scale, scale) << name;
    EXPECT_EQ(quant(name).zero_point, -128 - std::lround(lo / scale)) << name;
  }
  EXPECT_EQ(quant("stem").zero_point, -128);  // relu: [0, max]
  EXPECT_NE(quant("depthwise").zero_point, -128);
  EXPECT_EQ(quant("clip").scale, quant("residual").scale);
  EXPECT_EQ(quant("clip").zero_point, quant("residual").zero_point);
  EXPECT_EQ(quant("maxpool").scale, quant("clip").scale);
  EXPECT_EQ(quant("smooth").zero_point, quant("maxpool").zero_point);
  EXPECT_EQ(quant("tall_relu").scale, quant("tall").scale);
  EXPECT_EQ(quant("gap").zero_point, quant("tall_relu").zero_point);
  const QuantizedLayer& residual = q.layers[index_of(graph, "residual")];
  EXPECT_TRUE(same_multiplier(residual.add_requant[0],
                              quantize_multiplier(quant("depthwise").scale / quant("residual").scale)));
  EXPECT_TRUE(same_multiplier(residual.add_requant[1],
                              quantize_multiplier(quant("pointwise").scale / quant("residual").scale)));
  const QuantizedLayer& tall = q.layers[index_of(graph, "tall")];
  ASSERT_EQ(tall.channel_requant.size(), 16u);
  for (std::size_t n = 0; n < 16; ++n) {
    EXPECT_TRUE(same_multiplier(
        tall.channel_requant[n],
        quantize_multiplier(quant("smooth").scale * tall.weights.quant.channel_scales[n] / quant("tall").scale)));
  }
  // A layer without bias still gets N biases: the zero-point cross terms.
  const QuantizedLayer& pointwise = q.layers[index_of(graph, "pointwise")];
  ASSERT_EQ(pointwise.bias_int.size(), 8u);
  for (std::size_t n = 0; n < 8; ++n) {
    std::int32_t sum = 0;
    for (std::size_t k = 0; k < 8; ++k) sum += pointwise.weights.q[n * 8 + k];
    EXPECT_EQ(pointwise.bias_int[n], -quant("depthwise").zero_point * sum) << n;
  }
}

TEST(QuantizeInt8, CalibrationCoversEveryInput) {
  const Graph graph = fc_graph({1.0f, 1.0f}, {0.0f});
  const std::vector<Tensor> inputs{fp32_input({2, 1, 1}, {0.5f, -0.25f}), fp32_input({2, 1, 1}, {2.0f, 0.0f})};
  const QuantizedGraph q = quantize_graph(graph, kW8A8, inputs);
  EXPECT_DOUBLE_EQ(q.input_quant.scale, 2.25 / 255);     // [-0.25, 2] over both inputs
  EXPECT_EQ(q.layers[0].output_quant.scale, 2.0 / 255);  // outputs 0.25 and 2: [0, 2]
  EXPECT_EQ(q.layers[0].output_quant.zero_point, -128);
}

TEST(QuantizeOptions, BadOptionsAndInputsAreRejected) {
  QuantizationOptions bad;
  bad.percentile = 40.0;
  EXPECT_THROW(quantize_graph(kHandFc, kW8A8, kHandInput, bad), std::invalid_argument);
  QuantizationOptions unknown;
  unknown.eight_bit_layers = {"nope"};
  try {
    quantize_graph(kHandFc, kW8A8, kHandInput, unknown);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  EXPECT_THROW(quantize_graph(kHandFc, kW8A8, std::span<const Tensor>{}), std::invalid_argument);
  EXPECT_THROW(quantize_graph(kHandFc, kW8A8, fp32_input({3, 1, 1}, {0, 0, 0})), std::invalid_argument);
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
  const std::vector<Tensor> set = make_calibration_inputs(graph, 3);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set[0].f, a.f);
  EXPECT_NE(set[1].f, a.f);
  EXPECT_NE(set[2].f, set[1].f);
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
    EXPECT_EQ(a.layers[i].weights.quant.channel_scales, b.layers[i].weights.quant.channel_scales);
    EXPECT_EQ(a.layers[i].bias_int, b.layers[i].bias_int);
    EXPECT_EQ(a.layers[i].output_quant.scale, b.layers[i].output_quant.scale);
    EXPECT_EQ(a.layers[i].output_quant.zero_point, b.layers[i].output_quant.zero_point);
    ASSERT_EQ(a.layers[i].channel_requant.size(), b.layers[i].channel_requant.size());
    for (std::size_t n = 0; n < a.layers[i].channel_requant.size(); ++n) {
      EXPECT_TRUE(same_multiplier(a.layers[i].channel_requant[n], b.layers[i].channel_requant[n]));
    }
  }
  // The master weights survive calibration.
  for (std::size_t i = 0; i < graph.layers.size(); ++i) EXPECT_EQ(a.graph.layers[i].weights, graph.layers[i].weights);
}

// Network-output SQNR of LeNet-5 on its sample input, calibrated on it.
double lenet_sqnr_db(const MacFormat& mac) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const Tensor input = make_sample_input(graph);
  const std::vector<Tensor> fp32 = Fp32Executor(graph).run(input);
  const QuantizedGraph q = quantize_graph(graph, mac, input);
  const auto out = run_reference(q, quantize_input(q, input), 0).outputs;
  return quant_metrics(q, out, fp32).network_sqnr_db;
}

TEST(QuantizeAccuracy, LeNetSqnrFallsWithTheBitWidth) {
  const double int8 = lenet_sqnr_db(kW8A8);
  const double w4a8 = lenet_sqnr_db({NumberFormat::int4, NumberFormat::int8, AccumulatorFormat::int32, 1});
  const double w4a4 = lenet_sqnr_db({NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1});
  const double binary = lenet_sqnr_db({NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1});
  const double fp16 = lenet_sqnr_db({NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1});
  EXPECT_GT(int8, 30.0);
  EXPECT_LT(w4a8, int8 - 10.0);  // 4 fewer weight bits: ~24 dB less in theory
  EXPECT_LT(w4a4, w4a8);
  EXPECT_LT(binary, w4a4);
  EXPECT_GT(binary, 0.0);  // binary keeps some signal (levels fitted, ends at 8 bits)
  EXPECT_GT(fp16, int8 + 10.0);
}

}  // namespace
}  // namespace npusim
