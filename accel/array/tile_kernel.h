// The `tile` fidelity's values: an optimized GEMM that follows the accumulation
// order of accel/array/mac_arithmetic.h exactly, so it matches the register-level
// model bit for bit.
#pragma once

#include <cstdint>

#include "accel/array/gemm.h"
#include "accel/formats/number_format.h"

namespace npusim {

GemmOutput compute_gemm_values(const GemmOperands& operands, const MacFormat& mac,
                               std::int64_t reduction_chunk);

}  // namespace npusim
