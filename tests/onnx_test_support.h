// ONNX test support: a fixture that builds a ModelProto in code and saves it
// to a temp file, and the int32 sums a ConvInteger / MatMulInteger output
// holds, computed from the simulated array.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "accel/array/gemm_engine.h"
#include "models/input_error.h"
#include "models/onnx/onnx_import.h"
#include "models/onnx/onnx_proto.h"
#include "models/quant/quantized_graph.h"
#include "sim/mapper/lowering.h"
#include "tests/temp_dir_test_support.h"

namespace npusim::testing {

class OnnxModelTest : public TempDirTest {
 protected:
  using Dims = std::vector<std::int64_t>;

  OnnxModelTest() {
    model_.set_ir_version(8);
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    model_.mutable_graph()->set_name("g");
  }

  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  void io(onnx::ValueInfoProto* v, const std::string& name, const Dims& shape, int type = 1) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(type);
    for (const auto d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void input(const std::string& name, const Dims& shape, int type = 1) { io(graph().add_input(), name, shape, type); }
  void output(const std::string& name, const Dims& shape, int type = 1) { io(graph().add_output(), name, shape, type); }

  void floats(const std::string& name, const Dims& dims, const std::vector<float>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (const auto d : dims) t->add_dims(d);
    for (const float v : values) t->add_float_data(v);
  }
  void ints(const std::string& name, int type, const Dims& dims, const std::vector<std::int64_t>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (const auto d : dims) t->add_dims(d);
    for (const auto v : values) {
      if (type == onnx::TensorProto_DataType_INT64)
        t->add_int64_data(v);
      else
        t->add_int32_data(static_cast<std::int32_t>(v));
    }
  }

  onnx::NodeProto& node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  static void ints_attr(onnx::NodeProto& n, const std::string& name, const Dims& values) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (const auto v : values) a->add_ints(v);
  }
  static void int_attr(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(value);
  }
  static void float_attr(onnx::NodeProto& n, const std::string& name, float value) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    a->set_f(value);
  }

  std::string save() {
    const std::string path = (dir_ / "model.onnx").string();
    std::ofstream out(path, std::ios::binary);
    model_.SerializeToOstream(&out);
    return path;
  }

  // The InputError message of importing the model, or "" when it imports.
  std::string import_error() {
    const std::string path = save();
    try {
      load_onnx_model(path);
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
      EXPECT_EQ(message.rfind(path, 0), 0u) << "names the file: " << message;
      return message;
    }
    return "";
  }

  onnx::ModelProto model_;
};

// The int32 sums a ConvInteger / MatMulInteger outputs (layer `layer_index`
// of `qg`, input `in`): the simulated array's accumulators plus bias_int
// minus the weight zero-point row-sum term, i.e. what the post-processing
// unit requantizes.
inline std::vector<std::int64_t> accumulator_sums(const QuantizedGraph& qg, std::size_t layer_index, const Tensor& in,
                                                  GemmEngine& engine) {
  const Layer& layer = qg.graph.layers[layer_index];
  const QuantizedLayer& ql = qg.layers[layer_index];
  const std::int64_t channels = layer.output_dims[0];
  const std::int64_t pixels = layer.output_dims[1] * layer.output_dims[2];
  std::vector<std::int32_t> acc(static_cast<std::size_t>(channels * pixels));
  std::vector<float> unused;
  std::vector<std::int64_t> row_sums(static_cast<std::size_t>(channels * pixels));
  const std::int64_t groups = layer.type == LayerType::conv2d ? layer.conv.groups : 1;
  for (std::int64_t g = 0; g < groups; ++g) {
    const LoweredGemm gemm =
        layer.type == LayerType::conv2d ? lower_conv2d_group(layer.conv, in, ql.weights, g) : lower_fc(in, ql.weights);
    const GemmRun run = engine.run(gemm.operands());
    scatter_gemm_output(run.output, gemm.shape, g * gemm.shape.n, acc, unused);
    for (std::int64_t m = 0; m < gemm.shape.m; ++m) {
      std::int64_t sum = 0;
      for (std::int64_t k = 0; k < gemm.shape.k; ++k) sum += gemm.a_int[static_cast<std::size_t>(m * gemm.shape.k + k)];
      for (std::int64_t n = 0; n < gemm.shape.n; ++n) {
        row_sums[static_cast<std::size_t>((g * gemm.shape.n + n) * pixels + m)] = sum;
      }
    }
  }
  std::vector<std::int64_t> sums(acc.size());
  for (std::int64_t n = 0; n < channels; ++n) {
    const std::int64_t bias = ql.bias_int.empty() ? 0 : ql.bias_int[static_cast<std::size_t>(n)];
    const std::int64_t zp_w = ql.weights.quant.zero_point_of(static_cast<std::size_t>(n));
    for (std::int64_t p = 0; p < pixels; ++p) {
      const auto i = static_cast<std::size_t>(n * pixels + p);
      sums[i] = std::int64_t{acc[i]} + bias - zp_w * row_sums[i];
    }
  }
  return sums;
}

}  // namespace npusim::testing
