// The memory side of a network run: where every tensor lives in DRAM, which
// layer outputs stay on chip for the next layer, each layer's program (the
// array layers' from sim/mapper/memory_plan.h), and the records of the whole
// network's run on the accelerator netlist (accel/npu/npu_netlist.h) through
// the DMA engine against the DRAM.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "accel/memory/data_bus_windows.h"
#include "accel/memory/dma_engine.h"
#include "accel/memory/dram_controller.h"
#include "accel/memory/dram_target.h"
#include "accel/npu/npu_netlist.h"
#include "models/graph.h"
#include "sim/config/accelerator_config.h"
#include "sim/mapper/memory_plan.h"
#include "traces/trace_recorder.h"

namespace npusim {

struct LayerMemoryRecord {
  std::string fold_order;           // array layers: rows_inner / cols_inner
  std::int64_t temporal_tiles = 0;  // array layers: most temporal pieces of any GEMM
  bool input_on_chip = false;       // first input came from the previous layer's buffer
  bool output_on_chip = false;      // output stays for the next layer
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::int64_t dram_read_bytes_by_buffer[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_read_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_write_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t compute_cycles = 0;  // the unit's busy cycles without stalls
  std::int64_t total_cycles =
      0;  // the layer's span (accel/npu/npu_timing.h): compute + stalls unless it overlapped the previous layer
  StallCycles stalls;
  double dram_read_gbps = 0, dram_write_gbps = 0;  // averages over the layer
  double dram_peak_gbps = 0;                       // most bytes in one peak window
  double dram_peak_share_pct = 0;                  // average bandwidth / the DRAM's peak
  double row_hit_pct = 0;
  std::uint64_t dram_activations = 0;  // row activations the layer caused
  double sram_read_gbps[kBufferKinds] = {0, 0, 0};
  double sram_write_gbps[kBufferKinds] = {0, 0, 0};
  double macs_per_dram_byte = 0;  // arithmetic intensity
  double required_gbps = 0;       // DRAM bandwidth to never stall: bytes / compute time
  // Memory stalls (ifmap, weight, ofmap) are at least a quarter of the layer's cycles.
  bool memory_bound = false;
  // Array layers: the buffer-level tiling (sim/mapper/tiling_search.h) in
  // GEMM elements, its tile loops outermost first ("mnk") and whether partial
  // sums spill to DRAM.
  std::int64_t tile_m = 0, tile_n = 0, tile_k = 0;
  std::string loop_order;
  bool psum_spill = false;
  // Each tensor once at its stored width (zero for what stays on chip): the
  // floor of dram_read_bytes + dram_write_bytes.
  std::int64_t compulsory_dram_bytes = 0;
};

// What the memory side needs to know of one layer to build its program.
struct LayerMemoryShape {
  bool on_array = false;
  // Array layers.
  std::vector<std::int64_t> input_dims;
  std::int64_t macs = 0;
  int activation_bits = 8, weight_bits = 8, output_bits = 8, lanes = 1;
  // Cycles the layer's GEMM engine took beyond the closed form (pe fidelity:
  // the register-level engine's own count; 0 for tile fidelity): added to the
  // layer's last fold, so the model's timing follows the engine that ran.
  std::int64_t engine_extra_cycles = 0;
  // Post-processing layers.
  std::vector<std::int64_t> input_bytes;
  std::int64_t output_bytes = 0;
  std::int64_t ppu_cycles = 0;
};

class MemorySystem {
 public:
  // `config.memory.modeled` must be true. `trace` (nullable) receives folds,
  // stalls, DMA transfers, buffer traffic and DRAM commands.
  MemorySystem(const AcceleratorConfig& config, const Graph& graph, TraceRecorder* trace = nullptr);

  // Runs the whole network on the accelerator model (accel/npu/npu_netlist.h)
  // and returns each layer's record. `shapes` is parallel to graph.layers.
  std::vector<LayerMemoryRecord> run(const std::vector<LayerMemoryShape>& shapes);

  double dram_peak_gbps() const;

 private:
  LayerProgram array_program(std::size_t layer, const LayerMemoryShape& shape, LayerMemoryRecord& record);
  LayerProgram ppu_program(std::size_t layer, const LayerMemoryShape& shape, LayerMemoryRecord& record);
  void map_dram_writers();
  std::vector<std::size_t> dram_writers(std::size_t layer, std::size_t first_input) const;
  void finish(std::size_t layer, const LayerTiming& timing, LayerMemoryRecord& record) const;
  void flush_dram_commands();

  const AcceleratorConfig& config_;
  const Graph& graph_;
  std::unique_ptr<DataBusWindows> data_bus_;
  std::vector<std::uint64_t> weight_address_, output_address_;  // per layer
  std::map<std::string, std::uint64_t> tensor_address_;         // DRAM address of the graph input and each output
  std::map<std::string, std::int64_t> tensor_elements_;         // of the graph input and each output
  std::map<std::string, std::int64_t> writer_;  // the layer whose write-back puts a tensor in DRAM (-1: none)
  std::vector<bool> output_on_chip_;            // per layer
  TraceRecorder* trace_ = nullptr;
  std::vector<DramCommandRecord> command_log_;
  std::vector<DramStats> stats_at_results_;  // the DRAM's counters when each layer's last result was ready
};

// What each GEMM of a conv2d or fc layer needs from memory (one per conv
// group), with addresses relative to the layer's tensors and the on-chip
// flags unset: the caller adds the bases and sets them.
std::vector<GemmMemoryNeeds> layer_gemm_needs(const Layer& layer, const std::vector<std::int64_t>& input_dims,
                                              int activation_bits, int weight_bits, int output_bits);

// Byte range of elements [first, end) of a stored tensor in load and store
// footprints (accel/npu/npu_program.h), from the tensor's base.
ByteRange element_range(std::int64_t first, std::int64_t end);

// Plans every array layer of `graph` (with the config's formats) so that a
// buffer too small for one fold fails before the run, naming the config file,
// the buffer's JSON path, the bytes needed and the layer.
void check_memory_fits(const AcceleratorConfig& config, const Graph& graph, const std::string& config_file);

}  // namespace npusim
