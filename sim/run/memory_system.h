// The memory side of a network run: where every tensor lives in DRAM, which
// layer outputs stay on chip for the next layer, and, layer by layer, the plan
// (sim/mapper/memory_plan.h) timed through the DMA engine against the DRAM
// (sim/run/memory_schedule.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "accel/memory/data_bus_windows.h"
#include "accel/memory/dma_engine.h"
#include "accel/memory/dram_target.h"
#include "models/graph.h"
#include "sim/config/accelerator_config.h"
#include "sim/mapper/memory_plan.h"
#include "sim/run/memory_schedule.h"
#include "accel/memory/dram_controller.h"
#include "traces/trace_recorder.h"

namespace npusim {

struct LayerMemoryRecord {
  std::string fold_order;            // array layers: rows_inner / cols_inner
  std::int64_t temporal_tiles = 0;   // array layers: most temporal pieces of any GEMM
  bool input_on_chip = false;        // first input came from the previous layer's buffer
  bool output_on_chip = false;       // output stays for the next layer
  std::int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::int64_t dram_read_bytes_by_buffer[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_read_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t sram_write_bytes[kBufferKinds] = {0, 0, 0};
  std::int64_t compute_cycles = 0;   // without stalls
  std::int64_t total_cycles = 0;     // compute + stalls
  StallCycles stalls;
  double dram_read_gbps = 0, dram_write_gbps = 0;  // averages over the layer
  double dram_peak_gbps = 0;         // most bytes in one peak window
  double dram_peak_share_pct = 0;    // average bandwidth / the DRAM's peak
  double row_hit_pct = 0;
  std::uint64_t dram_activations = 0;  // row activations the layer caused
  double sram_read_gbps[kBufferKinds] = {0, 0, 0};
  double sram_write_gbps[kBufferKinds] = {0, 0, 0};
  double macs_per_dram_byte = 0;     // arithmetic intensity
  double required_gbps = 0;          // DRAM bandwidth to never stall: bytes / compute time
  bool memory_bound = false;         // required_gbps above the DRAM's peak
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

class MemorySystem {
 public:
  // `config.memory.modeled` must be true. `trace` (nullable) receives folds,
  // stalls, DMA transfers, buffer traffic and DRAM commands.
  MemorySystem(const AcceleratorConfig& config, const Graph& graph, TraceRecorder* trace = nullptr);

  // Times one array layer (all its GEMMs, back to back) and returns its record.
  // `lanes`: the layer's own MAC lanes (W8A8 end layers of a binary network run
  // fewer lanes than the config's, models/quant/format_plan.cpp), which set its folds.
  LayerMemoryRecord run_array_layer(std::size_t layer_index, const std::vector<std::int64_t>& input_dims,
                                    std::int64_t macs, int activation_bits, int weight_bits,
                                    int output_bits, int lanes);

  // Times one post-processing layer: inputs in, `ppu_cycles` of work, output out.
  LayerMemoryRecord run_ppu_layer(std::size_t layer_index, const std::vector<std::int64_t>& input_bytes,
                                  std::int64_t output_bytes, std::int64_t ppu_cycles);

  double dram_peak_gbps() const { return dram_->model().config().peak_bandwidth_gbps(); }
  const DramStats& dram_stats() const { return dram_->model().stats(); }

 private:
  LayerMemoryRecord finish(const TimedSpan& span, const DramStats& before, std::int64_t macs);
  void begin_trace(std::size_t layer_index, ComputeUnit unit);
  void flush_dram_commands();

  const AcceleratorConfig& config_;
  const Graph& graph_;
  // The DMA (TLM-2.0 initiator) bound to the DRAM (TLM-2.0 target). SystemC
  // modules: one MemorySystem per process, built before the kernel first runs.
  std::unique_ptr<DramTarget> dram_;
  std::unique_ptr<DmaEngine> dma_;
  std::unique_ptr<MemorySchedule> schedule_;
  std::unique_ptr<DataBusWindows> data_bus_;
  std::vector<std::uint64_t> weight_address_, output_address_;  // per layer
  std::map<std::string, std::uint64_t> tensor_address_;  // DRAM address of the graph input and each output
  std::vector<bool> output_on_chip_;  // per layer
  TraceRecorder* trace_ = nullptr;
  std::vector<DramCommandRecord> command_log_;
};

// What each GEMM of a conv2d or fc layer needs from memory (one per conv
// group), with addresses relative to the layer's tensors and the on-chip
// flags unset: the caller adds the bases and sets them.
std::vector<GemmMemoryNeeds> layer_gemm_needs(const Layer& layer, const std::vector<std::int64_t>& input_dims,
                                              int activation_bits, int weight_bits, int output_bits);

// Plans every array layer of `graph` (with the config's formats) so that a
// buffer too small for one fold fails before the run, naming the config file,
// the buffer's JSON path, the bytes needed and the layer.
void check_memory_fits(const AcceleratorConfig& config, const Graph& graph, const std::string& config_file);

}  // namespace npusim
