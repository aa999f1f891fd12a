// `npusim dram-bench`: its options, into DramBenchOptions.
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/cli_common.h"
#include "sim/commands/dram_bench_command.h"

namespace npusim::cli {

int dram_bench_main(const std::vector<std::string>& args) {
  po::options_description description(
      "npusim dram-bench --config C.json [--pattern seq|rand|mix|seq1|rand1] [--outstanding N] [--requests N]");
  npusim::DramBenchOptions options;
  // clang-format off
  description.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>()->value_name("C.json"), "config with a $.memory.dram object (required)")
      ("pattern", po::value<std::string>()->value_name("P"),
       "seq, rand (default), mix (R R W, reads and writes in separate halves), seq1 / rand1 (one in flight)")
      ("outstanding", po::value<int>()->value_name("N"), "requests in flight, closed loop (default 48)")
      ("requests", po::value<std::int64_t>()->value_name("N"), "requests to run (default 200000)")
      ("json", po::value<std::string>()->value_name("out.json"), "also write the figures as JSON (npusim.dram_bench/1)");
  // clang-format on
  const auto parsed = parse_subcommand(
      args, description, "dram-bench",
      "Closed-loop traffic through the DRAM model of a config: bandwidth, latency, row hits, refresh.", {"config"});
  if (!parsed) return 0;
  const po::variables_map& values = *parsed;
  options.config_path = values["config"].as<std::string>();
  if (values.count("pattern")) {
    const auto pattern = npusim::parse_dram_bench_pattern(values["pattern"].as<std::string>());
    if (!pattern) throw OptionValueError("--pattern expects one of seq, rand, mix, seq1, rand1");
    options.pattern = *pattern;
  }
  if (values.count("outstanding")) {
    options.outstanding = values["outstanding"].as<int>();
    if (options.outstanding < 1 || options.outstanding > 1 << 20) {
      throw OptionValueError("--outstanding expects a count in [1, 1048576]");
    }
  }
  if (values.count("requests")) {
    options.requests = values["requests"].as<std::int64_t>();
    if (options.requests < 1) throw OptionValueError("--requests expects a positive count");
  }
  if (values.count("json")) options.json_path = values["json"].as<std::string>();
  return npusim::dram_bench_command(options, std::cout, std::cerr);
}

}  // namespace npusim::cli
