// ONNX import of constant operands of Add and Concat as constant layers
// (models/graph.h): broadcasting materialised at the runtime operand's
// shape, operand order kept, the quantized-file case, and rejections.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_model.h"
#include "models/onnx/onnx_proto.h"
#include "models/quant/quantize.h"
#include "models/reference/fp32_executor.h"
#include "models/reference/reference_executor.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

using Dims = std::vector<std::int64_t>;

class OnnxConstantTest : public testing::OnnxModelTest {};

Tensor fp32_tensor(Dims dims, std::vector<float> values) {
  Tensor t;
  t.dims = std::move(dims);
  t.format = NumberFormat::fp32;
  t.f = std::move(values);
  return t;
}

TEST_F(OnnxConstantTest, AddBroadcastsAConstantOperandToAConstantLayer) {
  // x [1, 1, 2, 3] -> Conv 1x1 (weight 2, no bias) -> Add(c [3], .) -> y
  input("x", {1, 1, 2, 3});
  floats("w", {1, 1, 1, 1}, {2.0f});
  floats("c", {3}, {10.0f, 20.0f, 30.0f});
  node("Conv", "conv", {"x", "w"}, {"h"});
  node("Add", "sum", {"c", "h"}, {"y"});  // the constant first: the order is kept
  output("y", {1, 1, 2, 3});
  const LoadedModel m = load_onnx_model(save());
  const Graph& g = m.graph;
  ASSERT_EQ(g.layers.size(), 3u);
  const Layer& c = g.layers[1];
  EXPECT_EQ(c.type, LayerType::constant);
  EXPECT_TRUE(c.inputs.empty());
  EXPECT_EQ(c.output_dims, (Dims{1, 2, 3}));  // the conv output's IR dims
  EXPECT_EQ(c.weights, (std::vector<float>{10, 20, 30, 10, 20, 30}));
  const Layer& sum = g.layers[2];
  EXPECT_EQ(sum.type, LayerType::add);
  EXPECT_EQ(sum.inputs, (std::vector<std::string>{c.name, g.layers[0].name}));
  const auto out = Fp32Executor(g).run(fp32_tensor({1, 2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(out.back().f, (std::vector<float>{12, 24, 36, 18, 30, 42}));
}

TEST_F(OnnxConstantTest, PerChannelConstantAfterAConvStillFoldsIntoTheBias) {
  input("x", {1, 2, 2, 2});
  floats("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  floats("c", {1, 2, 1, 1}, {0.5f, -0.5f});
  node("Conv", "conv", {"x", "w"}, {"h"});
  node("Add", "sum", {"h", "c"}, {"y"});
  output("y", {1, 2, 2, 2});
  const LoadedModel m = load_onnx_model(save());
  ASSERT_EQ(m.graph.layers.size(), 1u);
  EXPECT_EQ(m.graph.layers[0].bias, (std::vector<float>{0.5f, -0.5f}));
}

TEST_F(OnnxConstantTest, ConcatWithAConstantInput) {
  // x [1, 2] ++ c [1, 3] along axis 1 -> [1, 5]: both {K, 1, 1}, joined on C.
  input("x", {1, 2});
  floats("c", {1, 3}, {7.0f, 8.0f, 9.0f});
  int_attr(node("Concat", "cat", {"x", "c"}, {"y"}), "axis", 1);
  output("y", {1, 5});
  const LoadedModel m = load_onnx_model(save());
  ASSERT_EQ(m.graph.layers.size(), 2u);
  EXPECT_EQ(m.graph.layers[0].type, LayerType::constant);
  EXPECT_EQ(m.graph.layers[0].output_dims, (Dims{3, 1, 1}));
  EXPECT_EQ(m.graph.layers[1].axis, 0);
  const auto out = Fp32Executor(m.graph).run(fp32_tensor({2, 1, 1}, {1, 2}));
  EXPECT_EQ(out.back().f, (std::vector<float>{1, 2, 7, 8, 9}));
}

// A QDQ graph whose Add reads a float constant: the constant, which the file
// does not quantize, gets its own per-tensor int8 parameters from min -1,
// max 0.5: scale 1.5/255, zero point -128 - round(-170) = 42; levels
// round(85) + 42 = 127 and -170 + 42 = -128.
TEST_F(OnnxConstantTest, ConstantInAQuantizedFileTakesItsOwnRange) {
  input("x", {1, 1, 2, 2});
  floats("s", {}, {0.05f});
  ints("zp", onnx::TensorProto_DataType_INT8, {}, {0});
  floats("c", {2}, {0.5f, -1.0f});
  node("QuantizeLinear", "q_x", {"x", "s", "zp"}, {"xq"});
  node("DequantizeLinear", "dq_x", {"xq", "s", "zp"}, {"xd"});
  node("Add", "sum", {"xd", "c"}, {"a"});
  node("QuantizeLinear", "q_y", {"a", "s", "zp"}, {"yq"});
  node("DequantizeLinear", "dq_y", {"yq", "s", "zp"}, {"y"});
  output("y", {1, 1, 2, 2});
  const LoadedModel m = load_onnx_model(save());
  ASSERT_TRUE(m.quantized);
  const QuantizedGraph& q = *m.quantized;
  ASSERT_EQ(q.graph.layers.size(), 2u);
  ASSERT_EQ(q.graph.layers[0].type, LayerType::constant);
  EXPECT_DOUBLE_EQ(q.layers[0].output_quant.scale, 1.5 / 255);
  EXPECT_EQ(q.layers[0].output_quant.zero_point, 42);
  EXPECT_EQ(q.layers[0].weights.q, (std::vector<std::int8_t>{127, -128, 127, -128}));
  // x + c within one output step (0.05) plus the constant's rounding.
  const Tensor x = fp32_tensor({1, 2, 2}, {1.0f, 0.25f, -2.0f, 3.0f});
  const ReferenceResult r = run_reference(q, quantize_input(q, x), 0);
  const float c[] = {0.5f, -1.0f};
  for (std::size_t i = 0; i < 4; ++i) {
    const double real = r.outputs[1].q[i] * 0.05;
    EXPECT_NEAR(real, x.f[i] + c[i % 2], 0.05 + 1.5 / 255) << i;
  }
}

TEST_F(OnnxConstantTest, ConstantThatWouldEnlargeTheRuntimeOperandIsRejected) {
  input("x", {1, 3});
  floats("c", {2, 3}, {1, 2, 3, 4, 5, 6});
  node("Add", "sum", {"x", "c"}, {"y"});
  output("y", {2, 3});
  const std::string message = import_error();
  EXPECT_NE(message.find("node \"sum\" (Add)"), std::string::npos) << message;
  EXPECT_NE(message.find("broadcasting the constant input 1 [2, 3] to [1, 3] is not supported"), std::string::npos)
      << message;
}

TEST_F(OnnxConstantTest, NonFloatConstantOperandIsRejected) {
  input("x", {1, 2});
  ints("c", onnx::TensorProto_DataType_INT64, {1, 2}, {1, 2});
  int_attr(node("Concat", "cat", {"x", "c"}, {"y"}), "axis", 1);
  output("y", {1, 4});
  const std::string message = import_error();
  EXPECT_NE(message.find("node \"cat\" (Concat)"), std::string::npos) << message;
  EXPECT_NE(message.find("is a constant of type INT64; constant tensors in the IR are FLOAT"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace npusim
