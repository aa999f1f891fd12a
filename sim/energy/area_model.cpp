#include "sim/energy/area_model.h"

#include <stdexcept>

namespace npusim {

SramCapacities capacities_of(const SramSet& sram) {
  return SramCapacities{sram.ifmap.capacity_bytes, sram.weight.capacity_bytes, sram.ofmap.capacity_bytes};
}

double sram_area_mm2(std::int64_t capacity_bytes, const EnergyTable& table) {
  if (capacity_bytes < 0) throw std::invalid_argument("sram_area_mm2: negative capacity");
  if (capacity_bytes == 0) return 0.0;
  const double kb = static_cast<double>(capacity_bytes) / 1024.0;
  return kb * table.sram_um2_per_kb(capacity_bytes) * 1e-6;
}

AreaBreakdown compute_area(int rows, int cols, const MacFormat& mac, const SramCapacities& sram,
                           const EnergyTable& table) {
  if (rows < 1 || cols < 1 || mac.lanes < 1) {
    throw std::invalid_argument("compute_area: rows, cols and lanes must be at least 1");
  }
  AreaBreakdown area;
  area.pe_um2 = table.pe_area_of(mac).um2(mac.lanes);
  area.pe_array_mm2 = area.pe_um2 * static_cast<double>(rows) * static_cast<double>(cols) * 1e-6;
  area.sram_ifmap_mm2 = sram_area_mm2(sram.ifmap_bytes, table);
  area.sram_weight_mm2 = sram_area_mm2(sram.weight_bytes, table);
  area.sram_ofmap_mm2 = sram_area_mm2(sram.ofmap_bytes, table);
  area.total_mm2 = area.pe_array_mm2 + area.sram_ifmap_mm2 + area.sram_weight_mm2 + area.sram_ofmap_mm2;
  return area;
}

AreaBreakdown compute_area(const ArrayConfig& array, const SramCapacities& sram, const EnergyTable& table) {
  return compute_area(array.rows, array.cols, array.mac, sram, table);
}

// MACs per cycle x cycles per second x 2 operations, in units of 1e12.
double peak_tops(const ArrayConfig& array, double clock_mhz) {
  const double macs_per_cycle =
      static_cast<double>(array.rows) * static_cast<double>(array.cols) * static_cast<double>(array.mac.lanes);
  return 2.0 * macs_per_cycle * clock_mhz * 1e-6;
}

double tops_per_mm2(double tops, double area_mm2) { return area_mm2 == 0 ? 0.0 : tops / area_mm2; }

}  // namespace npusim
