// The ONNX graph as the importer walks it: constants (initializers, Constant
// nodes, inputs bound as constants), the one runtime input, the one output,
// and the nodes the output depends on in topological order. Internal to the
// ONNX importer (models/onnx_*.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/onnx/onnx_reader.h"

namespace onnx {
class GraphProto;
class NodeProto;
class TensorShapeProto;
class ValueInfoProto;
}  // namespace onnx

namespace npusim {

// "node \"conv1\" (Conv)"; an unnamed node is named by its first output.
std::string describe_node(const onnx::NodeProto& node);

struct OnnxGraphInput {
  std::string name;
  int data_type = 0;
  std::vector<std::int64_t> shape;  // static; a symbolic batch dimension resolved to 1
};

// OnnxImportOptions::rows_as_batch: the runtime input's rows taken as
// independent batch-1 inferences (models/onnx/onnx_rows.cpp).
struct OnnxRowBatch {
  std::int64_t rows = 1;                 // rows of the file's input; 1 when not split
  bool transposed = false;               // the rows are the input's columns (a Gemm's transA)
  std::int64_t row = 0;                  // the row this import is for (a Gemm's per-row bias C)
  bool model_per_row = false;            // some Gemm has a per-row bias: the model depends on `row`
  std::vector<std::int64_t> file_shape;  // the file's input shape, before the split
};

class OnnxGraphView {
 public:
  // `bound` are graph inputs given as constants (OnnxImportOptions). Throws
  // InputError for a missing input or initializer, a cycle, a second runtime
  // input or output, or a dynamic shape that cannot be resolved.
  // `input_shapes` (OnnxImportOptions::input_shapes) fix the runtime
  // input's dynamic dimensions.
  OnnxGraphView(const onnx::GraphProto& graph, std::int64_t opset, const std::string& file,
                const std::vector<OnnxTensor>& bound,
                const std::map<std::string, std::vector<std::int64_t>>& input_shapes = {});

  // Takes the input's rows as the batch (OnnxImportOptions::rows_as_batch):
  // the input becomes one row and the declared output one row; `row` picks
  // the row of a per-row Gemm bias. Throws InputError when a node may mix
  // rows, or `row` is out of range.
  void split_rows(std::int64_t row);
  const OnnxRowBatch& row_batch() const { return rows_; }

  const std::string& file() const { return file_; }
  std::int64_t opset() const { return opset_; }
  const OnnxGraphInput& input() const { return input_; }
  const std::string& output_name() const { return output_; }
  // Declared shape of the graph output, when fully static.
  const std::optional<std::vector<std::int64_t>>& declared_output_shape() const { return output_shape_; }
  int declared_output_type() const { return output_type_; }
  // Nodes the output depends on, producers before consumers.
  const std::vector<const onnx::NodeProto*>& order() const { return order_; }
  // Every node of the graph, in file order.
  const std::vector<const onnx::NodeProto*>& all_nodes() const { return all_nodes_; }

  const OnnxTensor* constant(const std::string& name) const;
  // How many nodes in order() read `name` (plus one when it is the graph output).
  int consumers(const std::string& name) const;

 private:
  void collect_constants(const onnx::GraphProto& graph, const std::vector<OnnxTensor>& bound);
  void collect_io(const onnx::GraphProto& graph, const std::map<std::string, std::vector<std::int64_t>>& input_shapes);
  void sort_from_output();

  std::string file_;
  std::int64_t opset_ = 0;
  OnnxGraphInput input_;
  std::string output_;
  std::optional<std::vector<std::int64_t>> output_shape_;
  int output_type_ = 0;
  std::vector<const onnx::NodeProto*> all_nodes_;
  std::vector<const onnx::NodeProto*> order_;
  std::map<std::string, OnnxTensor> constants_;
  std::map<std::string, const onnx::NodeProto*> producer_;
  std::map<std::string, int> consumers_;
  OnnxRowBatch rows_;
};

// Attribute access with the node named in every error.
class OnnxAttributes {
 public:
  OnnxAttributes(const onnx::NodeProto& node, const std::string& file);
  bool has(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback) const;
  float real(const std::string& name, float fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  std::vector<std::int64_t> integers(const std::string& name, std::vector<std::int64_t> fallback) const;
  // "<file>: node \"x\" (Conv): attribute pads: " for messages.
  std::string where(const std::string& attribute) const;

 private:
  const onnx::NodeProto& node_;
  std::string file_;
};

}  // namespace npusim
