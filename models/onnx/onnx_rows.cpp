#include <set>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_graph.h"
#include "models/onnx/onnx_proto.h"

// OnnxImportOptions::rows_as_batch. A matrix input's rows are independent
// inferences only when no node mixes them: Gemm/MatMul-like nodes compute each
// output row from one input row and a constant matrix, and element-wise nodes
// keep the rows apart. Every node the output depends on must be one of those;
// then the input is imported as one row and the caller runs the rows one by one.

namespace npusim {
namespace {

// Ops that compute row r of their output from row r of their input alone.
const std::set<std::string> kRowWiseOps = {"Gemm",           "MatMul",           "QLinearMatMul", "MatMulInteger",
                                           "QuantizeLinear", "DequantizeLinear", "Relu",          "Clip",
                                           "Identity",       "Dropout"};

std::string row_wise_list() {
  std::string text;
  for (const auto& op : kRowWiseOps) text += (text.empty() ? "" : ", ") + op;
  return text;
}

std::int64_t leading_product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::size_t d = 0; d + 1 < shape.size(); ++d) n *= shape[d];
  return n;
}

bool is_gemm_with_trans_a(const onnx::NodeProto& node, const std::string& file) {
  return node.op_type() == "Gemm" && OnnxAttributes(node, file).integer("transA", 0) != 0;
}

}  // namespace

void OnnxGraphView::split_rows(std::int64_t row) {
  const std::string where = file_ + ": rows_as_batch: ";
  rows_.file_shape = input_.shape;
  bool transposed = false;
  for (const auto* node : order_) {
    const bool default_domain = node->domain().empty() || node->domain() == "ai.onnx";
    if (!default_domain || !kRowWiseOps.count(node->op_type())) {
      throw InputError(where + describe_node(*node) +
                       " may mix the rows of the input (row-wise ops: " + row_wise_list() + ")");
    }
    if (!is_gemm_with_trans_a(*node, file_)) continue;
    // transA: the rows of op(A) are the columns of A, which only the input
    // itself can give (the caller transposes the data).
    if (node->input_size() < 1 || node->input(0) != input_.name || consumers(input_.name) != 1) {
      throw InputError(where + describe_node(*node) + ": transA needs A to be the graph input, read by this node only");
    }
    transposed = true;
  }
  const auto& shape = input_.shape;
  if (shape.size() < 2) {
    if (row != 0) throw InputError(where + "row " + std::to_string(row) + " of a one-row input");
    return;
  }
  const std::int64_t rows = transposed ? shape[1] : leading_product(shape);
  if (row < 0 || row >= rows) {
    throw InputError(where + "row " + std::to_string(row) + " is outside the input's " + std::to_string(rows) +
                     " rows");
  }
  rows_.rows = rows;
  rows_.transposed = transposed;
  rows_.row = row;
  if (rows == 1) return;
  for (const auto* node : order_) {
    if (node->op_type() != "Gemm" || node->input_size() < 3) continue;
    const OnnxTensor* c = constant(node->input(2));
    if (c && c->dims.size() == 2 && c->dims[0] > 1) rows_.model_per_row = true;
  }
  if (output_shape_) {
    auto& out = *output_shape_;
    if (out.size() < 2 || leading_product(out) != rows) {
      throw InputError(where + "graph output \"" + output_ + "\": declared shape " + dims_text(out) +
                       " does not keep the input's " + std::to_string(rows) + " rows");
    }
    for (std::size_t d = 0; d + 1 < out.size(); ++d) out[d] = 1;
  }
  if (transposed) {
    input_.shape = {shape[0], 1};
  } else {
    for (std::size_t d = 0; d + 1 < shape.size(); ++d) input_.shape[d] = 1;
  }
}

}  // namespace npusim
