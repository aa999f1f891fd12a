// The scalesim_csv reader through models/model_loader, behind the resource estimate.
#include "fuzz/fuzz_model_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return npusim::fuzz::load_model_bytes("topology.csv", data, size);
}
