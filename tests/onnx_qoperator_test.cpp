// Quantized ONNX graphs built here, beyond the conformance data: QLinearConv
// with per-channel weight scales and zero points and an int32 bias,
// QLinearMatMul with per-column weight parameters over several rows
// (rows_as_batch), ConvInteger with per-channel weight zero points, and a QDQ
// Conv -> Relu -> MaxPool -> Gemm chain. Each is imported, simulated (tile
// engine, bit-exact against the reference executor) and compared exactly with
// the ONNX Runtime semantics computed here with plain loops: int64 sums of
// (q_x - zp_x)(q_w - zp_w), then q = saturate(round_half_even(float(sum) * m)
// + zp_y) with m = (float(s_x) * float(s_w)) / float(s_y) in fp32.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/onnx/onnx_model.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

constexpr int kUint8 = onnx::TensorProto_DataType_UINT8;
constexpr int kInt8 = onnx::TensorProto_DataType_INT8;
constexpr int kInt32 = onnx::TensorProto_DataType_INT32;

// ONNX Runtime's requantization of one int32 sum to uint8.
int requantize_uint8(std::int64_t sum, float s_x, float s_w, float s_y, int zp_y) {
  const float m = (s_x * s_w) / s_y;
  const float v = static_cast<float>(sum) * m;
  return std::clamp(static_cast<int>(std::nearbyint(v)) + zp_y, 0, 255);
}

class OnnxQOperatorTest : public testing::OnnxModelTest {
 protected:
  AcceleratorConfig config_for(const QuantizedGraph& qg) const {
    AcceleratorConfig config;
    config.array.rows = 4;  // smaller than every K and N here: several tiles
    config.array.cols = 4;
    config.array.mac = qg.mac;
    return config;
  }

  // The simulated run of `qg` on `input`; every layer must equal the
  // reference executor bit for bit.
  NetworkRun simulate(const QuantizedGraph& qg, const Tensor& input, GemmEngine& engine) const {
    const AcceleratorConfig config = config_for(qg);
    NetworkRun run = run_network(qg, input, engine, config);
    const auto checks = check_against_reference(run, run_reference(qg, input, reference_reduction_chunk(config.array)));
    for (std::size_t i = 0; i < checks.size(); ++i) {
      EXPECT_TRUE(checks[i].bit_exact) << qg.graph.layers[i].name << ": " << checks[i].detail;
    }
    return run;
  }

  // A uint8 graph input in the IR's int8 terms.
  static Tensor uint8_input(const QuantizedGraph& qg, const std::vector<int>& values) {
    Tensor t;
    t.dims = qg.graph.input_dims;
    t.format = NumberFormat::int8;
    t.quant = qg.input_quant;
    for (const int v : values) t.q.push_back(static_cast<std::int8_t>(v - 128));
    return t;
  }

  // The simulated output in the file's uint8 terms.
  static std::vector<int> uint8_output(const NetworkRun& run) {
    std::vector<int> out;
    for (const auto v : run.layers.back().output.q) out.push_back(v + 128);
    return out;
  }
};

TEST_F(OnnxQOperatorTest, QLinearConvPerChannelInt8WeightsAndBias) {
  // x uint8 [1, 2, 5, 5] -> QLinearConv(3 filters 3x3, pads 1, strides 2) -> y uint8 [1, 3, 3, 3].
  const float s_x = 0.05f, s_y = 0.02f;
  const int zp_x = 120, zp_y = 131;  // an odd output zero point: rounding comes before it
  const std::vector<float> s_w = {0.02f, 0.035f, 0.011f};
  const std::vector<std::int64_t> zp_w = {0, 3, -2};
  const std::vector<std::int64_t> bias = {1000, -2500, 37};
  std::vector<int> x(2 * 25);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 100 + static_cast<int>((i * 13) % 41);
  std::vector<std::int64_t> w(3 * 2 * 9);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int64_t>((i * 37) % 121) - 60;

  input("x", {1, 2, 5, 5}, kUint8);
  floats("x_s", {}, {s_x});
  ints("x_zp", kUint8, {}, {zp_x});
  ints("w", kInt8, {3, 2, 3, 3}, w);
  floats("w_s", {3}, s_w);
  ints("w_zp", kInt8, {3}, zp_w);
  floats("y_s", {}, {s_y});
  ints("y_zp", kUint8, {}, {zp_y});
  ints("b", kInt32, {3}, bias);
  auto& conv = node("QLinearConv", "qconv", {"x", "x_s", "x_zp", "w", "w_s", "w_zp", "y_s", "y_zp", "b"}, {"y"});
  ints_attr(conv, "pads", {1, 1, 1, 1});
  ints_attr(conv, "strides", {2, 2});
  output("y", {1, 3, 3, 3}, kUint8);
  const OnnxImport imp = import_onnx(save());
  ASSERT_TRUE(imp.model.quantized);
  const QuantizedGraph& qg = *imp.model.quantized;
  ASSERT_EQ(qg.layers.size(), 1u);
  EXPECT_EQ(qg.layers[0].requant_mode, RequantMode::float_half_even);
  EXPECT_EQ(qg.layers[0].weights.quant.channel_zero_points, (std::vector<std::int32_t>{0, 3, -2}));

  std::vector<int> expected;
  for (int n = 0; n < 3; ++n) {
    for (int oy = 0; oy < 3; ++oy) {
      for (int ox = 0; ox < 3; ++ox) {
        std::int64_t sum = bias[static_cast<std::size_t>(n)];
        for (int c = 0; c < 2; ++c) {
          for (int ky = 0; ky < 3; ++ky) {
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
              if (iy < 0 || iy >= 5 || ix < 0 || ix >= 5) continue;  // padding is the real value 0
              const std::int64_t xv = x[static_cast<std::size_t>(c * 25 + iy * 5 + ix)] - zp_x;
              const std::int64_t wv =
                  w[static_cast<std::size_t>(((n * 2 + c) * 3 + ky) * 3 + kx)] - zp_w[static_cast<std::size_t>(n)];
              sum += xv * wv;
            }
          }
        }
        expected.push_back(requantize_uint8(sum, s_x, s_w[static_cast<std::size_t>(n)], s_y, zp_y));
      }
    }
  }
  // The data reach both ends of the range: saturation is exercised too.
  EXPECT_NE(std::find(expected.begin(), expected.end(), 0), expected.end());
  EXPECT_NE(std::find(expected.begin(), expected.end(), 255), expected.end());
  const auto engine = make_tile_engine(config_for(qg).array);
  EXPECT_EQ(uint8_output(simulate(qg, uint8_input(qg, x), *engine)), expected);
}

TEST_F(OnnxQOperatorTest, QLinearMatMulPerColumnZeroPointsOverRows) {
  // a uint8 [3, 5] x b uint8 [5, 4] (per-column scales and zero points) -> y uint8 [3, 4],
  // run as three batch-1 rows.
  const float s_a = 0.03f, s_y = 0.05f;
  const int zp_a = 110, zp_y = 120;
  const std::vector<float> s_b = {0.01f, 0.02f, 0.015f, 0.005f};
  const std::vector<std::int64_t> zp_b = {114, 128, 3, 250};
  std::vector<int> a(3 * 5);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 60 + static_cast<int>((i * 29) % 101);
  std::vector<std::int64_t> b(5 * 4);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::int64_t>((i * 53) % 256);

  input("a", {3, 5}, kUint8);
  floats("a_s", {}, {s_a});
  ints("a_zp", kUint8, {}, {zp_a});
  ints("b", kUint8, {5, 4}, b);
  floats("b_s", {4}, s_b);
  ints("b_zp", kUint8, {4}, zp_b);
  floats("y_s", {}, {s_y});
  ints("y_zp", kUint8, {}, {zp_y});
  node("QLinearMatMul", "qmm", {"a", "a_s", "a_zp", "b", "b_s", "b_zp", "y_s", "y_zp"}, {"y"});
  output("y", {3, 4}, kUint8);
  const std::string path = save();
  // Three rows are batch 3 unless the rows are taken as the batch.
  EXPECT_THROW(import_onnx(path), InputError);
  OnnxImportOptions options;
  options.rows_as_batch = true;
  const OnnxImport imp = import_onnx(path, options);
  EXPECT_EQ(imp.rows.count, 3);
  EXPECT_FALSE(imp.rows.transposed);
  EXPECT_EQ(imp.input.shape, (Dims{1, 5}));
  ASSERT_TRUE(imp.model.quantized);
  const QuantizedGraph& qg = *imp.model.quantized;
  const auto engine = make_tile_engine(config_for(qg).array);
  for (int r = 0; r < 3; ++r) {
    std::vector<int> row(a.begin() + r * 5, a.begin() + r * 5 + 5);
    std::vector<int> expected;
    for (int n = 0; n < 4; ++n) {
      std::int64_t sum = 0;
      for (int k = 0; k < 5; ++k) {
        sum += std::int64_t{row[static_cast<std::size_t>(k)] - zp_a} *
               (b[static_cast<std::size_t>(k * 4 + n)] - zp_b[static_cast<std::size_t>(n)]);
      }
      expected.push_back(requantize_uint8(sum, s_a, s_b[static_cast<std::size_t>(n)], s_y, zp_y));
    }
    EXPECT_EQ(uint8_output(simulate(qg, uint8_input(qg, row), *engine)), expected) << "row " << r;
  }
}

TEST_F(OnnxQOperatorTest, ConvIntegerPerChannelWeightZeroPoints) {
  // x uint8 [1, 1, 4, 4] (zero point 3) -> ConvInteger(w uint8 [2, 1, 2, 2],
  // zero points 5 and 250, pads 1) -> int32 [1, 2, 5, 5].
  const int zp_x = 3;
  const std::vector<std::int64_t> zp_w = {5, 250};
  const std::vector<std::int64_t> w = {0, 7, 10, 2, 255, 245, 250, 251};
  std::vector<int> x(16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int>((i * 37) % 90);

  input("x", {1, 1, 4, 4}, kUint8);
  ints("w", kUint8, {2, 1, 2, 2}, w);
  ints("x_zp", kUint8, {}, {zp_x});
  ints("w_zp", kUint8, {2}, zp_w);
  ints_attr(node("ConvInteger", "cint", {"x", "w", "x_zp", "w_zp"}, {"y"}), "pads", {1, 1, 1, 1});
  output("y", {1, 2, 5, 5}, kInt32);
  const OnnxImport imp = import_onnx(save());
  EXPECT_EQ(imp.output.view, OnnxView::accumulator);
  ASSERT_TRUE(imp.model.quantized);
  const QuantizedGraph& qg = *imp.model.quantized;
  ASSERT_EQ(qg.graph.layers.size(), 1u);

  std::vector<std::int64_t> expected;
  for (int n = 0; n < 2; ++n) {
    for (int oy = 0; oy < 5; ++oy) {
      for (int ox = 0; ox < 5; ++ox) {
        std::int64_t sum = 0;
        for (int ky = 0; ky < 2; ++ky) {
          for (int kx = 0; kx < 2; ++kx) {
            const int iy = oy - 1 + ky, ix = ox - 1 + kx;
            if (iy < 0 || iy >= 4 || ix < 0 || ix >= 4) continue;  // padding holds x's zero point
            sum += std::int64_t{x[static_cast<std::size_t>(iy * 4 + ix)] - zp_x} *
                   (w[static_cast<std::size_t>(n * 4 + ky * 2 + kx)] - zp_w[static_cast<std::size_t>(n)]);
          }
        }
        expected.push_back(sum);
      }
    }
  }
  // Sums beyond int8: the int32 output is not the int8 one.
  EXPECT_GT(*std::max_element(expected.begin(), expected.end()), 127);
  EXPECT_LT(*std::min_element(expected.begin(), expected.end()), -128);
  const auto engine = make_tile_engine(config_for(qg).array);
  const Tensor in = uint8_input(qg, x);
  const NetworkRun run = simulate(qg, in, *engine);
  EXPECT_EQ(testing::accumulator_sums(qg, 0, in, *engine), expected);
  // The IR's int8 output is the sum saturated to int8 (output scale = the accumulator unit).
  const auto& q = run.layers.back().output.q;
  ASSERT_EQ(q.size(), expected.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    EXPECT_EQ(q[i], std::clamp<std::int64_t>(expected[i], -128, 127)) << i;
  }
}

TEST_F(OnnxQOperatorTest, QdqConvReluMaxPoolGemmChain) {
  // x [1, 1, 6, 6] -> Q/DQ -> Conv(2 filters 3x3, pads 1; DQ int8 w per channel, DQ int32 b)
  //   -> Relu -> Q/DQ -> MaxPool(2x2, stride 2) -> Q/DQ -> Flatten
  //   -> Gemm(transB; DQ int8 B per channel, DQ int32 C) -> Q/DQ -> y [1, 3]
  const float s_x = 0.25f, s_c = 0.3f, s_y = 0.2f;
  const int zp_x = 120, zp_c = 5, zp_y = 128;
  const std::vector<float> s_w = {0.125f, 0.0625f}, s_w2 = {0.125f, 0.25f, 0.0625f};
  const std::vector<std::int64_t> b = {40, -30}, b2 = {-20, 7, 300};
  std::vector<float> x(36);
  std::vector<int> qx(36);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const int k = static_cast<int>((i * 7) % 23) - 11;
    x[i] = 0.25f * static_cast<float>(k) + 0.05f;  // x / s_x = k + 0.2: quantizes to k + zp_x
    qx[i] = k + zp_x;
  }
  std::vector<std::int64_t> w(2 * 9), w2(3 * 18);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int64_t>((i * 5) % 17) - 8;
  for (std::size_t i = 0; i < w2.size(); ++i) w2[i] = static_cast<std::int64_t>((i * 3) % 7) - 3;

  input("x", {1, 1, 6, 6});
  floats("s_x", {}, {s_x});
  ints("zp_x", kUint8, {}, {zp_x});
  floats("s_c", {}, {s_c});
  ints("zp_c", kUint8, {}, {zp_c});
  floats("s_y", {}, {s_y});
  ints("zp_y", kUint8, {}, {zp_y});
  ints("w_q", kInt8, {2, 1, 3, 3}, w);
  floats("s_w", {2}, s_w);
  ints("b_q", kInt32, {2}, b);
  floats("s_b", {2}, {s_x * s_w[0], s_x * s_w[1]});
  ints("w2_q", kInt8, {3, 18}, w2);
  floats("s_w2", {3}, s_w2);
  ints("b2_q", kInt32, {3}, b2);
  floats("s_b2", {3}, {s_c * s_w2[0], s_c * s_w2[1], s_c * s_w2[2]});
  int_attr(node("DequantizeLinear", "dq_w", {"w_q", "s_w"}, {"w"}), "axis", 0);
  node("DequantizeLinear", "dq_b", {"b_q", "s_b"}, {"b"});
  int_attr(node("DequantizeLinear", "dq_w2", {"w2_q", "s_w2"}, {"w2"}), "axis", 0);
  node("DequantizeLinear", "dq_b2", {"b2_q", "s_b2"}, {"b2"});
  node("QuantizeLinear", "q_x", {"x", "s_x", "zp_x"}, {"xq"});
  node("DequantizeLinear", "dq_x", {"xq", "s_x", "zp_x"}, {"xd"});
  ints_attr(node("Conv", "conv", {"xd", "w", "b"}, {"c"}), "pads", {1, 1, 1, 1});
  node("Relu", "relu", {"c"}, {"r"});
  node("QuantizeLinear", "q_r", {"r", "s_c", "zp_c"}, {"rq"});
  node("DequantizeLinear", "dq_r", {"rq", "s_c", "zp_c"}, {"rd"});
  auto& pool = node("MaxPool", "pool", {"rd"}, {"p"});
  ints_attr(pool, "kernel_shape", {2, 2});
  ints_attr(pool, "strides", {2, 2});
  node("QuantizeLinear", "q_p", {"p", "s_c", "zp_c"}, {"pq"});
  node("DequantizeLinear", "dq_p", {"pq", "s_c", "zp_c"}, {"pd"});
  node("Flatten", "flat", {"pd"}, {"f"});
  int_attr(node("Gemm", "fc", {"f", "w2", "b2"}, {"g"}), "transB", 1);
  node("QuantizeLinear", "q_y", {"g", "s_y", "zp_y"}, {"yq"});
  node("DequantizeLinear", "dq_y", {"yq", "s_y", "zp_y"}, {"y"});
  output("y", {1, 3});
  const OnnxImport imp = import_onnx(save());
  ASSERT_TRUE(imp.model.quantized);
  const QuantizedGraph& qg = *imp.model.quantized;
  std::vector<LayerType> compute;
  for (const auto& layer : qg.graph.layers) {
    if (layer.type != LayerType::reshape) compute.push_back(layer.type);
  }
  EXPECT_EQ(compute, (std::vector<LayerType>{LayerType::conv2d, LayerType::maxpool, LayerType::fc}));
  EXPECT_EQ(qg.graph.layers[0].activation, Activation::relu);
  EXPECT_EQ(imp.output.view, OnnxView::real);
  EXPECT_EQ(imp.output.scale, double{s_y});
  EXPECT_EQ(imp.output.zero_point, zp_y);

  // Conv + Relu, requantized to (s_c, zp_c); Relu clamps at the zero point.
  std::vector<int> c(2 * 36);
  for (int n = 0; n < 2; ++n) {
    for (int oy = 0; oy < 6; ++oy) {
      for (int ox = 0; ox < 6; ++ox) {
        std::int64_t sum = b[static_cast<std::size_t>(n)];
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) {
            const int iy = oy - 1 + ky, ix = ox - 1 + kx;
            if (iy < 0 || iy >= 6 || ix < 0 || ix >= 6) continue;
            sum += std::int64_t{qx[static_cast<std::size_t>(iy * 6 + ix)] - zp_x} *
                   w[static_cast<std::size_t>(n * 9 + ky * 3 + kx)];
          }
        }
        c[static_cast<std::size_t>(n * 36 + oy * 6 + ox)] =
            std::max(zp_c, requantize_uint8(sum, s_x, s_w[static_cast<std::size_t>(n)], s_c, zp_c));
      }
    }
  }
  // MaxPool on the integers (dequantization is monotonic), then the Gemm.
  std::vector<int> p;
  for (int n = 0; n < 2; ++n) {
    for (int oy = 0; oy < 3; ++oy) {
      for (int ox = 0; ox < 3; ++ox) {
        int m = 0;
        for (int dy = 0; dy < 2; ++dy) {
          for (int dx = 0; dx < 2; ++dx)
            m = std::max(m, c[static_cast<std::size_t>(n * 36 + (oy * 2 + dy) * 6 + ox * 2 + dx)]);
        }
        p.push_back(m);
      }
    }
  }
  std::vector<int> expected;
  for (int n = 0; n < 3; ++n) {
    std::int64_t sum = b2[static_cast<std::size_t>(n)];
    for (int k = 0; k < 18; ++k)
      sum += std::int64_t{p[static_cast<std::size_t>(k)] - zp_c} * w2[static_cast<std::size_t>(n * 18 + k)];
    expected.push_back(requantize_uint8(sum, s_c, s_w2[static_cast<std::size_t>(n)], s_y, zp_y));
  }

  Tensor real;
  real.dims = qg.graph.input_dims;
  real.format = NumberFormat::fp32;
  real.f = x;
  const Tensor in = quantize_input(qg, real);
  std::vector<int> in_uint8;
  for (const auto v : in.q) in_uint8.push_back(v + 128);
  EXPECT_EQ(in_uint8, qx);
  const auto engine = make_tile_engine(config_for(qg).array);
  const NetworkRun run = simulate(qg, in, *engine);
  // The intermediate tensors too: the conv's requantized output and the pool's.
  std::vector<int> conv_out, pool_out;
  for (const auto v : run.layers[0].output.q) conv_out.push_back(v + 128);
  EXPECT_EQ(conv_out, c);
  for (std::size_t i = 0; i < qg.graph.layers.size(); ++i) {
    if (qg.graph.layers[i].type != LayerType::maxpool) continue;
    for (const auto v : run.layers[i].output.q) pool_out.push_back(v + 128);
  }
  EXPECT_EQ(pool_out, p);
  EXPECT_EQ(uint8_output(run), expected);
}

}  // namespace
}  // namespace npusim
