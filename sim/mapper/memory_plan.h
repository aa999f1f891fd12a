// How one GEMM of a layer uses the on-chip buffers and DRAM: the fold order
// (which operand stays on chip longest), how far the temporal dimension must be
// cut to fit, and, fold by fold, the DMA loads each fold needs and the results
// it writes back. The plan is pure arithmetic; the netlist (accel/npu/npu_netlist.h) times it.
//
// Each fold of the array (accel/array/fold_timing.h) needs a block of the stationary
// operand and a slice of the streaming one (WS: W block + A rows for the fold's
// K slice; IS: A block + W columns; OS: A rows of the fold's M block + W columns
// of its N block). A buffer is double buffered: the DMA fills one half while the
// array reads the other, so an operand is "resident" when it fits in half its
// buffer, and then crosses from DRAM once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "accel/array/array_config.h"
#include "accel/array/gemm.h"
#include "accel/formats/packing.h"  // packed_bytes_of: the plan counts tensors at their packed size
#include "accel/memory/sram_config.h"
#include "accel/npu/npu_program.h"  // Transfer, FoldStep: the plan is a fold program

namespace npusim {

// Which fold loop is innermost. rows_inner: for each column block, run all row
// blocks (WS/IS: the reduction, so partial sums of one column block stay in the
// accumulator and the streaming operand cycles); cols_inner: for each row block,
// run all column blocks (the streaming slice stays, every partial sum stays).
enum class FoldOrder { rows_inner, cols_inner };
std::string_view to_string(FoldOrder order);

struct GemmMemoryNeeds {
  GemmShape shape;
  int activation_bits = 8;
  int weight_bits = 8;
  int output_bits = 8;  // the layer's output activation format
  int psum_bits = 32;   // int32 or fp32 partial sums in the accumulator
  // Bytes of the stored input tensor that rows [m0, m1) and reduction
  // [k0, k1) of A touch (for a conv, the input rows and channels behind the
  // im2col rows; never the duplicated im2col matrix).
  std::function<std::int64_t(std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1)> input_bytes;
  // GEMM rows per output row of a conv (its output width; 0 for a GEMM
  // without rows): tiles of M in whole output rows share no input halo.
  std::int64_t m_per_output_row = 0;
  // Where rows [m0, m1) and reduction [k0, k1) of A lie in the stored input,
  // and outputs [m0, m1) x [n0, n1) in the stored output: byte ranges from the
  // tensors' bases (in their stored order), the footprints of loads and stores
  // (accel/npu/npu_program.h). Unset: the whole tensor for inputs, the
  // transfer's own bytes for outputs.
  std::function<ByteRange(std::int64_t m0, std::int64_t m1, std::int64_t k0, std::int64_t k1)> input_footprint;
  std::function<ByteRange(std::int64_t m0, std::int64_t m1, std::int64_t n0, std::int64_t n1)> output_footprint;
  std::uint64_t input_tensor_address = 0, output_tensor_address = 0;  // the bases of those footprints
  bool input_on_chip = false;   // the previous layer left the input in the ifmap buffer
  bool output_on_chip = false;  // the next layer reads the output from the ifmap buffer
  std::uint64_t input_address = 0, weight_address = 0, output_address = 0;
};

// The GEMM dimension a tile loop runs over.
enum class GemmDim { m, n, k };
inline constexpr int kGemmDims = 3;

// A buffer-level tiling of one GEMM (sim/mapper/tiling_search.h chooses it):
// tiles of M, N and K in whole fold blocks of the array, visited by three
// nested loops. An operand's tile stays on chip across the inner loops that do
// not index it; an operand that fits whole in half its buffer crosses once.
struct GemmTiling {
  std::int64_t tile_m = 0, tile_n = 0, tile_k = 0;  // GEMM elements per tile (the last one may be shorter)
  std::array<GemmDim, kGemmDims> order{GemmDim::m, GemmDim::n, GemmDim::k};  // outermost first
  // K is not innermost and the live partial sums do not fit the accumulator:
  // they go to DRAM between K tiles (psum_bits wide, written and read back).
  bool spill_psums = false;
  bool input_resident = false, weight_resident = false;  // the whole operand fits half its buffer
  std::int64_t tile(GemmDim d) const { return d == GemmDim::m ? tile_m : d == GemmDim::n ? tile_n : tile_k; }
};
std::string loop_order_name(const std::array<GemmDim, kGemmDims>& order);  // "mnk": outermost first

struct GemmMemoryPlan {
  FoldOrder order = FoldOrder::rows_inner;
  GemmTiling tiling;
  // Each tensor once at its stored width: the input bytes the GEMM touches
  // (0 when on chip), the weights, the outputs (0 when they stay on chip).
  std::int64_t compulsory_dram_bytes = 0;
  std::int64_t temporal_tiles = 1;  // the GEMM's temporal dimension cut into this many pieces
  std::vector<FoldStep> steps;
  std::int64_t dram_read_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t dram_write_bytes = 0;
  std::int64_t sram_read_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_write_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t compute_cycles = 0;
  std::int64_t dram_bytes() const {
    return dram_read_bytes[0] + dram_read_bytes[1] + dram_read_bytes[2] + dram_write_bytes;
  }
};

// Chooses the tiling with the least DRAM traffic, then the fewest cycles, that
// fits the buffers (sim/mapper/tiling_search.h) and builds its fold program.
// Throws InputError naming the buffer and the bytes needed when not even one
// fold's minimal working set fits.
GemmMemoryPlan plan_gemm_memory(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram);

// The fold program of a given tiling (loads at the first fold of a tile visit
// that needs a slice not on chip, stores when outputs complete or partial sums
// spill). The caller has checked that the tiling fits.
GemmMemoryPlan build_gemm_plan(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram,
                               const GemmTiling& tiling);

}  // namespace npusim
