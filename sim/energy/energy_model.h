// Energy of a run: the counters a run keeps, each times the energy of one such
// action from a technology table (sim/energy/energy_table.h), plus leakage over the
// run's time; and the figures of merit derived from energy and time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accel/formats/number_format.h"
#include "sim/energy/energy_table.h"

namespace npusim {

// The MAC work of one format (a run with one format has one of these).
struct MacCounter {
  MacFormat format;        // operands, accumulator, lanes
  std::uint64_t macs = 0;  // multiply-accumulates (operand pairs)
  // Lane-group accumulations: the times a PE folds its lanes' sum into its
  // accumulator, M * N * ceil(K / lanes) for a GEMM. Charged the table's
  // group_add_pj (the popcount accumulate of XNOR arrays). 0 with macs > 0:
  // taken as ceil(macs / lanes), exact when every K is a multiple of lanes.
  std::uint64_t lane_group_accumulations = 0;
  std::uint64_t pe_cycles_busy = 0;  // PE-cycles with work (informational: the MACs are what is charged)
  std::uint64_t pe_cycles_idle = 0;  // PE-cycles without work, clock gated (EnergyOptions)
};

// One on-chip buffer: its geometry and the bytes read from and written to it.
struct SramCounter {
  std::int64_t capacity_bytes = 0;
  int word_bytes = 16;  // one access; accesses = ceil(bytes / word_bytes)
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};

struct DramCounter {
  std::string type;  // the table's DRAM key: ddr4, lpddr4, lpddr5, hbm2 (see dram_energy_type)
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t activations = 0;
};

struct EnergyCounters {
  std::vector<MacCounter> macs;
  SramCounter sram_ifmap, sram_weight, sram_ofmap;
  std::vector<DramCounter> dram;
  std::uint64_t ppu_element_ops = 0;         // post-processing operations, one per element
  std::uint64_t operand_transfer_bytes = 0;  // weights and activations passed PE to PE
  std::uint64_t psum_transfer_bytes = 0;     // partial sums passed PE to PE
  std::int64_t run_time_ps = 0;              // leakage runs this long
  double logic_area_mm2 = 0;                 // leaks at the table's logic rate (AreaBreakdown::logic_mm2)
  double sram_area_mm2 = 0;                  // leaks at the table's SRAM rate (AreaBreakdown::sram_mm2)

  std::uint64_t total_macs() const;
};

struct EnergyOptions {
  // Share of a busy PE-cycle's dynamic energy an idle, clock-gated PE still
  // spends each cycle: 0 = perfect gating, 1 = no gating. In [0, 1].
  double idle_pe_dynamic_fraction = 0.0;
};

// pJ per component; total is their sum.
struct EnergyBreakdown {
  double mac_pj = 0;      // multipliers, accumulate adders, popcount accumulates
  double pe_idle_pj = 0;  // idle PEs (0 with perfect clock gating)
  double sram_ifmap_pj = 0;
  double sram_weight_pj = 0;
  double sram_ofmap_pj = 0;
  double dram_pj = 0;
  double ppu_pj = 0;
  double interconnect_pj = 0;  // register transfers between PEs
  double leakage_pj = 0;
  double total_pj = 0;

  double compute_pj() const { return mac_pj + pe_idle_pj; }
  double sram_pj() const { return sram_ifmap_pj + sram_weight_pj + sram_ofmap_pj; }
  // Sums per-layer breakdowns into a network total.
  EnergyBreakdown& operator+=(const EnergyBreakdown& other);
};

// Throws InputError (naming the table file and path) when the table lacks an
// entry the counters need, std::invalid_argument for impossible counters
// (bytes moved through a buffer of no capacity, a negative time).
EnergyBreakdown compute_energy(const EnergyCounters& counters, const EnergyTable& table,
                               const EnergyOptions& options = {});

// Figures of merit; each is 0 when its denominator is 0.
double pj_per_mac(const EnergyBreakdown& energy, std::uint64_t macs);          // everything
double compute_pj_per_mac(const EnergyBreakdown& energy, std::uint64_t macs);  // the PE array only
double average_power_mw(double energy_pj, std::int64_t time_ps);
double tops(std::uint64_t macs, std::int64_t time_ps);       // 2 operations per MAC
double tops_per_watt(std::uint64_t macs, double energy_pj);  // = operations per pJ
double inferences_per_second(double inferences, std::int64_t time_ps);
double inferences_per_second_per_watt(double inferences, double energy_pj);  // = inferences per joule

}  // namespace npusim
