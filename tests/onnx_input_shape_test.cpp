// `--input-shape name=1x3x224x224` (issue 17): an ONNX input's dynamic
// dimensions fixed at import, through OnnxImportOptions and through the CLI
// of `run` and `compare`; without it a dynamic dimension other than the
// batch is a one-line error naming the input and the option. Expected values
// by hand: a 1x1 conv with weights {1, 2} gives x0 + 2 x1 per pixel.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/model_loader.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_model.h"
#include "models/reference/fp32_executor.h"
#include "tests/cli_test_support.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

class OnnxInputShapeTest : public testing::OnnxModelTest {
 protected:
  // x [N, 2, "height", "width"] (N, height and width symbolic) -> Conv 1x1 {1, 2} -> y.
  OnnxInputShapeTest() {
    input("x", {1, 2, 1, 1});
    auto* shape = graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->mutable_dim(0)->set_dim_param("N");
    shape->mutable_dim(2)->set_dim_param("height");
    shape->mutable_dim(3)->set_dim_param("width");
    floats("w", {1, 2, 1, 1}, {1.0f, 2.0f});
    node("Conv", "conv", {"x", "w"}, {"y"});
    auto* out = graph().add_output();
    out->set_name("y");
    out->mutable_type()->mutable_tensor_type()->set_elem_type(1);
  }
  std::string import_message(const OnnxImportOptions& options) {
    try {
      import_onnx(save(), options);
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      return message;
    }
    return "";
  }
};

TEST_F(OnnxInputShapeTest, TheOptionFixesTheDynamicDimensions) {
  OnnxImportOptions options;
  options.input_shapes["x"] = {1, 2, 2, 3};
  const LoadedModel m = import_onnx(save(), options).model;
  EXPECT_EQ(m.graph.input_dims, (std::vector<std::int64_t>{2, 2, 3}));
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].output_dims, (std::vector<std::int64_t>{1, 2, 3}));
  Tensor x;
  x.dims = {2, 2, 3};
  x.f = {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60};
  EXPECT_EQ(Fp32Executor(m.graph).run(x).back().f, (std::vector<float>{21, 42, 63, 84, 105, 126}));
}

TEST_F(OnnxInputShapeTest, ADynamicDimensionWithoutTheOptionNamesTheInputAndTheOption) {
  const std::string message = import_message({});
  EXPECT_NE(message.find("graph input \"x\": dimension 2 is \"height\"; give its size with --input-shape x="),
            std::string::npos)
      << message;
}

TEST_F(OnnxInputShapeTest, AShapeThatContradictsTheFileOrNamesAnotherInputIsRefused) {
  OnnxImportOptions options;
  options.input_shapes["x"] = {1, 3, 4, 4};
  EXPECT_NE(import_message(options).find("--input-shape x=1x3x4x4 does not fit the file's Nx2xheightxwidth"),
            std::string::npos);
  options.input_shapes = {{"x", {1, 2, 4}}};
  EXPECT_NE(import_message(options).find("does not fit"), std::string::npos);
  options.input_shapes = {{"image", {1, 2, 4, 4}}};
  EXPECT_NE(import_message(options).find("--input-shape names \"image\", which is not a runtime input"),
            std::string::npos);
}

TEST(ParseInputShape, NameEqualsDimensionsSeparatedByX) {
  EXPECT_EQ(parse_input_shape("input=1x3x224x224"),
            (std::pair<std::string, std::vector<std::int64_t>>{"input", {1, 3, 224, 224}}));
  EXPECT_EQ(parse_input_shape("a=b=7"), (std::pair<std::string, std::vector<std::int64_t>>{"a=b", {7}}));
  for (const char* bad : {"x", "=1x2", "x=", "x=1xx2", "x=0x2", "x=1x-2", "x=1x2x", "x=1x9999999999"}) {
    EXPECT_THROW(parse_input_shape(bad), std::invalid_argument) << bad;
  }
}

TEST_F(OnnxInputShapeTest, RunAndCompareTakeTheOption) {
  const std::string model = save();
  const std::string config = testing::kSourceDir + "/configs/edge_fp32_32x32.json";
  const auto run = testing::run_npusim("run --config " + config + " --model " + model + " --input-shape x=1x2x4x4");
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("check: all 1 layers bit-exact"), std::string::npos) << run.out;
  const auto compare = testing::run_npusim("compare --config " + config + " --model " + model +
                                           " --formats fp32,int8 --input-shape x=1x2x4x4");
  EXPECT_EQ(compare.status, 0) << compare.out;

  const auto missing = testing::run_npusim("run --config " + config + " --model " + model);
  EXPECT_EQ(missing.status, 1) << missing.out;
  EXPECT_NE(missing.out.find("--input-shape x="), std::string::npos) << missing.out;
  EXPECT_EQ(missing.out.find('\n'), missing.out.size() - 1) << "one line: " << missing.out;

  const auto malformed = testing::run_npusim("run --config " + config + " --model " + model + " --input-shape x=1xa");
  EXPECT_EQ(malformed.status, 1) << malformed.out;  // a value the option cannot take: bad input
  EXPECT_NE(malformed.out.find("--input-shape: expected NAME=D0xD1x..."), std::string::npos) << malformed.out;
  const auto json_model = testing::run_npusim("run --config " + config + " --model " + testing::kSourceDir +
                                              "/models/zoo/lenet5.json --input-shape x=1x2x4x4");
  EXPECT_EQ(json_model.status, 1) << json_model.out;
  EXPECT_NE(json_model.out.find("--input-shape applies to ONNX models only"), std::string::npos) << json_model.out;
}

}  // namespace
}  // namespace npusim
