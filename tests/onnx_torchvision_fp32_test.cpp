// Which torchvision networks, exported by torch.onnx exactly as it writes
// them (scripts/export_torchvision_fp32.py: opset 13, seeded random weights),
// npusim imports and runs, against onnxruntime (scripts/onnxruntime/run.js)
// as the outside reference: FP32 logits of the reference executor within 1e-5
// relative + 1e-6 absolute of onnxruntime's on every exported input, and
// one simulated inference (tile engine, fp32) equal to the reference bit for
// bit. A network npusim cannot import yet must fail with one message that
// lists every unsupported node; the count expected is that of the export
// (python3-onnx's node counts, docs/onnx.md). bench/onnxruntime_import_breadth.sh
// makes the files and runs this with NPUSIM_TV_FP32_DIR set; without it
// the test is skipped (the export takes minutes).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/input_error.h"
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

std::string tv_dir() {
  const char* dir = std::getenv("NPUSIM_TV_FP32_DIR");
  return dir ? dir : "";
}

using testing::floats_of;
using testing::sample;

struct Case {
  const char* name;
  // 0: imports and runs; else the number of unsupported nodes in the one
  // error message (every one of them, none hidden behind another).
  int unsupported;
  // Ops the message must name.
  std::vector<std::string> ops;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class TorchvisionFp32 : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (tv_dir().empty()) GTEST_SKIP() << "NPUSIM_TV_FP32_DIR not set (bench/onnxruntime_import_breadth.sh sets it)";
    if (!std::filesystem::exists(path())) GTEST_SKIP() << "not exported";
  }
  std::string path() const { return tv_dir() + "/" + GetParam().name + ".onnx"; }
};

TEST_P(TorchvisionFp32, ImportsAndMatchesOnnxruntimeOrListsEveryUnsupportedNode) {
  const Case& c = GetParam();
  LoadedModel model;
  try {
    model = load_models(path()).front();
  } catch (const InputError& e) {
    const std::string message = e.what();
    std::printf("%s: does not import: %.300s%s\n", c.name, message.c_str(), message.size() > 300 ? " ..." : "");
    ASSERT_NE(c.unsupported, 0) << message;
    EXPECT_NE(message.find(std::to_string(c.unsupported) + " unsupported nodes"), std::string::npos) << message;
    for (const auto& op : c.ops) EXPECT_NE(message.find("(" + op + ")"), std::string::npos) << op << ": " << message;
    return;
  }
  ASSERT_EQ(c.unsupported, 0) << c.name << " imported, expected " << c.unsupported << " unsupported nodes";
  const std::string dir = tv_dir() + "/";
  const NpyArray inputs = read_npy(dir + c.name + "_inputs.npy");
  const std::vector<float> x = floats_of(inputs);
  const std::vector<float> ort = floats_of(read_npy(dir + c.name + "_ort.npy"));
  const Fp32Executor executor(model.graph);
  std::size_t at = 0, within = 0;
  double worst = 0.0;
  for (std::int64_t n = 0; n < inputs.shape[0]; ++n) {
    const std::vector<Tensor> outputs = executor.run(sample(inputs, x, n));
    for (const float v : outputs.back().f) {
      const double theirs = ort.at(at++);
      const double excess = std::abs(v - theirs) - (1e-5 * std::abs(theirs) + 1e-6);
      worst = std::max(worst, std::abs(v - theirs));
      within += excess <= 0.0 ? 1 : 0;
      EXPECT_LE(excess, 0.0) << "logit " << at - 1 << ": npusim " << v << ", onnxruntime " << theirs;
    }
  }
  EXPECT_EQ(at, ort.size());
  // One inference on the simulated accelerator, fp32, checked layer by layer against the reference.
  const MacFormat fp32{NumberFormat::fp32, NumberFormat::fp32, AccumulatorFormat::fp32, 1};
  const QuantizedGraph qg = quantize_graph(model.graph, fp32, std::span<const Tensor>{});
  AcceleratorConfig config;
  config.array.mac = fp32;
  const auto engine = make_tile_engine(config.array);
  const Tensor input = quantize_input(qg, sample(inputs, x, 0));
  const NetworkRun run = run_network(qg, input, *engine, config);
  EXPECT_TRUE(
      all_bit_exact(check_against_reference(run, run_reference(qg, input, reference_reduction_chunk(config.array)))));
  std::printf(
      "%s: imports (%zu layers, %lld MACs); fp32 %zu of %zu logits within 1e-5 rel + 1e-6 abs of onnxruntime "
      "(largest difference %.3g); simulated inference bit-exact with the reference\n",
      c.name, model.graph.layers.size(), static_cast<long long>(model.graph.total_macs()), within, at, worst);
}

// Expected: what the importer supports today (docs/onnx.md): all seven
// import. DenseNet-121's 62 BatchNormalizations after a Concat are
// per-channel scale layers; MobileNetV3-Small's 28 HardSigmoid + 28 Mul and
// EfficientNet-B0's 65 Sigmoid + 65 Mul (node counts of the exported files)
// are sigmoid / hard_sigmoid / mul layers; ShuffleNetV2 x0.5's 16 channel
// shuffles (Reshape, Transpose, Reshape) are transpose layers and its 26
// channel Slices slice layers. A case expecting a refusal names
// the count of unsupported nodes and their op types.
INSTANTIATE_TEST_SUITE_P(Export, TorchvisionFp32,
                         ::testing::Values(Case{"resnet50", 0, {}}, Case{"mnasnet0_5", 0, {}},
                                           Case{"squeezenet1_1", 0, {}}, Case{"vgg11", 0, {}},
                                           Case{"densenet121", 0, {}}, Case{"mobilenet_v3_small", 0, {}},
                                           Case{"efficientnet_b0", 0, {}}, Case{"shufflenet_v2_x0_5", 0, {}}),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace npusim
