// SQNR, dequantization, per-layer ranges and top-1 tallies.
#include "models/quant/quant_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "models/network_json.h"
#include "models/quant/calibration.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "models/seeded_random.h"

namespace npusim {
namespace {

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";

// `values` quantized with `quant` in `format` (nearest level, saturated).
Tensor quantized(const std::vector<double>& values, const QuantParams& quant, NumberFormat format) {
  Tensor t;
  t.dims = {static_cast<std::int64_t>(values.size()), 1, 1};
  t.format = format;
  t.quant = quant;
  for (const double x : values) {
    const double q =
        std::clamp(std::round(x / quant.scale) + quant.zero_point, static_cast<double>(min_integer_value(format)),
                   static_cast<double>(max_integer_value(format)));
    t.q.push_back(static_cast<std::int8_t>(q));
  }
  return t;
}

TEST(Sqnr, IdentityIsInfiniteAndNoiseOverSilenceIsMinusInfinite) {
  const std::vector<double> x{0.5, -1.0, 2.0};
  EXPECT_EQ(sqnr_db(x, x), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sqnr_db(std::vector<double>{0.0, 0.0}, std::vector<double>{0.0, 1e-3}),
            -std::numeric_limits<double>::infinity());
  // signal 1 + 4 = 5, noise 0.25: 10 log10(20)
  EXPECT_DOUBLE_EQ(sqnr_db(std::vector<double>{1.0, 2.0}, std::vector<double>{1.5, 2.0}), 10 * std::log10(20.0));
  EXPECT_THROW(sqnr_db(x, std::vector<double>{1.0}), std::invalid_argument);
}

// A full-scale signal through an N-bit uniform quantizer: noise step^2 / 12
// against the signal's power. Full scale is 2^N steps peak to peak (the
// extreme levels' rounding cells included), which gives the textbook
// 6.02 N + 1.76 dB for a sine and 6.02 N dB for a uniform signal.
TEST(Sqnr, UniformQuantizerGivesSixDbPerBit) {
  for (const NumberFormat format : {NumberFormat::int8, NumberFormat::int4}) {
    const int bits = storage_bits(format);
    const QuantParams q = range_quant({-1.0, 1.0}, format);
    // Centered on the quantizer's levels [(qmin - zp) s, (qmax - zp) s].
    const double center = ((min_integer_value(format) + max_integer_value(format)) / 2.0 - q.zero_point) * q.scale;
    const double amplitude = std::exp2(bits - 1) * q.scale * (1 - 1e-9);
    SeededRandom random(3);
    std::vector<double> flat, sine;
    for (int i = 0; i < 400000; ++i) {
      flat.push_back(center + amplitude * (random.next_unit() * 2.0 - 1.0));
      sine.push_back(center + amplitude * std::sin(2 * std::numbers::pi * random.next_unit()));
    }
    const double flat_db = sqnr_db(flat, dequantize(quantized(flat, q, format)));
    const double sine_db = sqnr_db(sine, dequantize(quantized(sine, q, format)));
    // The center's DC power (s/2 off zero) adds under 0.01 dB. The sine's
    // formula assumes errors uniform within every cell, which its peaks (where
    // it dwells at one end of the outer cells) break: 0.14 dB at 8 bits,
    // 0.5 dB at 4.
    EXPECT_NEAR(flat_db, 6.02 * bits, 0.1) << bits;
    EXPECT_NEAR(sine_db, 6.02 * bits + 1.76, bits == 8 ? 0.2 : 0.6) << bits;
    EXPECT_LT(sine_db, 6.02 * bits + 1.76);
  }
}

TEST(Dequantize, PerTensorPerChannelAndFloat) {
  Tensor t;
  t.dims = {2, 2};
  t.format = NumberFormat::int8;
  t.q = {-3, 5, 10, -128};
  t.quant = {0.5, -3};
  EXPECT_EQ(dequantize(t), (std::vector<double>{0.0, 4.0, 6.5, -62.5}));
  t.quant = {1.0, 0, {0.25, 2.0}};  // weights: a scale per row (output channel)
  EXPECT_EQ(dequantize(t), (std::vector<double>{-0.75, 1.25, 20.0, -256.0}));
  Tensor f;
  f.dims = {2};
  f.f = {1.5f, -0.25f};
  EXPECT_EQ(dequantize(f), (std::vector<double>{1.5, -0.25}));
}

TEST(QuantMetrics, RangesHistogramsAndSqnrPerLayer) {
  const Graph graph = load_network_json(kZoo + "lenet5.json");
  const Tensor input = make_sample_input(graph);
  const std::vector<Tensor> fp32 = Fp32Executor(graph).run(input);
  const QuantizedGraph q = quantize_graph(graph, MacFormat{}, input);
  const auto outputs = run_reference(q, quantize_input(q, input), 0).outputs;
  const QuantMetrics m = quant_metrics(q, outputs, fp32);
  ASSERT_EQ(m.layers.size(), graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const LayerQuantMetrics& l = m.layers[i];
    EXPECT_EQ(l.name, graph.layers[i].name);
    const auto& w = graph.layers[i].weights;
    EXPECT_EQ(l.has_weights, !w.empty());
    if (l.has_weights) {
      EXPECT_EQ(l.weight_min, *std::min_element(w.begin(), w.end()));
      EXPECT_EQ(l.weight_max, *std::max_element(w.begin(), w.end()));
      EXPECT_EQ(l.weight_histogram.counts.size(), static_cast<std::size_t>(kMetricHistogramBins));
      EXPECT_EQ(l.weight_histogram.total(), static_cast<std::int64_t>(w.size()));
    }
    const auto& a = fp32[i].f;
    EXPECT_EQ(l.act_min, *std::min_element(a.begin(), a.end()));
    EXPECT_EQ(l.act_max, *std::max_element(a.begin(), a.end()));
    EXPECT_EQ(l.act_histogram.total(), static_cast<std::int64_t>(a.size()));
    EXPECT_EQ(l.sqnr_db, sqnr_db(dequantize(fp32[i]), dequantize(outputs[i])));
    EXPECT_GT(l.sqnr_db, 30.0) << l.name;
  }
  EXPECT_EQ(m.network_sqnr_db, m.layers.back().sqnr_db);
  // fp32 "quantization" is the golden run itself.
  const MacFormat fp32_mac{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  const QuantizedGraph same = quantize_graph(graph, fp32_mac, input);
  const auto same_outputs = run_reference(same, quantize_input(same, input), 0).outputs;
  EXPECT_EQ(quant_metrics(same, same_outputs, fp32).network_sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_THROW(quant_metrics(q, std::span<const Tensor>(outputs).first(2), fp32), std::invalid_argument);
}

TEST(Top1, AgreementAndAccuracy) {
  auto logits = [](std::vector<std::int8_t> q) {
    Tensor t;
    t.dims = {static_cast<std::int64_t>(q.size()), 1, 1};
    t.format = NumberFormat::int8;
    t.q = std::move(q);
    t.quant = {0.1, 5};
    return t;
  };
  auto floats = [](std::vector<float> f) {
    Tensor t;
    t.dims = {static_cast<std::int64_t>(f.size()), 1, 1};
    t.f = std::move(f);
    return t;
  };
  EXPECT_EQ(top1_index(logits({1, 9, 9, -4})), 1u);  // the first of equal maxima
  Top1Tally tally;
  tally.add(logits({1, 9, 3}), floats({0.1f, 0.5f, 0.2f}), 1);  // agree, both right
  tally.add(logits({1, 2, 3}), floats({0.1f, 0.5f, 0.2f}), 1);  // disagree, fp32 right
  tally.add(logits({7, 2, 3}), floats({0.9f, 0.5f, 0.2f}));     // agree, no label
  tally.add(logits({1, 2, 3}), floats({0.9f, 0.5f, 0.2f}), 2);  // disagree, quantized right
  EXPECT_EQ(tally.samples(), 4);
  EXPECT_EQ(tally.labeled(), 3);
  EXPECT_DOUBLE_EQ(tally.agreement(), 0.5);
  EXPECT_DOUBLE_EQ(tally.accuracy(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(tally.fp32_accuracy(), 2.0 / 3);
  EXPECT_EQ(Top1Tally().agreement(), 0.0);
}

}  // namespace
}  // namespace npusim
