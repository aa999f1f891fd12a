// Accelerator config JSON plus --set overrides: the bytes up to the first
// "\n--set\n" are the config file, each line after it one --set key=value.
#include <sstream>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "sim/config/accelerator_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string marker = "\n--set\n";
  const std::size_t split = bytes.find(marker);
  const std::string config = bytes.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    std::istringstream lines(bytes.substr(split + marker.size()));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  const std::string path =
      npusim::fuzz::write_input("config.json", reinterpret_cast<const std::uint8_t*>(config.data()), config.size());
  npusim::fuzz::expect_only_input_errors([&] { npusim::load_accelerator_config(path, overrides); });
  return 0;
}
