#include "sim/mapper/memory_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "accel/array/fold_timing.h"
#include "accel/formats/integer_math.h"
#include "models/input_error.h"
#include "sim/mapper/tiling_search.h"

namespace npusim {

std::string_view to_string(FoldOrder order) { return order == FoldOrder::rows_inner ? "rows_inner" : "cols_inner"; }

namespace {

struct Range {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

Range block(std::int64_t index, std::int64_t width, std::int64_t limit) {
  return {index * width, std::min(limit, (index + 1) * width)};
}

// Remembers what of an operand's current tile is on chip. A tile (the whole
// operand when resident) crosses from DRAM once per visit, but slice by slice
// as the folds first need it, so the first fold waits for its own slice only
// and the rest streams in behind the compute (a DMA fetches in program order;
// loading a whole tensor before fold 0 made a bigger buffer slower). Conv
// input slices overlap (halo rows, channels split across K blocks), so the
// bytes a slice adds are capped at what of the tile is still missing: a tile
// never crosses more than once per visit.
class TileSlices {
 public:
  using Key = std::pair<std::int64_t, std::int64_t>;

  // The bytes of `slice` still to load when tile `tile` of `tile_bytes` is
  // the one on chip (a new tile replaces the previous one).
  std::int64_t missing(Key tile, std::int64_t tile_bytes, Key slice, std::int64_t slice_bytes) {
    if (!tile_ || *tile_ != tile) {
      tile_ = tile;
      loaded_.clear();
      loaded_bytes_ = 0;
    }
    if (!loaded_.insert(slice).second) return 0;
    const std::int64_t bytes = std::min(slice_bytes, tile_bytes - loaded_bytes_);
    if (bytes <= 0) return 0;
    loaded_bytes_ += bytes;
    return bytes;
  }

 private:
  std::optional<Key> tile_;
  std::set<Key> loaded_;
  std::int64_t loaded_bytes_ = 0;
};

// The fold program of one tiling: the tile loops in its order, and inside a
// tile visit the array's folds (row blocks inside column blocks when the
// tiling runs the rows' dimension inside the columns' one).
class PlanBuilder {
 public:
  PlanBuilder(const GemmMemoryNeeds& needs, const ArrayConfig& array, const GemmTiling& tiling)
      : needs_(needs), array_(array), t_(tiling), units_(fold_units(needs.shape, array)) {
    const auto& s = needs.shape;
    dims_ = {s.m, s.n, s.k};
    switch (array.dataflow) {
      case Dataflow::ws:
        rows_dim_ = GemmDim::k;
        cols_dim_ = GemmDim::n;
        break;
      case Dataflow::is:
        rows_dim_ = GemmDim::k;
        cols_dim_ = GemmDim::m;
        break;
      case Dataflow::os:
        rows_dim_ = GemmDim::m;
        cols_dim_ = GemmDim::n;
        break;
    }
    for (int d = 0; d < kGemmDims; ++d) counts_[d] = ceil_div(dims_[d], tiling.tile(static_cast<GemmDim>(d)));
    // Each temporal tile is one sub-GEMM: its closed-form cycles spread over its folds.
    const std::int64_t tc = counts_[idx(units_.temporal)];
    sub_cycles_.resize(tc);
    sub_folds_.resize(tc);
    emitted_.assign(tc, 0);
    for (std::int64_t i = 0; i < tc; ++i) {
      GemmShape sub = s;
      dim_ref(sub, units_.temporal) = tile_range(units_.temporal, i).size();
      sub_cycles_[i] = gemm_timing(sub, array).cycles;
      sub_folds_[i] = map_gemm(sub, array).folds();
    }
  }

  GemmMemoryPlan build() {
    GemmMemoryPlan plan;
    plan.tiling = t_;
    plan.order = position(rows_dim_) > position(cols_dim_) ? FoldOrder::rows_inner : FoldOrder::cols_inner;
    plan.temporal_tiles = counts_[idx(units_.temporal)];
    for (std::int64_t c : sub_cycles_) plan.compute_cycles += c;
    plan.compulsory_dram_bytes = compulsory_dram_bytes(needs_);
    const auto [d0, d1, d2] = t_.order;
    std::array<std::int64_t, kGemmDims> at{};
    for (at[idx(d0)] = 0; at[idx(d0)] < counts_[idx(d0)]; ++at[idx(d0)]) {
      for (at[idx(d1)] = 0; at[idx(d1)] < counts_[idx(d1)]; ++at[idx(d1)]) {
        for (at[idx(d2)] = 0; at[idx(d2)] < counts_[idx(d2)]; ++at[idx(d2)]) visit_tile(plan, at);
      }
    }
    return plan;
  }

 private:
  static int idx(GemmDim d) { return static_cast<int>(d); }
  static std::int64_t& dim_ref(GemmShape& s, GemmDim d) { return d == GemmDim::m ? s.m : d == GemmDim::n ? s.n : s.k; }
  int position(GemmDim d) const {
    return static_cast<int>(std::find(t_.order.begin(), t_.order.end(), d) - t_.order.begin());
  }
  Range tile_range(GemmDim d, std::int64_t i) const { return block(i, t_.tile(d), dims_[idx(d)]); }

  void visit_tile(GemmMemoryPlan& plan, const std::array<std::int64_t, kGemmDims>& at) {
    std::array<Range, kGemmDims> tile;
    for (GemmDim d : {GemmDim::m, GemmDim::n, GemmDim::k}) tile[idx(d)] = tile_range(d, at[idx(d)]);
    // The array's folds in the tile: fold blocks of its row and column
    // dimensions; the temporal dimension streams the whole tile.
    const bool rows_inner = position(rows_dim_) > position(cols_dim_);
    const GemmDim outer_dim = rows_inner ? cols_dim_ : rows_dim_, inner_dim = rows_inner ? rows_dim_ : cols_dim_;
    const Range outer_tile = tile[idx(outer_dim)], inner_tile = tile[idx(inner_dim)];
    const std::int64_t outer_unit = units_.of(outer_dim), inner_unit = units_.of(inner_dim);
    for (std::int64_t o = outer_tile.begin; o < outer_tile.end; o += outer_unit) {
      for (std::int64_t i = inner_tile.begin; i < inner_tile.end; i += inner_unit) {
        std::array<Range, kGemmDims> fold = tile;
        fold[idx(outer_dim)] = {o, std::min(o + outer_unit, outer_tile.end)};
        fold[idx(inner_dim)] = {i, std::min(i + inner_unit, inner_tile.end)};
        add_fold(plan, at, tile, fold);
      }
    }
  }

  static void count_sram(GemmMemoryPlan& plan, FoldStep& step, BufferKind buffer, std::int64_t read_bytes,
                         std::int64_t write_bytes) {
    const int b = static_cast<int>(buffer);
    plan.sram_read_bytes[b] += read_bytes;
    plan.sram_write_bytes[b] += write_bytes;
    step.sram_read_bytes[b] += read_bytes;
    step.sram_write_bytes[b] += write_bytes;
  }

  static void load(GemmMemoryPlan& plan, FoldStep& step, BufferKind buffer, std::uint64_t address, std::int64_t bytes,
                   TransferRole role = TransferRole::operand, ByteRange footprint = {}, std::int64_t after_step = -1) {
    if (bytes <= 0) return;
    step.loads.push_back(Transfer{buffer, address, bytes, false, role, footprint, after_step});
    plan.dram_read_bytes[static_cast<int>(buffer)] += bytes;
    count_sram(plan, step, buffer, 0, bytes);  // the DMA fills the buffer
  }

  static void store(GemmMemoryPlan& plan, FoldStep& step, std::uint64_t address, std::int64_t bytes, TransferRole role,
                    ByteRange footprint = {}) {
    step.stores.push_back(Transfer{BufferKind::ofmap, address, bytes, true, role, footprint});
    plan.dram_write_bytes += bytes;
    count_sram(plan, step, BufferKind::ofmap, bytes, 0);  // the DMA drains the buffer
  }

  void add_fold(GemmMemoryPlan& plan, const std::array<std::int64_t, kGemmDims>& at,
                const std::array<Range, kGemmDims>& tile, const std::array<Range, kGemmDims>& fold) {
    const auto& s = needs_.shape;
    const int ab = needs_.activation_bits, wb = needs_.weight_bits;
    const Range m = fold[0], n = fold[1], k = fold[2];
    FoldStep step;
    const std::int64_t ti = at[idx(units_.temporal)];
    const std::int64_t e = emitted_[ti]++;
    step.compute_cycles = sub_cycles_[ti] * (e + 1) / sub_folds_[ti] - sub_cycles_[ti] * e / sub_folds_[ti];

    // Operand slices; a resident operand is one tile for the whole GEMM.
    count_sram(plan, step, BufferKind::ifmap, packed_bytes_of(m.size() * k.size(), ab), 0);
    if (!needs_.input_on_chip) {
      const Range tm = tile[0], tk = tile[2];
      const bool whole = t_.input_resident;
      const std::int64_t slice_bytes = needs_.input_bytes(m.begin, m.end, k.begin, k.end);
      const std::int64_t bytes = input_.missing(
          whole ? TileSlices::Key{-1, -1} : TileSlices::Key{at[0], at[2]},
          whole ? needs_.input_bytes(0, s.m, 0, s.k) : needs_.input_bytes(tm.begin, tm.end, tk.begin, tk.end),
          {m.begin, k.begin}, slice_bytes);
      ByteRange footprint = input_footprint(m, k);
      if (bytes < slice_bytes) {
        // The tile's last missing bytes: later slices load nothing, so this
        // load stands for the rest of the tile.
        const ByteRange rest = whole ? input_footprint({0, s.m}, {0, s.k}) : input_footprint(tm, tk);
        footprint = {std::min(footprint.begin, rest.begin), std::max(footprint.end, rest.end)};
      }
      load(plan, step, BufferKind::ifmap,
           needs_.input_address + static_cast<std::uint64_t>(packed_bytes_of(m.begin * s.k + k.begin, ab)), bytes,
           TransferRole::operand, footprint);
    }
    const std::int64_t w_slice = packed_bytes_of(k.size() * n.size(), wb);
    count_sram(plan, step, BufferKind::weight, w_slice, 0);
    {
      const bool whole = t_.weight_resident;
      const std::int64_t bytes = weight_.missing(
          whole ? TileSlices::Key{-1, -1} : TileSlices::Key{at[2], at[1]},
          packed_bytes_of(whole ? s.k * s.n : tile[2].size() * tile[1].size(), wb), {k.begin, n.begin}, w_slice);
      load(plan, step, BufferKind::weight,
           needs_.weight_address + static_cast<std::uint64_t>(packed_bytes_of(k.begin * s.n + n.begin * k.size(), wb)),
           bytes);
    }

    // Partial sums: read-modify-write in the accumulator after the first
    // chunk; spilled ones come back from DRAM before their tile's first K
    // block and leave after its last. They sit in the output's DRAM slot
    // (sized for 32-bit elements).
    const std::int64_t psum_bytes = packed_bytes_of(m.size() * n.size(), needs_.psum_bits);
    const std::uint64_t psum_address =
        needs_.output_address + static_cast<std::uint64_t>(packed_bytes_of(m.begin * s.n + n.begin, needs_.psum_bits));
    const std::int64_t k_tiles = counts_[2];
    const std::int64_t step_index = static_cast<std::int64_t>(plan.steps.size());
    if (t_.spill_psums && at[2] > 0 && k.begin == tile[2].begin) {
      // Read back what the fold of the previous K tile spilled, once it is in DRAM.
      const auto spilled = psum_spill_step_.find(psum_address);
      load(plan, step, BufferKind::ofmap, psum_address, psum_bytes, TransferRole::partial_sums, {},
           spilled == psum_spill_step_.end() ? -1 : spilled->second);
    }
    const bool accumulates = array_.dataflow != Dataflow::os && k.begin > 0;
    count_sram(plan, step, BufferKind::ofmap, accumulates ? psum_bytes : 0, psum_bytes);
    if (t_.spill_psums && at[2] < k_tiles - 1 && k.end == tile[2].end) {
      store(plan, step, psum_address, psum_bytes, TransferRole::partial_sums);
      psum_spill_step_[psum_address] = step_index;
    }
    if (k.end == s.k) step.output_elements = m.size() * n.size();  // finished: the PPU's epilogue takes them
    if (k.end == s.k && !needs_.output_on_chip) {
      store(plan, step,
            needs_.output_address +
                static_cast<std::uint64_t>(packed_bytes_of(m.begin * s.n + n.begin, needs_.output_bits)),
            packed_bytes_of(m.size() * n.size(), needs_.output_bits), TransferRole::output, output_footprint(m, n));
    }
    plan.steps.push_back(std::move(step));
  }

  // Absolute footprints (empty when the needs describe none).
  ByteRange input_footprint(Range m, Range k) const {
    if (!needs_.input_footprint) return {};
    const ByteRange r = needs_.input_footprint(m.begin, m.end, k.begin, k.end);
    return {needs_.input_tensor_address + r.begin, needs_.input_tensor_address + r.end};
  }
  ByteRange output_footprint(Range m, Range n) const {
    if (!needs_.output_footprint) return {};
    const ByteRange r = needs_.output_footprint(m.begin, m.end, n.begin, n.end);
    return {needs_.output_tensor_address + r.begin, needs_.output_tensor_address + r.end};
  }

  const GemmMemoryNeeds& needs_;
  const ArrayConfig& array_;
  GemmTiling t_;
  FoldUnits units_;
  std::array<std::int64_t, kGemmDims> dims_{}, counts_{};
  GemmDim rows_dim_ = GemmDim::k, cols_dim_ = GemmDim::n;
  std::vector<std::int64_t> sub_cycles_, sub_folds_, emitted_;
  TileSlices input_, weight_;
  std::map<std::uint64_t, std::int64_t> psum_spill_step_;  // partial-sum address -> the step that last spilled it
};

[[noreturn]] void fail_minimal(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram) {
  for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
    const std::int64_t needed = minimal_tile_bytes(needs, array, kind);
    if (needed > sram[kind].capacity_bytes / 2) {
      throw InputError("$.memory.sram." + std::string(to_string(kind)) +
                       ".kb: " + std::to_string(sram[kind].capacity_bytes) +
                       " bytes cannot hold one minimal tile: double buffering needs 2 x " + std::to_string(needed) +
                       " = " + std::to_string(2 * needed) + " bytes");
    }
  }
  throw InputError("$.memory.sram: the buffers cannot hold one minimal tile");
}

}  // namespace

GemmMemoryPlan build_gemm_plan(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram,
                               const GemmTiling& tiling) {
  return PlanBuilder(needs, array, with_residency(needs, sram, tiling)).build();
}

GemmMemoryPlan plan_gemm_memory(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram) {
  const auto choice = search_tiling(needs, array, sram);
  if (!choice) fail_minimal(needs, array, sram);
  return build_gemm_plan(needs, array, sram, choice->tiling);
}

}  // namespace npusim
