// `npusim sweep`: its options, into SweepOptions.
#include "sim/cli/cli_common.h"

#include <unistd.h>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "sim/commands/sweep_command.h"

namespace npusim::cli {
namespace {

void read_slurm_options(const po::variables_map& values, npusim::SweepOptions& options) {
  options.slurm = values.count("slurm") > 0;
  if (values.count("slurm-shards")) {
    options.slurm_shards = values["slurm-shards"].as<int>();
    if (*options.slurm_shards < 1) throw OptionValueError("--slurm-shards expects a positive number of tasks");
  }
  if (values.count("slurm-partition")) options.slurm_partition = values["slurm-partition"].as<std::string>();
  if (values.count("slurm-time")) options.slurm_time = values["slurm-time"].as<std::string>();
  if (values.count("slurm-cpus")) {
    options.slurm_cpus_per_task = values["slurm-cpus"].as<int>();
    if (options.slurm_cpus_per_task < 1) throw OptionValueError("--slurm-cpus expects a positive number of CPUs");
  }
  options.submit = values.count("submit") > 0;
  const bool slurm_only = options.slurm_shards || options.slurm_partition || options.slurm_time || options.submit ||
                          values.count("slurm-cpus");
  if (slurm_only && !options.slurm)
    throw UsageError("--slurm-shards, --slurm-partition, --slurm-time, --slurm-cpus and --submit go with --slurm");
}

// A terminal gets one line redrawn in place; a log file (nohup, Slurm) a
// plain line every few seconds, so a long sweep shows it is alive.
void read_progress_options(const po::variables_map& values, npusim::SweepOptions& options) {
  using Progress = npusim::SweepOptions::Progress;
  options.progress = values.count("quiet")        ? Progress::none
                     : isatty(STDERR_FILENO) != 0 ? Progress::terminal
                                                  : Progress::lines;
  if (values.count("progress-interval-s")) {
    options.progress_interval_s = values["progress-interval-s"].as<double>();
    if (!(options.progress_interval_s >= 0))
      throw OptionValueError("--progress-interval-s expects a number of seconds >= 0");
  }
}

}  // namespace

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
      ("quiet", "no progress on stderr")
      ("progress-interval-s", po::value<double>()->value_name("S"), "when stderr is not a terminal: a progress line every S seconds (default 5; 0: one per finished point)")
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
  if (!values.count("spec"))
    throw UsageError("sweep needs a sweep file: npusim sweep S.json (try npusim sweep --help)");
  npusim::SweepOptions options;
  options.spec_path = values["spec"].as<std::string>();
  const unsigned cores = std::thread::hardware_concurrency();
  options.jobs = cores > 0 ? static_cast<int>(cores) : 1;
  if (values.count("jobs")) {
    options.jobs = values["jobs"].as<int>();
    if (options.jobs < 1 || options.jobs > 4096)
      throw UsageError("-j expects a number of parallel points in [1, 4096]");
  }
  if (values.count("out")) options.out_dir = values["out"].as<std::string>();
  if (values.count("timeout-s")) {
    const double timeout = values["timeout-s"].as<double>();
    if (!(timeout > 0) || !(timeout <= 1e7))
      throw OptionValueError("--timeout-s expects a number of seconds in (0, 1e7]");
    options.timeout_s = timeout;
  }
  options.retry_failed = values.count("retry-failed") > 0;
  if (values.count("shard")) {
    const std::string text = values["shard"].as<std::string>();
    options.shard = npusim::parse_shard(text);
    if (!options.shard) throw OptionValueError("--shard expects i/N with 0 <= i < N, got '" + text + "'");
  }
  read_slurm_options(values, options);
  options.merge = values.count("merge") > 0;
  if (options.merge && (options.slurm || options.shard))
    throw UsageError("--merge gathers results: it takes neither --slurm nor --shard");
  if (options.slurm && options.shard) throw UsageError("--slurm writes the script for every shard: drop --shard");
  read_progress_options(values, options);
  return npusim::sweep_command(options, std::cout, std::cerr);
}

}  // namespace npusim::cli
