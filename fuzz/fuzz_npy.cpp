// NumPy .npy files: the reader behind `run --input` and `accuracy --images`.
// A file that reads is also written back and read again, and must give the
// same array (write_npy and read_npy agree on every header they accept).
#include <cstdlib>

#include "fuzz/fuzz_support.h"
#include "models/npy_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = npusim::fuzz::write_input("data.npy", data, size);
  npusim::fuzz::expect_only_input_errors([&] {
    const npusim::NpyArray array = npusim::read_npy(path);
    (void)array.as_double();
    const std::string copy = path + ".copy.npy";
    npusim::write_npy(copy, array);
    const npusim::NpyArray again = npusim::read_npy(copy);
    if (again.type != array.type || again.shape != array.shape || again.bytes != array.bytes) std::abort();
  });
  return 0;
}
