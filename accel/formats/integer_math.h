// Integer arithmetic the hardware models share.
#pragma once

#include <cstdint>

namespace npusim {

// ceil(a / b) for a >= 0, b > 0: folds of a dimension, cycles to move bytes
// at a rate, bursts of a transfer.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace npusim
