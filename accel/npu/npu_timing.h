// What the netlist measured per layer: its span on the run's time axis, the
// cycles its unit computed, and the cycles that unit waited, by cause.
#pragma once

#include <cstdint>

#include "accel/memory/sram_config.h"

namespace npusim {

// Cycles a unit waited, by cause: an operand arriving late from DRAM (ifmap,
// weight), write-back space in the ofmap buffer (ofmap), a step moving more
// buffer bytes per cycle than the SRAM banks and ports carry (sram), or the
// post-processing unit: the array waiting for an earlier layer's PPU work, or
// for its own results' epilogue when the PPU is the slower (ppu).
struct StallCycles {
  std::int64_t ifmap = 0, weight = 0, ofmap = 0, sram = 0, ppu = 0;
  std::int64_t total() const { return ifmap + weight + ofmap + sram + ppu; }
  std::int64_t memory() const { return ifmap + weight + ofmap; }
};

struct LayerTiming {
  // [start_ps, end_ps): from the end of the previous layer to the last result
  // of this one (for the last layer, its last byte written back). Spans tile
  // the run, so layer cycles add up to the run's.
  std::int64_t start_ps = 0, end_ps = 0;
  std::int64_t cycles = 0;          // the span in clock cycles
  std::int64_t compute_cycles = 0;  // the unit's busy cycles without stalls
  StallCycles stalls;               // waits of the layer's unit inside its span
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
};

struct NpuParams {
  double clock_mhz = 1000.0;
  SramSet sram;
  std::int64_t ppu_elements_per_cycle = 16;
};

// Cycles a step's buffer traffic takes through the SRAM banks and ports.
struct FoldStep;
std::int64_t sram_cycles(const FoldStep& step, const SramSet& sram);

// Bytes of finished results waiting for write-back the ofmap buffer may hold:
// the half the tiling does not reserve for partial sums (sim/mapper/tiling_search.cpp
// keeps the live partial sums within half the buffer).
inline std::int64_t writeback_capacity_bytes(const SramSet& sram) { return sram.ofmap.capacity_bytes / 2; }

}  // namespace npusim
