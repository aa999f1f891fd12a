// The per-point numbers a sweep records: a flat, unit-named selection of the
// totals of an `npusim run` JSON report (schema npusim.run/1), copied as they
// are so a sweep point and a plain run of the same config agree to the digit.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npusim {

// Metric names in column order (units in the names), ending with the energy
// breakdown energy_<component>_pj, the run report's totals.energy.breakdown
// (sim/report/report_energy.h, energy_parts()). null values: not measured
// (no memory section: no DRAM figures; SQNR infinite: outputs equal fp32's).
const std::vector<std::string>& sweep_metric_names();

// {"cycles": ..., "latency_us": ..., ...} from a run report; throws
// std::runtime_error when the report lacks its totals.
nlohmann::ordered_json sweep_metrics_from_report(const nlohmann::json& report);

}  // namespace npusim
