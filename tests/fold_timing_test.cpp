// The closed-form timing against hand-derived cycle counts.
#include "accel/array/fold_timing.h"

#include <gtest/gtest.h>

namespace npusim {
namespace {

ArrayConfig array(int rows, int cols, Dataflow dataflow, TimingConvention timing, int lanes = 1) {
  ArrayConfig a;
  a.rows = rows;
  a.cols = cols;
  a.dataflow = dataflow;
  a.timing = timing;
  a.mac.lanes = lanes;
  return a;
}

TEST(FoldTiming, MappingFollowsScaleSim) {
  const GemmShape shape{5, 6, 7};
  const auto os = map_gemm(shape, array(4, 4, Dataflow::os, TimingConvention::scalesim));
  EXPECT_EQ(os.spatial_rows, 5);
  EXPECT_EQ(os.spatial_cols, 6);
  EXPECT_EQ(os.temporal, 7);
  const auto ws = map_gemm(shape, array(4, 4, Dataflow::ws, TimingConvention::scalesim));
  EXPECT_EQ(ws.spatial_rows, 7);
  EXPECT_EQ(ws.spatial_cols, 6);
  EXPECT_EQ(ws.temporal, 5);
  const auto is = map_gemm(shape, array(4, 4, Dataflow::is, TimingConvention::scalesim));
  EXPECT_EQ(is.spatial_rows, 7);
  EXPECT_EQ(is.spatial_cols, 5);
  EXPECT_EQ(is.temporal, 6);
  EXPECT_EQ(is.folds(), 4);
}

TEST(FoldTiming, LanesShortenTheReduction) {
  const auto ws = map_gemm({5, 6, 7}, array(4, 4, Dataflow::ws, TimingConvention::scalesim, 2));
  EXPECT_EQ(ws.spatial_rows, 4);  // ceil(7 / 2)
  EXPECT_EQ(ws.row_folds, 1);
  const auto os = map_gemm({5, 6, 130}, array(4, 4, Dataflow::os, TimingConvention::scalesim, 64));
  EXPECT_EQ(os.temporal, 3);  // ceil(130 / 64)
}

TEST(FoldTiming, ScaleSimConventionHandDerived) {
  // OS 4x4, M=8 N=4 K=10: 2 folds of R+C+T-2 = 16 cycles, minus one.
  EXPECT_EQ(gemm_timing({8, 4, 10}, array(4, 4, Dataflow::os, TimingConvention::scalesim)).cycles, 31);
  // WS 4x4, M=5 N=6 K=7: Sr=7 Sc=6 T=5, 4 folds of 2R+C+T-2 = 15.
  EXPECT_EQ(gemm_timing({5, 6, 7}, array(4, 4, Dataflow::ws, TimingConvention::scalesim)).cycles, 59);
  // IS 4x4: Sr=7 Sc=5 T=6, 4 folds of 16.
  EXPECT_EQ(gemm_timing({5, 6, 7}, array(4, 4, Dataflow::is, TimingConvention::scalesim)).cycles, 63);
  // Non-square array: WS 8x2, M=3 N=3 K=9 -> Sr=9 Sc=3, folds 2*2, per 16+2+3-2=19.
  EXPECT_EQ(gemm_timing({3, 3, 9}, array(8, 2, Dataflow::ws, TimingConvention::scalesim)).cycles, 75);
}

TEST(FoldTiming, OverlappedConventionHandDerived) {
  // WS 2x2, 1x1x1: weights load in cycles 0-1, the token reaches PE(0,0) in
  // cycle 2, the far corner PE(1,1) in cycle 4: 5 cycles.
  EXPECT_EQ(gemm_timing({1, 1, 1}, array(2, 2, Dataflow::ws, TimingConvention::overlapped)).cycles, 5);
  // WS 4x4, M=5 N=6 K=7: first load 4, then folds every max(T=5, R=4)=5 cycles,
  // last fold T+R+C-2 = 11: 4 + 3*5 + 11 = 30.
  EXPECT_EQ(gemm_timing({5, 6, 7}, array(4, 4, Dataflow::ws, TimingConvention::overlapped)).cycles, 30);
  // Short streams are limited by the shadow load: T=2 < R=4, period 4.
  EXPECT_EQ(gemm_timing({2, 6, 7}, array(4, 4, Dataflow::ws, TimingConvention::overlapped)).cycles,
            4 + 3 * 4 + 2 + 4 + 4 - 2);
  // OS 4x4, M=8 N=4 K=10: 2 folds, period 10, last fold T+R+C-2 plus one
  // read-out cycle: 10 + 17 = 27.
  EXPECT_EQ(gemm_timing({8, 4, 10}, array(4, 4, Dataflow::os, TimingConvention::overlapped)).cycles, 27);
}

TEST(FoldTiming, MappingEfficiency) {
  // WS 4x4, Sr=7 Sc=6 over 4 folds of 16 PEs: 42/64.
  EXPECT_DOUBLE_EQ(gemm_timing({5, 6, 7}, array(4, 4, Dataflow::ws, TimingConvention::scalesim)).mapping_efficiency,
                   42.0 / 64.0);
}

}  // namespace
}  // namespace npusim
