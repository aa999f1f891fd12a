#include "sim/energy/energy_model.h"

#include <stdexcept>

namespace npusim {
namespace {

double sram_energy_pj(const SramCounter& sram, const EnergyTable& table, const char* name) {
  if (sram.read_bytes == 0 && sram.write_bytes == 0) return 0.0;
  if (sram.capacity_bytes <= 0 || sram.word_bytes <= 0) {
    throw std::invalid_argument(std::string("compute_energy: bytes moved through the ") + name +
                                " buffer, which has no capacity or word width");
  }
  const auto word = static_cast<std::uint64_t>(sram.word_bytes);
  // Aggregate byte counts hide partial words inside the run; only the last is rounded up.
  const auto reads = static_cast<double>((sram.read_bytes + word - 1) / word);
  const auto writes = static_cast<double>((sram.write_bytes + word - 1) / word);
  return reads * table.sram_access_pj(sram.capacity_bytes, sram.word_bytes, /*write=*/false) +
         writes * table.sram_access_pj(sram.capacity_bytes, sram.word_bytes, /*write=*/true);
}

double ratio_or_zero(double numerator, double denominator) { return denominator == 0 ? 0.0 : numerator / denominator; }

}  // namespace

std::uint64_t EnergyCounters::total_macs() const {
  std::uint64_t total = 0;
  for (const auto& m : macs) total += m.macs;
  return total;
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& other) {
  mac_pj += other.mac_pj;
  pe_idle_pj += other.pe_idle_pj;
  sram_ifmap_pj += other.sram_ifmap_pj;
  sram_weight_pj += other.sram_weight_pj;
  sram_ofmap_pj += other.sram_ofmap_pj;
  dram_pj += other.dram_pj;
  ppu_pj += other.ppu_pj;
  interconnect_pj += other.interconnect_pj;
  leakage_pj += other.leakage_pj;
  total_pj += other.total_pj;
  return *this;
}

EnergyBreakdown compute_energy(const EnergyCounters& counters, const EnergyTable& table, const EnergyOptions& options) {
  if (!(options.idle_pe_dynamic_fraction >= 0.0 && options.idle_pe_dynamic_fraction <= 1.0)) {
    throw std::invalid_argument("compute_energy: idle_pe_dynamic_fraction must be in [0, 1]");
  }
  if (counters.run_time_ps < 0 || counters.logic_area_mm2 < 0 || counters.sram_area_mm2 < 0) {
    throw std::invalid_argument("compute_energy: negative run time or area");
  }
  EnergyBreakdown e;
  for (const auto& m : counters.macs) {
    if (m.macs == 0 && m.pe_cycles_idle == 0) continue;
    const MacEnergy& mac = table.mac_energy(m.format);
    const auto lanes = static_cast<std::uint64_t>(m.format.lanes < 1 ? 1 : m.format.lanes);
    const std::uint64_t groups =
        m.lane_group_accumulations != 0 ? m.lane_group_accumulations : (m.macs + lanes - 1) / lanes;
    e.mac_pj += static_cast<double>(m.macs) * mac.lane_pj() + static_cast<double>(groups) * mac.group_add_pj;
    const double busy_pe_cycle_pj = static_cast<double>(lanes) * mac.lane_pj() + mac.group_add_pj;
    e.pe_idle_pj += static_cast<double>(m.pe_cycles_idle) * options.idle_pe_dynamic_fraction * busy_pe_cycle_pj;
  }
  e.sram_ifmap_pj = sram_energy_pj(counters.sram_ifmap, table, "ifmap");
  e.sram_weight_pj = sram_energy_pj(counters.sram_weight, table, "weight");
  e.sram_ofmap_pj = sram_energy_pj(counters.sram_ofmap, table, "ofmap");
  for (const auto& d : counters.dram) {
    if (d.read_bytes == 0 && d.write_bytes == 0 && d.activations == 0) continue;
    const DramEnergy& dram = table.dram_energy(d.type);
    e.dram_pj += 8.0 * static_cast<double>(d.read_bytes + d.write_bytes) * dram.pj_per_bit +
                 static_cast<double>(d.activations) * dram.activation_pj;
  }
  e.ppu_pj = static_cast<double>(counters.ppu_element_ops) * table.ppu_op_pj.value;
  e.interconnect_pj = static_cast<double>(counters.operand_transfer_bytes + counters.psum_transfer_bytes) *
                      table.transfer_pj_per_byte.value;
  // mW x ps = 1e-3 J/s x 1e-12 s = 1e-3 pJ.
  const double leakage_mw = counters.logic_area_mm2 * table.logic_leakage_mw_per_mm2.value +
                            counters.sram_area_mm2 * table.sram_leakage_mw_per_mm2.value;
  e.leakage_pj = leakage_mw * static_cast<double>(counters.run_time_ps) * 1e-3;
  e.total_pj = e.mac_pj + e.pe_idle_pj + e.sram_ifmap_pj + e.sram_weight_pj + e.sram_ofmap_pj + e.dram_pj + e.ppu_pj +
               e.interconnect_pj + e.leakage_pj;
  return e;
}

double pj_per_mac(const EnergyBreakdown& energy, std::uint64_t macs) {
  return ratio_or_zero(energy.total_pj, static_cast<double>(macs));
}

double compute_pj_per_mac(const EnergyBreakdown& energy, std::uint64_t macs) {
  return ratio_or_zero(energy.compute_pj(), static_cast<double>(macs));
}

// pJ / ps = W.
double average_power_mw(double energy_pj, std::int64_t time_ps) {
  return ratio_or_zero(energy_pj * 1e3, static_cast<double>(time_ps));
}

// Operations per ps = 1e12 operations per second.
double tops(std::uint64_t macs, std::int64_t time_ps) {
  return ratio_or_zero(2.0 * static_cast<double>(macs), static_cast<double>(time_ps));
}

// Operations per pJ = 1e12 operations per joule = TOPS/W.
double tops_per_watt(std::uint64_t macs, double energy_pj) {
  return ratio_or_zero(2.0 * static_cast<double>(macs), energy_pj);
}

double inferences_per_second(double inferences, std::int64_t time_ps) {
  return ratio_or_zero(inferences * 1e12, static_cast<double>(time_ps));
}

// (inferences / s) / W = inferences per joule.
double inferences_per_second_per_watt(double inferences, double energy_pj) {
  return ratio_or_zero(inferences * 1e12, energy_pj);
}

}  // namespace npusim
