// The `tile` fidelity's values: an optimized GEMM that follows the accumulation
// order of accel/array/mac_arithmetic.h exactly, so it matches the register-level
// model bit for bit. Binary x binary (W1A1) runs on packed bits, one XNOR and
// popcount per 64 products (accel/formats/packing.h), as an XNOR-popcount
// array does; the integer sum it gives is the same.
#pragma once

#include <cstdint>

#include "accel/array/gemm.h"
#include "accel/formats/number_format.h"

namespace npusim {

GemmOutput compute_gemm_values(const GemmOperands& operands, const MacFormat& mac, std::int64_t reduction_chunk);

}  // namespace npusim
