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

// Bytes [begin, end) of DRAM, absolute.
struct ByteRange {
  std::uint64_t begin = 0, end = 0;
  bool empty() const { return end <= begin; }
};

// What a transfer means for the data dependences between steps.
enum class TransferRole {
  operand,       // weights, or an input of the layer
  output,        // a final result of the layer: the loads of later layers overlapping its footprint wait for it
  partial_sums,  // accumulator contents spilled to DRAM and loaded back by the same layer
};

struct Transfer {
  BufferKind buffer = BufferKind::ifmap;
  std::uint64_t address = 0;
  std::int64_t bytes = 0;
  bool is_write = false;
  TransferRole role = TransferRole::operand;
  // Where the data lies in its tensor's stored layout (an input load: the
  // producer's bytes it reads; an output store: the bytes it completes).
  // Empty: [address, address + bytes). A load of a layer's DRAM input waits
  // only for the producer's stores that overlap its footprint, so a layer
  // starts on the first rows of its input while the last ones are written.
  ByteRange footprint;
  // A partial-sum load: the step of the same layer whose spill it reads back
  // (the load waits until that step's stores have completed); -1: none.
  std::int64_t after_step = -1;
  ByteRange range() const {
    return footprint.empty() ? ByteRange{address, address + static_cast<std::uint64_t>(bytes)} : footprint;
  }
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
  // Earlier layers whose outputs this layer loads from DRAM: an ifmap load
  // waits until every output store of theirs overlapping its footprint has
  // completed.
  std::vector<std::size_t> dram_inputs_from;
  // Earlier layers whose outputs this layer reads from the on-chip buffer:
  // its first step waits until the producer's last result is there.
  std::vector<std::size_t> chip_inputs_from;
};

// Builds layer i's program on demand (the netlist asks in order and keeps only
// the layers in flight, so a long network never holds all its folds at once).
using ProgramSource = std::function<LayerProgram(std::size_t layer)>;

}  // namespace npusim
