// Named memory configurations with datasheet timing. A preset is a starting
// point: sim/config overrides any field of the returned DramConfig.
//
//   name          organization                          peak
//   ddr4-3200     1 x64 channel, 1 rank, 4x4 banks      25.6 GB/s
//   lpddr4-4266   4 x16 channels, 8 banks each          34.1 GB/s (34.19 with tCK = 468 ps)
//   lpddr5-6400   4 x16 channels, 4x4 banks (BG mode)   51.2 GB/s
//   hbm2          8 x128 channels of one stack, 4x4     256 GB/s
//   ideal         fixed 25.6 GB/s pipe, 30 ns latency   25.6 GB/s
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "accel/memory/dram_config.h"

namespace npusim {

std::optional<DramConfig> dram_preset(std::string_view name);
std::span<const std::string_view> dram_preset_names();

}  // namespace npusim
