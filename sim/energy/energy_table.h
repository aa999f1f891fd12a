// Technology tables (configs/tech/*.json): the energy of each action and the
// area of each block at one process node, every number with its source beside
// it. sim/energy_model charges run counters against a table, sim/area_model
// sizes a configuration with it.
//
// File schema (format_version 1; every entry object carries "source"):
//   name, node_nm, description
//   ops.<name>          {pj?, um2?}     published primitives the entries below are built from
//   mac.<w>_<a>_<acc>   {mult_pj, add_pj, group_add_pj?}   e.g. mac.int8_int8_int32
//   pe_area.<w>_<a>_<acc> {mult_um2, add_um2, register_um2, pe_um2}
//   sram {word_bits, energy: [{kb, read_pj, write_pj}], area: [{kb, um2_per_kb}]}
//   dram.<type>         {pj_per_bit, activation_pj}      type: ddr4, lpddr4, lpddr5, hbm2 ...
//   ppu_op {pj}, register_transfer {pj_per_byte}
//   leakage {logic: {mw_per_mm2}, sram: {mw_per_mm2}}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "accel/formats/number_format.h"

namespace npusim {

// One MAC lane: its multiplier (XNOR for binary x binary) and its accumulate
// adder (the popcount bit for XNOR arrays), plus, for XNOR-popcount arrays, the
// add that folds a lane group's popcount into the accumulator once per PE cycle.
struct MacEnergy {
  double mult_pj = 0;
  double add_pj = 0;
  double group_add_pj = 0;
  std::string source;
  double lane_pj() const { return mult_pj + add_pj; }
};

// A PE of one format: per lane a multiplier, an adder and operand registers;
// once per PE the accumulator register (and the popcount accumulate adder).
struct PeArea {
  double mult_um2 = 0;
  double add_um2 = 0;
  double register_um2 = 0;
  double pe_um2 = 0;
  std::string source;
  double lane_um2() const { return mult_um2 + add_um2 + register_um2; }
  double um2(int lanes) const { return lanes * lane_um2() + pe_um2; }
};

// One characterised SRAM: energy of one access `word_bits` wide.
struct SramEnergyPoint {
  double kb = 0;
  double read_pj = 0;
  double write_pj = 0;
  std::string source;
};

struct SramAreaPoint {
  double kb = 0;
  double um2_per_kb = 0;
  std::string source;
};

struct DramEnergy {
  double pj_per_bit = 0;     // every bit read or written
  double activation_pj = 0;  // every row activation (0 when the per-bit figure includes them)
  std::string source;
};

struct SourcedValue {
  double value = 0;
  std::string source;
};

// A published primitive (an adder, a multiplier, a register bit); informational:
// the mac and pe_area entries say which of these they add up.
struct OpFigure {
  std::optional<double> pj;
  std::optional<double> um2;
  std::string source;
};

struct EnergyTable {
  std::string file;  // where it came from: every error names it
  std::string name;
  double node_nm = 45;
  std::string description;
  std::map<std::string, OpFigure> ops;
  std::map<std::string, MacEnergy> mac;   // key: mac_key()
  std::map<std::string, PeArea> pe_area;  // key: mac_key()
  int sram_word_bits = 64;
  std::vector<SramEnergyPoint> sram_energy;  // capacities strictly increasing, at least one
  std::vector<SramAreaPoint> sram_area;      // capacities strictly increasing, at least one
  std::string dram_note;
  std::map<std::string, DramEnergy> dram;  // key: DRAM type
  SourcedValue ppu_op_pj;                  // one post-processing element operation
  SourcedValue transfer_pj_per_byte;       // a byte moved into a neighbouring PE's register
  SourcedValue logic_leakage_mw_per_mm2;
  SourcedValue sram_leakage_mw_per_mm2;

  // The entries a format or memory needs; a missing one is an InputError
  // "<file>: $.mac.int4_int8_int32: missing (needed for W4A8)".
  const MacEnergy& mac_energy(const MacFormat& mac) const;
  const PeArea& pe_area_of(const MacFormat& mac) const;
  const DramEnergy& dram_energy(std::string_view type) const;

  // Energy of one access `word_bytes` wide to an SRAM of `capacity_bytes`:
  // log-log interpolation between the characterised capacities (a power law
  // per segment, as SRAM energy grows roughly with sqrt(size)); beyond the
  // first or last point the end segment's power law continues. Scaled
  // linearly by word width relative to word_bits. Exact at a table point.
  double sram_access_pj(std::int64_t capacity_bytes, int word_bytes, bool write) const;
  // Area per KB of an SRAM of `capacity_bytes`: log-log interpolation between
  // the points, held at the end values beyond them (a larger SRAM is built
  // from banks of the characterised size).
  double sram_um2_per_kb(std::int64_t capacity_bytes) const;
};

// "int8_int8_int32", "fp16_fp16_fp32", "binary_binary_int32": the table key of a format.
std::string mac_key(const MacFormat& mac);
// "W4A8", "fp16/fp16 with fp32 accumulation": what an error says the entry is needed for.
std::string mac_purpose(const MacFormat& mac);

// Reads a table file. A malformed table (bad JSON, a wrong type, an unknown
// field, a number without its source, a key that is no MAC format) is an
// InputError naming the file and the JSON path.
EnergyTable load_energy_table(const std::string& path);
EnergyTable parse_energy_table(const nlohmann::json& document, const std::string& file);

// The table in the file schema; parse_energy_table(to_json(t)) reproduces t.
nlohmann::ordered_json to_json(const EnergyTable& table);

// Throws the "missing (needed for ...)" InputError up front, before a run,
// when the table lacks the entries a format and DRAM type need. An empty
// `dram_type` checks no DRAM entry.
void require_entries(const EnergyTable& table, const MacFormat& mac, std::string_view dram_type);

// The table's DRAM type of a memory preset name: "ddr4-3200" -> "ddr4",
// "lpddr5-6400" -> "lpddr5", "hbm2" -> "hbm2"; nothing for "ideal", which is no device.
std::optional<std::string> dram_energy_type(std::string_view preset_name);

// A table for a node between two others, every entry interpolated
// log-linearly in the node: v(n) = va * (vb / va)^t, t = ln(n / na) / ln(nb / na)
// (linearly in t where an end value is 0). An APPROXIMATION: real nodes do not
// scale every circuit alike (energy.md section 2). t = 0 and t = 1 give the end
// values exactly. SRAM curves are resampled at the union of both tables'
// capacities; entries present in only one table are left out. A node outside
// [nb, na] is an InputError.
EnergyTable interpolate_energy_tables(const EnergyTable& a, const EnergyTable& b, double node_nm);

// The default tables: `tech_dir`/45nm.json or 7nm.json for those nodes
// (unchanged), an interpolation between them for a node in (7, 45).
EnergyTable tech_table_for_node(double node_nm, const std::string& tech_dir);

}  // namespace npusim
