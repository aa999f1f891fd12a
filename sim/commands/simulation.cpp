#include "sim/commands/simulation.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "models/input_error.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "sim/commands/run_values_off.h"
#include "sim/report/text_table.h"

namespace npusim {
namespace {

// The run, check and measurements of a quantized graph on the sample input.
Simulation run_quantized(const AcceleratorConfig& config, const Graph& graph, QuantizedGraph qgraph,
                         const Tensor& sample, GemmEngine& engine, const EnergyTable& table,
                         const LayerProgress& progress, TraceRecorder* trace, Check check) {
  Simulation sim;
  sim.check = check;
  sim.qgraph = std::move(qgraph);
  sim.input = quantize_input(sim.qgraph, sample);
  sim.run = run_network(sim.qgraph, sim.input, engine, config, progress, trace);
  if (check == Check::full) {
    const ReferenceResult reference = run_reference(sim.qgraph, sim.input, reference_reduction_chunk(config.array));
    sim.checks = check_against_reference(sim.run, reference);
  }

  const std::vector<Tensor> golden = Fp32Executor(graph).run(sample);
  std::vector<const Tensor*> outputs;
  for (const auto& layer : sim.run.layers) outputs.push_back(&layer.output);
  sim.metrics = quant_metrics(sim.qgraph, outputs, golden);
  sim.energy = estimate_run_energy(config, sim.qgraph, sim.run, table);
  return sim;
}

}  // namespace

std::unique_ptr<GemmEngine> make_engine(const AcceleratorConfig& config) {
  if (config.fidelity == Fidelity::pe) return make_pe_engine(config.array, config.clock_mhz);
  return make_tile_engine(config.array);
}

namespace {

Simulation simulate_graph(const AcceleratorConfig& config, const Graph& graph, GemmEngine& engine,
                          const EnergyTable& table, const LayerProgress& progress, TraceRecorder* trace,
                          const QuantizationOptions& quantization, Check check) {
  // Sample 0 is both a calibration input and the run's input.
  const std::vector<Tensor> calibration = quantization.calibration_data.empty()
                                              ? make_calibration_inputs(graph, quantization.calibration_samples)
                                              : quantization.calibration_data;
  QuantizedGraph qgraph = quantize_graph(graph, config.array.mac, calibration, quantization);
  return run_quantized(config, graph, std::move(qgraph), calibration.front(), engine, table, progress, trace, check);
}

}  // namespace

Simulation simulate(const AcceleratorConfig& config, const Graph& graph, GemmEngine& engine, const EnergyTable& table,
                    const LayerProgress& progress, TraceRecorder* trace, const QuantizationOptions& quantization) {
  return simulate_graph(config, graph, engine, table, progress, trace, quantization, Check::full);
}

std::optional<std::string> file_quantization_mismatch(const AcceleratorConfig& config, const LoadedModel& model) {
  if (!model.quantized) return std::nullopt;
  const MacFormat& file = model.quantized->mac;
  const MacFormat& array = config.array.mac;
  if (file.weight == array.weight && file.activation == array.activation) return std::nullopt;
  return "the file is already quantized to " + file.label() + " (its own scales and zero points), but the config's " +
         "MAC format is " + array.label() + " (use a config with " + std::string(to_string(file.weight)) +
         " weights and " + std::string(to_string(file.activation)) +
         " activations, e.g. --set formats.weight=" + std::string(to_string(file.weight)) +
         " --set formats.activation=" + std::string(to_string(file.activation)) + ")";
}

Simulation simulate(const AcceleratorConfig& config, const LoadedModel& model, GemmEngine& engine,
                    const EnergyTable& table, const QuantizationOptions& quantization, const LayerProgress& progress,
                    TraceRecorder* trace, const Tensor* sample, const SimulationMode& mode) {
  if (mode.values == Values::off) {
    if (sample) throw std::invalid_argument("simulate: an input sample needs values on");
    return simulate_values_off(config, model, table, quantization, progress, trace);
  }
  if (!model.quantized && sample) {
    const std::vector<Tensor> calibration = quantization.calibration_data.empty()
                                                ? make_calibration_inputs(model.graph, quantization.calibration_samples)
                                                : quantization.calibration_data;
    QuantizedGraph qgraph = quantize_graph(model.graph, config.array.mac, calibration, quantization);
    return run_quantized(config, model.graph, std::move(qgraph), *sample, engine, table, progress, trace, mode.check);
  }
  if (!model.quantized) {
    return simulate_graph(config, model.graph, engine, table, progress, trace, quantization, mode.check);
  }
  if (const auto mismatch = file_quantization_mismatch(config, model)) throw std::invalid_argument(*mismatch);
  QuantizedGraph qgraph = *model.quantized;
  // The file decides the scales; the config decides the hardware (accumulator, lanes).
  qgraph.mac = config.array.mac;
  Simulation sim =
      run_quantized(config, model.graph, std::move(qgraph), sample ? *sample : make_sample_input(model.graph), engine,
                    table, progress, trace, mode.check);
  sim.quantization_from_file = true;
  return sim;
}

Simulation simulate_all(const AcceleratorConfig& config, const std::vector<LoadedModel>& models,
                        const std::string& name, GemmEngine& engine, const EnergyTable& table,
                        const QuantizationOptions& quantization, const LayerProgress& progress, TraceRecorder* trace,
                        const Tensor* sample, const SimulationMode& mode) {
  if (models.empty()) throw std::invalid_argument("simulate_all: no model");
  if (models.size() == 1) {
    return simulate(config, models.front(), engine, table, quantization, progress, trace, sample, mode);
  }
  if (sample) throw std::invalid_argument("simulate_all: one input cannot feed several models");
  if (trace) throw std::invalid_argument("simulate_all: several models cannot share one trace");

  std::size_t layer_count = 0;
  for (const LoadedModel& model : models) layer_count += model.graph.layers.size();
  Simulation all;
  all.values = mode.values;
  all.check = mode.values == Values::off ? Check::none : mode.check;
  all.qgraph.mac = config.array.mac;
  all.qgraph.graph.name = name;
  all.qgraph.graph.seed = models.front().graph.seed;
  all.metrics.network_sqnr_db = std::numeric_limits<double>::infinity();
  all.run.layers.reserve(layer_count);
  std::size_t done = 0;
  for (const LoadedModel& model : models) {
    LayerProgress row_progress;
    if (progress) {
      row_progress = [&](std::size_t index, std::size_t, const LayerRecord& layer) {
        progress(done + index, layer_count, layer);
      };
    }
    // Only the names this row has: the others belong to other rows.
    QuantizationOptions row_options = quantization;
    std::erase_if(row_options.eight_bit_layers, [&](const std::string& layer) {
      return std::none_of(model.graph.layers.begin(), model.graph.layers.end(),
                          [&](const Layer& l) { return l.name == layer; });
    });
    Simulation row = simulate(config, model, engine, table, row_options, row_progress, nullptr, nullptr, mode);
    done += model.graph.layers.size();
    all.quantization_from_file = all.quantization_from_file || row.quantization_from_file;
    for (std::size_t i = 0; i < row.qgraph.layers.size(); ++i) {
      all.qgraph.graph.layers.push_back(row.qgraph.graph.layers[i]);
      QuantizedLayer layer = row.qgraph.layers[i];
      // A row's default format becomes explicit: the combined graph has one default.
      if (!layer.mac &&
          (row.qgraph.graph.layers[i].type == LayerType::conv2d || row.qgraph.graph.layers[i].type == LayerType::fc))
        layer.mac = row.qgraph.mac_of(i);
      if (!layer.output_format) layer.output_format = row.qgraph.output_format_of(i);
      all.qgraph.layers.push_back(std::move(layer));
    }
    if (all.input.dims.empty()) all.input = row.input;
    for (LayerRecord& layer : row.run.layers) all.run.layers.push_back(std::move(layer));
    all.run.total_cycles += row.run.total_cycles;
    all.run.total_macs += row.run.total_macs;
    all.checks.insert(all.checks.end(), row.checks.begin(), row.checks.end());
    all.metrics.layers.insert(all.metrics.layers.end(), row.metrics.layers.begin(), row.metrics.layers.end());
    all.metrics.network_sqnr_db = std::min(all.metrics.network_sqnr_db, row.metrics.network_sqnr_db);
  }
  all.energy = estimate_run_energy(config, all.qgraph, all.run, table);
  return all;
}

namespace {

bool default_calibration(const QuantizationOptions& q) {
  const QuantizationOptions d;
  return q.method == d.method && q.percentile == d.percentile && q.per_channel == d.per_channel &&
         q.calibration_samples == d.calibration_samples && q.eight_bit_ends == d.eight_bit_ends &&
         q.eight_bit_layers.empty() && q.calibration_data.empty();
}

}  // namespace

std::string_view to_string(EightBitEnds ends) {
  switch (ends) {
    case EightBitEnds::none: return "none";
    case EightBitEnds::binary_only: return "binary_only";
    case EightBitEnds::narrow: return "narrow";
  }
  return "?";
}

std::vector<LoadedModel> load_models_checked(const std::string& path, const QuantizationOptions& quantization,
                                             const GraphCheck& check, Values values, const ModelLoadOptions& load) {
  std::vector<LoadedModel> models =
      values == Values::off ? load_model_structures(path, check, load) : load_models(path, check, load);
  for (const std::string& name : quantization.eight_bit_layers) {
    const bool found = std::any_of(models.begin(), models.end(), [&](const LoadedModel& m) {
      return std::any_of(m.graph.layers.begin(), m.graph.layers.end(), [&](const Layer& l) {
        return l.name == name && (l.type == LayerType::conv2d || l.type == LayerType::fc);
      });
    });
    if (!found) {
      throw InputError("--eight-bit-layers: " + path + " has no conv2d or fc layer named '" + name + "'");
    }
  }
  const bool file_quantized =
      std::any_of(models.begin(), models.end(), [](const LoadedModel& m) { return m.quantized.has_value(); });
  if (file_quantized && !default_calibration(quantization)) {
    throw InputError(path +
                     ": the file carries its own quantization, so the calibration options "
                     "(--calibration, --percentile, --per-tensor-weights, --calibration-samples, "
                     "--eight-bit-ends, --eight-bit-layers, --calibration-data) do not apply");
  }
  return models;
}

std::string quantization_text(const Simulation& sim, const QuantizationOptions& q) {
  if (sim.quantization_from_file) {
    return "from the model file (its own scales and zero points, not calibrated by npusim); arithmetic " +
           std::string(to_string(sim.qgraph.arithmetic)) + " (docs/numerics.md)";
  }
  if (!sim.qgraph.mac.integer()) return "none: float formats round their values (no calibration)";
  if (sim.values == Values::off) {
    // The formats follow the 8-bit rules; nothing is calibrated without values.
    std::string text = "none: --values off (formats only, 8-bit ends " + std::string(to_string(q.eight_bit_ends));
    for (std::size_t i = 0; i < q.eight_bit_layers.size(); ++i)
      text += (i ? "," : ", 8-bit layers ") + q.eight_bit_layers[i];
    return text + "; no calibration)";
  }
  std::string text = "calibrated by npusim (" + std::string(to_string(q.method));
  if (q.method == CalibrationMethod::percentile) {
    std::ostringstream percentile;
    percentile << q.percentile;  // shortest: "99.99", "99"
    text += " " + percentile.str() + " %";
  }
  text += q.per_channel ? ", per-channel weights" : ", per-tensor weights";
  text += ", " + std::to_string(q.calibration_samples) + (q.calibration_samples == 1 ? " sample" : " samples");
  if (!q.calibration_data.empty()) text += " from --calibration-data";
  text += ", 8-bit ends " + std::string(to_string(q.eight_bit_ends));
  if (!q.eight_bit_layers.empty()) {
    text += ", 8-bit layers";
    for (std::size_t i = 0; i < q.eight_bit_layers.size(); ++i) text += (i ? "," : " ") + q.eight_bit_layers[i];
  }
  return text + "); arithmetic " + std::string(to_string(sim.qgraph.arithmetic)) + " (docs/numerics.md)";
}

nlohmann::ordered_json quantization_json(const Simulation& sim, const QuantizationOptions& q) {
  nlohmann::ordered_json json;
  if (sim.quantization_from_file) {
    json["source"] = "file";
    json["arithmetic"] = to_string(sim.qgraph.arithmetic);
    return json;
  }
  if (!sim.qgraph.mac.integer()) {
    json["source"] = "float_rounding";
    return json;
  }
  if (sim.values == Values::off) {
    json["source"] = "formats_only";  // --values off: nothing calibrated
    json["eight_bit_ends"] = std::string(to_string(q.eight_bit_ends));
    json["eight_bit_layers"] = q.eight_bit_layers;
    return json;
  }
  json["source"] = "calibration";
  json["method"] = std::string(to_string(q.method));
  if (q.method == CalibrationMethod::percentile) json["percentile"] = q.percentile;
  json["per_channel_weights"] = q.per_channel;
  json["calibration_samples"] = q.calibration_samples;
  json["eight_bit_ends"] = std::string(to_string(q.eight_bit_ends));
  json["eight_bit_layers"] = q.eight_bit_layers;
  json["arithmetic"] = to_string(sim.qgraph.arithmetic);
  return json;
}

}  // namespace npusim
