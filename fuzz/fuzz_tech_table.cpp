// Technology (energy) tables, configs/tech/*.json.
#include "fuzz/fuzz_support.h"
#include "sim/energy/energy_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = npusim::fuzz::write_input("tech.json", data, size);
  npusim::fuzz::expect_only_input_errors([&] { npusim::load_energy_table(path); });
  return 0;
}
