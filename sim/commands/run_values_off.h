// --values off (timing only, issue 19): a run without tensor values. The
// network is read without its parameters, no weight or activation is drawn,
// quantized or computed, nothing is checked against the reference and no
// accuracy is measured; cycles, stalls, DRAM and SRAM traffic, energy and area
// come from the same timing, memory and energy models as a values run's, and
// equal them (tests/values_off_test.cpp). What it holds is the memory model's
// state, the layers' records and (with a memory section and a network read
// without weights) a zero-filled stand-in of each layer's weight count for the
// memory system's address map (sim/run/network_runner.h); never an activation.
#pragma once

#include <string>
#include <vector>

#include "models/model_loader.h"
#include "sim/commands/simulation.h"

namespace npusim {

// The models of `path` with their structure only: a .json network or a
// SCALE-Sim .csv is read up to the point where its loader would draw the
// weights (load_models' `check` sees the graphs there; `check` runs first),
// so Layer::weights stays empty unless the file gives the values itself (a
// constant's). An .onnx file is read whole: its weights are the file's
// bytes, bounded by its size.
std::vector<LoadedModel> load_model_structures(const std::string& path, const GraphCheck& check = {},
                                               const ModelLoadOptions& load = {});

// The graph with what a timing run needs of its quantization: every compute
// layer's MacFormat and every tensor's format, by the rules quantize_graph
// follows (models/quant/format_plan.h: --eight-bit-ends, --eight-bit-layers),
// or the file's own quantization for an already-quantized model. No scale,
// weight or bias is made.
QuantizedGraph format_only_graph(const AcceleratorConfig& config, const LoadedModel& model,
                                 const QuantizationOptions& quantization);

// One model's timing-only simulation: format_only_graph, run_network_timing,
// the energy. The result has no checks and no metrics (values == off).
Simulation simulate_values_off(const AcceleratorConfig& config, const LoadedModel& model, const EnergyTable& table,
                               const QuantizationOptions& quantization, const LayerProgress& progress = {},
                               TraceRecorder* trace = nullptr);

}  // namespace npusim
