#include "sim/commands/run_command.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "accel/array/gemm_engine.h"
#include "models/input_error.h"
#include "models/model_loader.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "sim/commands/resource_estimate.h"
#include "sim/commands/simulation.h"
#include "sim/commands/tensor_io.h"
#include "sim/config/accelerator_config.h"
#include "sim/energy/run_energy.h"
#include "sim/report/atomic_file.h"
#include "sim/report/html_report.h"
#include "sim/report/output_paths.h"
#include "sim/report/report.h"
#include "sim/run/memory_system.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "traces/streaming_trace_writer.h"
#include "traces/trace_file_output.h"
#include "traces/trace_recorder.h"

namespace npusim {
namespace {

// The trace window options, checked before anything is created on disk.
TraceLimits trace_limits(const RunOptions& options, const Graph& graph) {
  TraceLimits limits;
  limits.max_events = options.trace_max_events;
  limits.buffer_window_ps = options.trace_window_ns * 1000;  // range-checked by the CLI (at most 10^12 ns)
  limits.layers = options.trace_layers;
  for (const auto& name : limits.layers) {
    const bool known =
        std::any_of(graph.layers.begin(), graph.layers.end(), [&](const Layer& layer) { return layer.name == name; });
    if (!known) throw InputError("--trace-layers: " + options.model_path + " has no layer named '" + name + "'");
  }
  if (options.trace_from_us) limits.from_ps = std::llround(*options.trace_from_us * 1e6);
  if (options.trace_to_us) limits.to_ps = std::llround(*options.trace_to_us * 1e6);
  if (limits.to_ps <= limits.from_ps) throw InputError("--trace-to-us must be later than --trace-from-us");
  return limits;
}

// Every output is distinct from the inputs and from each other and can be
// created: checked once the options are known good, before the simulation.
void check_run_outputs(const RunOptions& options) {
  std::vector<NamedPath> outputs;
  if (options.json_path) outputs.push_back({"--json", *options.json_path});
  if (options.html_path) outputs.push_back({"--html", *options.html_path});
  if (options.trace_dir) {
    for (const char* name : {"trace.json", "timeline.csv", "trace.vcd"}) {
      outputs.push_back({"--trace " + *options.trace_dir + " (" + name + ")",
                         (std::filesystem::path(*options.trace_dir) / name).string()});
    }
    // Created only now, when no option error can follow.
    try {
      check_trace_directory(*options.trace_dir);
    } catch (const std::runtime_error& error) {
      throw InputError(std::string("--trace: ") + error.what());
    }
    remove_stale_trace_temporaries(*options.trace_dir);
  }
  check_output_paths({{"--config", options.config_path}, {"--model", options.model_path}}, outputs);
}

int run_command_unchecked(const RunOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace

int run_command(const RunOptions& options, std::ostream& out, std::ostream& progress) {
  try {
    return run_command_unchecked(options, out, progress);
  } catch (const TraceFileError& error) {
    // A full disk or a vanished directory while tracing: the output location, not npusim.
    throw InputError(std::string("--trace: ") + error.what());
  }
}

namespace {

// Everything a run needs, loaded and checked before anything is simulated or
// written (the outputs' paths included).
struct RunInputs {
  AcceleratorConfig config;
  std::vector<LoadedModel> models;
  std::vector<Tensor> samples;  // --input: one run per sample
  QuantizationOptions quantization;
  std::vector<std::size_t> dumped;  // --dump-layers: layer indices
  EnergyTable table;
  std::optional<TraceLimits> limits;  // set when the run is traced
  const Graph& graph() const { return models.front().graph; }
};

// The calibration options that differ from their defaults, by name.
std::vector<std::string> calibration_options_given(const QuantizationOptions& q) {
  const QuantizationOptions d;
  std::vector<std::string> given;
  if (q.method != d.method) given.push_back("--calibration");
  if (q.percentile != d.percentile) given.push_back("--percentile");
  if (q.per_channel != d.per_channel) given.push_back("--per-tensor-weights");
  if (q.calibration_samples != d.calibration_samples) given.push_back("--calibration-samples");
  return given;
}

// --values off: the options that need tensor values are errors, not ignored.
void check_values_off(const RunOptions& options, const AcceleratorConfig& config) {
  if (options.values == Values::on) return;
  const auto refuse = [](const std::string& option, const std::string& why) {
    throw InputError(option + " needs tensor values, but --values is off (" + why + "); drop one of them");
  };
  if (options.check == Check::full) {
    throw InputError("--check full needs tensor values, but --values is off (nothing is computed to check)");
  }
  if (options.input_path) refuse("--input", "no input is run");
  if (options.outputs_dir) refuse("--outputs", "no output is computed");
  if (options.dump_layers) refuse("--dump-layers", "no output is computed");
  if (options.calibration_data_path) refuse("--calibration-data", "nothing is calibrated");
  const std::vector<std::string> calibration = calibration_options_given(options.quantization);
  if (!calibration.empty()) refuse(calibration.front(), "nothing is calibrated");
  if (config.fidelity == Fidelity::pe) {
    throw InputError(options.config_path +
                     ": $.array.fidelity: pe steps values through the PE registers, but --values is off "
                     "(timing only runs the tile fidelity's closed-form timing)");
  }
}

// The models of --model, checked against the config, the resource limits and
// the options that apply to a single network only.
std::vector<LoadedModel> load_run_models(const RunOptions& options, const AcceleratorConfig& config) {
  ResourceOptions resources;
  resources.quantization = options.quantization;
  resources.tracing = options.trace_dir || options.html_path;
  resources.trace_flush_events = options.trace_flush_events;
  resources.max_memory_bytes = options.max_memory_mb << 20;
  resources.max_seconds = options.max_sim_minutes * 60;
  // The estimate prices values (tensors, weights, the reference): a timing
  // run holds none of them.
  GraphCheck check;
  if (options.values == Values::on) {
    check = [&](const std::vector<const Graph*>& graphs) { check_resources(config, graphs, resources); };
  }
  std::vector<LoadedModel> models =
      load_models_checked(options.model_path, options.quantization, check, options.values, options.model_load);
  for (const LoadedModel& model : models) {
    check_memory_fits(config, model.graph, options.config_path);
    if (const auto mismatch = file_quantization_mismatch(config, model)) {
      throw InputError(options.model_path + ": " + *mismatch);
    }
  }
  // A SCALE-Sim CSV's rows each start at time 0: one trace cannot hold them.
  if (models.size() > 1 &&
      (options.trace_dir || !options.trace_layers.empty() || options.trace_from_us || options.trace_to_us)) {
    throw InputError("--trace: " + options.model_path + " holds " + std::to_string(models.size()) +
                     " independent SCALE-Sim rows, each timed from 0; trace one row at a time (a CSV of that row)");
  }
  if (models.size() > 1 && options.input_path) {
    throw InputError("--input: " + options.model_path + " holds " + std::to_string(models.size()) +
                     " SCALE-Sim rows with inputs of their own; give --input with a single-network model");
  }
  return models;
}

// The quantization options with --calibration-data read in.
QuantizationOptions run_quantization(const RunOptions& options, const RunInputs& inputs) {
  QuantizationOptions quantization = options.quantization;
  if (options.calibration_data_path) {
    if (inputs.models.size() > 1 || inputs.models.front().quantized) {
      throw InputError("--calibration-data: " + options.model_path +
                       (inputs.models.size() > 1 ? " holds several SCALE-Sim rows" : " carries its own quantization") +
                       "; calibration data applies to one network npusim calibrates");
    }
    quantization.calibration_data =
        read_input_samples(*options.calibration_data_path, inputs.graph(), "--calibration-data");
    quantization.calibration_samples = static_cast<int>(quantization.calibration_data.size());
  }
  return quantization;
}

RunInputs load_run_inputs(const RunOptions& options) {
  RunInputs in{load_accelerator_config(options.config_path, options.set_overrides), {}, {}, {}, {}, {}, {}};
  check_values_off(options, in.config);
  in.models = load_run_models(options, in.config);
  const Graph& graph = in.graph();
  if (options.input_path) in.samples = read_input_samples(*options.input_path, graph);
  in.quantization = run_quantization(options, in);
  if (options.dump_layers && !options.outputs_dir) throw InputError("--dump-layers needs --outputs DIR");
  if (options.dump_layers) in.dumped = dump_layer_indices(*options.dump_layers, graph, options.model_path);
  if (options.outputs_dir) check_outputs_directory(*options.outputs_dir);
  in.table = load_config_energy_table(in.config);
  require_entries(in.table, in.config.array.mac,
                  in.config.memory.modeled
                      ? dram_energy_type(in.config.memory.dram.name).value_or(in.config.energy.ideal_dram_type)
                      : "");
  const bool tracing = options.trace_dir || (options.html_path && in.models.size() == 1);
  if (tracing) in.limits = trace_limits(options, graph);
  check_run_outputs(options);
  return in;
}

// The first sample's simulation (traced, with progress) and the network
// output and dumped layers of every sample.
struct RunResults {
  Simulation sim;
  std::vector<Tensor> outputs;
  std::vector<std::vector<Tensor>> dumps;  // per dumped layer, per sample
  bool every_sample_exact = true;
};

RunResults simulate_samples(const RunOptions& options, const RunInputs& in, GemmEngine& engine,
                            const LayerProgress& on_layer, TraceRecorder* trace) {
  const std::vector<Tensor>& samples = in.samples;
  RunResults r{simulate_all(in.config, in.models, std::filesystem::path(options.model_path).stem().string(), engine,
                            in.table, in.quantization, on_layer, trace, samples.empty() ? nullptr : &samples[0],
                            SimulationMode{options.values, options.check.value_or(Check::full)}),
               {},
               std::vector<std::vector<Tensor>>(in.dumped.size()),
               true};
  if (options.values == Values::off) return r;  // no outputs, nothing checked
  r.outputs.push_back(r.sim.run.layers.back().output);
  for (std::size_t d = 0; d < in.dumped.size(); ++d) r.dumps[d].push_back(r.sim.run.layers[in.dumped[d]].output);
  r.every_sample_exact = all_bit_exact(r.sim.checks);
  // Samples after the first: run and checked without trace or progress.
  for (std::size_t n = 1; n < samples.size(); ++n) {
    const Simulation more =
        simulate_all(in.config, in.models, "", engine, in.table, in.quantization, {}, nullptr, &samples[n],
                     SimulationMode{options.values, options.check.value_or(Check::full)});
    r.every_sample_exact = r.every_sample_exact && all_bit_exact(more.checks);
    r.outputs.push_back(more.run.layers.back().output);
    for (std::size_t d = 0; d < in.dumped.size(); ++d) r.dumps[d].push_back(more.run.layers[in.dumped[d]].output);
  }
  return r;
}

// The text report and, with --json, the JSON one.
void report_run(const RunOptions& options, const RunInputs& in, const RunResults& r, const RunReport& report,
                std::ostream& out) {
  write_table(out, report);
  out << "quantization: " << quantization_text(r.sim, in.quantization) << '\n';
  if (options.input_path) {
    out << "input: " << *options.input_path << ", " << in.samples.size()
        << (in.samples.size() == 1 ? " sample" : " samples")
        << " (the table shows the first); every layer of every sample bit-exact: "
        << (options.check == Check::none ? "not checked (--check none)"
            : r.every_sample_exact       ? "yes"
                                         : "no")
        << '\n';
  }
  if (in.models.size() > 1) {
    out << "rows: " << in.models.size() << " SCALE-Sim rows of " << options.model_path
        << ", each run on its own from an empty accelerator; totals add them up\n";
  }
  out.flush();
  if (options.json_path) {
    nlohmann::ordered_json json = to_json(report);
    json["quantization"] = quantization_json(r.sim, in.quantization);
    if (in.models.size() > 1) json["model"]["scalesim_rows"] = in.models.size();
    write_file_atomically(*options.json_path,
                          json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
}

int run_command_unchecked(const RunOptions& options, std::ostream& out, std::ostream& progress) {
  const RunInputs in = load_run_inputs(options);
  const Graph& graph = in.graph();

  // The pe engine elaborates the process's one SystemC design: built once, here.
  const std::unique_ptr<GemmEngine> engine = make_engine(in.config);
  LayerProgress on_layer;
  if (options.show_progress) {
    on_layer = [&progress](std::size_t index, std::size_t count, const LayerRecord& layer) {
      progress << "npusim: [" << index + 1 << "/" << count << "] " << layer.name << " (" << to_string(layer.type)
               << "): " << layer.cycles << " cycles" << std::endl;
    };
  }
  std::optional<TraceRecorder> trace;
  std::optional<StreamingTraceWriter> trace_files;
  if (in.limits) {
    trace.emplace(*in.limits);
    // Events go to disk (or, for the HTML report alone, into per-window sums)
    // every trace_flush_events: memory does not grow with the trace.
    trace_files.emplace(StreamingTraceOptions{options.trace_dir.value_or(""), options.trace_window_ns * 1000});
    trace->stream_to(&*trace_files, options.trace_flush_events);
  }
  const RunResults r = simulate_samples(options, in, *engine, on_layer, trace ? &*trace : nullptr);
  if (options.outputs_dir) write_outputs(*options.outputs_dir, graph, r.outputs);
  for (std::size_t d = 0; d < in.dumped.size(); ++d) {
    write_layer_outputs(*options.outputs_dir, graph.layers[in.dumped[d]], r.dumps[d]);
  }
  const bool values = options.values == Values::on;
  const RunReport report{in.config,
                         in.models.size() == 1 ? graph : r.sim.qgraph.graph,
                         r.sim.run,
                         r.sim.checks,
                         values ? &r.sim.metrics : nullptr,
                         &r.sim.energy,
                         options.values,
                         r.sim.check};
  report_run(options, in, r, report, out);
  if (trace) trace->flush();
  if (options.html_path) {
    const std::optional<TraceSummary> summary = trace_files ? std::optional(trace_files->summary()) : std::nullopt;
    write_run_html(*options.html_path, report, summary ? &*summary : nullptr);
  }
  if (trace_files) trace_files->finish();
  const std::string truncated = trace ? trace->truncation_message() : "";
  if (!truncated.empty()) progress << "npusim: " << truncated << std::endl;
  return r.every_sample_exact ? kRunOk : kRunMismatch;
}

}  // namespace

}  // namespace npusim
