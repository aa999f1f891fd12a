// Small fuzzed networks (npusim network JSON) through the whole run: the
// estimate (at 256 MB and 5 s of expected work), calibration, the tile
// simulator and the reference executor. A run that is not bit-exact against
// the reference is a finding, as a crash is.
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "fuzz/fuzz_support.h"
#include "sim/commands/run_command.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  npusim::fuzz::clear_stale_stack_poison();  // the run before this one ran SystemC threads
  npusim::RunOptions options;
  options.config_path = NPUSIM_SOURCE_DIR "/configs/edge_int8_32x32.json";
  options.model_path = npusim::fuzz::write_input("net.json", data, size);
  options.max_memory_mb = 256;
  options.max_sim_minutes = 5.0 / 60;
  std::ostringstream out, progress;
  int status = 0;
  npusim::fuzz::expect_only_input_errors([&] { status = npusim::run_command(options, out, progress); });
  if (status == npusim::kRunMismatch) {
    std::cerr << "simulated outputs differ from the reference:\n" << out.str();
    std::abort();
  }
  return 0;
}
