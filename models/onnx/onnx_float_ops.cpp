#include <set>
#include <stdexcept>
#include <string>

#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_float_common.h"
#include "models/onnx/onnx_proto.h"

// FP32 ONNX ops onto IR layers: which ops, and which mapper takes each (one
// file per op family, onnx_float_common.h). docs/onnx.md documents
// each mapping.

namespace npusim {

using namespace onnx_float;  // the mappers

bool is_float_op(const std::string& op_type) {
  static const std::set<std::string> ops = {"Conv",          "Gemm",
                                            "MatMul",        "Relu",
                                            "Clip",          "MaxPool",
                                            "AveragePool",   "GlobalAveragePool",
                                            "GlobalMaxPool", "Add",
                                            "Concat",        "Flatten",
                                            "Reshape",       "BatchNormalization",
                                            "Softmax",       "Identity",
                                            "Dropout",       "Squeeze",
                                            "Unsqueeze",     "Pad",
                                            "ReduceMean",    "Sigmoid",
                                            "HardSigmoid",   "Mul",
                                            "Tanh",          "LeakyRelu",
                                            "HardSwish",     "PRelu",
                                            "LogSoftmax",    "Sub",
                                            "Div",           "ReduceSum",
                                            "ReduceMax",     "Transpose",
                                            "Split",         "Slice"};
  return ops.count(op_type) > 0;
}

void map_float_node(OnnxBuilder& b, const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  if (op == "Conv") return map_conv(b, node);
  if (op == "Gemm") return map_gemm(b, node);
  if (op == "MatMul") return map_matmul(b, node);
  if (op == "Relu") return map_relu(b, node);
  if (op == "Clip") return map_clip(b, node);
  if (op == "MaxPool") return map_pool(b, node, false, false);
  if (op == "AveragePool") return map_pool(b, node, true, false);
  if (op == "GlobalAveragePool") return map_pool(b, node, true, true);
  if (op == "GlobalMaxPool") return map_pool(b, node, false, true);
  if (op == "Add") return map_add(b, node);
  if (op == "Concat") return map_concat(b, node);
  if (op == "Softmax") return map_softmax(b, node);
  if (op == "Flatten") return map_flatten(b, node);
  if (op == "Reshape") return map_reshape(b, node);
  if (op == "BatchNormalization") return map_batchnorm(b, node);
  if (op == "Identity" || op == "Dropout") return map_identity(b, node);
  if (op == "Squeeze" || op == "Unsqueeze") return map_squeeze(b, node);
  if (op == "Pad") return map_pad(b, node);
  if (op == "ReduceMean") return map_reduce_mean(b, node);
  if (op == "Sigmoid" || op == "HardSigmoid") return map_sigmoid(b, node);
  if (op == "Mul") return map_mul(b, node);
  if (op == "Tanh" || op == "LeakyRelu" || op == "HardSwish") return map_unary_function(b, node);
  if (op == "PRelu") return map_prelu(b, node);
  if (op == "LogSoftmax") return map_softmax(b, node);
  if (op == "Sub" || op == "Div") return map_sub_div(b, node);
  if (op == "ReduceSum" || op == "ReduceMax") return map_reduce(b, node);
  if (op == "Transpose") return map_transpose(b, node);
  if (op == "Split") return map_split(b, node);
  if (op == "Slice") return map_slice(b, node);
  throw std::logic_error("map_float_node: " + op);
}

}  // namespace npusim
