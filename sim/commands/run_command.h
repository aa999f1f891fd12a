// `npusim run`: config + network -> simulated run -> reference check -> report.
// The network is any model file load_models() reads; a SCALE-Sim CSV runs
// every row and reports them as one network (simulate_all(), sim/commands/simulation.h).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "models/model_loader.h"
#include "models/quant/quantize.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"

namespace npusim {

struct RunOptions {
  std::string config_path;
  std::string model_path;                  // .json, .onnx or .csv (models/model_loader.h)
  ModelLoadOptions model_load;             // --input-shape
  std::vector<std::string> set_overrides;  // applied in order; a later one wins
  // npusim's calibration (integer formats of a model without its own quantization).
  QuantizationOptions quantization;
  std::optional<std::string> json_path;  // also write the JSON report here
  bool show_progress = false;            // one line per layer on `progress`
  // Trace files (trace.json for Perfetto, timeline.csv, trace.vcd) go here.
  std::optional<std::string> trace_dir;
  std::int64_t trace_max_events = 2'000'000;
  std::int64_t trace_window_ns = 1000;  // bandwidth windows of the trace files
  // Trace events held in memory before they are written out (not a limit on
  // the trace: trace_max_events is).
  std::int64_t trace_flush_events = 131'072;
  std::vector<std::string> trace_layers;             // keep only these layers' events (empty: all)
  std::optional<double> trace_from_us, trace_to_us;  // keep only events overlapping this range
  // The self-contained HTML report (sim/report/html_report.h); records a trace in
  // memory for its time charts even without trace_dir.
  std::optional<std::string> html_path;
  // `--input x.npy`: float32 (C, H, W) or (N, C, H, W), run instead of the
  // seeded sample (each of N in turn; the report shows the first).
  std::optional<std::string> input_path;
  // `--outputs DIR`: the graph output of every sample as .npy (sim/commands/tensor_io.h).
  std::optional<std::string> outputs_dir;
  // `--dump-layers a,b|all` (needs outputs_dir): these layers' outputs too.
  std::optional<std::string> dump_layers;
  // `--calibration-data x.npy`: calibrate on these float32 samples.
  std::optional<std::string> calibration_data_path;
  std::uint64_t max_memory_mb = 0;  // refuse a run estimated above this (0: half the physical memory)
  double max_sim_minutes = 60;      // refuse a run expected to take longer (sim/commands/resource_estimate.h)
  // `--values off`: timing only (sim/commands/run_values_off.h). Refused with
  // the options that need values (--input, --outputs, --dump-layers,
  // --calibration-data, calibration options) and with pe fidelity. The
  // resource estimate prices values, so it is not applied.
  Values values = Values::on;
  // `--check none`: values and SQNR computed, the reference check skipped
  // (the report's check fields are null). Empty: full, or none with values
  // off (where `--check full` is an error).
  std::optional<Check> check;
};

// Exit status of a completed run: everything bit-exact, or a reference mismatch
// (the report is still printed and written).
inline constexpr int kRunOk = 0;
inline constexpr int kRunMismatch = 3;

// Prints the table on `out`, progress on `progress`. Bad input throws
// InputError; returns kRunOk or kRunMismatch.
int run_command(const RunOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace npusim
