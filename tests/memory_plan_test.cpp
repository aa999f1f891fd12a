// DRAM traffic and buffer fit of the per-GEMM memory plan, against tensor sizes
// worked out by hand.
#include "sim/mapper/memory_plan.h"

#include <gtest/gtest.h>

#include "models/input_error.h"

namespace npusim {
namespace {

ArrayConfig ws_array(int rows = 32, int cols = 32) {
  ArrayConfig a;
  a.rows = rows;
  a.cols = cols;
  a.dataflow = Dataflow::ws;
  return a;
}

SramSet sram(std::int64_t ifmap_kb, std::int64_t weight_kb, std::int64_t ofmap_kb) {
  SramSet s;
  s.ifmap.capacity_bytes = ifmap_kb * 1024;
  s.weight.capacity_bytes = weight_kb * 1024;
  s.ofmap.capacity_bytes = ofmap_kb * 1024;
  return s;
}

// An fc layer: A is the flattened input, one row.
GemmMemoryNeeds fc_needs(std::int64_t k, std::int64_t n, int weight_bits = 8, int act_bits = 8) {
  GemmMemoryNeeds needs;
  needs.shape = {1, n, k};
  needs.weight_bits = weight_bits;
  needs.activation_bits = act_bits;
  needs.output_bits = act_bits;
  needs.input_bytes = [act_bits](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
    return packed_bytes_of((m1 - m0) * (k1 - k0), act_bits);
  };
  return needs;
}

TEST(MemoryPlan, FcLargerThanTheWeightBufferReadsWeightsExactlyOnce) {
  // 4096 x 1000 int8 weights = 4,096,000 bytes through a 256 KiB weight buffer.
  const auto plan = plan_gemm_memory(fc_needs(4096, 1000), ws_array(), sram(64, 256, 64));
  EXPECT_EQ(plan.dram_read_bytes[static_cast<int>(BufferKind::weight)], 4096 * 1000);
  EXPECT_EQ(plan.dram_read_bytes[static_cast<int>(BufferKind::ifmap)], 4096);
  EXPECT_EQ(plan.dram_write_bytes, 1000);
}

TEST(MemoryPlan, LayerThatFitsMovesExactlyItsTensors) {
  // A 3x3 conv, 8 -> 16 channels on 10x10 (pad 1): input 800 B, weights
  // 16*8*9 = 1152 B, output 16*100 = 1600 B, all int8.
  GemmMemoryNeeds needs;
  needs.shape = {100, 16, 72};
  needs.input_bytes = [](std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1) {
    // rows of the 10x10 input behind output rows [m0/10, (m1-1)/10], channels behind k
    const std::int64_t oy0 = m0 / 10, oy1 = (m1 - 1) / 10;
    const std::int64_t iy0 = std::max<std::int64_t>(0, oy0 - 1), iy1 = std::min<std::int64_t>(9, oy1 + 1);
    const std::int64_t c0 = k0 / 9, c1 = (k1 + 8) / 9;
    return (iy1 - iy0 + 1) * 10 * (c1 - c0);
  };
  for (Dataflow dataflow : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
    ArrayConfig array = ws_array(8, 8);
    array.dataflow = dataflow;
    const auto plan = plan_gemm_memory(needs, array, sram(64, 64, 64));
    EXPECT_EQ(plan.dram_read_bytes[0], 800) << to_string(dataflow);
    EXPECT_EQ(plan.dram_read_bytes[1], 1152) << to_string(dataflow);
    EXPECT_EQ(plan.dram_write_bytes, 1600) << to_string(dataflow);
    EXPECT_EQ(plan.temporal_tiles, 1);
  }
}

TEST(MemoryPlan, NarrowerWeightsMoveProportionallyFewerBytes) {
  const auto int8 = plan_gemm_memory(fc_needs(4096, 1000, 8), ws_array(), sram(64, 256, 64));
  const auto int4 = plan_gemm_memory(fc_needs(4096, 1000, 4), ws_array(), sram(64, 256, 64));
  const auto bin = plan_gemm_memory(fc_needs(4096, 1000, 1), ws_array(), sram(64, 256, 64));
  EXPECT_EQ(int8.dram_read_bytes[1], 2 * int4.dram_read_bytes[1]);
  EXPECT_EQ(int8.dram_read_bytes[1], 8 * bin.dram_read_bytes[1]);
}

TEST(MemoryPlan, KeepsTheStreamingSliceWhenTheInputDoesNotFit) {
  // WS, M=1024 rows, K=256, N=256, int8: A = 256 KiB does not fit a 64 KiB
  // ifmap buffer. Running all column blocks per K slice (cols_inner) reads A
  // once; rows_inner would read it 8 times. The accumulator must then hold
  // M x N int32 partial sums, so the temporal dimension is cut to fit.
  GemmMemoryNeeds needs = fc_needs(256, 256);
  needs.shape = {1024, 256, 256};
  const auto plan = plan_gemm_memory(needs, ws_array(), sram(64, 256, 256));
  EXPECT_EQ(plan.order, FoldOrder::cols_inner);
  EXPECT_EQ(plan.dram_read_bytes[0], 1024 * 256);
  // 128 KiB accumulator half / (256 columns * 4 B) = 128 rows per tile.
  EXPECT_EQ(plan.temporal_tiles, 8);
}

TEST(MemoryPlan, BufferTooSmallForOneTileNamesTheBufferAndTheSize) {
  try {
    // One fold's weight block: 32 x 32 int8 = 1024 B, double buffered 2048 B.
    plan_gemm_memory(fc_needs(4096, 1000), ws_array(), sram(64, 1, 64));
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "$.memory.sram.weight.kb: 1024 bytes cannot hold one minimal tile: double buffering "
                 "needs 2 x 1024 = 2048 bytes");
  }
}

}  // namespace
}  // namespace npusim

namespace npusim {
namespace {}  // namespace
}  // namespace npusim

namespace npusim {
namespace {

// Found on AlexNet (SCALE-Sim CSV, int8 OS): a weight buffer big enough to
// hold a layer's whole weights made the layer slower, because the resident
// tensor was loaded in one piece before the first fold. It now crosses once,
// slice by slice in fold order.
TEST(MemoryPlan, ResidentWeightsCrossOnceButSliceBySliceInFoldOrder) {
  // fc K=256, N=256 int8 on 32x32 WS: 65,536 B of weights fit a 256 KiB
  // buffer's half. 8 x 8 folds, each a 32 x 32 = 1,024 B weight block.
  const auto plan = plan_gemm_memory(fc_needs(256, 256), ws_array(), sram(64, 256, 64));
  ASSERT_EQ(plan.steps.size(), 64u);
  std::int64_t weight_bytes = 0;
  for (const FoldStep& step : plan.steps) {
    for (const Transfer& t : step.loads) {
      if (t.buffer != BufferKind::weight) continue;
      EXPECT_EQ(t.bytes, 1024);  // one block, never the whole tensor at once
      weight_bytes += t.bytes;
    }
  }
  EXPECT_EQ(weight_bytes, 256 * 256);
  EXPECT_EQ(plan.dram_read_bytes[static_cast<int>(BufferKind::weight)], 256 * 256);
}

}  // namespace
}  // namespace npusim
