// The npusim command line. Exit status: 0 success, 1 bad input (config,
// network, output path), 2 bad command line, 3 the simulated outputs differ
// from the reference executor, 4 internal error; `sweep` adds 5 (--merge: points
// missing), 6 (outputs written, some points failed) and 130 (interrupted).
#include <boost/program_options.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "models/input_error.h"
#include "sim/cli/cli_common.h"

namespace po = boost::program_options;
using npusim::cli::UsageError;

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
    "  --version  version, git commit, build type and compiler flags\n"
    "  sweep    run a design-space sweep file point by point, resumable, sharded or\n"
    "           on Slurm, with CSV, Pareto front and SVG plots (npusim sweep --help)\n"
    "  accuracy top-1 accuracy of an image classifier on a labelled IDX test set\n"
    "           (Fashion-MNIST) through the modeled NPU, per format (npusim accuracy --help)\n"
    "  dram-bench  closed-loop traffic through a config's DRAM model: GB/s, latency,\n"
    "           row hits, refresh (npusim dram-bench --help)\n"
    "\n"
    "exit status: 0 ok, 1 bad input, 2 bad command line, 3 reference mismatch,\n"
    "4 internal error, 5 sweep --merge: points missing, 6 sweep: some points failed,\n"
    "130 sweep interrupted\n";

int dispatch(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command (try npusim --help)");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version" || command == "version") {
    std::cout << npusim::cli::version_text();
    return 0;
  }
  if (command == "run") return npusim::cli::run_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "compare") return npusim::cli::compare_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "sweep") return npusim::cli::sweep_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "accuracy") return npusim::cli::accuracy_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "dram-bench") return npusim::cli::dram_bench_main(std::vector<std::string>(argv + 2, argv + argc));
  if (command == "presets") return npusim::cli::presets_main(std::vector<std::string>(argv + 2, argv + argc));
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
    // Boost's own option errors: only a known command parses options, so argv[1] names it.
    std::cerr << "npusim: error: " << error.what() << " (try npusim " << argv[1] << " --help)\n";
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
