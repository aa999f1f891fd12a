// How an integer graph input is rounded: npusim's calibrated graphs round half
// away from zero; imported ONNX graphs follow QuantizeLinear (fp32, half to even).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "models/quant/quantize.h"
#include "models/quant/quantized_graph.h"

namespace npusim {
namespace {

QuantizedGraph input_only_graph(InputRounding rounding, std::int32_t zero_point) {
  QuantizedGraph q;
  q.graph.input_dims = {6, 1, 1};
  q.mac = MacFormat{NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1};
  q.input_quant = QuantParams(0.5, zero_point);
  q.input_rounding = rounding;
  return q;
}

Tensor fp32_input(std::vector<float> values) {
  Tensor t;
  t.dims = {static_cast<std::int64_t>(values.size()), 1, 1};
  t.format = NumberFormat::fp32;
  t.f = std::move(values);
  return t;
}

// x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5, 200: ties everywhere but the last,
// which saturates.
const std::vector<float> kTies{0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 100.0f};

TEST(InputRounding, CalibratedGraphsRoundHalfAwayFromZero) {
  const Tensor q = quantize_input(input_only_graph(InputRounding::half_away_from_zero, 3), fp32_input(kTies));
  EXPECT_EQ(q.q, (std::vector<std::int8_t>{1 + 3, 2 + 3, 3 + 3, -1 + 3, -2 + 3, 127}));
}

TEST(InputRounding, OnnxGraphsRoundHalfToEvenLikeQuantizeLinear) {
  // ONNX: saturate(round_half_even(x / scale) + zero_point); an odd zero point
  // shows that the rounding happens before the zero point is added.
  const Tensor q = quantize_input(input_only_graph(InputRounding::half_even_fp32, 3), fp32_input(kTies));
  EXPECT_EQ(q.q, (std::vector<std::int8_t>{0 + 3, 2 + 3, 2 + 3, 0 + 3, -2 + 3, 127}));
}

}  // namespace
}  // namespace npusim
