#include "sim/run_command.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "accel/gemm_engine.h"
#include "models/input_error.h"
#include "models/network_json.h"
#include "models/quantize.h"
#include "models/reference_executor.h"
#include "sim/accelerator_config.h"
#include "sim/html_report.h"
#include "sim/memory_system.h"
#include "sim/network_runner.h"
#include "sim/reference_check.h"
#include "sim/report.h"
#include "sim/run_energy.h"
#include "sim/simulation.h"
#include "traces/chrome_trace_writer.h"
#include "traces/csv_timeline_writer.h"
#include "traces/trace_file_output.h"
#include "traces/trace_recorder.h"
#include "traces/vcd_writer.h"

namespace npusim {
namespace {

// Fails before a possibly long run rather than after it.
void check_output_directory(const std::string& option, const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  if (!std::filesystem::is_directory(parent, error)) {
    throw InputError(option + " " + path + ": directory " + parent.string() + " does not exist");
  }
}

}  // namespace

int run_command(const RunOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.json_path) check_output_directory("--json", *options.json_path);
  if (options.html_path) check_output_directory("--html", *options.html_path);
  if (options.trace_dir) {
    try {
      check_trace_directory(*options.trace_dir);
    } catch (const std::runtime_error& error) {
      throw InputError(std::string("--trace: ") + error.what());
    }
  }
  const AcceleratorConfig config =
      load_accelerator_config(options.config_path, options.set_overrides);
  const Graph graph = load_network_json(options.model_path);
  check_memory_fits(config, graph, options.config_path);
  const EnergyTable table = load_config_energy_table(config);
  require_entries(table, config.array.mac,
                  config.memory.modeled
                      ? dram_energy_type(config.memory.dram.name).value_or(config.energy.ideal_dram_type)
                      : "");

  // The pe engine elaborates the process's one SystemC design: built once, here.
  const std::unique_ptr<GemmEngine> engine = make_engine(config);
  LayerProgress on_layer;
  if (options.show_progress) {
    on_layer = [&progress](std::size_t index, std::size_t count, const LayerRecord& layer) {
      progress << "npusim: [" << index + 1 << "/" << count << "] " << layer.name << " ("
               << to_string(layer.type) << "): " << layer.cycles << " cycles" << std::endl;
    };
  }
  std::optional<TraceRecorder> trace;
  if (options.trace_dir || options.html_path) {
    TraceLimits limits;
    limits.max_events = options.trace_max_events;
    limits.buffer_window_ps = options.trace_window_ns * 1000;
    limits.layers = options.trace_layers;
    for (const auto& name : limits.layers) {
      const bool known = std::any_of(graph.layers.begin(), graph.layers.end(),
                                     [&](const Layer& layer) { return layer.name == name; });
      if (!known) throw InputError("--trace-layers: " + options.model_path + " has no layer named '" + name + "'");
    }
    if (options.trace_from_us) limits.from_ps = std::llround(*options.trace_from_us * 1e6);
    if (options.trace_to_us) limits.to_ps = std::llround(*options.trace_to_us * 1e6);
    if (limits.to_ps <= limits.from_ps) throw InputError("--trace-to-us must be later than --trace-from-us");
    trace.emplace(limits);
  }
  const Simulation sim = simulate(config, graph, *engine, table, on_layer, trace ? &*trace : nullptr);
  const RunReport report{config, graph, sim.run, sim.checks, &sim.metrics, &sim.energy};
  write_table(out, report);
  out.flush();
  if (options.json_path) write_json_report(*options.json_path, report);
  const std::int64_t window_ps = options.trace_window_ns * 1000;
  const TraceEvents events = trace ? trace->take_events() : TraceEvents{};
  if (options.html_path) write_run_html(*options.html_path, report, &events, window_ps);
  if (options.trace_dir) {
    const std::string dir = *options.trace_dir;
    write_chrome_trace(events, dir + "/trace.json", ChromeTraceOptions{window_ps});
    write_csv_timeline(events, dir + "/timeline.csv", CsvTimelineOptions{window_ps});
    write_vcd_trace(events, dir + "/trace.vcd", VcdOptions{window_ps});
  }
  const std::string truncated = truncation_message(events);
  if (!truncated.empty()) progress << "npusim: " << truncated << std::endl;
  return all_bit_exact(sim.checks) ? kRunOk : kRunMismatch;
}

}  // namespace npusim
