// The memory part of a run report: per-layer DRAM/SRAM traffic, bandwidth and
// stalls, as a table and as JSON. Only for configs with a memory section.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "sim/report/report.h"
#include "sim/run/memory_system.h"

namespace npusim {

struct MemoryTotals {
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  StallCycles stalls;
  std::int64_t compute_cycles = 0;
  std::int64_t compulsory_dram_bytes = 0;          // each tensor once, per layer, summed
  double dram_read_gbps = 0, dram_write_gbps = 0;  // over the whole run
};

MemoryTotals summarize_memory(const RunReport& report);

void write_memory_table(std::ostream& out, const RunReport& report);

nlohmann::ordered_json memory_json(const LayerMemoryRecord& memory);
nlohmann::ordered_json memory_totals_json(const RunReport& report);

}  // namespace npusim
