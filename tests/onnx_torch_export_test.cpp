// The Fashion-MNIST CNN quantized by PyTorch itself (torch 1.13 eager-mode
// post-training static quantization, qnnpack, exported by torch.onnx as QDQ:
// scripts/export_quantized_fashion_mnist.py) imported with the file's own
// scales and zero points, against what torch's quantized model predicts.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/idx_reader.h"
#include "models/input_error.h"
#include "models/model_loader.h"
#include "models/onnx/onnx_constant_fold.h"
#include "models/quant/quant_metrics.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "sim/config/accelerator_config.h"
#include "sim/mapper/lowering.h"
#include "sim/run/network_runner.h"
#include "sim/run/reference_check.h"
#include "tests/cli_test_support.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

const std::string kZoo = std::string(NPUSIM_SOURCE_DIR) + "/models/zoo/";
const std::string kModel = kZoo + "fashion_mnist_cnn_int8_torch.onnx";
const std::string kSidecar = kZoo + "fashion_mnist_cnn_int8_torch.preprocess.json";
const std::string kImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
constexpr std::int64_t kCompared = 200;

nlohmann::json read_json(const std::string& path) {
  std::ifstream file(path);
  return nlohmann::json::parse(file);
}

// Image i as the model's fp32 input, as `npusim accuracy` makes it: x = pixel * scale + offset.
Tensor image_input(const IdxArray& images, std::size_t i, double scale, double offset) {
  Tensor t;
  t.dims = {1, images.dims[1], images.dims[2]};
  const auto pixels = static_cast<std::size_t>(images.dims[1] * images.dims[2]);
  for (std::size_t j = 0; j < pixels; ++j) {
    t.f.push_back(static_cast<float>(static_cast<double>(images.data[i * pixels + j]) * scale + offset));
  }
  return t;
}

class OnnxTorchExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kImages)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
};

TEST_F(OnnxTorchExportTest, ImportsTorchQdqWithItsOwnQuantization) {
  const std::vector<LoadedModel> loaded = load_models(kModel);
  ASSERT_EQ(loaded.size(), 1u);
  ASSERT_TRUE(loaded[0].quantized.has_value()) << "torch's QDQ export must import as already quantized";
  const QuantizedGraph& qg = *loaded[0].quantized;
  // conv1, pool1, conv2, pool2, fc: the Casts, the Flatten and the QDQ pairs add no layer.
  ASSERT_EQ(qg.graph.layers.size(), 5u);
  EXPECT_EQ(qg.mac.label(), "W8A8");
  // torch's QuantStub on a [0, 1] input with qnnpack's HistogramObserver:
  // uint8 zero point 0, i.e. -128 in int8 terms.
  EXPECT_EQ(qg.input_quant.zero_point, -128);
  EXPECT_EQ(qg.graph.layers.back().output_dims, (std::vector<std::int64_t>{10, 1, 1}));
}

TEST_F(OnnxTorchExportTest, SimulatorIsBitExactAndPredictsWhatTorchsQuantizedModelPredicts) {
  const std::vector<LoadedModel> loaded = load_models(kModel);
  ASSERT_TRUE(loaded.at(0).quantized.has_value());
  const QuantizedGraph& qg = *loaded[0].quantized;
  const nlohmann::json sidecar = read_json(kSidecar);
  const double scale = sidecar.at("scale").get<double>();
  const double offset = sidecar.at("offset").get<double>();
  const std::string torch_top1 = sidecar.at("torch_int8_predictions_first_test_images").get<std::string>();
  ASSERT_GE(torch_top1.size(), static_cast<std::size_t>(kCompared));
  const IdxArray images = read_idx_images(kImages, kCompared);

  AcceleratorConfig config;
  config.array.rows = 8;
  config.array.cols = 8;
  config.array.mac = qg.mac;
  config.memory.modeled = false;
  const auto engine = make_tile_engine(config.array);

  // First image: every layer of the simulation equals the reference executor.
  {
    const Tensor input = quantize_input(qg, image_input(images, 0, scale, offset));
    const NetworkRun run = run_network(qg, input, *engine, config);
    const auto checks = check_against_reference(run, run_reference(qg, input, reference_reduction_chunk(config.array)));
    ASSERT_EQ(checks.size(), qg.graph.layers.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
      EXPECT_TRUE(checks[i].bit_exact) << qg.graph.layers[i].name << ": " << checks[i].detail;
    }
  }
  // torch's qnnpack kernels requantize as ONNX Runtime's rule does (fp32
  // multiplier, round half to even), but torch.onnx 1.13 writes each int32
  // bias as Cast(Div(b, s_x * s_w), INT32), which truncates where the kernels
  // round: 9 of conv1's 16, 13 of conv2's 32 and 4 of fc's 10 biases are one
  // unit nearer zero in the file. npusim runs the file as written (as ONNX
  // Runtime would), so 1,904 of the 100,000 int8 logits of the test set are
  // one step off torch's (measured; with the bias rounded, a numpy model of
  // the same rule equals torch on all of them), and none changes a top-1:
  // npusim's top-1 equals torch's on all 10,000 test images. So no
  // difference is allowed here.
  std::string npusim_top1;
  for (std::int64_t i = 0; i < kCompared; ++i) {
    const Tensor input = quantize_input(qg, image_input(images, static_cast<std::size_t>(i), scale, offset));
    const NetworkRun run = run_network(qg, input, *engine, config);
    npusim_top1.push_back(static_cast<char>('0' + top1_index(run.layers.back().output)));
  }
  EXPECT_EQ(npusim_top1, torch_top1.substr(0, static_cast<std::size_t>(kCompared)));
}

// torch.onnx's helper ops: Cast and ConstantOfShape of constants fold at import.
class OnnxTorchHelperOpsTest : public testing::OnnxModelTest {
 protected:
  static std::optional<OnnxTensor> fold(const onnx::NodeProto& node, const std::vector<OnnxTensor>& constants) {
    return fold_constant_node(
        node,
        [&](const std::string& name) -> const OnnxTensor* {
          for (const auto& t : constants) {
            if (t.name == name) return &t;
          }
          return nullptr;
        },
        "m.onnx");
  }
};

TEST_F(OnnxTorchHelperOpsTest, CastOfAConstantTruncatesTowardZeroAndChecksTheRange) {
  // torch 1.13 quantizes a bias as Cast(Div(b, s), INT32): ONNX's float-to-int Cast truncates.
  OnnxTensor b;
  b.name = "b";
  b.data_type = onnx::TensorProto_DataType_FLOAT;
  b.dims = {4};
  b.f = {-1.7f, 2.9f, 0.5f, -0.49f};
  auto& cast = node("Cast", "q_bias", {"b"}, {"qb"});
  int_attr(cast, "to", onnx::TensorProto_DataType_INT32);
  const auto folded = fold(cast, {b});
  ASSERT_TRUE(folded.has_value());
  EXPECT_EQ(folded->name, "qb");
  EXPECT_EQ(folded->data_type, onnx::TensorProto_DataType_INT32);
  EXPECT_EQ(folded->dims, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(folded->i, (std::vector<std::int64_t>{-1, 2, 0, 0}));

  auto& narrow = node("Cast", "to_u8", {"b"}, {"u"});
  int_attr(narrow, "to", onnx::TensorProto_DataType_UINT8);
  try {
    fold(narrow, {b});
    FAIL() << "-1.7 does not fit UINT8";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.onnx: node \"to_u8\" (Cast): value -1.7"), std::string::npos) << e.what();
  }
  // A runtime operand is not folded.
  EXPECT_FALSE(fold(cast, {}).has_value());
}

TEST_F(OnnxTorchHelperOpsTest, ConstantOfShapeFillsTheShapeWithItsValue) {
  OnnxTensor shape;
  shape.name = "shape";
  shape.data_type = onnx::TensorProto_DataType_INT64;
  shape.dims = {2};
  shape.i = {2, 3};
  auto& fill = node("ConstantOfShape", "zeros", {"shape"}, {"z"});
  const auto f0 = fold(fill, {shape});  // no value attribute: FLOAT 0
  ASSERT_TRUE(f0.has_value());
  EXPECT_EQ(f0->data_type, onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(f0->dims, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(f0->f, std::vector<float>(6, 0.0f));

  auto* value = fill.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto_AttributeType_TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto_DataType_INT32);
  value->mutable_t()->add_dims(1);
  value->mutable_t()->add_int32_data(-7);
  const auto f1 = fold(fill, {shape});
  ASSERT_TRUE(f1.has_value());
  EXPECT_EQ(f1->data_type, onnx::TensorProto_DataType_INT32);
  EXPECT_EQ(f1->i, std::vector<std::int64_t>(6, -7));
}

TEST_F(OnnxTorchHelperOpsTest, RuntimeCastToAnotherTypeIsUnsupportedAndNamed) {
  // Cast to the tensor's own type (torch's Cast(to=UINT8) after QuantizeLinear) is
  // covered by the torch file above; to another type it would change the values.
  input("x", {1, 4});
  auto& cast = node("Cast", "c", {"x"}, {"y"});
  int_attr(cast, "to", onnx::TensorProto_DataType_INT32);
  output("y", {1, 4}, onnx::TensorProto_DataType_INT32);
  const std::string error = import_error();
  EXPECT_NE(error.find("node \"c\" (Cast): cast from FLOAT to INT32"), std::string::npos) << error;
}

class OnnxTorchAccuracyCliTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (!std::filesystem::exists(kImages)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
};

TEST_F(OnnxTorchAccuracyCliTest, AccuracyRunsTheFilesOwnQuantizationAsTheFileRow) {
  const std::string json_path = (dir_ / "acc.json").string();
  const std::string config = testing::kSourceDir + "/configs/edge_int8_32x32.json";
  const auto r = testing::run_npusim("accuracy --config " + config + " --model " + kModel + " --limit " +
                                     std::to_string(kCompared) + " --formats int8 --threads 2 --json " + json_path);
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json json = read_json(json_path);
  const auto& rows = json["models"][0]["rows"];
  ASSERT_EQ(rows.size(), 2u);  // the file's own quantization first, then npusim's int8
  EXPECT_EQ(rows[0]["format"], "file");
  EXPECT_EQ(rows[0]["quantization"], "file");
  EXPECT_EQ(rows[0]["mac"], "W8A8");
  EXPECT_TRUE(rows[0]["bit_exact"].get<bool>());
  const std::string torch_top1 = read_json(kSidecar)["torch_int8_predictions_first_test_images"];
  EXPECT_EQ(rows[0]["predictions"], torch_top1.substr(0, static_cast<std::size_t>(kCompared)));
  EXPECT_EQ(rows[1]["format"], "int8");
  EXPECT_EQ(rows[1]["quantization"], "npusim");

  // A model without its own quantization has no file row to ask for.
  const auto fp32 = testing::run_npusim("accuracy --config " + config + " --model " + kZoo +
                                        "fashion_mnist_cnn.onnx --limit 10 --formats file");
  EXPECT_NE(fp32.status, 0);
  EXPECT_NE(fp32.out.find("fashion_mnist_cnn.onnx carries no quantization of its own"), std::string::npos) << fp32.out;
}

}  // namespace
}  // namespace npusim
