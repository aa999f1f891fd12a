#include "sim/energy/run_energy.h"

#include <filesystem>
#include <regex>

#include "models/input_error.h"
#include "models/tensor.h"
#include "sim/mapper/memory_plan.h"
#include "sim/run/network_runner.h"

namespace npusim {
namespace {}  // namespace

EnergyTable load_config_energy_table(const AcceleratorConfig& config) {
  const std::string& tech = config.energy.technology;
  static const std::regex node(R"((\d+(\.\d+)?)nm)");
  std::smatch match;
  if (std::regex_match(tech, match, node)) {
    const std::string dir = NPUSIM_TECH_DIR;
    const std::string file = dir + "/" + tech + ".json";
    if (std::filesystem::exists(file)) return load_energy_table(file);
    try {
      return tech_table_for_node(std::stod(match[1].str()), dir);
    } catch (const std::exception& error) {
      throw InputError(config.energy.config_file + ": $.energy.technology: " + error.what());
    }
  }
  std::filesystem::path path(tech);
  if (path.is_relative()) path = std::filesystem::path(config.energy.config_file).parent_path() / path;
  return load_energy_table(path.string());
}

RunEnergy estimate_run_energy(const AcceleratorConfig& config, const QuantizedGraph& qgraph, const NetworkRun& run,
                              const EnergyTable& table) {
  RunEnergy result;
  const auto& array = config.array;
  const bool memory = config.memory.modeled;
  result.area = compute_area(array, capacities_of(config.memory.sram), table);
  const std::string dram_type =
      memory ? dram_energy_type(config.memory.dram.name).value_or(config.energy.ideal_dram_type) : "";
  const double ps_per_cycle = 1.0e6 / config.clock_mhz;
  const std::int64_t pes = std::int64_t{array.rows} * array.cols;
  const EnergyOptions options{config.energy.idle_pe_dynamic_fraction};

  for (std::size_t i = 0; i < run.layers.size(); ++i) {
    const LayerRecord& layer = run.layers[i];
    EnergyCounters c;
    const std::int64_t time_ps = std::llround(static_cast<double>(layer.cycles) * ps_per_cycle);
    c.run_time_ps = time_ps;
    c.logic_area_mm2 = result.area.logic_mm2();
    c.sram_area_mm2 = result.area.sram_mm2();
    const std::int64_t out_elements = elements(layer.output.dims);
    if (layer.unit == ExecutionUnit::array) {
      const MacFormat mac = qgraph.mac_of(i);
      MacCounter m;
      m.format = mac;
      m.macs = static_cast<std::uint64_t>(layer.macs);
      const std::int64_t compute_cycles = layer.memory ? layer.memory->compute_cycles : layer.cycles;
      const std::uint64_t busy = (m.macs + mac.lanes - 1) / mac.lanes;
      m.pe_cycles_busy = busy;
      const std::uint64_t all = static_cast<std::uint64_t>(compute_cycles * pes);
      m.pe_cycles_idle = all > busy ? all - busy : 0;
      c.macs.push_back(m);
      // Bias, requantization and activation: one PPU operation per output.
      c.ppu_element_ops = static_cast<std::uint64_t>(out_elements);
      // The streaming operand hops one PE per MAC; WS/IS partial sums hop one
      // PE per lane group (4 bytes); OS keeps them and streams weights too.
      const int activation_bits = storage_bits(mac.activation), weight_bits = storage_bits(mac.weight);
      if (array.dataflow == Dataflow::os) {
        c.operand_transfer_bytes = m.macs * static_cast<std::uint64_t>(activation_bits + weight_bits) / 8;
      } else {
        c.operand_transfer_bytes = m.macs * static_cast<std::uint64_t>(activation_bits) / 8;
        c.psum_transfer_bytes = busy * 4;
      }
    } else {
      const auto inputs = static_cast<std::int64_t>(qgraph.graph.layers[i].inputs.size());
      c.ppu_element_ops = static_cast<std::uint64_t>(ppu_element_ops(layer.type, out_elements, inputs));
    }
    if (layer.memory) {
      const LayerMemoryRecord& m = *layer.memory;
      const auto sram = [&](BufferKind kind, SramCounter& counter) {
        const SramConfig& s = config.memory.sram[kind];
        counter.capacity_bytes = s.capacity_bytes;
        counter.word_bytes = s.word_bytes;
        counter.read_bytes = static_cast<std::uint64_t>(m.sram_read_bytes[static_cast<int>(kind)]);
        counter.write_bytes = static_cast<std::uint64_t>(m.sram_write_bytes[static_cast<int>(kind)]);
      };
      sram(BufferKind::ifmap, c.sram_ifmap);
      sram(BufferKind::weight, c.sram_weight);
      sram(BufferKind::ofmap, c.sram_ofmap);
      c.dram.push_back(DramCounter{dram_type, static_cast<std::uint64_t>(m.dram_read_bytes),
                                   static_cast<std::uint64_t>(m.dram_write_bytes), m.dram_activations});
    }
    const EnergyBreakdown e = compute_energy(c, table, options);
    result.layers.push_back(e);
    result.total += e;
    result.macs += static_cast<std::uint64_t>(layer.macs);
    result.time_ps += time_ps;
  }
  result.pj_per_mac = npusim::pj_per_mac(result.total, result.macs);
  result.compute_pj_per_mac = npusim::compute_pj_per_mac(result.total, result.macs);
  result.average_power_mw = npusim::average_power_mw(result.total.total_pj, result.time_ps);
  result.tops = npusim::tops(result.macs, result.time_ps);
  result.tops_per_watt = npusim::tops_per_watt(result.macs, result.total.total_pj);
  result.inferences_per_s = inferences_per_second(1.0, result.time_ps);
  result.inferences_per_s_per_watt = inferences_per_second_per_watt(1.0, result.total.total_pj);
  result.peak_tops = npusim::peak_tops(array, config.clock_mhz);
  result.tops_per_mm2 = npusim::tops_per_mm2(result.peak_tops, result.area.total_mm2);
  return result;
}

}  // namespace npusim
