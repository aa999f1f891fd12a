// The memory planner of main ff9e742 (sim/mapper/memory_plan.cpp before the
// tiling search), verbatim but for its namespace: the oracle the tiling tests
// hold the search against ("DRAM bytes never exceed today's"). Kept in tests/
// only; nothing in the simulator calls it.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "accel/array/fold_timing.h"
#include "models/input_error.h"
#include "sim/mapper/memory_plan.h"

namespace npusim::legacy {

namespace detail {

struct Range {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

inline Range block(std::int64_t index, std::int64_t width, std::int64_t limit) {
  return {index * width, std::min(limit, (index + 1) * width)};
}

// One operand's slice as the DMA moves it.
struct Slice {
  BufferKind buffer;
  std::tuple<std::int64_t, std::int64_t, std::int64_t> key;
  std::int64_t bytes;
  std::uint64_t address;
};

// Remembers what of an operand is on chip. When the whole operand fits in half
// its buffer it crosses from DRAM once, but slice by slice as the folds first
// need it, so the first fold waits for its own slice only and the rest streams
// in behind the compute (a DMA fetches in program order; loading the whole
// tensor before fold 0 made a bigger buffer slower). Conv input slices overlap
// (halo rows), so the bytes a slice adds are capped at what of the whole
// operand is still missing: the operand never crosses more than once.
// Otherwise only the last slice stays, and a fold whose slice differs from the
// previous one loads it.
class ResidentSlices {
 public:
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
  ResidentSlices(bool whole_fits, std::int64_t whole_bytes) : whole_fits_(whole_fits), whole_bytes_(whole_bytes) {}

  // The bytes to load for `s` (nullopt when on chip) and from where.
  std::optional<Slice> missing(const Slice& s) {
    if (whole_fits_) {
      if (!loaded_.insert(s.key).second) return std::nullopt;
      const std::int64_t bytes = std::min(s.bytes, whole_bytes_ - loaded_bytes_);
      if (bytes <= 0) return std::nullopt;
      loaded_bytes_ += bytes;
      return Slice{s.buffer, s.key, bytes, s.address};
    }
    if (last_ && *last_ == s.key) return std::nullopt;
    last_ = s.key;
    return s;
  }

 private:
  bool whole_fits_;
  std::int64_t whole_bytes_;
  std::int64_t loaded_bytes_ = 0;
  std::set<Key> loaded_;
  std::optional<Key> last_;
};

class PlanBuilder {
 public:
  PlanBuilder(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram)
      : needs_(needs), array_(array), sram_(sram), map_(map_gemm(needs.shape, array)) {
    k_block_ = static_cast<std::int64_t>(array.rows) * array.mac.lanes;
  }

  std::int64_t half(BufferKind kind) const { return sram_[kind].capacity_bytes / 2; }

  // Largest working sets of one fold for a temporal tile of `t_len`, per buffer.
  std::int64_t need(BufferKind kind, FoldOrder order, std::int64_t t_len) const {
    const auto& s = needs_.shape;
    const std::int64_t kb = std::min(k_block_, s.k);
    const std::int64_t psum = needs_.psum_bits;
    switch (array_.dataflow) {
      case Dataflow::ws:
        if (kind == BufferKind::ifmap) return needs_.input_bytes(0, t_len, 0, kb);
        if (kind == BufferKind::weight)
          return packed_bytes_of(kb * std::min<std::int64_t>(array_.cols, s.n), needs_.weight_bits);
        return packed_bytes_of(
            t_len * (order == FoldOrder::rows_inner ? std::min<std::int64_t>(array_.cols, s.n) : s.n), psum);
      case Dataflow::is:
        if (kind == BufferKind::ifmap) return needs_.input_bytes(0, std::min<std::int64_t>(array_.cols, s.m), 0, kb);
        if (kind == BufferKind::weight) return packed_bytes_of(kb * t_len, needs_.weight_bits);
        return packed_bytes_of(
            t_len * (order == FoldOrder::rows_inner ? std::min<std::int64_t>(array_.cols, s.m) : s.m), psum);
      case Dataflow::os:
        if (kind == BufferKind::ifmap) return needs_.input_bytes(0, std::min<std::int64_t>(array_.rows, s.m), 0, s.k);
        if (kind == BufferKind::weight)
          return packed_bytes_of(s.k * std::min<std::int64_t>(array_.cols, s.n), needs_.weight_bits);
        return packed_bytes_of(std::int64_t{array_.rows} * array_.cols, psum);
    }
    return 0;
  }

  bool fits(FoldOrder order, std::int64_t t_len) const {
    for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
      if (kind == BufferKind::ifmap && needs_.input_on_chip) continue;
      if (need(kind, order, t_len) > half(kind)) return false;
    }
    return true;
  }

  // The temporal tile length that fits, largest first; OS cannot cut its
  // temporal dimension (the reduction) without changing the accumulation order.
  std::optional<std::int64_t> tile_length(FoldOrder order) const {
    const std::int64_t t = map_.temporal;
    if (array_.dataflow == Dataflow::os) return fits(order, t) ? std::optional(t) : std::nullopt;
    if (!fits(order, 1)) return std::nullopt;
    std::int64_t lo = 1, hi = t;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo + 1) / 2;
      if (fits(order, mid))
        lo = mid;
      else
        hi = mid - 1;
    }
    return lo;
  }

  [[noreturn]] void fail_minimal() const {
    for (BufferKind kind : {BufferKind::ifmap, BufferKind::weight, BufferKind::ofmap}) {
      const std::int64_t t_min = array_.dataflow == Dataflow::os ? map_.temporal : 1;
      const std::int64_t needed = need(kind, FoldOrder::rows_inner, t_min);
      if (needed > half(kind)) {
        throw InputError("$.memory.sram." + std::string(to_string(kind)) +
                         ".kb: " + std::to_string(sram_[kind].capacity_bytes) +
                         " bytes cannot hold one minimal tile: double buffering needs 2 x " + std::to_string(needed) +
                         " = " + std::to_string(2 * needed) + " bytes");
      }
    }
    throw InputError("$.memory.sram: the buffers cannot hold one minimal tile");
  }

  GemmMemoryPlan build(FoldOrder order, std::int64_t t_len) const {
    GemmMemoryPlan plan;
    plan.order = order;
    const auto& s = needs_.shape;
    const std::int64_t t_total = map_.temporal;
    plan.temporal_tiles = (t_total + t_len - 1) / t_len;
    const bool ws = array_.dataflow == Dataflow::ws, is = array_.dataflow == Dataflow::is;
    // Resident when the whole operand fits in half its buffer.
    const std::int64_t input_bytes = needs_.input_bytes(0, s.m, 0, s.k);
    const std::int64_t weight_bytes = packed_bytes_of(s.k * s.n, needs_.weight_bits);
    ResidentSlices ifmap_slices(needs_.input_on_chip || input_bytes <= half(BufferKind::ifmap), input_bytes);
    ResidentSlices weight_slices(weight_bytes <= half(BufferKind::weight), weight_bytes);

    for (std::int64_t tt = 0; tt < plan.temporal_tiles; ++tt) {
      const Range t = block(tt, t_len, t_total);
      GemmShape sub = s;
      if (ws) sub.m = t.size();
      if (is) sub.n = t.size();
      const ArrayMapping map = map_gemm(sub, array_);
      const std::int64_t folds = map.folds();
      const std::int64_t sub_cycles = gemm_timing(sub, array_).cycles;
      plan.compute_cycles += sub_cycles;
      std::int64_t fold_index = 0;
      const std::int64_t outer = order == FoldOrder::rows_inner ? map.col_folds : map.row_folds;
      const std::int64_t inner = order == FoldOrder::rows_inner ? map.row_folds : map.col_folds;
      for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t i = 0; i < inner; ++i, ++fold_index) {
          const std::int64_t rf = order == FoldOrder::rows_inner ? i : o;
          const std::int64_t cf = order == FoldOrder::rows_inner ? o : i;
          FoldStep step;
          step.compute_cycles = sub_cycles * (fold_index + 1) / folds - sub_cycles * fold_index / folds;
          add_fold(plan, step, t, rf, cf, map.row_folds, ifmap_slices, weight_slices);
          plan.steps.push_back(std::move(step));
        }
      }
    }
    return plan;
  }

 private:
  static void count_sram(GemmMemoryPlan& plan, FoldStep& step, BufferKind buffer, std::int64_t read_bytes,
                         std::int64_t write_bytes) {
    const int b = static_cast<int>(buffer);
    plan.sram_read_bytes[b] += read_bytes;
    plan.sram_write_bytes[b] += write_bytes;
    step.sram_read_bytes[b] += read_bytes;
    step.sram_write_bytes[b] += write_bytes;
  }

  void load(GemmMemoryPlan& plan, FoldStep& step, const Slice& slice, ResidentSlices& resident,
            std::int64_t array_read_bytes, bool on_chip_already) const {
    const int b = static_cast<int>(slice.buffer);
    count_sram(plan, step, slice.buffer, array_read_bytes, 0);
    const auto missing = resident.missing(slice);
    if (!missing || on_chip_already) return;
    step.loads.push_back(Transfer{missing->buffer, missing->address, missing->bytes, false, TransferRole::operand, {}});
    plan.dram_read_bytes[b] += missing->bytes;
    count_sram(plan, step, slice.buffer, 0, missing->bytes);
  }

  void add_fold(GemmMemoryPlan& plan, FoldStep& step, Range t, std::int64_t rf, std::int64_t cf, std::int64_t row_folds,
                ResidentSlices& ifmap_slices, ResidentSlices& weight_slices) const {
    const auto& s = needs_.shape;
    const int ab = needs_.activation_bits, wb = needs_.weight_bits;
    Range m, n, k;
    bool completes_outputs = true;
    switch (array_.dataflow) {
      case Dataflow::ws:
        k = block(rf, k_block_, s.k);
        n = block(cf, array_.cols, s.n);
        m = t;
        completes_outputs = rf == row_folds - 1;
        break;
      case Dataflow::is:
        k = block(rf, k_block_, s.k);
        m = block(cf, array_.cols, s.m);
        n = t;
        completes_outputs = rf == row_folds - 1;
        break;
      case Dataflow::os:
        m = block(rf, array_.rows, s.m);
        n = block(cf, array_.cols, s.n);
        k = {0, s.k};
        break;
    }
    // Keys name a slice uniquely across the GEMM: the DMA skips what is on chip.
    const std::int64_t a_key_t = array_.dataflow == Dataflow::ws ? t.begin : -1;
    const std::int64_t w_key_t = array_.dataflow == Dataflow::is ? t.begin : -1;
    const Slice a{BufferKind::ifmap,
                  {a_key_t, m.begin, k.begin},
                  needs_.input_bytes(m.begin, m.end, k.begin, k.end),
                  needs_.input_address + static_cast<std::uint64_t>(packed_bytes_of(m.begin * s.k + k.begin, ab))};
    const Slice w{
        BufferKind::weight,
        {w_key_t, k.begin, n.begin},
        packed_bytes_of(k.size() * n.size(), wb),
        needs_.weight_address + static_cast<std::uint64_t>(packed_bytes_of(k.begin * s.n + n.begin * k.size(), wb))};
    load(plan, step, a, ifmap_slices, packed_bytes_of(m.size() * k.size(), ab), needs_.input_on_chip);
    load(plan, step, w, weight_slices, packed_bytes_of(k.size() * n.size(), wb), false);

    // Partial sums: read-modify-write in the accumulator after the first chunk.
    const std::int64_t psum_bytes = packed_bytes_of(m.size() * n.size(), needs_.psum_bits);
    const bool accumulates = array_.dataflow != Dataflow::os && rf > 0;
    count_sram(plan, step, BufferKind::ofmap, accumulates ? psum_bytes : 0, psum_bytes);
    if (!completes_outputs || needs_.output_on_chip) return;
    const std::int64_t out_bytes = packed_bytes_of(m.size() * n.size(), needs_.output_bits);
    count_sram(plan, step, BufferKind::ofmap, out_bytes, 0);
    plan.dram_write_bytes += out_bytes;
    step.stores.push_back(Transfer{BufferKind::ofmap,
                                   needs_.output_address + static_cast<std::uint64_t>(packed_bytes_of(
                                                               m.begin * s.n + n.begin, needs_.output_bits)),
                                   out_bytes,
                                   true,
                                   TransferRole::output,
                                   {}});
  }

  const GemmMemoryNeeds& needs_;
  const ArrayConfig& array_;
  const SramSet& sram_;
  ArrayMapping map_;
  std::int64_t k_block_ = 1;
};

}  // namespace detail

inline GemmMemoryPlan plan_gemm_memory(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram) {
  const detail::PlanBuilder builder(needs, array, sram);
  std::optional<GemmMemoryPlan> best;
  for (FoldOrder order : {FoldOrder::rows_inner, FoldOrder::cols_inner}) {
    const auto t_len = builder.tile_length(order);
    if (!t_len) continue;
    GemmMemoryPlan plan = builder.build(order, *t_len);
    const auto key = [](const GemmMemoryPlan& p) { return std::make_pair(p.dram_bytes(), p.compute_cycles); };
    if (!best || key(plan) < key(*best)) best = std::move(plan);
  }
  if (!best) builder.fail_minimal();
  return std::move(*best);
}

}  // namespace npusim::legacy
