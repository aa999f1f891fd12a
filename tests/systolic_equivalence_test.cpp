// The pe fidelity (register-level stepping) against the tile fidelity (closed
// form + fast kernel): equal cycle counts and equal output bits, over hundreds
// of random GEMM shapes per dataflow, format and timing convention.
#include <bit>
#include <random>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "accel/array/fold_timing.h"
#include "accel/array/gemm_engine.h"
#include "accel/array/systolic_core.h"
#include "gemm_test_support.h"

namespace npusim {
namespace {

struct FormatCase {
  const char* name;
  MacFormat mac;
};

MacFormat mac(NumberFormat w, NumberFormat a, AccumulatorFormat acc, int lanes) {
  MacFormat m;
  m.weight = w;
  m.activation = a;
  m.accumulator = acc;
  m.lanes = lanes;
  return m;
}

const FormatCase kFormats[] = {
    {"fp32", mac(NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1)},
    {"fp16", mac(NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp32, 1)},
    {"fp16_acc16", mac(NumberFormat::fp16, NumberFormat::fp16, AccumulatorFormat::fp16, 1)},
    {"bf16_lanes2", mac(NumberFormat::bf16, NumberFormat::bf16, AccumulatorFormat::fp32, 2)},
    {"W8A8", mac(NumberFormat::int8, NumberFormat::int8, AccumulatorFormat::int32, 1)},
    {"W4A8", mac(NumberFormat::int4, NumberFormat::int8, AccumulatorFormat::int32, 1)},
    {"W4A4_lanes2", mac(NumberFormat::int4, NumberFormat::int4, AccumulatorFormat::int32, 2)},
    {"W1A1_lanes8", mac(NumberFormat::binary, NumberFormat::binary, AccumulatorFormat::int32, 8)},
    {"fp32_lanes3", mac(NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 3)},
};

using Param = std::tuple<Dataflow, TimingConvention, int>;

class SystolicEquivalence : public ::testing::TestWithParam<Param> {};

bool same_bits(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

void expect_equal_runs(const GemmRun& pe, const GemmRun& tile, const std::string& what) {
  ASSERT_EQ(pe.cycles, tile.cycles) << what;
  ASSERT_EQ(pe.output.acc_int, tile.output.acc_int) << what;
  ASSERT_EQ(pe.output.overflow_outputs, tile.output.overflow_outputs) << what;
  ASSERT_EQ(pe.output.acc_float.size(), tile.output.acc_float.size()) << what;
  for (std::size_t i = 0; i < pe.output.acc_float.size(); ++i) {
    ASSERT_TRUE(same_bits(pe.output.acc_float[i], tile.output.acc_float[i]))
        << what << " output " << i << ": pe " << pe.output.acc_float[i] << " tile " << tile.output.acc_float[i];
  }
}

TEST_P(SystolicEquivalence, RandomShapesAgreeCycleForCycleAndBitForBit) {
  const auto [dataflow, timing, format_index] = GetParam();
  const FormatCase& format = kFormats[format_index];
  std::mt19937_64 rng(1000 + format_index * 17 + static_cast<int>(dataflow) * 3 + static_cast<int>(timing));
  // Edge shapes first (dimensions of 1, K far larger than the array), then random ones.
  std::vector<std::tuple<int, int, GemmShape>> cases = {
      {4, 4, {1, 1, 1}},  {4, 4, {1, 7, 1}}, {4, 4, {9, 1, 1}}, {4, 4, {1, 1, 13}},  {3, 5, {7, 11, 97}},
      {2, 2, {3, 3, 40}}, {1, 1, {2, 3, 5}}, {8, 8, {8, 8, 8}}, {5, 3, {16, 9, 33}}, {6, 2, {1, 40, 3}},
  };
  while (cases.size() < 60) {
    const int rows = 1 + static_cast<int>(rng() % 8);
    const int cols = 1 + static_cast<int>(rng() % 8);
    const GemmShape shape{1 + static_cast<std::int64_t>(rng() % 20), 1 + static_cast<std::int64_t>(rng() % 20),
                          1 + static_cast<std::int64_t>(rng() % 70)};
    cases.emplace_back(rows, cols, shape);
  }
  for (const auto& [rows, cols, shape] : cases) {
    ArrayConfig array;
    array.rows = rows;
    array.cols = cols;
    array.dataflow = dataflow;
    array.timing = timing;
    array.mac = format.mac;
    const auto data = testing::random_gemm(shape, format.mac.weight, format.mac.activation, rng());
    SystolicCore core(array);
    const GemmRun pe = core.run(data.operands());
    const GemmRun tile = make_tile_engine(array)->run(data.operands());
    expect_equal_runs(pe, tile,
                      std::string(format.name) + " " + std::to_string(rows) + "x" + std::to_string(cols) + " M=" +
                          std::to_string(shape.m) + " N=" + std::to_string(shape.n) + " K=" + std::to_string(shape.k));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto [dataflow, timing, format_index] = info.param;
  return std::string(to_string(dataflow)) + "_" + std::string(to_string(timing)) + "_" + kFormats[format_index].name;
}

INSTANTIATE_TEST_SUITE_P(AllDataflowsFormatsConventions, SystolicEquivalence,
                         ::testing::Combine(::testing::Values(Dataflow::ws, Dataflow::os, Dataflow::is),
                                            ::testing::Values(TimingConvention::overlapped, TimingConvention::scalesim),
                                            ::testing::Range(0, static_cast<int>(std::size(kFormats)))),
                         param_name);

// The accumulation order is observable in fp32: with w = {1, 1e8, -1e8, 1}
// a sequential sum gives 1, while chunks of two give (1 + 1e8) + (-1e8 + 1) =
// 1e8 + (-1e8) = 0 (each 1 is lost against 1e8, whose fp32 ulp is 8).
TEST(SystolicAccumulationOrder, ChunksOfRowsTimesLanesAreVisibleInFp32) {
  const GemmShape shape{1, 1, 4};
  const std::vector<float> a{1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<float> w{1.0f, 1e8f, -1e8f, 1.0f};
  const GemmOperands op{shape, {}, {}, a, w};
  ArrayConfig array;
  array.mac = mac(NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1);
  array.cols = 1;
  array.dataflow = Dataflow::ws;
  const auto both = [&](int rows) {
    array.rows = rows;
    const float pe = SystolicCore(array).run(op).output.acc_float[0];
    const float tile = make_tile_engine(array)->run(op).output.acc_float[0];
    EXPECT_TRUE(same_bits(pe, tile)) << rows;
    return pe;
  };
  EXPECT_EQ(both(1), 1.0f);  // chunks of one: a plain sequential sum
  EXPECT_EQ(both(2), 0.0f);  // chunks of two
  EXPECT_EQ(both(4), 1.0f);  // one chunk
  array.dataflow = Dataflow::os;
  EXPECT_EQ(both(2), 1.0f);  // OS reduces in place: always one chunk
}

TEST(SystolicOverflow, Int32OverflowIsDetectedInBothFidelities) {
  // 140000 products of 127*127 = 16129 sum to 2.26e9 > 2^31 - 1.
  const std::int64_t k = 140000;
  std::vector<std::int8_t> a(k, 127), w(k, 127);
  GemmOperands op{{1, 1, k}, a, w, {}, {}};
  for (Dataflow dataflow : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
    ArrayConfig array;
    array.rows = 4;
    array.cols = 2;
    array.dataflow = dataflow;
    array.mac.lanes = 16;
    const GemmRun pe = SystolicCore(array).run(op);
    const GemmRun tile = make_tile_engine(array)->run(op);
    EXPECT_EQ(pe.output.overflow_outputs, 1);
    EXPECT_EQ(tile.output.overflow_outputs, 1);
    const std::int64_t exact = k * 127 * 127;
    EXPECT_EQ(pe.output.acc_int[0], static_cast<std::int32_t>(static_cast<std::uint32_t>(exact)));
    EXPECT_EQ(pe.output.acc_int, tile.output.acc_int);
    EXPECT_EQ(pe.cycles, tile.cycles);
  }
}

}  // namespace
}  // namespace npusim
