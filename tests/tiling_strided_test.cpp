// Conv input fetches (sim/run/memory_system.cpp, layer_gemm_needs): a strided
// conv fetches only the input rows and columns its taps touch.
#include <gtest/gtest.h>

#include "sim/mapper/memory_plan.h"
#include "sim/run/memory_system.h"

namespace npusim {
namespace {

Layer conv_layer(int kernel, int stride, int pad, std::int64_t out_channels) {
  Layer layer;
  layer.name = "conv";
  layer.type = LayerType::conv2d;
  layer.inputs = {"input"};
  layer.conv.out_channels = out_channels;
  layer.conv.kernel_h = layer.conv.kernel_w = kernel;
  layer.conv.stride_h = layer.conv.stride_w = stride;
  layer.conv.pad_top = layer.conv.pad_left = layer.conv.pad_bottom = layer.conv.pad_right = pad;
  return layer;
}

std::int64_t whole_input_bytes(const Layer& layer, const std::vector<std::int64_t>& dims) {
  const auto gemms = layer_gemm_needs(layer, dims, 8, 8, 8);
  const GemmShape& s = gemms.at(0).shape;
  return gemms.at(0).input_bytes(0, s.m, 0, s.k);
}

TEST(TilingStrided, OneByOneStrideTwoConvFetchesAQuarterOfItsInput) {
  // 8 channels of 16 x 16 int8 = 2,048 B; a 1x1 stride-2 conv reads rows and
  // columns 0, 2, ..., 14: 8 x 8 x 8 = 512 B, a quarter.
  EXPECT_EQ(whole_input_bytes(conv_layer(1, 2, 0, 4), {8, 16, 16}), 2048 / 4);
  // Output rows 2..3 read input rows 4 and 6 only: 2 x 8 columns x 8 channels.
  const auto needs = layer_gemm_needs(conv_layer(1, 2, 0, 4), {8, 16, 16}, 8, 8, 8).at(0);
  EXPECT_EQ(needs.input_bytes(2 * 8, 4 * 8, 0, 8), 2 * 8 * 8);
  EXPECT_EQ(needs.m_per_output_row, 8);
}

TEST(TilingStrided, KernelsThatCoverTheStrideGapFetchEveryLine) {
  // 3x3 stride 2 pad 1 on 16 x 16: output row oy reads input rows 2oy-1..2oy+1,
  // so every row and column is read: the whole 2,048 B.
  EXPECT_EQ(whole_input_bytes(conv_layer(3, 2, 1, 4), {8, 16, 16}), 2048);
  // 1x1 stride 1 reads everything too.
  EXPECT_EQ(whole_input_bytes(conv_layer(1, 1, 0, 4), {8, 16, 16}), 2048);
}

TEST(TilingStrided, StrideLargerThanTheKernelSkipsTheGaps) {
  // 2x2 stride 3 on 8 x 8 (no pad): outputs 0..2 read lines {0,1}, {3,4},
  // {6,7}: 6 of 8 rows and 6 of 8 columns, 36 of 64 pixels per channel.
  EXPECT_EQ(whole_input_bytes(conv_layer(2, 3, 0, 4), {2, 8, 8}), 2 * 36);
  // Dilation 2 with stride 1, 3x3 taps at 0, 2, 4 on 7 lines: output 0..2
  // read lines 0..6, all of them (the general path).
  Layer dilated = conv_layer(3, 1, 0, 4);
  dilated.conv.dilation_h = dilated.conv.dilation_w = 2;
  EXPECT_EQ(whole_input_bytes(dilated, {1, 7, 7}), 49);
  // Dilation 3, stride 4, 2 taps at 0 and 3 on 8 lines: outputs 0 and 1 read
  // {0, 3} and {4, 7}: 4 of 8 lines each way.
  Layer sparse = conv_layer(2, 4, 0, 4);
  sparse.conv.dilation_h = sparse.conv.dilation_w = 3;
  EXPECT_EQ(whole_input_bytes(sparse, {1, 8, 8}), 16);
}

}  // namespace
}  // namespace npusim
