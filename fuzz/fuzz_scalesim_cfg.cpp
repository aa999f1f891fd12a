// A SCALE-Sim .cfg config (sim/config/scalesim_cfg.h), through load_accelerator_config.
#include "fuzz/fuzz_support.h"
#include "sim/config/accelerator_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = npusim::fuzz::write_input("scale.cfg", data, size);
  npusim::fuzz::expect_only_input_errors([&] { npusim::load_accelerator_config(path, {}); });
  return 0;
}
