// Checks a simulated run against the plain reference executor, bit for bit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "accel/array/array_config.h"
#include "models/reference/reference_executor.h"
#include "models/tensor.h"
#include "sim/run/network_runner.h"

namespace npusim {

// Whether a run checks its layers against the reference executor: every
// layer (full, the default) or none (`--check none`: values and SQNR still
// computed; the reference, about half a run's time, is skipped).
enum class Check { full, none };

// "full" or "none".
const char* to_string(Check check);

struct LayerCheck {
  bool bit_exact = false;
  std::string detail;  // "bit-exact", or what differs first
};

// The reduction chunk the reference must use to reproduce the array's
// accumulation order: the whole K for OS (0), rows * lanes for WS and IS.
std::int64_t reference_reduction_chunk(const ArrayConfig& array);

// Empty when the tensors are identical: same dims and format, equal integer
// values, floats equal as bit patterns (so -0 != +0 and NaNs compare by payload).
// Otherwise the first difference, e.g. "element 17: sim 5, reference 6".
std::optional<std::string> first_difference(const Tensor& sim, const Tensor& reference);

// One check per layer: output tensor and overflow count.
std::vector<LayerCheck> check_against_reference(const NetworkRun& run, const ReferenceResult& reference);

bool all_bit_exact(const std::vector<LayerCheck>& checks);

}  // namespace npusim
