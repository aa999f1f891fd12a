// Runs a QuantizedGraph layer by layer on the modeled accelerator: conv2d and fc
// on the MAC array (through a GemmEngine), everything else on the
// post-processing unit (PPU). Layers run one after another, so the run's cycles
// are the sum of the layers' cycles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accel/array/gemm.h"
#include "accel/array/gemm_engine.h"
#include "models/quant/quantized_graph.h"
#include "models/tensor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/memory_system.h"
#include "traces/trace_recorder.h"

namespace npusim {

enum class ExecutionUnit { array, ppu };

// Whether a run computes tensor values (and checks them) or times the network
// only (`--values off`, run_network_timing below).
enum class Values { on, off };

struct LayerRecord {
  std::string name;
  LayerType type = LayerType::conv2d;
  std::string format;  // the MacFormat label ("W8A8") on the array, the output format on the PPU
  ExecutionUnit unit = ExecutionUnit::array;
  GemmShape gemm;                   // array layers: the shape every GEMM of the layer has
  std::int64_t gemm_count = 0;      // conv2d: groups; fc: 1; PPU layers: 0
  std::int64_t macs = 0;            // gemm_count * M * N * K
  std::int64_t cycles = 0;          // array cycles (array layers) or PPU cycles
  std::int64_t folds = 0;           // array layers: folds over all the layer's GEMMs
  double utilization = 0.0;         // array layers: macs / (cycles * rows * cols * lanes)
  double mapping_efficiency = 0.0;  // array layers: MAC-weighted over the GEMMs
  std::int64_t overflow_outputs = 0;
  // With a memory system: traffic, bandwidth and stalls; `cycles` then includes
  // the stalls (memory->total_cycles).
  std::optional<LayerMemoryRecord> memory;
  Tensor output;
};

struct NetworkRun {
  std::vector<LayerRecord> layers;  // parallel to graph.layers
  std::int64_t total_cycles = 0;
  std::int64_t total_macs = 0;
};

std::string_view to_string(ExecutionUnit unit);

// PPU cycles of a layer: ceil(output elements * input tensors / elements per cycle).
std::int64_t ppu_cycles(std::int64_t output_elements, std::int64_t input_tensors, const PpuConfig& ppu);

// The PPU work of a non-array layer in element operations (one lane for one
// cycle each): the layer takes ppu_cycles(ops, 1, ppu) cycles and the energy
// model charges ops PPU element operations. Per type in network_runner.cpp
// (flatten and reshape are free address remaps: 0).
std::int64_t ppu_element_ops(LayerType type, std::int64_t output_elements, std::int64_t input_tensors);

// Called after each layer with its index and the number of layers.
using LayerProgress = std::function<void(std::size_t, std::size_t, const LayerRecord&)>;

// `input` is the graph input in the activation format (quantize_input).
// `engine` must have been built for config.array.
// `trace` (nullable) records what the run did over time (traces/).
NetworkRun run_network(const QuantizedGraph& qgraph, const Tensor& input, GemmEngine& engine,
                       const AcceleratorConfig& config, const LayerProgress& progress = {},
                       TraceRecorder* trace = nullptr);

// --values off (timing only): the same run without tensor values. No weight,
// operand or output value is read or made: each array layer's GEMMs are timed
// in closed form (the tile engine's cycles), each PPU layer from its output's
// size, and with a memory section the whole network runs on the memory model
// as run_network's does, so cycles, stalls, traffic and everything priced from
// them equal run_network's on the same graph. LayerRecord::output then holds
// dims and format only (no elements) and overflow_outputs is 0 (unknown).
// `qgraph` needs formats only (mac, input and output formats per layer); its
// graph may lack weights. Memory is the memory model's, never a tensor's.
// Throws InputError for pe fidelity, whose cycles come from stepping values.
NetworkRun run_network_timing(const QuantizedGraph& qgraph, const AcceleratorConfig& config,
                              const LayerProgress& progress = {}, TraceRecorder* trace = nullptr);

}  // namespace npusim
