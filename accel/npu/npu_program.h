// What the mapper hands the accelerator model: per layer, the folds (array)
// or passes (PPU) in order, each with the DMA loads it needs first and the
// results it writes back after, plus the layers whose outputs it reads. The
// netlist (accel/npu/npu_netlist.h) runs these programs, a whole network in
// one SystemC simulation; nothing here knows about time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "accel/memory/sram_config.h"
#include "traces/trace_events.h"

namespace npusim {

struct Transfer {
  BufferKind buffer = BufferKind::ifmap;
  std::uint64_t address = 0;
  std::int64_t bytes = 0;
  bool is_write = false;
};

struct FoldStep {
  std::int64_t compute_cycles = 0;  // array (or PPU) cycles of this step, without stalls
  std::vector<Transfer> loads;      // must be in the buffers before the step starts
  std::vector<Transfer> stores;     // results the step completes, written back after it
  // Finished output elements the step hands to the PPU's epilogue (bias,
  // requantization, activation); 0 while a fold only accumulates.
  std::int64_t output_elements = 0;
  // Buffer traffic of the step (array reads and writes, DMA fills and drains):
  // what the buffers' banks and ports must carry while it runs.
  std::int64_t sram_read_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_write_bytes[kBufferKinds] = {0, 0, 0};
};

struct LayerProgram {
  std::string name;
  ComputeUnit unit = ComputeUnit::array;
  std::vector<FoldStep> steps;
  // Earlier layers whose outputs this layer loads from DRAM: those loads wait
  // until the producer's write-back has completed.
  std::vector<std::size_t> dram_inputs_from;
  // Earlier layers whose outputs this layer reads from the on-chip buffer:
  // its first step waits until the producer's last result is there.
  std::vector<std::size_t> chip_inputs_from;
};

// Builds layer i's program on demand (the netlist asks in order and keeps only
// the layers in flight, so a long network never holds all its folds at once).
using ProgramSource = std::function<LayerProgram(std::size_t layer)>;

}  // namespace npusim
