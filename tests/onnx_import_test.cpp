// ONNX import: small ModelProtos built here, serialized to a temp file and
// imported. FP32 mapping (BatchNormalization folding, activation fusion,
// layouts), a QDQ graph's file quantization, and one-line errors naming the
// file and the node or field for every kind of bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/input_error.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_model.h"
#include "models/onnx/onnx_proto.h"
#include "models/quant/quantize.h"
#include "models/reference/reference_executor.h"
#include "tests/onnx_test_support.h"

namespace npusim {
namespace {

using Dims = std::vector<std::int64_t>;

class OnnxImportTest : public testing::OnnxModelTest {
 protected:
  // x [1, 2, 4, 4] -> Conv(3x3, 3 filters, pad 1) -> BatchNormalization -> Relu
  //   -> GlobalAveragePool -> Flatten -> Gemm(3 -> 2)
  void build_fp32_net() {
    input("x", {1, 2, 4, 4});
    std::vector<float> w(3 * 2 * 9);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * static_cast<float>(i % 7) - 0.1f;
    floats("w", {3, 2, 3, 3}, w);
    floats("b", {3}, {0.1f, -0.2f, 0.3f});
    floats("gamma", {3}, {1.5f, 0.5f, 2.0f});
    floats("beta", {3}, {0.25f, -0.5f, 0.0f});
    floats("mean", {3}, {0.1f, 0.2f, -0.3f});
    floats("var", {3}, {4.0f, 0.25f, 1.0f});
    floats("fc_w", {3, 2}, {1, 2, 3, 4, 5, 6});
    floats("fc_b", {2}, {0.5f, -0.5f});
    auto& conv = node("Conv", "conv1", {"x", "w", "b"}, {"c"});
    ints_attr(conv, "pads", {1, 1, 1, 1});
    float_attr(node("BatchNormalization", "bn1", {"c", "gamma", "beta", "mean", "var"}, {"n"}), "epsilon", 1e-3f);
    node("Relu", "relu1", {"n"}, {"r"});
    node("GlobalAveragePool", "gap", {"r"}, {"p"});
    node("Flatten", "flat", {"p"}, {"f"});
    node("Gemm", "fc", {"f", "fc_w", "fc_b"}, {"y"});
    output("y", {1, 2});
  }
};

TEST_F(OnnxImportTest, Fp32NetworkFoldsBatchNormAndFusesRelu) {
  build_fp32_net();
  const LoadedModel m = load_onnx_model(save());
  EXPECT_FALSE(m.quantized);
  const Graph& g = m.graph;
  EXPECT_EQ(g.input_name, "x");
  EXPECT_EQ(g.input_dims, (Dims{2, 4, 4}));
  ASSERT_EQ(g.layers.size(), 3u);  // conv (+bn, relu), global pool, fc; Flatten moves no data
  const Layer& conv = g.layers[0];
  EXPECT_EQ(conv.type, LayerType::conv2d);
  EXPECT_EQ(conv.activation, Activation::relu);
  EXPECT_EQ(conv.output_dims, (Dims{3, 4, 4}));
  EXPECT_EQ(conv.conv.pad_top, 1);
  // w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta.
  const double gamma[] = {1.5, 0.5, 2.0}, beta[] = {0.25, -0.5, 0.0}, mean[] = {0.1f, 0.2f, -0.3f};
  const double var[] = {4.0, 0.25, 1.0}, bias[] = {0.1f, -0.2f, 0.3f};
  const double eps = 1e-3f;
  for (int n = 0; n < 3; ++n) {
    const double factor = gamma[n] / std::sqrt(var[n] + eps);
    const float w0 = 0.05f * static_cast<float>((n * 18) % 7) - 0.1f;
    EXPECT_EQ(conv.weights[static_cast<std::size_t>(n * 18)], static_cast<float>(double{w0} * factor)) << n;
    EXPECT_EQ(conv.bias[static_cast<std::size_t>(n)], static_cast<float>((bias[n] - mean[n]) * factor + beta[n])) << n;
  }
  EXPECT_EQ(g.layers[1].type, LayerType::avgpool);
  EXPECT_TRUE(g.layers[1].pool.global);
  const Layer& fc = g.layers[2];
  EXPECT_EQ(fc.type, LayerType::fc);
  EXPECT_EQ(fc.output_dims, (Dims{2, 1, 1}));
  // Gemm's B [K=3, N=2] becomes fc weights {N, K}.
  EXPECT_EQ(fc.weights, (std::vector<float>{1, 3, 5, 2, 4, 6}));
  EXPECT_EQ(fc.bias, (std::vector<float>{0.5f, -0.5f}));
}

TEST_F(OnnxImportTest, QdqGraphKeepsTheFilesQuantization) {
  // x -> Q -> DQ -> Conv(DQ(int8 w, per channel), DQ(int32 b)) -> Relu -> Q -> DQ -> y
  input("x", {1, 1, 2, 2});
  floats("s_x", {}, {0.5f});
  ints("zp_x", onnx::TensorProto_DataType_UINT8, {}, {130});
  ints("w_q", onnx::TensorProto_DataType_INT8, {2, 1, 1, 1}, {3, -4});
  floats("s_w", {2}, {0.25f, 0.125f});
  ints("zp_w", onnx::TensorProto_DataType_INT8, {2}, {0, 0});
  ints("b_q", onnx::TensorProto_DataType_INT32, {2}, {8, -16});
  floats("s_b", {2}, {0.125f, 0.0625f});
  floats("s_y", {}, {0.75f});
  ints("zp_y", onnx::TensorProto_DataType_UINT8, {}, {0});
  auto& dqw = node("DequantizeLinear", "dq_w", {"w_q", "s_w", "zp_w"}, {"w"});
  int_attr(dqw, "axis", 0);
  node("DequantizeLinear", "dq_b", {"b_q", "s_b"}, {"b"});
  node("QuantizeLinear", "q_x", {"x", "s_x", "zp_x"}, {"xq"});
  node("DequantizeLinear", "dq_x", {"xq", "s_x", "zp_x"}, {"xd"});
  node("Conv", "conv", {"xd", "w", "b"}, {"c"});
  node("Relu", "relu", {"c"}, {"r"});
  node("QuantizeLinear", "q_y", {"r", "s_y", "zp_y"}, {"yq"});
  node("DequantizeLinear", "dq_y", {"yq", "s_y", "zp_y"}, {"y"});
  output("y", {1, 2, 2, 2});
  const OnnxImport imp = import_onnx(save());
  ASSERT_TRUE(imp.model.quantized);
  const QuantizedGraph& q = *imp.model.quantized;
  EXPECT_EQ(q.input_quant.scale, 0.5);
  EXPECT_EQ(q.input_quant.zero_point, 2);  // uint8 130 -> int8 2
  ASSERT_EQ(q.layers.size(), 1u);
  const QuantizedLayer& ql = q.layers[0];
  EXPECT_EQ(ql.weights.q, (std::vector<std::int8_t>{3, -4}));
  EXPECT_EQ(ql.weights.quant.channel_scales, (std::vector<double>{0.25, 0.125}));
  // bias_int = the file's int32 bias - zp_x * sum_k q_w.
  EXPECT_EQ(ql.bias_int, (std::vector<std::int32_t>{8 - 2 * 3, -16 - 2 * -4}));
  EXPECT_EQ(ql.output_quant.scale, 0.75);
  EXPECT_EQ(ql.output_quant.zero_point, -128);
  EXPECT_EQ(ql.requant_mode, RequantMode::float_half_even);
  EXPECT_EQ(q.graph.layers[0].activation, Activation::relu);
  // The fp32 view holds the dequantized weights and bias.
  EXPECT_EQ(imp.model.graph.layers[0].weights, (std::vector<float>{0.75f, -0.5f}));
  EXPECT_EQ(imp.model.graph.layers[0].bias, (std::vector<float>{1.0f, -1.0f}));
  EXPECT_EQ(imp.output.view, OnnxView::real);

  // The integer run against the ONNX semantics computed by hand:
  // y = Q(relu(DQ(Q(x)) * w + b)), round half to even.
  Tensor x;
  x.dims = {1, 2, 2};
  x.format = NumberFormat::fp32;
  x.f = {1.0f, -2.0f, 3.5f, 0.25f};
  const Tensor xq = quantize_input(q, x);
  const ReferenceResult r = run_reference(q, xq, 0);
  const float wr[] = {0.75f, -0.5f}, br[] = {1.0f, -1.0f};
  for (int n = 0; n < 2; ++n) {
    for (int p = 0; p < 4; ++p) {
      const double xd = (xq.q[static_cast<std::size_t>(p)] - 2) * 0.5;
      const double real = std::max(0.0, xd * wr[n] + br[n]);
      const int expected = std::min(255, static_cast<int>(std::nearbyint(real / 0.75))) - 128;
      EXPECT_EQ(r.outputs[0].q[static_cast<std::size_t>(n * 4 + p)], expected) << n << " " << p;
    }
  }
}

TEST_F(OnnxImportTest, UnsupportedNodesAreAllListedInOneLine) {
  input("x", {1, 2, 4, 4});
  floats("gamma", {2}, {1, 1});
  floats("beta", {2}, {0, 0});
  floats("mean", {2}, {0, 0});
  floats("var", {2}, {1, 1});
  node("Elu", "th", {"x"}, {"s"});
  node("BatchNormalization", "lonely_bn", {"x", "gamma", "beta", "mean", "var"}, {"n"});
  node("Add", "sum", {"s", "n"}, {"a"});
  node("Selu", "", {"a"}, {"leaky_out"});
  output("leaky_out", {1, 2, 4, 4});
  // A BatchNormalization of the graph input is a per-channel scale layer
  // (onnx_import_breadth_test.cpp); the Elu and the Selu are unsupported.
  const std::string message = import_error();
  EXPECT_NE(message.find("2 unsupported nodes"), std::string::npos) << message;
  EXPECT_NE(message.find("node \"th\" (Elu)"), std::string::npos) << message;
  EXPECT_NE(message.find("node \"leaky_out\" (Selu)"), std::string::npos) << message;
  EXPECT_EQ(message.find("lonely_bn"), std::string::npos) << message;
}

TEST_F(OnnxImportTest, TruncatedFileIsAnInputError) {
  build_fp32_net();
  const std::string path = save();
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  try {
    load_onnx_model(path);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": not a valid ONNX model", 0), 0u) << e.what();
  }
  std::ofstream(path, std::ios::binary) << "\xff\xff\xff garbage";
  EXPECT_THROW(load_onnx_model(path), InputError);
  EXPECT_THROW(load_onnx_model((dir_ / "absent.onnx").string()), InputError);
}

TEST_F(OnnxImportTest, CycleIsAnInputError) {
  input("x", {1, 2});
  node("Add", "first", {"x", "b"}, {"a"});
  node("Relu", "second", {"a"}, {"b"});
  output("b", {1, 2});
  const std::string message = import_error();
  EXPECT_NE(message.find("cycle"), std::string::npos) << message;
  EXPECT_NE(message.find("node \"first\" (Add)"), std::string::npos) << message;
}

TEST_F(OnnxImportTest, MismatchedShapesAreAnInputError) {
  input("x", {1, 3, 4, 4});
  floats("w", {2, 2, 1, 1}, {1, 1, 1, 1});  // expects 2 input channels, the input has 3
  node("Conv", "conv", {"x", "w"}, {"y"});
  output("y", {1, 2, 4, 4});
  const std::string message = import_error();
  EXPECT_NE(message.find("node \"conv\" (Conv): mismatched shapes"), std::string::npos) << message;
}

TEST_F(OnnxImportTest, DeclaredOutputShapeMustMatch) {
  input("x", {1, 3, 4, 4});
  node("Relu", "relu", {"x"}, {"y"});
  output("y", {1, 3, 4, 5});
  const std::string message = import_error();
  EXPECT_NE(message.find("graph output \"y\": mismatched shapes: declared [1, 3, 4, 5]"), std::string::npos) << message;
}

TEST_F(OnnxImportTest, ZeroOrNegativeScaleIsAnInputError) {
  for (const float scale : {0.0f, -0.5f}) {
    model_.mutable_graph()->Clear();
    input("x", {1, 4});
    floats("s", {}, {scale});
    node("QuantizeLinear", "quant", {"x", "s"}, {"y"});
    output("y", {1, 4}, onnx::TensorProto_DataType_UINT8);
    const std::string message = import_error();
    EXPECT_NE(message.find("node \"quant\" (QuantizeLinear): y_scale: zero, negative"), std::string::npos) << message;
  }
}

TEST_F(OnnxImportTest, ZeroPointOutsideTheFormatIsAnInputError) {
  input("x", {1, 4});
  floats("s", {}, {0.5f});
  ints("zp", onnx::TensorProto_DataType_UINT8, {}, {300});
  node("QuantizeLinear", "quant", {"x", "s", "zp"}, {"y"});
  output("y", {1, 4}, onnx::TensorProto_DataType_UINT8);
  const std::string message = import_error();
  EXPECT_NE(message.find("y_zero_point: zero point 300 is outside the UINT8 range [0, 255]"), std::string::npos)
      << message;
}

TEST_F(OnnxImportTest, MissingInitializerIsAnInputError) {
  input("x", {1, 2, 4, 4});
  node("Conv", "conv", {"x", "weights_nobody_defined"}, {"y"});
  output("y", {1, 2, 4, 4});
  const std::string message = import_error();
  EXPECT_NE(message.find("node \"conv\" (Conv): input \"weights_nobody_defined\""), std::string::npos) << message;
  EXPECT_NE(message.find("missing initializer"), std::string::npos) << message;
}

TEST_F(OnnxImportTest, UnresolvableDynamicShapeIsAnInputError) {
  input("x", {1, 3, 4, 4});
  graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param(
      "height");
  node("Relu", "relu", {"x"}, {"y"});
  output("y", {1, 3, 4, 4});
  const std::string message = import_error();
  EXPECT_NE(message.find("graph input \"x\": dimension 2 is \"height\""), std::string::npos) << message;

  // A symbolic batch dimension is batch 1.
  graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_value(4);
  graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
  EXPECT_EQ(import_error(), "");
}

TEST_F(OnnxImportTest, SecondRuntimeInputIsAnInputError) {
  input("x", {1, 4});
  input("y", {1, 4});
  node("Add", "add", {"x", "y"}, {"z"});
  output("z", {1, 4});
  const std::string message = import_error();
  EXPECT_NE(message.find("2 runtime inputs (\"x\", \"y\")"), std::string::npos) << message;
}

// rows_as_batch: a Gemm's rows as batch-1 inferences. transA reads the rows
// as the input's columns; a matrix bias C [M, N] gives each row's model its
// own bias row.
TEST_F(OnnxImportTest, RowsAsBatchSplitsGemmRows) {
  input("a", {2, 3});  // transA: A^T is [3, 2], 3 rows of K = 2
  floats("b", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  floats("c", {3, 4}, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
  auto& gemm = node("Gemm", "fc", {"a", "b", "c"}, {"y"});
  int_attr(gemm, "transA", 1);
  float_attr(gemm, "alpha", 0.5f);
  float_attr(gemm, "beta", 2.0f);
  output("y", {3, 4});
  const std::string path = save();
  try {
    import_onnx(path);
    FAIL() << "batch 3 without rows_as_batch";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node \"fc\" (Gemm): A has 3 rows"), std::string::npos) << e.what();
  }
  OnnxImportOptions options;
  options.rows_as_batch = true;
  for (const std::int64_t row : {0, 2}) {
    options.row = row;
    const OnnxImport imp = import_onnx(path, options);
    EXPECT_EQ(imp.rows.count, 3);
    EXPECT_TRUE(imp.rows.transposed);
    EXPECT_TRUE(imp.rows.model_per_row);
    EXPECT_EQ(imp.input.shape, (Dims{2, 1}));
    EXPECT_EQ(imp.output.shape, (Dims{1, 4}));
    ASSERT_EQ(imp.model.graph.layers.size(), 1u);
    const Layer& fc = imp.model.graph.layers[0];
    EXPECT_EQ(fc.weights, (std::vector<float>{0.5f, 2.5f, 1, 3, 1.5f, 3.5f, 2, 4}));  // alpha * B^T
    const float r = static_cast<float>(row * 10);
    EXPECT_EQ(fc.bias, (std::vector<float>{2 * r, 2 * (r + 1), 2 * (r + 2), 2 * (r + 3)})) << row;  // beta * C[row]
  }
  options.row = 3;
  try {
    import_onnx(path, options);
    FAIL() << "row 3 of 3";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("row 3 is outside the input's 3 rows"), std::string::npos) << e.what();
  }
}

TEST_F(OnnxImportTest, RowsAsBatchRejectsNodesThatMixRows) {
  input("x", {3, 4});
  floats("w", {4, 2}, std::vector<float>(8, 0.25f));
  node("MatMul", "mm", {"x", "w"}, {"h"});
  node("Softmax", "soft", {"h"}, {"y"});
  output("y", {3, 2});
  OnnxImportOptions options;
  options.rows_as_batch = true;
  try {
    import_onnx(save(), options);
    FAIL() << "Softmax is not row-wise";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("rows_as_batch: node \"soft\" (Softmax) may mix the rows"), std::string::npos)
        << e.what();
  }
}

// MatMul's B of rank 3: one fc when its batch slices are equal and add no
// rows to A; a different matrix per batch is unsupported.
TEST_F(OnnxImportTest, BatchedMatMulWithEqualSlicesIsOneFc) {
  input("x", {2, 2, 3});
  std::vector<float> b = {1, 2, 3, 4, 5, 6};
  b.insert(b.end(), b.begin(), b.end());
  floats("b", {2, 3, 2}, b);
  node("MatMul", "mm", {"x", "b"}, {"y"});
  output("y", {2, 2, 2});
  OnnxImportOptions options;
  options.rows_as_batch = true;
  const OnnxImport imp = import_onnx(save(), options);
  EXPECT_EQ(imp.rows.count, 4);
  EXPECT_EQ(imp.input.shape, (Dims{1, 1, 3}));
  ASSERT_GE(imp.model.graph.layers.size(), 1u);  // the fc, then a reshape to the output's {1, 2, 1}
  EXPECT_EQ(imp.model.graph.layers[0].type, LayerType::fc);
  EXPECT_EQ(imp.model.graph.layers[0].weights, (std::vector<float>{1, 3, 5, 2, 4, 6}));

  graph().mutable_initializer(0)->set_float_data(11, 7.0f);
  try {
    import_onnx(save(), options);
    FAIL() << "B differs per batch";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("node \"mm\" (MatMul): batched MatMul: B [2, 3, 2] holds a different"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(OnnxImportTest, LayoutsOfConcatAndSoftmax) {
  // [1, 4] -> Gemm -> [1, 6] -> Reshape [1, 2, 3] -> Softmax(axis -1)
  input("x", {1, 4});
  floats("w", {4, 6}, std::vector<float>(24, 0.5f));
  ints("shape", onnx::TensorProto_DataType_INT64, {3}, {1, 2, 3});
  node("Gemm", "fc", {"x", "w"}, {"h"});
  node("Reshape", "reshape", {"h", "shape"}, {"r"});
  node("Softmax", "softmax", {"r"}, {"y"});
  output("y", {1, 2, 3});
  const LoadedModel m = load_onnx_model(save());
  // The fc output {6, 1, 1} splits into (outer 2, length 3, inner 1) along no
  // IR axis, so a reshape to {2, 3, 1} precedes the softmax over H.
  ASSERT_EQ(m.graph.layers.size(), 3u);
  EXPECT_EQ(m.graph.layers[1].type, LayerType::reshape);
  EXPECT_EQ(m.graph.layers[1].output_dims, (Dims{2, 3, 1}));
  EXPECT_EQ(m.graph.layers[2].type, LayerType::softmax);
  EXPECT_EQ(m.graph.layers[2].axis, 1);
}

}  // namespace
}  // namespace npusim
