#include "sim/report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "accel/array/fold_timing.h"
#include "sim/report/report_energy.h"
#include "sim/report/report_memory.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

// SQNR in dB; an output equal to the fp32 one has no noise at all.
std::string sqnr_text(double db) {
  if (std::isinf(db)) return db > 0 ? "inf" : "-inf";
  return fixed(db, 1);
}

std::string gemm_text(const LayerRecord& layer) {
  if (layer.unit != ExecutionUnit::array) return "-";
  std::string text =
      std::to_string(layer.gemm.m) + "x" + std::to_string(layer.gemm.n) + "x" + std::to_string(layer.gemm.k);
  if (layer.gemm_count > 1) text += " (" + std::to_string(layer.gemm_count) + " GEMMs)";
  return text;
}

}  // namespace

RunTotals summarize(const RunReport& report) {
  RunTotals totals;
  for (const auto& layer : report.run.layers) {
    totals.cycles += layer.cycles;
    (layer.unit == ExecutionUnit::array ? totals.array_cycles : totals.ppu_cycles) += layer.cycles;
    totals.macs += layer.macs;
    totals.overflow_outputs += layer.overflow_outputs;
  }
  for (const auto& check : report.checks) {
    totals.layers_checked += 1;
    if (!check.bit_exact) totals.layers_mismatched += 1;
  }
  totals.latency_us = static_cast<double>(totals.cycles) / report.config.clock_mhz;
  // MACs per microsecond are 1e6 MAC/s, so / 1e3 gives GMAC/s.
  totals.effective_gmac_per_s =
      totals.latency_us > 0 ? static_cast<double>(totals.macs) / totals.latency_us / 1e3 : 0.0;
  const auto& array = report.config.array;
  totals.utilization = array_utilization(totals.macs, totals.cycles, array);
  return totals;
}

void write_table(std::ostream& out, const RunReport& report) {
  const auto& config = report.config;
  const auto& array = config.array;
  out << "npusim run: " << report.graph.name << " on " << config.name << " (" << array.rows << "x" << array.cols << " "
      << to_string(array.dataflow) << ", " << array.mac.label() << ", lanes " << array.mac.lanes << ", "
      << fixed(config.clock_mhz, 1) << " MHz, " << to_string(array.timing) << " timing, " << to_string(config.fidelity)
      << " fidelity)\n";
  if (report.values == Values::off) {
    out << "values: off (timing only: no tensor values computed, no reference check, no SQNR; cycles, traffic, "
           "energy and area as with values on)\n";
  }
  out << '\n';

  const std::vector<TableColumn> columns{{"layer", false},          {"type", false},       {"unit", false},
                                         {"format", false},         {"GEMM MxNxK", false}, {"MACs", true},
                                         {"cycles", true},          {"latency_us", true},  {"utilization_pct", true},
                                         {"mapping_eff_pct", true}, {"overflows", true},   {"sqnr_db", true},
                                         {"check", false}};
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < report.run.layers.size(); ++i) {
    const LayerRecord& layer = report.run.layers[i];
    const bool on_array = layer.unit == ExecutionUnit::array;
    const bool exact = i < report.checks.size() && report.checks[i].bit_exact;
    const bool values = report.values == Values::on;
    rows.push_back({layer.name, std::string(to_string(layer.type)), std::string(to_string(layer.unit)), layer.format,
                    gemm_text(layer), std::to_string(layer.macs), std::to_string(layer.cycles),
                    fixed(static_cast<double>(layer.cycles) / config.clock_mhz, 3),
                    on_array ? fixed(100.0 * layer.utilization, 2) : "-",
                    on_array ? fixed(100.0 * layer.mapping_efficiency, 2) : "-",
                    values ? std::to_string(layer.overflow_outputs) : "-",
                    report.metrics ? sqnr_text(report.metrics->layers.at(i).sqnr_db) : "-",
                    !report.checked() ? "-"
                    : exact           ? "bit-exact"
                                      : "MISMATCH"});
  }
  print_table(out, columns, rows);
  if (config.memory.modeled) write_memory_table(out, report);
  if (report.energy) write_energy_table(out, report);

  const RunTotals totals = summarize(report);
  out << "\ntotal: cycles " << totals.cycles << " (array " << totals.array_cycles << ", ppu " << totals.ppu_cycles
      << "), latency_us " << fixed(totals.latency_us, 3) << ", MACs " << totals.macs << ", effective GMAC/s "
      << fixed(totals.effective_gmac_per_s, 3) << ", utilization_pct " << fixed(100.0 * totals.utilization, 2);
  if (report.values == Values::on) out << ", overflows " << totals.overflow_outputs;
  if (report.metrics) out << ", network_sqnr_db " << sqnr_text(report.metrics->network_sqnr_db);
  out << '\n';
  if (report.values == Values::off) {
    out << "check: none (--values off)\n";
  } else if (report.check == Check::none) {
    out << "check: none (--check none: values computed, not checked against the reference executor)\n";
  } else if (totals.layers_mismatched == 0) {
    out << "check: all " << totals.layers_checked << " layers bit-exact against the reference executor\n";
  } else {
    out << "check: " << totals.layers_mismatched << " of " << totals.layers_checked
        << " layers MISMATCH the reference executor\n";
    for (std::size_t i = 0; i < report.checks.size(); ++i) {
      if (report.checks[i].bit_exact) continue;
      out << "  " << report.run.layers[i].name << ": " << report.checks[i].detail << '\n';
    }
  }
}

}  // namespace npusim
