// npusim against onnxruntime, the outside reference, on torch-exported
// torchvision models (scripts/export_torchvision_qdq.py) and their seeded
// inputs: int8 QDQ logits bit for bit, fp32 logits within 1e-5 relative +
// 1e-6 absolute. The models and onnxruntime's outputs
// (scripts/onnxruntime/run.js) are made by bench/onnxruntime_compare.sh,
// which runs this test with NPUSIM_ORT_DIR set; without it the test is
// skipped (the export needs python3-torch and a few minutes).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/model_loader.h"
#include "models/npy_io.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/npy_samples_test_support.h"

namespace npusim {
namespace {

std::string ort_dir() {
  const char* dir = std::getenv("NPUSIM_ORT_DIR");
  return dir ? dir : "";
}

using testing::floats_of;
using testing::sample;

class OnnxruntimeCompare : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (ort_dir().empty()) GTEST_SKIP() << "NPUSIM_ORT_DIR not set (bench/onnxruntime_compare.sh sets it)";
    // The script may export only some of the models (its MODELS variable).
    if (!std::filesystem::exists(ort_dir() + "/" + GetParam() + "_int8.onnx")) GTEST_SKIP() << "not exported";
  }
};

// Every logit of the simulator (tile engine, checked bit for bit against the
// reference executor) dequantized as DequantizeLinear does, equal as fp32 bits.
TEST_P(OnnxruntimeCompare, Int8LogitsBitForBit) {
  const std::string dir = ort_dir() + "/";
  const std::string name = GetParam();
  const LoadedModel model = load_models(dir + name + "_int8.onnx").front();
  ASSERT_TRUE(model.quantized);
  const NpyArray inputs = read_npy(dir + "inputs.npy");
  const std::vector<float> x = floats_of(inputs);
  const std::vector<float> ort = floats_of(read_npy(dir + name + "_int8_ort.npy"));
  AcceleratorConfig config;
  const auto engine = make_tile_engine(config.array);
  std::int64_t compared = 0, equal = 0, first_bad = -1;
  for (std::int64_t n = 0; n < inputs.shape[0]; ++n) {
    const Tensor input = quantize_input(*model.quantized, sample(inputs, x, n));
    const NetworkRun run = run_network(*model.quantized, input, *engine, config);
    ASSERT_TRUE(all_bit_exact(
        check_against_reference(run, run_reference(*model.quantized, input, reference_reduction_chunk(config.array)))));
    const Tensor& logits = run.layers.back().output;
    for (std::size_t j = 0; j < logits.q.size(); ++j, ++compared) {
      const float ours =
          static_cast<float>(logits.q[j] - logits.quant.zero_point) * static_cast<float>(logits.quant.scale);
      const float theirs = ort.at(static_cast<std::size_t>(compared));
      if (std::memcmp(&ours, &theirs, 4) == 0) {
        ++equal;
      } else if (first_bad < 0) {
        first_bad = compared;
      }
    }
  }
  RecordProperty("logits_equal", std::to_string(equal) + "/" + std::to_string(compared));
  std::printf("%s int8: %lld of %lld logits equal onnxruntime's bit for bit\n", name.c_str(),
              static_cast<long long>(equal), static_cast<long long>(compared));
  EXPECT_EQ(equal, compared) << "first differing logit " << first_bad;
}

TEST_P(OnnxruntimeCompare, Fp32LogitsWithinTolerance) {
  const std::string dir = ort_dir() + "/";
  const std::string name = GetParam();
  const LoadedModel model = load_models(dir + name + "_fp32.onnx").front();
  const NpyArray inputs = read_npy(dir + "inputs.npy");
  const std::vector<float> x = floats_of(inputs);
  const std::vector<float> ort = floats_of(read_npy(dir + name + "_fp32_ort.npy"));
  const Fp32Executor executor(model.graph);
  std::size_t at = 0, within = 0;
  double worst_abs = 0.0;
  for (std::int64_t n = 0; n < inputs.shape[0]; ++n) {
    const Tensor logits = executor.run(sample(inputs, x, n)).back();
    for (const float v : logits.f) {
      const double theirs = ort.at(at++);
      const double excess = std::abs(v - theirs) - (1e-5 * std::abs(theirs) + 1e-6);
      worst_abs = std::max(worst_abs, std::abs(v - theirs));
      within += excess <= 0.0 ? 1 : 0;
      EXPECT_LE(excess, 0.0) << "logit " << at - 1 << ": npusim " << v << ", onnxruntime " << theirs;
    }
  }
  std::printf("%s fp32: %zu of %zu logits within 1e-5 rel + 1e-6 abs of onnxruntime's (largest difference %.3g)\n",
              name.c_str(), within, at, worst_abs);
}

INSTANTIATE_TEST_SUITE_P(Torchvision, OnnxruntimeCompare, ::testing::Values("resnet18", "mobilenet_v2", "googlenet"));

}  // namespace
}  // namespace npusim
