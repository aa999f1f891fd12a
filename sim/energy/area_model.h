// Silicon area of a configuration from a technology table (sim/energy/energy_table.h):
// the PE array (PE area of the MAC format x lanes, times rows x cols) and the
// on-chip buffers (area per KB at each buffer's capacity). The post-processing
// unit, DMA, control and wiring are not counted.
#pragma once

#include <cstdint>

#include "accel/array/array_config.h"
#include "sim/energy/energy_table.h"
#include "sim/mapper/memory_plan.h"

namespace npusim {

struct SramCapacities {
  std::int64_t ifmap_bytes = 0;  // 0: no such buffer (a config without a memory section)
  std::int64_t weight_bytes = 0;
  std::int64_t ofmap_bytes = 0;
};

SramCapacities capacities_of(const SramSet& sram);

struct AreaBreakdown {
  double pe_um2 = 0;  // one PE with all its lanes
  double pe_array_mm2 = 0;
  double sram_ifmap_mm2 = 0;
  double sram_weight_mm2 = 0;
  double sram_ofmap_mm2 = 0;
  double total_mm2 = 0;

  double logic_mm2() const { return pe_array_mm2; }
  double sram_mm2() const { return sram_ifmap_mm2 + sram_weight_mm2 + sram_ofmap_mm2; }
};

// Throws InputError when the table has no PE area for the format.
AreaBreakdown compute_area(int rows, int cols, const MacFormat& mac, const SramCapacities& sram,
                           const EnergyTable& table);
AreaBreakdown compute_area(const ArrayConfig& array, const SramCapacities& sram, const EnergyTable& table);

double sram_area_mm2(std::int64_t capacity_bytes, const EnergyTable& table);

// rows x cols x lanes MACs per cycle, 2 operations each.
double peak_tops(const ArrayConfig& array, double clock_mhz);
// 0 when the area is 0.
double tops_per_mm2(double tops, double area_mm2);

}  // namespace npusim
