// One simulated inference: quantize the graph for the config's formats (or
// take the quantization an already-quantized model file carries), run it on
// the modeled accelerator, check every layer against the reference executor
// and measure what the formats cost in accuracy against the fp32 golden run.
// `npusim run` reports one of these; `npusim compare` several side by side.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/array/gemm_engine.h"
#include "models/graph.h"
#include "models/model_loader.h"
#include "models/quant/quant_metrics.h"
#include "models/quant/quantize.h"
#include "models/quant/quantized_graph.h"
#include "sim/config/accelerator_config.h"
#include "sim/energy/run_energy.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {

struct Simulation {
  QuantizedGraph qgraph;  // qgraph.graph is the network the report describes
  Tensor input;           // the graph input in its quantized format
  NetworkRun run;
  std::vector<LayerCheck> checks;
  QuantMetrics metrics;
  RunEnergy energy;
  // True when the scales and zero points came from the model file
  // (LoadedModel::quantized), not from npusim's calibration.
  bool quantization_from_file = false;
  // Values::off (--values off, sim/commands/run_values_off.h): no values were
  // computed, so `checks` and `metrics` are empty, the input and the layers'
  // outputs hold dims and formats only, and qgraph has formats but no scales.
  Values values = Values::on;
  Check check = Check::full;  // Check::none: `checks` is empty (always with values off)
};

// What a simulation computes: values (and then whether it checks them).
struct SimulationMode {
  Values values = Values::on;
  Check check = Check::full;  // ignored with values off: nothing to check
};

// The engine a config asks for. The pe engine elaborates the process's one
// SystemC design: build it once, before anything runs.
std::unique_ptr<GemmEngine> make_engine(const AcceleratorConfig& config);

// `progress` is called after each layer (may be empty).
// `table` prices the run (load_config_energy_table, loaded before the run so a
// bad table fails fast). Calibrates with make_calibration_inputs(graph,
// quantization.calibration_samples) and runs the first of them.
Simulation simulate(const AcceleratorConfig& config, const Graph& graph, GemmEngine& engine, const EnergyTable& table,
                    const LayerProgress& progress = {}, TraceRecorder* trace = nullptr,
                    const QuantizationOptions& quantization = {});

// The same for a loaded model: with `model.quantized` set, its own
// quantization runs (check_file_quantization() first), else the graph is
// calibrated as above.
// `sample`, when given, is the fp32 input the run uses (`npusim run --input`)
// instead of the seeded one; calibration still uses the seeded samples.
// Values::off runs simulate_values_off() instead (no sample: it has no values);
// Check::none skips the reference executor.
Simulation simulate(const AcceleratorConfig& config, const LoadedModel& model, GemmEngine& engine,
                    const EnergyTable& table, const QuantizationOptions& quantization,
                    const LayerProgress& progress = {}, TraceRecorder* trace = nullptr, const Tensor* sample = nullptr,
                    const SimulationMode& mode = {});

// Why `config` cannot run the quantization `model` carries (its MAC formats
// must be the file's: int8 weights and activations for an ONNX QDQ or
// QOperator file), or empty when it can or the model carries none.
std::optional<std::string> file_quantization_mismatch(const AcceleratorConfig& config, const LoadedModel& model);

// Every model in turn, as one report: what `npusim run` and `npusim compare`
// do with a SCALE-Sim CSV, whose rows are independent single-layer networks.
// Each row is quantized, run (from an empty accelerator: its own memory
// system, its input in DRAM, time from 0) and checked on its own; the result
// lists their layers in row order, as if the rows ran back to back on the same
// accelerator: cycles, MACs, DRAM traffic and energy add up (leakage over the
// summed time), the area is the config's. The network SQNR is the lowest of
// the rows' (each row's output is a network output). The combined graph is
// named `name`, has no input dims of its own and the first row's seed.
// `progress` sees the layers numbered across all rows. No trace: the rows'
// times all start at 0. One model: simulate() of it.
Simulation simulate_all(const AcceleratorConfig& config, const std::vector<LoadedModel>& models,
                        const std::string& name, GemmEngine& engine, const EnergyTable& table,
                        const QuantizationOptions& quantization, const LayerProgress& progress = {},
                        TraceRecorder* trace = nullptr, const Tensor* sample = nullptr,
                        const SimulationMode& mode = {});

// The model file of `npusim run` / `compare` (load_models()), checked against
// the quantization options: an --eight-bit-layers name no compute layer has,
// or calibration options for a file that carries its own quantization, is an
// InputError naming the option and the file.
// `check` sees the graphs before their parameters are drawn (models/model_loader.h).
// Values::off reads the structure only (load_model_structures()).
std::vector<LoadedModel> load_models_checked(const std::string& path, const QuantizationOptions& quantization,
                                             const GraphCheck& check = {}, Values values = Values::on,
                                             const ModelLoadOptions& load = {});

// Where a run's quantization came from, for reports: "calibrated by npusim
// (minmax, per-channel weights, 1 sample)", "from the model file (...)" or
// "none: float formats round their values".
std::string quantization_text(const Simulation& sim, const QuantizationOptions& quantization);
// The same as JSON: {"source": "file" | "calibration" | "float_rounding", and
// for calibration the options: "method", "percentile" (percentile only),
// "per_channel_weights", "calibration_samples", "eight_bit_ends",
// "eight_bit_layers"}.
nlohmann::ordered_json quantization_json(const Simulation& sim, const QuantizationOptions& quantization);

std::string_view to_string(EightBitEnds ends);

}  // namespace npusim
