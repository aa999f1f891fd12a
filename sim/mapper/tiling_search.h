// The per-GEMM tiling search: buffer-level tiles of M, N and K in whole fold
// blocks of the array, the order of the three tile loops, and whether partial
// sums spill to DRAM, chosen for the least DRAM traffic and then the fewest
// array cycles among those whose working sets fit the double-buffered SRAMs.
// Traffic is evaluated in closed form (no fold program is built per
// candidate); memory_plan.cpp builds the program of the winner, and tests hold
// the two equal.
//
// Closed form. With tile counts c_d = ceil(D / T_d) and the loops of count 1
// dropped from the order, an operand X (A indexed by m, k; W by k, n) is
// fetched tile by tile, once per iteration of every loop outside its innermost
// indexing loop that does not index it:
//   bytes(X) = (product of those loops' counts) * sum over X's tiles of their bytes,
// or the whole tensor once when it fits in half its buffer (resident). Partial
// sums live on chip for every output tile the loops inside K visit; if they do
// not fit, they spill as psum_bits-wide writes and reads: 2 (c_k - 1) M N
// psum_bits / 8 bytes. Outputs cross once (zero when the next layer keeps them).
#pragma once

#include <cstdint>
#include <optional>

#include "sim/mapper/memory_plan.h"

namespace npusim {

struct TilingCost {
  std::int64_t input_bytes = 0, weight_bytes = 0, output_bytes = 0;
  std::int64_t psum_read_bytes = 0, psum_write_bytes = 0;
  std::int64_t compute_cycles = 0;  // closed-form array cycles of all temporal tiles
  std::int64_t dram_bytes() const {
    return input_bytes + weight_bytes + output_bytes + psum_read_bytes + psum_write_bytes;
  }
};

struct TilingChoice {
  GemmTiling tiling;
  TilingCost cost;
  std::int64_t candidates = 0;  // tilings evaluated
};

// The GEMM elements one fold block covers along each dimension (WS: 1 row of
// M, C columns of N, R*lanes of K; IS: C of M, 1 of N, R*lanes of K; OS: R of
// M, C of N, all of K) and the dimension the array streams (its temporal one).
struct FoldUnits {
  std::int64_t m = 1, n = 1, k = 1;
  GemmDim temporal = GemmDim::m;
  std::int64_t of(GemmDim d) const { return d == GemmDim::m ? m : d == GemmDim::n ? n : k; }
};
FoldUnits fold_units(const GemmShape& shape, const ArrayConfig& array);

// The cost of `tiling`, or nullopt when a working set does not fit half its
// buffer (or the tiling cuts what the dataflow cannot: OS's K).
std::optional<TilingCost> evaluate_tiling(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram,
                                          const GemmTiling& tiling);

// The best tiling of a bounded candidate set: per dimension, equal splits
// ceil(B / j) for j = 1..8 (every divisor B / j among them) and powers of two,
// in fold blocks B (conv M also in whole output rows), plus the largest
// temporal tile that fits with one-block tiles of the other dimensions (the
// two plans of the former all-or-nothing planner); all six loop orders, with
// and without spilling. nullopt when nothing fits.
std::optional<TilingChoice> search_tiling(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram);

// `tiling` with its residency flags set by the rule the search uses: an
// operand not on chip is resident when it fits whole in half its buffer.
GemmTiling with_residency(const GemmMemoryNeeds& needs, const SramSet& sram, GemmTiling tiling);

// Bytes each buffer needs for the smallest tiling (one fold block of each
// dimension, a temporal tile of one): what an error names when nothing fits.
std::int64_t minimal_tile_bytes(const GemmMemoryNeeds& needs, const ArrayConfig& array, BufferKind kind);

// Each tensor once at its stored width: the input bytes the GEMM touches
// (zero when on chip), the weights, the outputs (zero when they stay on chip).
std::int64_t compulsory_dram_bytes(const GemmMemoryNeeds& needs);

}  // namespace npusim
