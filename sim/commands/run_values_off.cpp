#include "sim/commands/run_values_off.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "models/layer_weights.h"
#include "models/quant/format_plan.h"

namespace npusim {
namespace {

// Thrown from load_models' check to stop the load before its weights are
// drawn; carries the graphs as the check saw them.
struct StructureRead {
  std::vector<Graph> graphs;
};

bool is_onnx(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".onnx";
}

}  // namespace

std::vector<LoadedModel> load_model_structures(const std::string& path, const GraphCheck& check,
                                               const ModelLoadOptions& load) {
  if (is_onnx(path)) return load_models(path, check, load);
  try {
    // An unknown extension is load_models' error, thrown before any check.
    load_models(
        path,
        [&](const std::vector<const Graph*>& graphs) {
          if (check) check(graphs);
          StructureRead read;
          read.graphs.reserve(graphs.size());
          for (const Graph* graph : graphs) read.graphs.push_back(*graph);
          throw read;
        },
        load);
  } catch (StructureRead& read) {
    std::vector<LoadedModel> models;
    models.reserve(read.graphs.size());
    for (Graph& graph : read.graphs) models.push_back(LoadedModel{std::move(graph), std::nullopt});
    return models;
  }
  throw std::logic_error("load_model_structures: " + path + " was read without showing its graphs to the check");
}

QuantizedGraph format_only_graph(const AcceleratorConfig& config, const LoadedModel& model,
                                 const QuantizationOptions& quantization) {
  const MacFormat& mac = config.array.mac;
  if (model.quantized) {
    if (const auto mismatch = file_quantization_mismatch(config, model)) throw std::invalid_argument(*mismatch);
    QuantizedGraph qgraph = *model.quantized;
    qgraph.mac = mac;  // as simulate() does: the file's formats, the config's hardware
    return qgraph;
  }
  if (const auto problem = validate(mac)) throw std::invalid_argument("format_only_graph: " + *problem);
  QuantizedGraph qgraph;
  qgraph.graph = model.graph;
  qgraph.mac = mac;
  qgraph.layers.resize(model.graph.layers.size());
  if (!mac.integer()) return qgraph;  // float graphs are uniform: every tensor in mac.activation
  const FormatPlan plan = plan_formats(model.graph, mac, quantization);
  qgraph.input_format = plan.input_format;
  for (std::size_t i = 0; i < model.graph.layers.size(); ++i) {
    if (is_compute_layer(model.graph.layers[i])) qgraph.layers[i].mac = plan.layer_macs[i];
    qgraph.layers[i].output_format = plan.output_formats[i];
  }
  return qgraph;
}

Simulation simulate_values_off(const AcceleratorConfig& config, const LoadedModel& model, const EnergyTable& table,
                               const QuantizationOptions& quantization, const LayerProgress& progress,
                               TraceRecorder* trace) {
  Simulation sim;
  sim.values = Values::off;
  sim.check = Check::none;
  sim.qgraph = format_only_graph(config, model, quantization);
  sim.quantization_from_file = model.quantized.has_value();
  sim.input.dims = sim.qgraph.graph.input_dims;
  sim.input.format = sim.qgraph.graph_input_format();
  sim.run = run_network_timing(sim.qgraph, config, progress, trace);
  sim.energy = estimate_run_energy(config, sim.qgraph, sim.run, table);
  return sim;
}

}  // namespace npusim
