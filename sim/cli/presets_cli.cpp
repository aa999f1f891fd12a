// `npusim presets`: no options but --help.
#include "sim/cli/cli_common.h"

#include <iostream>

#include "sim/commands/presets_command.h"

namespace npusim::cli {

int presets_main(const std::vector<std::string>& args) {
  po::options_description description("npusim presets");
  description.add_options()("help,h", "show this help");
  const auto values = parse_subcommand(args, description, "presets",
                                       "List the accelerator presets shipped in configs/presets: each one's array, "
                                       "formats, clock and peak throughput, and the public numbers it is built from.\n"
                                       "Use one with: npusim run --config configs/presets/NAME.json --model M",
                                       {});
  if (!values) return 0;
  return npusim::presets_command(npusim::preset_directory(), std::cout);
}

}  // namespace npusim::cli
