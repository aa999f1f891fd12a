#include "accel/array/fold_timing.h"

#include <algorithm>
#include <stdexcept>

#include "accel/formats/integer_math.h"

namespace npusim {
ArrayMapping map_gemm(const GemmShape& shape, const ArrayConfig& array) {
  if (shape.m < 1 || shape.n < 1 || shape.k < 1) {
    throw std::invalid_argument("GEMM dimensions must be at least 1");
  }
  const std::int64_t k_steps = ceil_div(shape.k, array.mac.lanes);
  ArrayMapping map;
  switch (array.dataflow) {
    case Dataflow::os:
      map.spatial_rows = shape.m;
      map.spatial_cols = shape.n;
      map.temporal = k_steps;
      break;
    case Dataflow::ws:
      map.spatial_rows = k_steps;
      map.spatial_cols = shape.n;
      map.temporal = shape.m;
      break;
    case Dataflow::is:
      map.spatial_rows = k_steps;
      map.spatial_cols = shape.m;
      map.temporal = shape.n;
      break;
  }
  map.row_folds = ceil_div(map.spatial_rows, array.rows);
  map.col_folds = ceil_div(map.spatial_cols, array.cols);
  return map;
}

GemmTiming gemm_timing(const GemmShape& shape, const ArrayConfig& array) {
  const ArrayMapping map = map_gemm(shape, array);
  const std::int64_t rows = array.rows;
  const std::int64_t cols = array.cols;
  const std::int64_t t = map.temporal;
  const std::int64_t folds = map.folds();

  // Both conventions use the full array: operands enter with a skew of one cycle
  // per row/column and the last result leaves at the far corner, whatever part
  // of the array a fold actually uses.
  const bool stationary_preload = array.dataflow != Dataflow::os;
  GemmTiming timing;
  timing.folds = folds;
  if (array.timing == TimingConvention::scalesim) {
    // fill (R, stationary load) + stream (T) + skew (R-1) + drain (C-1), per
    // fold; SCALE-Sim reports the zero-based index of the last cycle.
    const std::int64_t per_fold = (stationary_preload ? 2 * rows : rows) + cols + t - 2;
    timing.cycles = folds * per_fold - 1;
  } else {
    // A fold's stream starts max(T, R) cycles after the previous one: T to feed
    // it, and R to load the next stationary operands into the shadow registers
    // (WS, IS) or to read a fold's results out through the one output port per
    // column (OS). Then the last fold fills and drains once.
    const std::int64_t period = std::max(t, rows);
    if (stationary_preload) {
      const std::int64_t first_load = rows;
      timing.cycles = first_load + (folds - 1) * period + t + rows + cols - 2;
    } else {
      const std::int64_t readout = 1;
      timing.cycles = (folds - 1) * period + t + rows + cols - 2 + readout;
    }
  }
  timing.mapping_efficiency =
      static_cast<double>(map.spatial_rows) * map.spatial_cols / (static_cast<double>(folds) * rows * cols);
  return timing;
}

double array_utilization(std::int64_t macs, std::int64_t cycles, const ArrayConfig& array) {
  const double peak_macs_per_cycle = static_cast<double>(array.rows) * array.cols * array.mac.lanes;
  return cycles > 0 ? static_cast<double>(macs) / (static_cast<double>(cycles) * peak_macs_per_cycle) : 0.0;
}

}  // namespace npusim
