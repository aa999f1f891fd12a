// Energy, power and area of a simulated run: the run's counters (MACs by
// format, SRAM and DRAM traffic, PPU operations, PE-to-PE transfers, time)
// times the technology table's energy per action, plus leakage over the run.
#pragma once

#include <string>
#include <vector>

#include "models/quant/quantized_graph.h"
#include "sim/config/accelerator_config.h"
#include "sim/energy/area_model.h"
#include "sim/energy/energy_model.h"
#include "sim/energy/energy_table.h"
#include "sim/run/network_runner.h"

namespace npusim {

struct RunEnergy {
  std::vector<EnergyBreakdown> layers;  // parallel to the run's layers
  EnergyBreakdown total;
  AreaBreakdown area;
  std::uint64_t macs = 0;
  std::int64_t time_ps = 0;
  double pj_per_mac = 0, compute_pj_per_mac = 0;
  double average_power_mw = 0;
  double tops = 0, tops_per_watt = 0;
  double inferences_per_s = 0, inferences_per_s_per_watt = 0;
  double peak_tops = 0, tops_per_mm2 = 0;  // peak: array size x clock x lanes
};

// The technology table a config names: $.energy.technology is "45nm"/"7nm"
// (configs/tech), a node in between ("16nm", interpolated), or a path to a
// table (relative paths from the config's directory).
EnergyTable load_config_energy_table(const AcceleratorConfig& config);

RunEnergy estimate_run_energy(const AcceleratorConfig& config, const QuantizedGraph& qgraph, const NetworkRun& run,
                              const EnergyTable& table);

}  // namespace npusim
