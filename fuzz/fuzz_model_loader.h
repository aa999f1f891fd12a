// One body for the model-file targets (network JSON, SCALE-Sim CSV, ONNX): the
// loader with the run's resource estimate in front, at a small memory limit,
// so a fuzzed network that asks for gigabytes is refused as the CLI refuses it.
#pragma once

#include "fuzz/fuzz_support.h"
#include "models/model_loader.h"
#include "sim/commands/resource_estimate.h"
#include "sim/config/accelerator_config.h"

namespace npusim::fuzz {

inline constexpr std::uint64_t kFuzzMaxMemoryBytes = std::uint64_t{256} << 20;

inline const AcceleratorConfig& fuzz_config() {
  static const AcceleratorConfig config =
      load_accelerator_config(NPUSIM_SOURCE_DIR "/configs/edge_int8_32x32.json", {});
  return config;
}

inline GraphCheck bounded_check(double max_seconds = 60) {
  return [max_seconds](const std::vector<const Graph*>& graphs) {
    ResourceOptions options;
    options.max_memory_bytes = kFuzzMaxMemoryBytes;
    options.max_seconds = max_seconds;
    check_resources(fuzz_config(), graphs, options);
  };
}

inline int load_model_bytes(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = write_input(name, data, size);
  expect_only_input_errors([&] { load_models(path, bounded_check()); });
  return 0;
}

}  // namespace npusim::fuzz
