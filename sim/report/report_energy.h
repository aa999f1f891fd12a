// The energy, power and area part of a run report, as a table and as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "sim/report/report.h"
#include "sim/energy/run_energy.h"

namespace npusim {

void write_energy_table(std::ostream& out, const RunReport& report);
nlohmann::ordered_json energy_json(const EnergyBreakdown& energy);
nlohmann::ordered_json energy_totals_json(const RunEnergy& energy);

}  // namespace npusim
