// The memory system of an accelerator config ($.memory): on-chip SRAM buffers
// and the off-chip memory. Without a memory section a run keeps every operand
// on time (the array never waits), as analytical array models do.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "accel/memory/dram_config.h"
#include "accel/memory/sram_config.h"
#include "models/json_reader.h"

namespace npusim {

struct MemoryConfig {
  bool modeled = false;
  SramSet sram;
  DramConfig dram;
  std::int64_t peak_window_ns = 1000;   // window of the peak-bandwidth figures
  std::int64_t dma_burst_bytes = 4096;  // largest TLM transaction the DMA issues
};

// Reads $.memory: {"sram": {"ifmap"|"weight"|"ofmap": {"kb", "banks",
// "word_bytes", "read_ports", "write_ports"}}, "dram": {"preset": NAME, ...field
// overrides}, "dma": {"burst_bytes"}, "peak_window_ns"}.
MemoryConfig read_memory_config(JsonObjectReader& memory);

// Reads one $.memory.dram object: {"preset": NAME, organization fields,
// "timing": {...}, "controller": {...}}; throws InputError naming the file and
// JSON path when a field is unknown, out of range or inconsistent.
DramConfig read_dram_config(JsonObjectReader& dram);

nlohmann::ordered_json to_json(const MemoryConfig& memory);

}  // namespace npusim
