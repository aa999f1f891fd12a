#include "sim/report/report_memory.h"

#include "sim/report/text_table.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace npusim {
namespace {

// Achieved DRAM bytes over the compulsory ones (each tensor once); nullopt
// when the layer has nothing compulsory to move.
std::optional<double> over_compulsory(const LayerMemoryRecord& m) {
  if (m.compulsory_dram_bytes <= 0) return std::nullopt;
  return static_cast<double>(m.dram_read_bytes + m.dram_write_bytes) / static_cast<double>(m.compulsory_dram_bytes);
}

}  // namespace

MemoryTotals summarize_memory(const RunReport& report) {
  MemoryTotals totals;
  for (const auto& layer : report.run.layers) {
    if (!layer.memory) continue;
    totals.dram_read_bytes += layer.memory->dram_read_bytes;
    totals.dram_write_bytes += layer.memory->dram_write_bytes;
    totals.stalls.ifmap += layer.memory->stalls.ifmap;
    totals.stalls.weight += layer.memory->stalls.weight;
    totals.stalls.ofmap += layer.memory->stalls.ofmap;
    totals.stalls.sram += layer.memory->stalls.sram;
    totals.stalls.ppu += layer.memory->stalls.ppu;
    totals.compute_cycles += layer.memory->compute_cycles;
    totals.compulsory_dram_bytes += layer.memory->compulsory_dram_bytes;
  }
  const RunTotals run = summarize(report);
  const double ns = run.latency_us * 1000.0;
  totals.dram_read_gbps = ns > 0 ? static_cast<double>(totals.dram_read_bytes) / ns : 0.0;
  totals.dram_write_gbps = ns > 0 ? static_cast<double>(totals.dram_write_bytes) / ns : 0.0;
  return totals;
}

void write_memory_table(std::ostream& out, const RunReport& report) {
  const auto& dram = report.config.memory.dram;
  out << "\nmemory: " << dram.name << " (" << fixed(dram.peak_bandwidth_gbps(), 1)
      << " GB/s peak), SRAM ifmap/weight/ofmap " << report.config.memory.sram.ifmap.capacity_bytes / 1024 << "/"
      << report.config.memory.sram.weight.capacity_bytes / 1024 << "/"
      << report.config.memory.sram.ofmap.capacity_bytes / 1024 << " KiB, double buffered\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& layer : report.run.layers) {
    if (!layer.memory) continue;
    const LayerMemoryRecord& m = *layer.memory;
    rows.push_back({layer.name,
                    m.fold_order.empty() ? "-" : m.fold_order,
                    std::to_string(m.dram_read_bytes),
                    std::to_string(m.dram_write_bytes),
                    fixed(m.dram_read_gbps, 2),
                    fixed(m.dram_write_gbps, 2),
                    fixed(m.dram_peak_gbps, 2),
                    fixed(m.dram_peak_share_pct, 1),
                    fixed(m.row_hit_pct, 1),
                    std::to_string(m.stalls.ifmap),
                    std::to_string(m.stalls.weight),
                    std::to_string(m.stalls.ofmap),
                    std::to_string(m.stalls.sram),
                    std::to_string(m.stalls.ppu),
                    fixed(m.macs_per_dram_byte, 1),
                    fixed(m.required_gbps, 2),
                    layer.unit == ExecutionUnit::array ? (m.memory_bound ? "memory" : "compute") : "-",
                    m.output_on_chip ? "yes" : "no",
                    over_compulsory(m) ? fixed(*over_compulsory(m), 2) : "-",
                    m.loop_order.empty()
                        ? "-"
                        : std::to_string(m.tile_m) + "x" + std::to_string(m.tile_n) + "x" + std::to_string(m.tile_k) +
                              " " + m.loop_order + (m.psum_spill ? " spill" : "")});
  }
  print_table(out,
              table_columns({"layer",
                             "fold_order",
                             "dram_read_bytes",
                             "dram_write_bytes",
                             "dram_read_gbps",
                             "dram_write_gbps",
                             "dram_peak_gbps",
                             "dram_peak_share_pct",
                             "row_hit_pct",
                             "stall_ifmap_cycles",
                             "stall_weight_cycles",
                             "stall_ofmap_cycles",
                             "stall_sram_cycles",
                             "stall_ppu_cycles",
                             "mac_per_dram_byte",
                             "need_gbps",
                             "bound",
                             "out_on_chip",
                             "x_compulsory",
                             "tile_mxnxk_loops"},
                            2),
              rows);
  const MemoryTotals t = summarize_memory(report);
  out << "\nmemory total: dram_read_bytes " << t.dram_read_bytes << ", dram_write_bytes " << t.dram_write_bytes
      << ", dram_read_gbps " << fixed(t.dram_read_gbps, 3) << ", dram_write_gbps " << fixed(t.dram_write_gbps, 3)
      << ", stall_cycles " << t.stalls.total() << " (ifmap " << t.stalls.ifmap << ", weight " << t.stalls.weight
      << ", ofmap " << t.stalls.ofmap << ", sram " << t.stalls.sram << ", ppu " << t.stalls.ppu << "), compute_cycles "
      << t.compute_cycles << ", compulsory_dram_bytes " << t.compulsory_dram_bytes << " (x"
      << fixed(t.compulsory_dram_bytes > 0 ? static_cast<double>(t.dram_read_bytes + t.dram_write_bytes) /
                                                 static_cast<double>(t.compulsory_dram_bytes)
                                           : 0.0,
               2)
      << ")\n";
}

nlohmann::ordered_json memory_json(const LayerMemoryRecord& m) {
  nlohmann::ordered_json sram;
  for (int b = 0; b < kBufferKinds; ++b) {
    sram[std::string(to_string(static_cast<BufferKind>(b)))] = {{"read_bytes", m.sram_read_bytes[b]},
                                                                {"write_bytes", m.sram_write_bytes[b]},
                                                                {"read_gbps", rounded(m.sram_read_gbps[b], 6)},
                                                                {"write_gbps", rounded(m.sram_write_gbps[b], 6)}};
  }
  return {
      {"fold_order", m.fold_order.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.fold_order)},
      {"temporal_tiles", m.temporal_tiles},
      {"input_on_chip", m.input_on_chip},
      {"output_on_chip", m.output_on_chip},
      {"dram_read_bytes", m.dram_read_bytes},
      {"dram_write_bytes", m.dram_write_bytes},
      {"dram_read_bytes_ifmap", m.dram_read_bytes_by_buffer[0]},
      {"dram_read_bytes_weight", m.dram_read_bytes_by_buffer[1]},
      {"dram_read_gbps", rounded(m.dram_read_gbps, 6)},
      {"dram_write_gbps", rounded(m.dram_write_gbps, 6)},
      {"dram_peak_gbps", rounded(m.dram_peak_gbps, 6)},
      {"dram_peak_share_pct", rounded(m.dram_peak_share_pct, 4)},
      {"row_hit_pct", rounded(m.row_hit_pct, 4)},
      {"compute_cycles", m.compute_cycles},
      {"stall_cycles",
       {{"ifmap", m.stalls.ifmap},
        {"weight", m.stalls.weight},
        {"ofmap", m.stalls.ofmap},
        {"sram", m.stalls.sram},
        {"ppu", m.stalls.ppu},
        {"total", m.stalls.total()}}},
      {"mac_per_dram_byte", rounded(m.macs_per_dram_byte, 6)},
      {"required_gbps", rounded(m.required_gbps, 6)},
      {"memory_bound", m.memory_bound},
      {"sram", sram},
      {"compulsory_dram_bytes", m.compulsory_dram_bytes},
      {"dram_bytes_over_compulsory",
       over_compulsory(m) ? nlohmann::ordered_json(rounded(*over_compulsory(m), 6)) : nlohmann::ordered_json(nullptr)},
      {"tiling", m.loop_order.empty() ? nlohmann::ordered_json(nullptr)
                                      : nlohmann::ordered_json{{"tile_m", m.tile_m},
                                                               {"tile_n", m.tile_n},
                                                               {"tile_k", m.tile_k},
                                                               {"loop_order", m.loop_order},
                                                               {"psum_spill", m.psum_spill}}},
  };
}

nlohmann::ordered_json memory_totals_json(const RunReport& report) {
  const MemoryTotals t = summarize_memory(report);
  return {{"dram_read_bytes", t.dram_read_bytes},
          {"dram_write_bytes", t.dram_write_bytes},
          {"dram_read_gbps", rounded(t.dram_read_gbps, 6)},
          {"dram_write_gbps", rounded(t.dram_write_gbps, 6)},
          {"compute_cycles", t.compute_cycles},
          {"compulsory_dram_bytes", t.compulsory_dram_bytes},
          {"stall_cycles",
           {{"ifmap", t.stalls.ifmap},
            {"weight", t.stalls.weight},
            {"ofmap", t.stalls.ofmap},
            {"sram", t.stalls.sram},
            {"ppu", t.stalls.ppu},
            {"total", t.stalls.total()}}}};
}

}  // namespace npusim
