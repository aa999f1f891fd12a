#include "sim/report/report_energy.h"

#include "sim/report/text_table.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace npusim {
namespace {

std::string pct(double part, double whole) { return whole > 0 ? fixed(100.0 * part / whole, 1) : "0.0"; }

}  // namespace

const std::vector<EnergyPart>& energy_parts() {
  static const std::vector<EnergyPart> parts{
      {"mac_pj", "MAC", &EnergyBreakdown::mac_pj},
      {"pe_idle_pj", "PE idle", &EnergyBreakdown::pe_idle_pj},
      {"sram_ifmap_pj", "SRAM ifmap", &EnergyBreakdown::sram_ifmap_pj},
      {"sram_weight_pj", "SRAM weight", &EnergyBreakdown::sram_weight_pj},
      {"sram_ofmap_pj", "SRAM ofmap", &EnergyBreakdown::sram_ofmap_pj},
      {"dram_pj", "DRAM", &EnergyBreakdown::dram_pj},
      {"ppu_pj", "PPU", &EnergyBreakdown::ppu_pj},
      {"interconnect_pj", "interconnect", &EnergyBreakdown::interconnect_pj},
      {"leakage_pj", "leakage", &EnergyBreakdown::leakage_pj},
  };
  return parts;
}

void write_energy_table(std::ostream& out, const RunReport& report) {
  const RunEnergy& e = *report.energy;
  out << "\nenergy (technology " << report.config.energy.technology << "):\n\n";
  std::vector<std::string> titles{"layer",  "energy_nj",       "mac_pj",     "sram_pj",   "dram_pj",
                                  "ppu_pj", "interconnect_pj", "leakage_pj", "pj_per_mac"};
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < report.run.layers.size(); ++i) {
    const auto& l = e.layers[i];
    const auto macs = static_cast<std::uint64_t>(report.run.layers[i].macs);
    rows.push_back({report.run.layers[i].name, fixed(l.total_pj / 1000.0, 3), fixed(l.compute_pj(), 1),
                    fixed(l.sram_pj(), 1), fixed(l.dram_pj, 1), fixed(l.ppu_pj, 1), fixed(l.interconnect_pj, 1),
                    fixed(l.leakage_pj, 1), macs > 0 ? fixed(pj_per_mac(l, macs), 3) : "-"});
  }
  print_table(out, table_columns(titles, 1), rows);

  const EnergyBreakdown& t = e.total;
  out << "\nenergy total: energy_uj " << fixed(t.total_pj / 1e6, 3) << " (mac " << pct(t.compute_pj(), t.total_pj)
      << "%, sram " << pct(t.sram_pj(), t.total_pj) << "%, dram " << pct(t.dram_pj, t.total_pj) << "%, ppu "
      << pct(t.ppu_pj, t.total_pj) << "%, interconnect " << pct(t.interconnect_pj, t.total_pj) << "%, leakage "
      << pct(t.leakage_pj, t.total_pj) << "%), pj_per_mac " << fixed(e.pj_per_mac, 3) << ", compute_pj_per_mac "
      << fixed(e.compute_pj_per_mac, 3) << ", average_power_mw " << fixed(e.average_power_mw, 2) << ", tops "
      << fixed(e.tops, 4) << ", tops_per_w " << fixed(e.tops_per_watt, 3) << ", inferences_per_s "
      << fixed(e.inferences_per_s, 1) << ", inferences_per_s_per_w " << fixed(e.inferences_per_s_per_watt, 1) << '\n';
  out << "area: area_mm2 " << fixed(e.area.total_mm2, 4) << " (pe array " << fixed(e.area.pe_array_mm2, 4) << ", sram "
      << fixed(e.area.sram_mm2(), 4) << "), peak_tops " << fixed(e.peak_tops, 4) << ", tops_per_mm2 "
      << fixed(e.tops_per_mm2, 4) << '\n';
}

nlohmann::ordered_json energy_json(const EnergyBreakdown& e) {
  nlohmann::ordered_json json;
  for (const EnergyPart& part : energy_parts()) json[part.key] = rounded(e.*part.pj, 4);
  json["total_pj"] = rounded(e.total_pj, 4);
  return json;
}

nlohmann::ordered_json energy_totals_json(const RunEnergy& e) {
  return {{"breakdown", energy_json(e.total)},
          {"energy_uj", rounded(e.total.total_pj / 1e6, 6)},
          {"pj_per_mac", rounded(e.pj_per_mac, 6)},
          {"compute_pj_per_mac", rounded(e.compute_pj_per_mac, 6)},
          {"average_power_mw", rounded(e.average_power_mw, 6)},
          {"tops", rounded(e.tops, 6)},
          {"tops_per_w", rounded(e.tops_per_watt, 6)},
          {"inferences_per_s", rounded(e.inferences_per_s, 3)},
          {"inferences_per_s_per_w", rounded(e.inferences_per_s_per_watt, 3)},
          {"area",
           {{"total_mm2", rounded(e.area.total_mm2, 6)},
            {"pe_array_mm2", rounded(e.area.pe_array_mm2, 6)},
            {"sram_mm2", rounded(e.area.sram_mm2(), 6)},
            {"peak_tops", rounded(e.peak_tops, 6)},
            {"tops_per_mm2", rounded(e.tops_per_mm2, 6)}}}};
}

}  // namespace npusim
