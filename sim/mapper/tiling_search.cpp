#include "sim/mapper/tiling_search.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

#include "accel/array/fold_timing.h"
#include "accel/formats/integer_math.h"

namespace npusim {

std::string loop_order_name(const std::array<GemmDim, kGemmDims>& order) {
  std::string name;
  for (GemmDim d : order) name += d == GemmDim::m ? 'm' : d == GemmDim::n ? 'n' : 'k';
  return name;
}

FoldUnits fold_units(const GemmShape& shape, const ArrayConfig& array) {
  const std::int64_t k_block = static_cast<std::int64_t>(array.rows) * array.mac.lanes;
  FoldUnits u;
  switch (array.dataflow) {
    case Dataflow::ws: u = {1, array.cols, k_block, GemmDim::m}; break;
    case Dataflow::is: u = {array.cols, 1, k_block, GemmDim::n}; break;
    case Dataflow::os: u = {array.rows, array.cols, shape.k, GemmDim::k}; break;
  }
  return u;
}

namespace {

constexpr std::array<GemmDim, kGemmDims> kDims{GemmDim::m, GemmDim::n, GemmDim::k};
int idx(GemmDim d) { return static_cast<int>(d); }

// Sum of packed_bytes_of(a_i * b_j) over a grid that cuts A into tiles of ta
// (the last shorter) and B into tiles of tb: four tile sizes, in closed form.
std::int64_t grid_packed_bytes(std::int64_t a, std::int64_t ta, std::int64_t b, std::int64_t tb, int bits) {
  const std::int64_t ca = ceil_div(a, ta), cb = ceil_div(b, tb);
  const std::int64_t la = a - (ca - 1) * ta, lb = b - (cb - 1) * tb;
  return (ca - 1) * (cb - 1) * packed_bytes_of(ta * tb, bits) + (ca - 1) * packed_bytes_of(ta * lb, bits) +
         (cb - 1) * packed_bytes_of(la * tb, bits) + packed_bytes_of(la * lb, bits);
}

class TilingModel {
 public:
  TilingModel(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram)
      : needs_(needs), array_(array), sram_(sram), units_(fold_units(needs.shape, array)) {
    const auto& s = needs.shape;
    dims_ = {s.m, s.n, s.k};
    input_whole_ = needs.input_bytes(0, s.m, 0, s.k);
    weight_whole_ = packed_bytes_of(s.k * s.n, needs.weight_bits);
    const GemmTiling resident = with_residency(needs, sram, {});
    input_resident_ = resident.input_resident;
    weight_resident_ = resident.weight_resident;
  }

  std::int64_t dim(GemmDim d) const { return dims_[idx(d)]; }
  const FoldUnits& units() const { return units_; }
  bool input_resident() const { return input_resident_; }
  bool weight_resident() const { return weight_resident_; }
  std::int64_t half(BufferKind kind) const { return sram_[kind].capacity_bytes / 2; }

  std::int64_t count(const GemmTiling& t, GemmDim d) const { return ceil_div(dim(d), t.tile(d)); }

  // Sum and largest of the input bytes over the (Tm, Tk) tile grid (a conv's
  // interior tiles touch more rows than the padded first one).
  std::pair<std::int64_t, std::int64_t> input_tiles(std::int64_t tm, std::int64_t tk) {
    const auto key = std::make_pair(tm, tk);
    if (auto it = input_memo_.find(key); it != input_memo_.end()) return it->second;
    std::int64_t sum = 0, most = 0;
    for (std::int64_t m0 = 0; m0 < dim(GemmDim::m); m0 += tm) {
      for (std::int64_t k0 = 0; k0 < dim(GemmDim::k); k0 += tk) {
        const std::int64_t b =
            needs_.input_bytes(m0, std::min(m0 + tm, dim(GemmDim::m)), k0, std::min(k0 + tk, dim(GemmDim::k)));
        sum += b;
        most = std::max(most, b);
      }
    }
    return input_memo_[key] = {sum, most};
  }

  std::int64_t psum_need(const GemmTiling& t) const {
    if (array_.dataflow == Dataflow::os) {
      // The array holds OS's partial sums; the buffer takes one fold's results.
      return packed_bytes_of(std::int64_t{array_.rows} * array_.cols, needs_.psum_bits);
    }
    std::int64_t live_m = t.tile_m, live_n = t.tile_n;
    if (!t.spill_psums && count(t, GemmDim::k) > 1) {
      // Every output tile the loops inside K visit is started and unfinished.
      const int pk = position(t, GemmDim::k);
      if (position(t, GemmDim::m) > pk) live_m = dim(GemmDim::m);
      if (position(t, GemmDim::n) > pk) live_n = dim(GemmDim::n);
    }
    return packed_bytes_of(live_m * live_n, needs_.psum_bits);
  }

  bool fits(const GemmTiling& t) {
    if (!needs_.input_on_chip && !input_resident_ && input_tiles(t.tile_m, t.tile_k).second > half(BufferKind::ifmap)) {
      return false;
    }
    if (!weight_resident_ && packed_bytes_of(t.tile_k * t.tile_n, needs_.weight_bits) > half(BufferKind::weight)) {
      return false;
    }
    return psum_need(t) <= half(BufferKind::ofmap);
  }

  std::optional<TilingCost> evaluate(const GemmTiling& t) {
    if (!valid(t) || !fits(t)) return std::nullopt;
    TilingCost c;
    if (!needs_.input_on_chip) {
      c.input_bytes =
          input_resident_ ? input_whole_ : refetches(t, GemmDim::m, GemmDim::k) * input_tiles(t.tile_m, t.tile_k).first;
    }
    c.weight_bytes = weight_resident_ ? weight_whole_
                                      : refetches(t, GemmDim::k, GemmDim::n) *
                                            grid_packed_bytes(dim(GemmDim::k), t.tile_k, dim(GemmDim::n), t.tile_n,
                                                              needs_.weight_bits);
    if (t.spill_psums) {
      c.psum_write_bytes =
          (count(t, GemmDim::k) - 1) * packed_bytes_of(dim(GemmDim::m) * dim(GemmDim::n), needs_.psum_bits);
      c.psum_read_bytes = c.psum_write_bytes;
    }
    if (!needs_.output_on_chip) {
      // Written fold block by fold block: the temporal dimension in tiles,
      // the spatial ones in fold blocks.
      const auto block = [&](GemmDim d) { return d == units_.temporal ? t.tile(d) : units_.of(d); };
      c.output_bytes =
          grid_packed_bytes(dim(GemmDim::m), block(GemmDim::m), dim(GemmDim::n), block(GemmDim::n), needs_.output_bits);
    }
    c.compute_cycles = cycles(t.tile(units_.temporal));
    return c;
  }

  // Closed-form array cycles when the temporal dimension is cut into tiles of `tile`.
  std::int64_t cycles(std::int64_t tile) const {
    const GemmDim d = units_.temporal;
    const std::int64_t c = ceil_div(dim(d), tile), last = dim(d) - (c - 1) * tile;
    const auto timing = [&](std::int64_t len) {
      GemmShape sub = needs_.shape;
      (d == GemmDim::m ? sub.m : d == GemmDim::n ? sub.n : sub.k) = len;
      return gemm_timing(sub, array_).cycles;
    };
    return (c - 1) * (c > 1 ? timing(tile) : 0) + timing(last);
  }

  // A tiling is well formed when its tiles are whole fold blocks (or the
  // whole dimension), OS's K is uncut, and spilling has K tiles to spill between.
  bool valid(const GemmTiling& t) const {
    for (GemmDim d : kDims) {
      const std::int64_t tile = t.tile(d);
      if (tile < 1 || tile > dim(d)) return false;
      if (d != units_.temporal && tile != dim(d) && tile % units_.of(d) != 0) return false;
    }
    if (array_.dataflow == Dataflow::os && t.tile_k != dim(GemmDim::k)) return false;
    if (t.spill_psums) {
      if (array_.dataflow == Dataflow::os || count(t, GemmDim::k) == 1) return false;
      if (innermost_looping(t) == GemmDim::k) return false;
    }
    return true;
  }

 private:
  static int position(const GemmTiling& t, GemmDim d) {
    return static_cast<int>(std::find(t.order.begin(), t.order.end(), d) - t.order.begin());
  }

  GemmDim innermost_looping(const GemmTiling& t) const {
    GemmDim inner = t.order[0];
    for (GemmDim d : t.order) {
      if (count(t, d) > 1) inner = d;
    }
    return inner;
  }

  // How many times each tile of an operand indexed by (a, b) crosses: once per
  // iteration of each loop that runs outside its innermost indexing loop and
  // does not index it (loops of one iteration do not count).
  std::int64_t refetches(const GemmTiling& t, GemmDim a, GemmDim b) const {
    int inner = -1;
    for (int p = 0; p < kGemmDims; ++p) {
      if ((t.order[p] == a || t.order[p] == b) && count(t, t.order[p]) > 1) inner = p;
    }
    std::int64_t times = 1;
    for (int p = 0; p < inner; ++p) {
      if (t.order[p] != a && t.order[p] != b) times *= count(t, t.order[p]);
    }
    return times;
  }

  const GemmMemoryNeeds& needs_;
  const ArrayConfig& array_;
  const SramSet& sram_;
  FoldUnits units_;
  std::array<std::int64_t, kGemmDims> dims_{};
  std::int64_t input_whole_ = 0, weight_whole_ = 0;
  bool input_resident_ = false, weight_resident_ = false;
  std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::int64_t, std::int64_t>> input_memo_;
};

// Tile sizes in elements for `blocks` blocks of `unit` elements over `length`:
// equal splits ceil(B / j), j = 1..8, and powers of two.
void add_block_candidates(std::set<std::int64_t>& out, std::int64_t length, std::int64_t unit) {
  const std::int64_t blocks = ceil_div(length, unit);
  for (std::int64_t j = 1; j <= 8 && j <= blocks; ++j) out.insert(std::min(length, ceil_div(blocks, j) * unit));
  for (std::int64_t b = 1; b <= blocks; b *= 2) out.insert(std::min(length, b * unit));
}

std::vector<std::int64_t> dim_candidates(TilingModel& model, const GemmMemoryNeeds& needs, GemmDim d) {
  const std::int64_t length = model.dim(d), unit = model.units().of(d);
  std::set<std::int64_t> out;
  if (d == GemmDim::k && model.units().temporal == GemmDim::k) return {length};  // OS: K uncut
  add_block_candidates(out, length, unit);
  const std::int64_t row = needs.m_per_output_row;
  if (d == GemmDim::m && row > 0 && row < length) {
    // Whole output rows (in fold blocks when M is spatial) share no halo.
    const std::int64_t whole_rows = d == model.units().temporal ? row : std::lcm(row, unit);
    if (whole_rows < length) add_block_candidates(out, length, whole_rows);
  }
  return {out.rbegin(), out.rend()};  // largest first: ties keep the larger tile
}

// The largest temporal tile that fits with `base`'s other tiles (fits is
// monotone in it: every working set grows with the temporal tile).
std::optional<std::int64_t> largest_temporal(TilingModel& model, GemmTiling base) {
  const GemmDim d = model.units().temporal;
  auto with = [&](std::int64_t len) {
    GemmTiling t = base;
    (d == GemmDim::m ? t.tile_m : d == GemmDim::n ? t.tile_n : t.tile_k) = len;
    return t;
  };
  if (!model.fits(with(1))) return std::nullopt;
  std::int64_t lo = 1, hi = model.dim(d);
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo + 1) / 2;
    if (model.fits(with(mid)))
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

// The former planner's two fold orders as tile-loop orders: the array's row
// blocks innermost, or its column blocks (outermost: the temporal dimension).
std::array<std::array<GemmDim, kGemmDims>, 2> former_orders(Dataflow dataflow) {
  using D = GemmDim;
  switch (dataflow) {
    case Dataflow::ws: return {{{D::m, D::n, D::k}, {D::m, D::k, D::n}}};
    case Dataflow::is: return {{{D::n, D::m, D::k}, {D::n, D::k, D::m}}};
    case Dataflow::os: return {{{D::n, D::m, D::k}, {D::m, D::n, D::k}}};
  }
  return {};
}

}  // namespace

std::optional<TilingCost> evaluate_tiling(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram,
                                          const GemmTiling& tiling) {
  TilingModel model(needs, array, sram);
  GemmTiling t = tiling;
  t.input_resident = model.input_resident();
  t.weight_resident = model.weight_resident();
  return model.evaluate(t);
}

std::optional<TilingChoice> search_tiling(const GemmMemoryNeeds& needs, const ArrayConfig& array, const SramSet& sram) {
  TilingModel model(needs, array, sram);
  const FoldUnits& u = model.units();
  GemmTiling base;
  base.input_resident = model.input_resident();
  base.weight_resident = model.weight_resident();
  base.tile_m = std::min(u.m, model.dim(GemmDim::m));
  base.tile_n = std::min(u.n, model.dim(GemmDim::n));
  base.tile_k = std::min(u.k, model.dim(GemmDim::k));

  std::optional<TilingChoice> best;
  std::int64_t evaluated = 0;
  const auto consider = [&](const GemmTiling& t) {
    ++evaluated;
    const auto cost = model.evaluate(t);
    if (!cost) return;
    const auto key = [](const TilingCost& c) { return std::make_pair(c.dram_bytes(), c.compute_cycles); };
    if (!best || key(*cost) < key(best->cost)) best = TilingChoice{t, *cost, 0};
  };

  // The former plans first, so that they win ties.
  std::vector<std::int64_t> temporal_extra;
  for (const auto& order : former_orders(array.dataflow)) {
    GemmTiling t = base;
    t.order = order;
    if (const auto len = largest_temporal(model, t)) {
      temporal_extra.push_back(*len);
      (u.temporal == GemmDim::m ? t.tile_m : u.temporal == GemmDim::n ? t.tile_n : t.tile_k) = *len;
      consider(t);
    }
  }

  std::array<std::vector<std::int64_t>, kGemmDims> cands;
  for (GemmDim d : kDims) cands[idx(d)] = dim_candidates(model, needs, d);
  auto& temporal = cands[idx(u.temporal)];
  for (std::int64_t len : temporal_extra) {
    if (std::find(temporal.begin(), temporal.end(), len) == temporal.end()) temporal.push_back(len);
  }

  std::array<GemmDim, kGemmDims> order{GemmDim::m, GemmDim::n, GemmDim::k};
  std::vector<std::array<GemmDim, kGemmDims>> orders;
  do orders.push_back(order);
  while (std::next_permutation(order.begin(), order.end()));

  for (std::int64_t tm : cands[idx(GemmDim::m)]) {
    for (std::int64_t tk : cands[idx(GemmDim::k)]) {
      for (std::int64_t tn : cands[idx(GemmDim::n)]) {
        GemmTiling t = base;
        t.tile_m = tm;
        t.tile_n = tn;
        t.tile_k = tk;
        for (const auto& o : orders) {
          t.order = o;
          for (bool spill : {false, true}) {
            t.spill_psums = spill;
            consider(t);
          }
        }
      }
    }
  }
  if (best) best->candidates = evaluated;
  return best;
}

GemmTiling with_residency(const GemmMemoryNeeds& needs, const SramSet& sram, GemmTiling tiling) {
  const auto& s = needs.shape;
  tiling.input_resident = !needs.input_on_chip && needs.input_bytes(0, s.m, 0, s.k) <= sram.ifmap.capacity_bytes / 2;
  tiling.weight_resident = packed_bytes_of(s.k * s.n, needs.weight_bits) <= sram.weight.capacity_bytes / 2;
  return tiling;
}

std::int64_t minimal_tile_bytes(const GemmMemoryNeeds& needs, const ArrayConfig& array, BufferKind kind) {
  const FoldUnits u = fold_units(needs.shape, array);
  const auto& s = needs.shape;
  const std::int64_t tm = std::min(u.m, s.m), tn = std::min(u.n, s.n), tk = std::min(u.k, s.k);
  switch (kind) {
    case BufferKind::ifmap: return needs.input_bytes(0, tm, 0, tk);
    case BufferKind::weight: return packed_bytes_of(tk * tn, needs.weight_bits);
    case BufferKind::ofmap:
      if (array.dataflow == Dataflow::os)
        return packed_bytes_of(std::int64_t{array.rows} * array.cols, needs.psum_bits);
      return packed_bytes_of(tm * tn, needs.psum_bits);
  }
  return 0;
}

std::int64_t compulsory_dram_bytes(const GemmMemoryNeeds& needs) {
  const auto& s = needs.shape;
  const std::int64_t input = needs.input_on_chip ? 0 : needs.input_bytes(0, s.m, 0, s.k);
  const std::int64_t output = needs.output_on_chip ? 0 : packed_bytes_of(s.m * s.n, needs.output_bits);
  return input + packed_bytes_of(s.k * s.n, needs.weight_bits) + output;
}

}  // namespace npusim
