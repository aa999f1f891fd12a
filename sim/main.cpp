// The npusim command line. Exit status: 0 success, 1 bad input (config,
// network, output path), 2 bad command line, 3 the simulated outputs differ
// from the reference executor, 4 internal error; `sweep` adds 5 (--merge: points
// missing) and 130 (interrupted).
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "accel/array_config.h"
#include "models/input_error.h"
#include "sim/accuracy_command.h"
#include "sim/compare_command.h"
#include "sim/presets_command.h"
#include "sim/run_command.h"
#include "sim/sweep_command.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitInputError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 4;

constexpr const char* kUsage =
    "usage: npusim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run      simulate a network on an accelerator config and check it bit for bit\n"
    "           against the reference executor (npusim run --help)\n"
    "  compare  one network on several configs, or one config at several formats,\n"
    "           side by side with ratios (npusim compare --help)\n"
    "  presets  list the shipped accelerator presets (configs/presets)\n"
    "  sweep    run a design-space sweep file point by point, resumable, sharded or\n"
    "           on Slurm, with CSV, Pareto front and SVG plots (npusim sweep --help)\n"
    "  accuracy top-1 accuracy of an image classifier on a labelled IDX test set\n"
    "           (Fashion-MNIST) through the modeled NPU, per format (npusim accuracy --help)\n"
    "\n"
    "exit status: 0 ok, 1 bad input, 2 bad command line, 3 reference mismatch,\n"
    "4 internal error, 5 sweep --merge: points missing, 130 sweep interrupted\n";

// A command-line mistake: printed in one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// npusim's calibration options (models/quantize.h), shared by run and compare.
po::options_description quantization_options_description() {
  po::options_description options("quantization (integer formats; not for a model file that is already quantized)");
  // clang-format off
  options.add_options()
      ("calibration", po::value<std::string>()->value_name("minmax|percentile|mse"),
       "how activation ranges are chosen (default minmax)")
      ("percentile", po::value<double>()->value_name("P"),
       "with --calibration percentile: keep P % of the values at each end, 50 < P <= 100 (default 99.99)")
      ("per-tensor-weights", "one weight scale per tensor instead of one per output channel")
      ("calibration-samples", po::value<int>()->value_name("N"),
       "calibrate on N seeded sample inputs (default 1; the run uses the first)")
      ("eight-bit-ends", po::value<std::string>()->value_name("none|binary_only|narrow"),
       "run the first and last compute layers at W8A8: never, for binary formats (default), "
       "or for any format narrower than W8A8")
      ("eight-bit-layers", po::value<std::string>()->value_name("a,b,..."),
       "further conv2d/fc layers to run at W8A8");
  // clang-format on
  return options;
}

npusim::QuantizationOptions read_quantization_options(const po::variables_map& values) {
  npusim::QuantizationOptions q;
  if (values.count("calibration")) {
    const std::string method = values["calibration"].as<std::string>();
    if (method == "minmax") {
      q.method = npusim::CalibrationMethod::min_max;
    } else if (method == "percentile") {
      q.method = npusim::CalibrationMethod::percentile;
    } else if (method == "mse") {
      q.method = npusim::CalibrationMethod::mse;
    } else {
      throw UsageError("--calibration expects minmax, percentile or mse, got '" + method + "'");
    }
  }
  if (values.count("percentile")) {
    if (q.method != npusim::CalibrationMethod::percentile) {
      throw UsageError("--percentile goes with --calibration percentile");
    }
    q.percentile = values["percentile"].as<double>();
    if (!(q.percentile > 50.0 && q.percentile <= 100.0)) {
      std::ostringstream got;
      got << q.percentile;
      throw UsageError("--percentile expects a share in (50, 100], got " + got.str());
    }
  }
  q.per_channel = values.count("per-tensor-weights") == 0;
  if (values.count("calibration-samples")) {
    q.calibration_samples = values["calibration-samples"].as<int>();
    if (q.calibration_samples < 1) throw UsageError("--calibration-samples expects a positive count");
  }
  if (values.count("eight-bit-ends")) {
    const std::string ends = values["eight-bit-ends"].as<std::string>();
    if (ends == "none") {
      q.eight_bit_ends = npusim::EightBitEnds::none;
    } else if (ends == "binary_only") {
      q.eight_bit_ends = npusim::EightBitEnds::binary_only;
    } else if (ends == "narrow") {
      q.eight_bit_ends = npusim::EightBitEnds::narrow;
    } else {
      throw UsageError("--eight-bit-ends expects none, binary_only or narrow, got '" + ends + "'");
    }
  }
  if (values.count("eight-bit-layers")) {
    std::stringstream list(values["eight-bit-layers"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');) {
      if (name.empty()) throw UsageError("--eight-bit-layers expects a comma-separated list of layer names");
      q.eight_bit_layers.push_back(name);
    }
    if (q.eight_bit_layers.empty()) throw UsageError("--eight-bit-layers expects a comma-separated list of layer names");
  }
  return q;
}

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
       "also write a self-contained HTML report with charts (no network access needed to view it)");
  // clang-format on
  options.add(quantization_options_description());
  return options;
}

int run_main(const std::vector<std::string>& args) {
  const po::options_description description = run_options_description();
  po::variables_map values;
  // No positional arguments: a stray word is an error, not silently ignored.
  const po::positional_options_description no_positionals;
  po::store(po::command_line_parser(args).options(description).positional(no_positionals).run(),
            values);
  po::notify(values);
  if (values.count("help")) {
    std::cout << "Simulate a network on an accelerator and check it against the reference.\n\n"
              << description;
    return 0;
  }
  for (const char* required : {"config", "model"}) {
    if (!values.count(required)) {
      throw UsageError(std::string("the option '--") + required +
                       "' is required (try npusim run --help)");
    }
  }
  npusim::RunOptions options;
  options.config_path = values["config"].as<std::string>();
  options.model_path = values["model"].as<std::string>();
  options.quantization = read_quantization_options(values);
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("fidelity")) {
    const std::string fidelity = values["fidelity"].as<std::string>();
    if (!npusim::parse_fidelity(fidelity)) {
      throw UsageError("--fidelity expects tile or pe, got '" + fidelity + "'");
    }
    options.set_overrides.push_back("array.fidelity=" + fidelity);
  }
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  if (values.count("html")) options.html_path = values["html"].as<std::string>();
  if (values.count("trace")) options.trace_dir = values["trace"].as<std::string>();
  if (values.count("trace-max-events")) {
    options.trace_max_events = values["trace-max-events"].as<std::int64_t>();
    if (options.trace_max_events < 1) throw UsageError("--trace-max-events expects a positive count");
  }
  if (values.count("trace-layers")) {
    std::stringstream list(values["trace-layers"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');) {
      if (name.empty()) throw UsageError("--trace-layers expects a comma-separated list of layer names");
      options.trace_layers.push_back(name);
    }
  }
  if (values.count("trace-from-us")) options.trace_from_us = values["trace-from-us"].as<double>();
  if (values.count("trace-to-us")) options.trace_to_us = values["trace-to-us"].as<double>();
  if ((options.trace_from_us && *options.trace_from_us < 0) || (options.trace_to_us && *options.trace_to_us <= 0)) {
    throw UsageError("--trace-from-us and --trace-to-us expect non-negative simulated times in microseconds");
  }
  if (values.count("trace-window-ns")) {
    options.trace_window_ns = values["trace-window-ns"].as<std::int64_t>();
    if (options.trace_window_ns < 1) throw UsageError("--trace-window-ns expects a positive duration");
  }
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
       "also write a self-contained HTML page with the table and bar charts");
  // clang-format on
  description.add(quantization_options_description());
  po::variables_map values;
  const po::positional_options_description no_positionals;
  po::store(po::command_line_parser(args).options(description).positional(no_positionals).run(), values);
  po::notify(values);
  if (values.count("help")) {
    std::cout << "Compare designs on one network: energy, DRAM traffic, latency, area, accuracy.\n\n"
              << description;
    return 0;
  }
  if (!values.count("config")) throw UsageError("the option '--config' is required (try npusim compare --help)");
  if (!values.count("model")) throw UsageError("the option '--model' is required (try npusim compare --help)");
  npusim::CompareOptions options;
  options.config_paths = values["config"].as<std::vector<std::string>>();
  options.model_path = values["model"].as<std::string>();
  options.quantization = read_quantization_options(values);
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("formats")) {
    std::string list = values["formats"].as<std::string>();
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t comma = list.find(',', start);
      const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (item.empty()) throw UsageError("--formats expects a comma-separated list, got '" + list + "'");
      options.formats.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (values.count("iso-area")) {
    const double area = values["iso-area"].as<double>();
    if (!(area > 0)) throw UsageError("--iso-area expects a positive area in mm2");
    options.iso_area_mm2 = area;
  }
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  if (values.count("html")) options.html_path = values["html"].as<std::string>();
  if (values.count("csv")) options.csv_path = values["csv"].as<std::string>();
  options.show_progress = isatty(STDERR_FILENO) != 0;
  return npusim::compare_command(options, std::cout, std::cerr);
}

int sweep_main(const std::vector<std::string>& args) {
  po::options_description description("npusim sweep S.json [options]");
  // clang-format off
  description.add_options()
      ("help,h", "show this help")
      ("jobs,j", po::value<int>()->value_name("N"), "run N points at a time (default: the number of cores)")
      ("out", po::value<std::string>()->value_name("DIR"), "results directory (default: S.json without .json + .sweep)")
      ("timeout-s", po::value<double>()->value_name("T"), "kill a point after T seconds and record \"timeout\" (default: the spec's timeout_s, else 3600)")
      ("retry-failed", "run points recorded as failed or timeout again (a resume skips them otherwise)")
      ("shard", po::value<std::string>()->value_name("i/N"), "run only the points with index mod N == i, into results.shard-i-of-N.jsonl")
      ("slurm", "write DIR/sweep.slurm, a job array whose task i runs --shard i/N")
      ("slurm-shards", po::value<int>()->value_name("N"), "tasks of the job array (default: min(points, 100))")
      ("slurm-partition", po::value<std::string>()->value_name("P"), "#SBATCH --partition")
      ("slurm-time", po::value<std::string>()->value_name("HH:MM:SS"), "#SBATCH --time")
      ("slurm-cpus", po::value<int>()->value_name("N"), "CPUs per task, and points each task runs at a time (default 1)")
      ("submit", "with --slurm: also run sbatch on the script")
      ("merge", "gather every results file in DIR into merged.jsonl, results.csv, pareto.json and the plots")
      ("quiet", "no progress line (it is shown only when stderr is a terminal anyway)")
      ("spec", po::value<std::string>(), "the sweep file");
  // clang-format on
  po::positional_options_description positional;
  positional.add("spec", 1);
  po::variables_map values;
  po::store(po::command_line_parser(args).options(description).positional(positional).run(), values);
  po::notify(values);
  if (values.count("help")) {
    std::cout << "Run a design-space sweep: every point of a sweep file in its own worker process,\n"
                 "results appended as they finish (re-run to resume), merged into CSV, Pareto front and SVG.\n\n"
              << description;
    return 0;
  }
  if (!values.count("spec")) throw UsageError("sweep needs a sweep file: npusim sweep S.json (try npusim sweep --help)");
  npusim::SweepOptions options;
  options.spec_path = values["spec"].as<std::string>();
  const unsigned cores = std::thread::hardware_concurrency();
  options.jobs = cores > 0 ? static_cast<int>(cores) : 1;
  if (values.count("jobs")) {
    options.jobs = values["jobs"].as<int>();
    if (options.jobs < 1) throw UsageError("-j expects a positive number of parallel points");
  }
  if (values.count("out")) options.out_dir = values["out"].as<std::string>();
  if (values.count("timeout-s")) {
    const double timeout = values["timeout-s"].as<double>();
    if (!(timeout > 0)) throw UsageError("--timeout-s expects a positive number of seconds");
    options.timeout_s = timeout;
  }
  options.retry_failed = values.count("retry-failed") > 0;
  if (values.count("shard")) {
    const std::string text = values["shard"].as<std::string>();
    options.shard = npusim::parse_shard(text);
    if (!options.shard) throw UsageError("--shard expects i/N with 0 <= i < N, got '" + text + "'");
  }
  options.slurm = values.count("slurm") > 0;
  if (values.count("slurm-shards")) {
    options.slurm_shards = values["slurm-shards"].as<int>();
    if (*options.slurm_shards < 1) throw UsageError("--slurm-shards expects a positive number of tasks");
  }
  if (values.count("slurm-partition")) options.slurm_partition = values["slurm-partition"].as<std::string>();
  if (values.count("slurm-time")) options.slurm_time = values["slurm-time"].as<std::string>();
  if (values.count("slurm-cpus")) {
    options.slurm_cpus_per_task = values["slurm-cpus"].as<int>();
    if (options.slurm_cpus_per_task < 1) throw UsageError("--slurm-cpus expects a positive number of CPUs");
  }
  options.submit = values.count("submit") > 0;
  options.merge = values.count("merge") > 0;
  const bool slurm_only = options.slurm_shards || options.slurm_partition || options.slurm_time || options.submit ||
                          values.count("slurm-cpus");
  if (slurm_only && !options.slurm) throw UsageError("--slurm-shards, --slurm-partition, --slurm-time, --slurm-cpus and --submit go with --slurm");
  if (options.merge && (options.slurm || options.shard)) throw UsageError("--merge gathers results: it takes neither --slurm nor --shard");
  if (options.slurm && options.shard) throw UsageError("--slurm writes the script for every shard: drop --shard");
  options.show_progress = values.count("quiet") == 0 && isatty(STDERR_FILENO) != 0;
  return npusim::sweep_command(options, std::cout, std::cerr);
}

int accuracy_main(const std::vector<std::string>& args) {
  po::options_description description("npusim accuracy --config C.json --model M.onnx [--model M2.onnx ...] [options]");
  npusim::AccuracyOptions defaults;
  // clang-format off
  description.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>()->value_name("C.json"), "accelerator config (required)")
      ("model", po::value<std::vector<std::string>>()->composing()->value_name("M.onnx"),
       "classifier (repeatable; required); its preprocessing comes from M.preprocess.json beside it")
      ("images", po::value<std::string>()->value_name("T.gz"),
       ("test images, IDX (gzip'd or plain); default " + defaults.images_path).c_str())
      ("labels", po::value<std::string>()->value_name("L.gz"),
       ("test labels, IDX; default " + defaults.labels_path).c_str())
      ("calibration-images", po::value<std::string>()->value_name("TR.gz"),
       ("calibration images (training set), IDX; default " + defaults.calibration_images_path).c_str())
      ("calibration-count", po::value<std::int64_t>()->value_name("N"), "calibrate on the first N of them (default 256)")
      ("limit", po::value<std::int64_t>()->value_name("N"), "run only the first N test images")
      ("formats", po::value<std::string>()->value_name("fp32,int8,..."),
       "formats to run, weight = activation (default fp32,fp16,int8,int4,binary); `file` runs a "
       "quantized model's own scales (first by default when the model has them)")
      ("set", po::value<std::vector<std::string>>()->composing()->value_name("key=value"),
       "override a config field (repeatable)")
      ("threads", po::value<int>()->value_name("N"), "worker threads (default: one per hardware thread)")
      ("json", po::value<std::string>()->value_name("out.json"),
       "also write the table as JSON (schema npusim.accuracy/1, with each row's per-image predictions)")
      ("csv", po::value<std::string>()->value_name("out.csv"), "also write the table as CSV");
  // clang-format on
  description.add(quantization_options_description());
  po::variables_map values;
  const po::positional_options_description no_positionals;
  po::store(po::command_line_parser(args).options(description).positional(no_positionals).run(), values);
  po::notify(values);
  if (values.count("help")) {
    std::cout << "Top-1 accuracy of a classifier on a labelled test set through the modeled NPU, per format.\n\n"
              << description;
    return 0;
  }
  if (!values.count("config")) throw UsageError("the option '--config' is required (try npusim accuracy --help)");
  if (!values.count("model")) throw UsageError("the option '--model' is required (try npusim accuracy --help)");
  if (values.count("calibration-samples")) {
    throw UsageError("accuracy calibrates on training images: use --calibration-count, not --calibration-samples");
  }
  npusim::AccuracyOptions options;
  options.config_path = values["config"].as<std::string>();
  options.model_paths = values["model"].as<std::vector<std::string>>();
  if (values.count("images")) options.images_path = values["images"].as<std::string>();
  if (values.count("labels")) options.labels_path = values["labels"].as<std::string>();
  if (values.count("calibration-images")) options.calibration_images_path = values["calibration-images"].as<std::string>();
  if (values.count("calibration-count")) {
    options.calibration_count = values["calibration-count"].as<std::int64_t>();
    if (options.calibration_count < 1) throw UsageError("--calibration-count expects a positive count");
  }
  if (values.count("limit")) {
    options.limit = values["limit"].as<std::int64_t>();
    if (*options.limit < 1) throw UsageError("--limit expects a positive count");
  }
  if (values.count("formats")) {
    options.formats.clear();
    std::stringstream list(values["formats"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');) {
      if (item.empty()) throw UsageError("--formats expects a comma-separated list of formats");
      options.formats.push_back(item);
    }
    if (options.formats.empty()) throw UsageError("--formats expects a comma-separated list of formats");
  }
  if (values.count("set")) options.set_overrides = values["set"].as<std::vector<std::string>>();
  if (values.count("threads")) {
    options.threads = values["threads"].as<int>();
    if (options.threads < 1) throw UsageError("--threads expects a positive count");
  }
  options.quantization = read_quantization_options(values);
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  if (values.count("csv")) options.csv_path = values["csv"].as<std::string>();
  options.show_progress = isatty(STDERR_FILENO) != 0;
  return npusim::accuracy_command(options, std::cout, std::cerr);
}

int dispatch(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command (try npusim --help)");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "run") return run_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "compare") return compare_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "sweep") return sweep_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "accuracy") return accuracy_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "presets") {
    if (argc > 2) throw UsageError("presets takes no arguments");
    return npusim::presets_command(npusim::preset_directory(), std::cout);
  }
  throw UsageError("unknown command '" + command + "' (try npusim --help)");
}

}  // namespace

int main(int argc, char** argv) {
  // The SystemC kernel would print its banner when the pe engine starts it;
  // reports stay clean and identical across fidelities without it.
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", /*overwrite=*/0);
  try {
    return dispatch(argc, argv);
  } catch (const UsageError& error) {
    std::cerr << "npusim: error: " << error.what() << '\n';
    return kExitUsage;
  } catch (const po::error& error) {
    std::cerr << "npusim: error: " << error.what() << " (try npusim run --help)\n";
    return kExitUsage;
  } catch (const npusim::InputError& error) {
    std::cerr << "npusim: error: " << error.what() << '\n';
    return kExitInputError;
  } catch (const std::exception& error) {
    std::cerr << "npusim: internal error: " << error.what() << '\n';
    return kExitInternal;
  } catch (...) {
    std::cerr << "npusim: internal error: unknown exception\n";
    return kExitInternal;
  }
}
