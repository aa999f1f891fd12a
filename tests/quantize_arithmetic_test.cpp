// The quantized layer arithmetic checked against references written
// differently: the integer-only pipeline (plain GEMM + precomputed cross term +
// fixed-point requantization) against "dequantize, compute in double,
// quantize", on random convolutions; the cross term against the naive sum
// over (q_a - zp_a) * q_w, through the simulator's im2col too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "accel/array/gemm_engine.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "models/seeded_random.h"
#include "sim/config/accelerator_config.h"
#include "sim/mapper/lowering.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {
namespace {

struct ConvCase {
  std::int64_t channels, height, width, filters;
  int kernel, stride, pad, groups;
  Activation activation;
};

// One conv2d layer on input {C, H, W}, weights and bias uniform in [-0.5, 0.5].
Graph conv_graph(const ConvCase& c, std::uint64_t seed) {
  Graph graph;
  graph.name = "conv";
  graph.input_dims = {c.channels, c.height, c.width};
  Layer layer;
  layer.name = "conv";
  layer.type = LayerType::conv2d;
  layer.inputs = {"input"};
  layer.conv.out_channels = c.filters;
  layer.conv.kernel_h = layer.conv.kernel_w = c.kernel;
  layer.conv.stride_h = layer.conv.stride_w = c.stride;
  layer.conv.pad_top = layer.conv.pad_left = layer.conv.pad_bottom = layer.conv.pad_right = c.pad;
  layer.conv.groups = c.groups;
  const std::int64_t out_h = (c.height + 2 * c.pad - c.kernel) / c.stride + 1;
  const std::int64_t out_w = (c.width + 2 * c.pad - c.kernel) / c.stride + 1;
  layer.output_dims = {c.filters, out_h, out_w};
  layer.activation = c.activation;
  layer.has_bias = true;
  SeededRandom random(seed);
  layer.weights.resize(static_cast<std::size_t>(c.filters * (c.channels / c.groups) * c.kernel * c.kernel));
  for (auto& w : layer.weights) w = random.uniform(-0.5, 0.5);
  // Channel 0 gets small weights so per-channel scales differ a lot.
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(layer.weights.size()) / c.filters; ++k) {
    layer.weights[static_cast<std::size_t>(k)] *= 0.05f;
  }
  for (std::int64_t n = 0; n < c.filters; ++n) layer.bias.push_back(random.uniform(-0.5, 0.5));
  graph.layers.push_back(layer);
  return graph;
}

Tensor random_input(const Graph& graph, double lo, double hi, std::uint64_t seed) {
  Tensor t;
  t.dims = graph.input_dims;
  t.f.resize(static_cast<std::size_t>(t.elements()));
  SeededRandom random(seed);
  for (auto& v : t.f) v = random.uniform(lo, hi);
  return t;
}

// sum over the in-bounds taps of (q_a - zp_a) * q_w for output (n, oy, ox):
// padding is a real zero and simply absent here.
std::int64_t naive_sum(const Layer& layer, const Tensor& in, const Tensor& w, std::int64_t n, std::int64_t oy,
                       std::int64_t ox) {
  const Conv2dParams& p = layer.conv;
  const std::int64_t cg = in.dims[0] / p.groups, per_group = p.out_channels / p.groups;
  std::int64_t sum = 0;
  for (std::int64_t c = 0; c < cg; ++c) {
    const std::int64_t channel = n / per_group * cg + c;
    for (int r = 0; r < p.kernel_h; ++r) {
      for (int s = 0; s < p.kernel_w; ++s) {
        const std::int64_t y = oy * p.stride_h - p.pad_top + r, x = ox * p.stride_w - p.pad_left + s;
        if (y < 0 || y >= in.dims[1] || x < 0 || x >= in.dims[2]) continue;
        const std::int64_t a = in.q[static_cast<std::size_t>((channel * in.dims[1] + y) * in.dims[2] + x)];
        const std::int64_t wk = w.q[static_cast<std::size_t>(((n * cg + c) * p.kernel_h + r) * p.kernel_w + s)];
        sum += (a - in.quant.zero_point) * wk;
      }
    }
  }
  return sum;
}

// The bias in accumulator units, as models/quant/quantize.h documents its rounding.
std::int64_t bias_units(const Layer& layer, const QuantParams& in, const Tensor& w, std::int64_t n) {
  return std::llround(layer.bias[static_cast<std::size_t>(n)] /
                      (in.scale * w.quant.scale_of(static_cast<std::size_t>(n))));
}

struct Outcome {
  std::int64_t outputs = 0;
  std::int64_t near_ties = 0;
  std::int64_t differing = 0;  // near ties where the pipeline took the other neighbour
};

// Checks every output of a quantize_graph'd conv against double arithmetic:
// y = (S + B) * s_a * s_w[n], activation in reals, q = zp_o + round(y / s_o)
// clamped. Only where y / s_o lies within the fixed-point multiplier's error
// of a rounding tie may the integer pipeline land on the other neighbour.
Outcome check_against_double(const QuantizedGraph& q, const Tensor& input, const Tensor& out) {
  const Layer& layer = q.graph.layers[0];
  const QuantizedLayer& ql = q.layers[0];
  const QuantParams& so = ql.output_quant;
  const NumberFormat format = q.output_format_of(0);
  const double qmin = min_integer_value(format), qmax = max_integer_value(format);
  Outcome outcome;
  const std::int64_t oh = layer.output_dims[1], ow = layer.output_dims[2];
  for (std::int64_t n = 0; n < layer.conv.out_channels; ++n) {
    const double acc_scale = input.quant.scale * ql.weights.quant.scale_of(static_cast<std::size_t>(n));
    const FixedPointMultiplier m =
        ql.channel_requant.empty() ? ql.requant : ql.channel_requant[static_cast<std::size_t>(n)];
    for (std::int64_t oy = 0; oy < oh; ++oy) {
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        const std::int64_t s =
            naive_sum(layer, input, ql.weights, n, oy, ox) + bias_units(layer, input.quant, ql.weights, n);
        double y = static_cast<double>(s) * acc_scale;
        if (layer.activation != Activation::none) y = std::max(y, 0.0);
        const double v = y / so.scale;
        double expected = std::clamp(so.zero_point + std::round(v), qmin, qmax);
        if (layer.activation == Activation::relu6) {
          expected = std::min(expected, so.zero_point + std::round(6.0 / so.scale));
        }
        const int got = out.q[static_cast<std::size_t>((n * oh + oy) * ow + ox)];
        ++outcome.outputs;
        const double tie_distance = std::fabs(std::fabs(v - std::trunc(v)) - 0.5);
        // The doubling high multiply rounds to 2^(shift - 1) output units before
        // the final shift; the multiplier itself is exact to 2^-30 relative.
        const double tolerance = std::ldexp(1.0, m.shift - 1) + std::fabs(v) * std::ldexp(1.0, -30);
        if (tie_distance < tolerance) {
          ++outcome.near_ties;
          outcome.differing += got != expected ? 1 : 0;
          EXPECT_LE(std::fabs(got - expected), 1.0) << "n " << n << " at " << oy << "," << ox;
        } else {
          EXPECT_EQ(got, expected) << "n " << n << " at " << oy << "," << ox << " v " << v;
        }
      }
    }
  }
  return outcome;
}

const ConvCase kCases[] = {
    {3, 9, 7, 5, 3, 1, 1, 1, Activation::none},  {4, 8, 8, 6, 3, 2, 1, 2, Activation::relu},
    {6, 6, 5, 6, 3, 1, 2, 6, Activation::relu6}, {5, 7, 7, 4, 1, 1, 0, 1, Activation::none},
    {8, 5, 6, 8, 5, 2, 2, 4, Activation::relu},
};

TEST(QuantizedConv, IntegerPipelineEqualsDoubleArithmeticUpToTheDocumentedRounding) {
  const MacFormat formats[] = {{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1},
                               {NumberFormat::int4, NumberFormat::int8, AccumulatorFormat::int32, 1},
                               {NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 1}};
  std::uint64_t seed = 11;
  Outcome total;
  for (const MacFormat& mac : formats) {
    for (const ConvCase& c : kCases) {
      for (const bool per_channel : {true, false}) {
        const Graph graph = conv_graph(c, seed++);
        // Asymmetric inputs: the zero point is far from 0.
        const Tensor calibration = random_input(graph, -0.3, 1.0, seed++);
        QuantizationOptions options;
        options.per_channel = per_channel;
        options.eight_bit_ends = EightBitEnds::none;
        const QuantizedGraph q = quantize_graph(graph, mac, calibration, options);
        ASSERT_NE(q.input_quant.zero_point, 0);
        const Tensor input = quantize_input(q, random_input(graph, -0.4, 1.1, seed++));  // some saturate
        const auto r = run_reference(q, input, 0);
        const Outcome o = check_against_double(q, input, r.outputs[0]);
        total.outputs += o.outputs;
        total.near_ties += o.near_ties;
        total.differing += o.differing;
      }
    }
  }
  // Everything outside the tie zones matched exactly (above); the zones are
  // narrow, and some of them do round the other way.
  EXPECT_GT(total.outputs, 3000);
  EXPECT_LT(total.near_ties, total.outputs / 10);
  EXPECT_GT(total.differing, 0);
}

// Binary outputs: +1 exactly when the real output reaches the midpoint of the
// two levels (0 with zero point 0, s_o with zero point -1).
TEST(QuantizedConv, BinaryOutputsFollowTheRealThreshold) {
  const MacFormat w1a1{NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1};
  std::uint64_t seed = 101;
  for (const ConvCase& c : kCases) {
    for (const double lo : {-0.3, 0.0}) {  // signed input ({-s, s}) and non-negative ({0, 2s})
      const Graph graph = conv_graph(c, seed++);
      QuantizationOptions options;
      options.eight_bit_ends = EightBitEnds::none;
      const QuantizedGraph q = quantize_graph(graph, w1a1, random_input(graph, lo, 1.0, seed++), options);
      EXPECT_EQ(q.input_quant.zero_point, lo < 0 ? 0 : -1);
      const QuantParams& so = q.layers[0].output_quant;
      EXPECT_EQ(so.zero_point, c.activation == Activation::none ? 0 : -1);
      const Tensor input = quantize_input(q, random_input(graph, lo, 1.0, seed++));
      const Tensor out = run_reference(q, input, 0).outputs[0];
      const Layer& layer = q.graph.layers[0];
      const Tensor& w = q.layers[0].weights;
      const std::int64_t oh = layer.output_dims[1], ow = layer.output_dims[2];
      int plus = 0, minus = 0;
      for (std::int64_t n = 0; n < c.filters; ++n) {
        const double acc_scale = input.quant.scale * w.quant.scale_of(static_cast<std::size_t>(n));
        for (std::int64_t p = 0; p < oh * ow; ++p) {
          const double y = static_cast<double>(naive_sum(layer, input, w, n, p / ow, p % ow) +
                                               bias_units(layer, input.quant, w, n)) *
                           acc_scale;
          const double threshold = -so.zero_point * so.scale;
          if (std::fabs(y - threshold) < 1e-9) continue;
          const int expected = y >= threshold || (so.zero_point == 0 && c.activation != Activation::none) ? 1 : -1;
          const int got = out.q[static_cast<std::size_t>(n * oh * ow + p)];
          EXPECT_EQ(got, expected) << "n " << n << " pixel " << p << " y " << y;
          (got > 0 ? plus : minus) += 1;
        }
      }
      EXPECT_GT(plus, 0);
      EXPECT_GT(minus, 0);  // the levels were fitted: neither all +1 nor all -1
    }
  }
}

// The array's plain GEMM over im2col (padded with the input zero point) plus
// bias_int equals the naive sum over (q_a - zp_a) * q_w plus the bias alone.
TEST(ZeroPointCrossTerm, PrecomputedBiasEqualsTheNaiveSum) {
  std::uint64_t seed = 501;
  for (const ConvCase& c : kCases) {
    for (const NumberFormat act : {NumberFormat::int8, NumberFormat::int4}) {
      const Graph graph = conv_graph(c, seed++);
      QuantizationOptions options;
      options.eight_bit_ends = EightBitEnds::none;
      const MacFormat mac{NumberFormat::int8, act, AccumulatorFormat::int32, 1};
      const QuantizedGraph q = quantize_graph(graph, mac, random_input(graph, -0.2, 1.0, seed++), options);
      const QuantizedLayer& ql = q.layers[0];
      // Random activation codes over the whole format range, any zero point.
      Tensor input;
      input.dims = graph.input_dims;
      input.format = act;
      input.quant = q.input_quant;
      SeededRandom random(seed++);
      for (std::int64_t i = 0; i < input.elements(); ++i) {
        const int lo = min_integer_value(act), span = max_integer_value(act) - lo + 1;
        input.q.push_back(static_cast<std::int8_t>(lo + static_cast<int>(random.next_u64() % span)));
      }
      const Layer& layer = graph.layers[0];
      const ConvGeometry geo = conv_geometry(layer.conv, input.dims);
      for (std::int64_t g = 0; g < geo.groups; ++g) {
        const LoweredGemm gemm = lower_conv2d_group(layer.conv, input, ql.weights, g);
        for (std::int64_t m = 0; m < geo.gemm.m; ++m) {
          for (std::int64_t j = 0; j < geo.gemm.n; ++j) {
            std::int64_t plain = 0;
            for (std::int64_t k = 0; k < geo.gemm.k; ++k) {
              plain += std::int64_t{gemm.a_int[static_cast<std::size_t>(m * geo.gemm.k + k)]} *
                       gemm.w_int[static_cast<std::size_t>(k * geo.gemm.n + j)];
            }
            const std::int64_t n = g * geo.filters_per_group + j;
            const std::int64_t naive = naive_sum(layer, input, ql.weights, n, m / geo.out_w, m % geo.out_w) +
                                       bias_units(layer, input.quant, ql.weights, n);
            ASSERT_EQ(plain + ql.bias_int[static_cast<std::size_t>(n)], naive) << "n " << n << " m " << m;
          }
        }
      }
    }
  }
}

// The simulator (im2col, tile engine, PPU) equals the reference executor bit
// for bit on asymmetric, per-channel graphs, including mixed-format binary.
TEST(QuantizedConv, SimulatorMatchesTheReferenceWithZeroPoints) {
  std::uint64_t seed = 901;
  const MacFormat formats[] = {{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1},
                               {NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 2},
                               {NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 1}};
  for (const MacFormat& mac : formats) {
    for (const ConvCase& c : kCases) {
      const Graph graph = conv_graph(c, seed++);
      QuantizationOptions options;
      options.eight_bit_ends = EightBitEnds::none;
      const QuantizedGraph q = quantize_graph(graph, mac, random_input(graph, 0.0, 1.0, seed++), options);
      const Tensor input = quantize_input(q, random_input(graph, 0.0, 1.0, seed++));
      AcceleratorConfig config;
      config.array.rows = 4;
      config.array.cols = 3;
      config.array.mac = mac;
      const auto engine = make_tile_engine(config.array);
      const NetworkRun run = run_network(q, input, *engine, config);
      const auto reference = run_reference(q, input, reference_reduction_chunk(config.array));
      const auto checks = check_against_reference(run, reference);
      EXPECT_TRUE(all_bit_exact(checks)) << mac.label() << ": " << checks[0].detail;
    }
  }
}

}  // namespace
}  // namespace npusim
