// ONNX files that ask for more than they hold (issue 14): refused in one line,
// before the declared size is allocated.
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "models/onnx/onnx_constant_fold.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

class OnnxHostileTest : public testing::OnnxModelTest {
 protected:
  // x -> Add(x, ConstantOfShape(shape)) -> y, with `dims` as the shape.
  void add_of_constant_of_shape(const std::vector<std::int64_t>& dims, bool used) {
    input("x", {1, 4});
    ints("shape", onnx::TensorProto_DataType_INT64, {static_cast<std::int64_t>(dims.size())}, dims);
    node("ConstantOfShape", "fill", {"shape"}, {"z"});
    node("Relu", "r", {used ? "z" : "x"}, {"y"});
    output("y", {1, 4});
  }
};

TEST_F(OnnxHostileTest, HugeConstantOfShapeIsRefusedBeforeAllocating) {
  // 2^40 elements: exit 4 std::bad_alloc before; [5e8] allocated 1.97 GB.
  add_of_constant_of_shape({1 << 20, 1 << 20}, /*used=*/true);
  EXPECT_NE(import_error().find("node \"fill\" (ConstantOfShape): output of over 16777216 elements"),
            std::string::npos);
}

TEST_F(OnnxHostileTest, DimensionProductOverflowIsRefused) {
  // 2^32 * 2^32 wraps int64 to 0 without a checked product.
  add_of_constant_of_shape({std::int64_t{1} << 32, std::int64_t{1} << 32}, /*used=*/true);
  EXPECT_NE(import_error().find("output of over 16777216 elements"), std::string::npos);
}

TEST_F(OnnxHostileTest, UnusedConstantOfShapeIsNotMaterialised) {
  // Lazy folding: nothing reads z, so its 2^40 elements are never made; the
  // import then goes on (and fails or not) on the rest of the graph alone.
  add_of_constant_of_shape({1 << 20, 1 << 20}, /*used=*/false);
  EXPECT_EQ(import_error().find("ConstantOfShape"), std::string::npos) << import_error();
}

TEST_F(OnnxHostileTest, OpsetNewerThanTheImporterKnowsIsRefused) {
  model_.mutable_opset_import(0)->set_version(999);  // was accepted and imported with opset-17 semantics
  input("x", {1, 4});
  node("Relu", "r", {"x"}, {"y"});
  output("y", {1, 4});
  EXPECT_NE(import_error().find(": opset_import: default-domain opset 999 is not supported (expected 1 to 17"),
            std::string::npos);
}

TEST_F(OnnxHostileTest, InvalidUtf8NameIsBadInput) {
  // proto2 strings are not checked by protobuf; such a name made the JSON report throw (exit 4).
  input("x", {1, 4});
  node("Relu", "r\xff", {"x"}, {"y"});
  output("y", {1, 4});
  EXPECT_NE(import_error().find(": node 0 name: invalid UTF-8 at byte 1 (0xff)"), std::string::npos);
}

TEST_F(OnnxHostileTest, DirectoryGivenAsModelIsNamed) {
  try {
    load_onnx_model(dir_.string());
    FAIL() << "a directory imported";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir_.string() + ": is a directory, expected an ONNX file");
  }
}

}  // namespace
}  // namespace npusim
