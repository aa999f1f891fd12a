// IDX (and gzip'd IDX) images and labels.
#include "fuzz/fuzz_support.h"
#include "models/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = npusim::fuzz::write_input("data.idx", data, size);
  npusim::fuzz::expect_only_input_errors([&] { npusim::read_idx(path); });
  npusim::fuzz::expect_only_input_errors([&] { npusim::read_idx_labels(path, 10, 1000); });
  return 0;
}
