// One simulated inference: quantize the graph for the config's formats, run it
// on the modeled accelerator, check every layer against the reference executor
// and measure what the formats cost in accuracy against the fp32 golden run.
// `npusim run` reports one of these; `npusim compare` several side by side.
#pragma once

#include <memory>
#include <vector>

#include "accel/gemm_engine.h"
#include "models/graph.h"
#include "models/quant_metrics.h"
#include "models/quantized_graph.h"
#include "sim/accelerator_config.h"
#include "sim/network_runner.h"
#include "sim/reference_check.h"
#include "sim/run_energy.h"

namespace npusim {

struct Simulation {
  QuantizedGraph qgraph;
  Tensor input;  // the graph input in its quantized format
  NetworkRun run;
  std::vector<LayerCheck> checks;
  QuantMetrics metrics;
  RunEnergy energy;
};

// The engine a config asks for. The pe engine elaborates the process's one
// SystemC design: build it once, before anything runs.
std::unique_ptr<GemmEngine> make_engine(const AcceleratorConfig& config);

// `progress` is called after each layer (may be empty).
// `table` prices the run (load_config_energy_table, loaded before the run so a
// bad table fails fast).
Simulation simulate(const AcceleratorConfig& config, const Graph& graph, GemmEngine& engine,
                    const EnergyTable& table, const LayerProgress& progress = {},
                    TraceRecorder* trace = nullptr);

}  // namespace npusim
