#include "sim/sweep/sweep_metrics.h"

#include <iterator>
#include <stdexcept>

#include "sim/report/report_energy.h"

namespace npusim {
namespace {

struct MetricSource {
  std::string name;
  std::string pointer;  // JSON pointer into the run report
};

// Where each sweep metric lives in an npusim.run/1 report.
const MetricSource kFixedSources[] = {
    {"latency_us", "/totals/latency_us"},
    {"cycles", "/totals/cycles"},
    {"energy_per_inference_uj", "/totals/energy/energy_uj"},
    {"pj_per_mac", "/totals/energy/pj_per_mac"},
    {"area_mm2", "/totals/energy/area/total_mm2"},
    {"average_power_mw", "/totals/energy/average_power_mw"},
    {"tops_per_w", "/totals/energy/tops_per_w"},
    {"inferences_per_s", "/totals/energy/inferences_per_s"},
    {"utilization_pct", "/totals/utilization_pct"},
    {"macs", "/totals/macs"},
    {"dram_read_bytes", "/totals/memory/dram_read_bytes"},
    {"dram_write_bytes", "/totals/memory/dram_write_bytes"},
    {"dram_read_gbps", "/totals/memory/dram_read_gbps"},
    {"dram_write_gbps", "/totals/memory/dram_write_gbps"},
    {"stall_cycles", "/totals/memory/stall_cycles/total"},
    {"network_sqnr_db", "/totals/network_sqnr_db"},
    {"bit_exact", "/totals/bit_exact"},
};

// The fixed metrics, then the energy breakdown (energy_mac_pj, ...), the
// run report's components in its order.
const std::vector<MetricSource>& sources() {
  static const std::vector<MetricSource> list = [] {
    std::vector<MetricSource> all(std::begin(kFixedSources), std::end(kFixedSources));
    for (const EnergyPart& part : energy_parts()) {
      all.push_back({std::string("energy_") + part.key, std::string("/totals/energy/breakdown/") + part.key});
    }
    return all;
  }();
  return list;
}

}  // namespace

const std::vector<std::string>& sweep_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const auto& source : sources()) list.push_back(source.name);
    return list;
  }();
  return names;
}

nlohmann::ordered_json sweep_metrics_from_report(const nlohmann::json& report) {
  if (!report.is_object() || !report.contains("totals")) {
    throw std::runtime_error("the run report has no totals");
  }
  nlohmann::ordered_json metrics;
  for (const auto& source : sources()) {
    const nlohmann::json::json_pointer pointer(source.pointer);
    metrics[source.name] =
        report.contains(pointer) ? nlohmann::ordered_json(report.at(pointer)) : nlohmann::ordered_json(nullptr);
  }
  return metrics;
}

}  // namespace npusim
