// `npusim run` and `npusim compare`: their options, into RunOptions and CompareOptions.
#include "sim/cli/cli_common.h"

#include <unistd.h>

#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/array/array_config.h"
#include "models/model_loader.h"
#include "sim/commands/compare_command.h"
#include "sim/commands/run_command.h"

namespace npusim::cli {
namespace {

// Trace option bounds: times in ps must fit int64 (9.2e18 ps = 9.2e12 us)
// with room for arithmetic on them; 10^12 us is 11.6 simulated days.
constexpr double kMaxTraceTimeUs = 1e12;
constexpr std::int64_t kMaxTraceWindowNs = 1'000'000'000'000;  // 1000 s; x1000 into ps stays far from 2^63
constexpr std::int64_t kMaxTraceEvents = std::int64_t{1} << 40;
constexpr std::int64_t kMaxMemoryMb = std::int64_t{1} << 30;  // a petabyte: only keeps the shift into bytes in range

constexpr const char* kValuesHelp =
    "on (default): compute every tensor and check it against the reference; off: timing only (cycles, stalls, "
    "traffic, energy, area; no values, no check, no SQNR)";

// --values on|off; a value it cannot take is bad input (exit 1), like --fidelity's.
npusim::Values read_values(const po::variables_map& values) {
  if (!values.count("values")) return npusim::Values::on;
  const std::string text = values["values"].as<std::string>();
  if (text == "on") return npusim::Values::on;
  if (text == "off") return npusim::Values::off;
  throw OptionValueError("--values expects on or off, got '" + text + "'");
}

// --check full|none (sampled: not built yet).
npusim::Check read_check(const po::variables_map& values) {
  const std::string text = values["check"].as<std::string>();
  if (text == "full") return npusim::Check::full;
  if (text == "none") return npusim::Check::none;
  if (text == "sampled") throw OptionValueError("--check sampled is not built yet: use full or none");
  throw OptionValueError("--check expects full or none, got '" + text + "'");
}

// --input-shape name=1x3x224x224 (repeatable): an ONNX input's full shape,
// fixing its dynamic dimensions (models/model_loader.h).
po::options_description input_shape_description() {
  po::options_description options("Model input");
  options.add_options()("input-shape",
                        po::value<std::vector<std::string>>()->composing()->value_name("name=1x3x224x224"),
                        "full shape of an ONNX graph input, fixing its dynamic dimensions (repeatable)");
  return options;
}

npusim::ModelLoadOptions read_input_shapes(const po::variables_map& values) {
  npusim::ModelLoadOptions load;
  if (!values.count("input-shape")) return load;
  for (const std::string& text : values["input-shape"].as<std::vector<std::string>>()) {
    try {
      auto [name, dims] = npusim::parse_input_shape(text);
      if (!load.input_shapes.emplace(name, std::move(dims)).second) {
        throw OptionValueError("--input-shape: input '" + name + "' given twice");
      }
    } catch (const std::invalid_argument& e) {
      throw OptionValueError(std::string("--input-shape: ") + e.what());
    }
  }
  return load;
}

}  // namespace

po::options_description run_options_description() {
  po::options_description options("npusim run --config C.json --model M.json|M.onnx|M.csv [options]");
  // clang-format off
  options.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>()->value_name("C.json"), "accelerator config (required)")
      ("model", po::value<std::string>()->value_name("M.json"),
       "network file (required): .json (npusim network), .onnx (ONNX, fp32 or already quantized) or "
       ".csv (SCALE-Sim topology: every row runs, one table)")
      ("set", po::value<std::vector<std::string>>()->composing()->value_name("key=value"),
       "override a config field, e.g. --set array.rows=64 --set formats.weight=int4 "
       "(repeatable; values parse as JSON, else as strings)")
      ("json", po::value<std::string>()->value_name("out.json"),
       "also write the report as JSON (schema npusim.run/1)")
      ("fidelity", po::value<std::string>()->value_name("tile|pe"),
       "same as --set array.fidelity=...")
      ("trace", po::value<std::string>()->value_name("DIR"),
       "write trace.json (Perfetto, chrome://tracing), timeline.csv and trace.vcd (GTKWave) into DIR")
      ("trace-max-events", po::value<std::int64_t>()->value_name("N"),
       "stop recording after N events (default 2000000); the files say they were cut")
      ("trace-window-ns", po::value<std::int64_t>()->value_name("NS"),
       "bandwidth window of the trace files (default 1000)")
      ("trace-layers", po::value<std::string>()->value_name("a,b,..."), "trace only these layers")
      ("trace-from-us", po::value<double>()->value_name("US"), "trace only from this simulated time")
      ("trace-to-us", po::value<double>()->value_name("US"), "trace only up to this simulated time")
      ("html", po::value<std::string>()->value_name("report.html"),
       "also write a self-contained HTML report with charts (no network access needed to view it)")
      ("input", po::value<std::string>()->value_name("x.npy"),
       "run this float32 input, shape (C, H, W) or (N, C, H, W) (each sample in turn), not the seeded one")
      ("outputs", po::value<std::string>()->value_name("DIR"),
       "write the graph output of every sample to DIR as .npy: dequantized float32 and raw int8")
      ("dump-layers", po::value<std::string>()->value_name("a,b|all"),
       "with --outputs: also write these layers' outputs (all: every layer)")
      ("calibration-data", po::value<std::string>()->value_name("x.npy"),
       "calibrate on these float32 samples, shape (C, H, W) or (N, C, H, W), not on seeded ones")
      ("max-memory-mb", po::value<std::int64_t>()->value_name("MB"),
       "refuse a run whose estimated peak memory is above MB (default: half the physical memory)")
      ("max-sim-minutes", po::value<double>()->value_name("MIN"),
       "refuse a run expected to take longer than MIN minutes (default 60)")
      ("values", po::value<std::string>()->value_name("on|off"), kValuesHelp)
      ("check", po::value<std::string>()->value_name("full|none"),
       "full (default): every layer bit for bit against the reference executor; none: skip the reference "
       "(values and SQNR still computed)");
  // clang-format on
  options.add(quantization_options_description());
  options.add(input_shape_description());
  return options;
}

int run_main(const std::vector<std::string>& args) {
  const po::options_description description = run_options_description();
  const auto parsed =
      parse_subcommand(args, description, "run",
                       "Simulate a network on an accelerator and check it against the reference.", {"config", "model"});
  if (!parsed) return 0;
  const po::variables_map& values = *parsed;
  npusim::RunOptions options;
  options.config_path = values["config"].as<std::string>();
  options.model_path = values["model"].as<std::string>();
  options.model_load = read_input_shapes(values);
  options.quantization = read_quantization_options(values);
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("fidelity")) {
    const std::string fidelity = values["fidelity"].as<std::string>();
    if (!npusim::parse_fidelity(fidelity)) {
      throw OptionValueError("--fidelity expects tile or pe, got '" + fidelity + "'");
    }
    options.set_overrides.push_back("array.fidelity=" + fidelity);
  }
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  if (values.count("html")) options.html_path = values["html"].as<std::string>();
  if (values.count("input")) options.input_path = values["input"].as<std::string>();
  if (values.count("outputs")) options.outputs_dir = values["outputs"].as<std::string>();
  if (values.count("dump-layers")) options.dump_layers = values["dump-layers"].as<std::string>();
  if (values.count("calibration-data")) options.calibration_data_path = values["calibration-data"].as<std::string>();
  if (values.count("trace")) options.trace_dir = values["trace"].as<std::string>();
  if (values.count("trace-max-events")) {
    options.trace_max_events = option_int(values, "trace-max-events", 1, kMaxTraceEvents, "a count");
  }
  if (values.count("trace-layers")) {
    std::stringstream list(values["trace-layers"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');) {
      if (name.empty()) throw OptionValueError("--trace-layers expects a comma-separated list of layer names");
      options.trace_layers.push_back(name);
    }
  }
  if (values.count("trace-from-us")) {
    options.trace_from_us = option_double(values, "trace-from-us", 0.0, kMaxTraceTimeUs, "a simulated time in us");
  }
  if (values.count("trace-to-us")) {
    options.trace_to_us = option_double(values, "trace-to-us", 0.0, kMaxTraceTimeUs, "a simulated time in us");
  }
  if ((options.trace_from_us && *options.trace_from_us < 0) || (options.trace_to_us && *options.trace_to_us <= 0)) {
    throw OptionValueError("--trace-from-us and --trace-to-us expect non-negative simulated times in microseconds");
  }
  if (values.count("trace-window-ns")) {
    options.trace_window_ns = option_int(values, "trace-window-ns", 1, kMaxTraceWindowNs, "a duration in ns");
  }
  if (values.count("max-memory-mb")) {
    options.max_memory_mb =
        static_cast<std::uint64_t>(option_int(values, "max-memory-mb", 1, kMaxMemoryMb, "megabytes"));
  }
  if (values.count("max-sim-minutes")) {
    options.max_sim_minutes = option_double(values, "max-sim-minutes", 0.01, 1e7, "minutes");
  }
  options.values = read_values(values);
  if (values.count("check")) options.check = read_check(values);
  options.show_progress = isatty(STDERR_FILENO) != 0;
  return npusim::run_command(options, std::cout, std::cerr);
}

int compare_main(const std::vector<std::string>& args) {
  po::options_description description(
      "npusim compare --config A.json [--config B.json ...] --model M.json|M.onnx|M.csv [options]");
  // clang-format off
  description.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::vector<std::string>>()->composing()->value_name("C.json"),
       "an accelerator config; repeat for each design (the first is the baseline)")
      ("model", po::value<std::string>()->value_name("M.json"),
       "network file (required): .json, .onnx or .csv (SCALE-Sim: every row, as one network)")
      ("formats", po::value<std::string>()->value_name("fp32,int8,..."),
       "compare one config at each of these formats (weight = activation)")
      ("iso-area", po::value<double>()->value_name("mm2"),
       "size each design's square array to the largest that fits this area")
      ("set", po::value<std::vector<std::string>>()->composing()->value_name("key=value"),
       "override a field of every config (repeatable)")
      ("json", po::value<std::string>()->value_name("out.json"),
       "also write the comparison as JSON (schema npusim.compare/1)")
      ("csv", po::value<std::string>()->value_name("out.csv"),
       "also write the comparison as CSV (one row per design)")
      ("html", po::value<std::string>()->value_name("cmp.html"),
       "also write a self-contained HTML page with the table and bar charts")
      ("max-memory-mb", po::value<std::int64_t>()->value_name("MB"),
       "refuse a design whose estimated peak memory is above MB (default: half the physical memory)")
      ("values", po::value<std::string>()->value_name("on|off"), kValuesHelp);
  // clang-format on
  description.add(quantization_options_description());
  description.add(input_shape_description());
  const auto parsed = parse_subcommand(args, description, "compare",
                                       "Compare designs on one network: energy, DRAM traffic, latency, area, accuracy.",
                                       {"config", "model"});
  if (!parsed) return 0;
  const po::variables_map& values = *parsed;
  npusim::CompareOptions options;
  options.config_paths = values["config"].as<std::vector<std::string>>();
  options.model_path = values["model"].as<std::string>();
  options.model_load = read_input_shapes(values);
  options.quantization = read_quantization_options(values);
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("formats")) {
    std::string list = values["formats"].as<std::string>();
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t comma = list.find(',', start);
      const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (item.empty()) throw OptionValueError("--formats expects a comma-separated list, got '" + list + "'");
      options.formats.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (values.count("iso-area")) {
    const double area = values["iso-area"].as<double>();
    if (!(area > 0) || !std::isfinite(area) || area > 1e6) {
      throw OptionValueError("--iso-area expects a positive area in mm2, at most 1e6");
    }
    options.iso_area_mm2 = area;
  }
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  if (values.count("html")) options.html_path = values["html"].as<std::string>();
  if (values.count("csv")) options.csv_path = values["csv"].as<std::string>();
  if (values.count("max-memory-mb")) {
    options.max_memory_mb =
        static_cast<std::uint64_t>(option_int(values, "max-memory-mb", 1, kMaxMemoryMb, "megabytes"));
  }
  options.values = read_values(values);
  options.show_progress = isatty(STDERR_FILENO) != 0;
  return npusim::compare_command(options, std::cout, std::cerr);
}

}  // namespace npusim::cli
