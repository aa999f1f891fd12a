// The energy, power and area part of a run report, as a table and as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "sim/energy/run_energy.h"
#include "sim/report/report.h"

namespace npusim {

// One component of an EnergyBreakdown. The list below is the breakdown's one
// definition for every report that shows it (run JSON, compare, sweep), in
// this order; its parts sum to total_pj.
struct EnergyPart {
  const char* key;    // the run JSON's key in totals.energy.breakdown ("mac_pj")
  const char* label;  // for charts and tables ("SRAM weight")
  double EnergyBreakdown::*pj;
};
const std::vector<EnergyPart>& energy_parts();

void write_energy_table(std::ostream& out, const RunReport& report);
nlohmann::ordered_json energy_json(const EnergyBreakdown& energy);
nlohmann::ordered_json energy_totals_json(const RunEnergy& energy);

}  // namespace npusim
