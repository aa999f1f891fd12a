// Closed-form timing of a GEMM on the systolic array (the `tile` fidelity).
// The `pe` fidelity never calls this: its cycles come from stepping registers,
// and tests hold the two equal.
#pragma once

#include <cstdint>

#include "accel/array/array_config.h"
#include "accel/array/gemm.h"

namespace npusim {

// How a GEMM is laid onto the array: the spatial row / column dimensions and the
// temporal one, after lanes shorten the reduction. SCALE-Sim's mapping:
// OS (Sr, Sc, T) = (M, N, K'), WS = (K', N, M), IS = (K', M, N), K' = ceil(K/lanes).
struct ArrayMapping {
  std::int64_t spatial_rows = 0;
  std::int64_t spatial_cols = 0;
  std::int64_t temporal = 0;
  std::int64_t row_folds = 0;  // ceil(Sr / R)
  std::int64_t col_folds = 0;  // ceil(Sc / C)
  std::int64_t folds() const { return row_folds * col_folds; }
};

ArrayMapping map_gemm(const GemmShape& shape, const ArrayConfig& array);

struct GemmTiming {
  std::int64_t cycles = 0;
  std::int64_t folds = 0;
  // Share of the folds' PE slots holding a real operand: Sr*Sc / (folds*R*C).
  double mapping_efficiency = 0.0;
};

GemmTiming gemm_timing(const GemmShape& shape, const ArrayConfig& array);

// Share of the array's peak (rows x cols x lanes MACs per cycle) that `macs`
// in `cycles` achieved; 0 when no cycles passed.
double array_utilization(std::int64_t macs, std::int64_t cycles, const ArrayConfig& array);

}  // namespace npusim
