// Sweep specs, parsed and expanded into points. The spec is written two
// levels below a scratch root that links the repository's configs and models,
// so the seeds' relative paths ("../edge_int8_32x32.json",
// "../../models/zoo/...") resolve as they do in configs/sweeps/.
#include "fuzz/fuzz_support.h"
#include "sim/sweep/sweep_spec.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path spec_dir = [] {
    const fs::path root = npusim::fuzz::scratch_dir() / "root";
    fs::create_directories(root / "configs" / "sweeps");
    for (const auto& entry : fs::directory_iterator(NPUSIM_SOURCE_DIR "/configs")) {
      if (entry.path().filename() != "sweeps")
        fs::create_symlink(entry.path(), root / "configs" / entry.path().filename());
    }
    fs::create_directory_symlink(NPUSIM_SOURCE_DIR "/models", root / "models");
    return root / "configs" / "sweeps";
  }();
  const std::string path = (spec_dir / "spec.json").string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  npusim::fuzz::expect_only_input_errors([&] {
    const npusim::SweepSpec spec = npusim::load_sweep_spec(path);
    npusim::expand_sweep(spec);
  });
  return 0;
}
