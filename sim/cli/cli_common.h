// What the subcommands' option parsers share: the usage-error type (exit 2),
// npusim's calibration options, and one entry point per subcommand. Each
// subcommand parses its options in its own file (sim/cli/*_cli.cpp) and hands
// them to its command in sim/.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/input_error.h"
#include "models/quant/quantize.h"

namespace npusim::cli {

namespace po = boost::program_options;

// A command-line mistake (unknown or missing option, options that do not go
// together): printed in one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A value an option cannot take (out of range, not finite, not one of the
// choices): bad input like a bad config value, so exit status 1.
struct OptionValueError : InputError {
  using InputError::InputError;
};

// The value of numeric option `--name`, checked finite and in [min, max]
// before any use: OptionValueError("--name expects <what> in [min, max], got <v>").
// (nan, inf and 1e300 used to become nonsense times; 2^63-1 ns overflowed.)
double option_double(const po::variables_map& values, const std::string& name, double min, double max,
                     const std::string& what);
std::int64_t option_int(const po::variables_map& values, const std::string& name, std::int64_t min, std::int64_t max,
                        const std::string& what);

// Parses `args` (no positional arguments: a stray word is an error, not
// silently ignored). Returns nullopt after printing `summary` and the options
// for --help; otherwise throws UsageError naming the first missing option of
// `required`, "(try npusim <command> --help)".
std::optional<po::variables_map> parse_subcommand(const std::vector<std::string>& args,
                                                  const po::options_description& description,
                                                  const std::string& command, const std::string& summary,
                                                  const std::vector<std::string>& required);

// npusim's calibration options (models/quant/quantize.h), shared by run, compare and accuracy.
po::options_description quantization_options_description();
npusim::QuantizationOptions read_quantization_options(const po::variables_map& values);

// `args` are the words after the subcommand's name.
int run_main(const std::vector<std::string>& args);
int compare_main(const std::vector<std::string>& args);
int sweep_main(const std::vector<std::string>& args);
int accuracy_main(const std::vector<std::string>& args);
int dram_bench_main(const std::vector<std::string>& args);
// `args` as for the others: --help, or nothing.
int presets_main(const std::vector<std::string>& args);

// `npusim --version`: version, git describe, build type, compiler and flags (sim/cli/version.cpp).
std::string version_text();

}  // namespace npusim::cli
