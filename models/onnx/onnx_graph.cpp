#include "models/onnx/onnx_graph.h"

#include <algorithm>
#include <set>
#include <utility>

#include "models/bounded_read.h"
#include "models/input_error.h"
#include "models/onnx/onnx_constant_fold.h"
#include "models/onnx/onnx_proto.h"

namespace npusim {
namespace {

// All folded constants together: 2^28 elements (1 GiB of FLOAT), above a
// VGG-16's largest cast weight tensor (103 M).
constexpr std::int64_t kMaxFoldedElements = std::int64_t{1} << 28;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + quoted(names[i]);
  return text;
}

// A Constant node's value as a tensor.
OnnxTensor constant_node_value(const onnx::NodeProto& node, const std::string& file) {
  const std::string where = file + ": " + describe_node(node);
  for (const auto& a : node.attribute()) {
    OnnxTensor t;
    t.name = node.output_size() > 0 ? node.output(0) : "";
    if (a.name() == "value") {
      t = tensor_from_proto(a.t(), where + ": attribute value");
      t.name = node.output_size() > 0 ? node.output(0) : "";
      return t;
    }
    if (a.name() == "value_float") {
      t.data_type = static_cast<int>(OnnxElementType::float32);
      t.f = {a.f()};
      return t;
    }
    if (a.name() == "value_floats") {
      t.data_type = static_cast<int>(OnnxElementType::float32);
      t.dims = {a.floats_size()};
      t.f.assign(a.floats().begin(), a.floats().end());
      return t;
    }
    if (a.name() == "value_int") {
      t.data_type = static_cast<int>(OnnxElementType::int64);
      t.i = {a.i()};
      return t;
    }
    if (a.name() == "value_ints") {
      t.data_type = static_cast<int>(OnnxElementType::int64);
      t.dims = {a.ints_size()};
      t.i.assign(a.ints().begin(), a.ints().end());
      return t;
    }
  }
  throw InputError(where + ": expected a value, value_float(s) or value_int(s) attribute");
}

}  // namespace

std::string describe_node(const onnx::NodeProto& node) {
  const std::string name = !node.name().empty()     ? node.name()
                           : node.output_size() > 0 ? node.output(0)
                                                    : std::string("(unnamed)");
  return "node " + quoted(name) + " (" + node.op_type() + ")";
}

OnnxGraphView::OnnxGraphView(const onnx::GraphProto& graph, std::int64_t opset, const std::string& file,
                             const std::vector<OnnxTensor>& bound,
                             const std::map<std::string, std::vector<std::int64_t>>& input_shapes)
    : file_(file), opset_(opset) {
  // Names go into messages and the JSON report, which hold UTF-8 only
  // (protobuf does not check proto2 strings).
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    const std::string where = file + ": node " + std::to_string(i);
    require_utf8(node.name(), where + " name");
    require_utf8(node.op_type(), where + " op_type");
    for (const auto& name : node.input()) require_utf8(name, where + " input");
    for (const auto& name : node.output()) require_utf8(name, where + " output");
  }
  for (const auto& init : graph.initializer()) require_utf8(init.name(), file + ": initializer name");
  for (const auto& in : graph.input()) require_utf8(in.name(), file + ": graph input name");
  for (const auto& out : graph.output()) require_utf8(out.name(), file + ": graph output name");
  for (const auto& node : graph.node()) all_nodes_.push_back(&node);
  collect_constants(graph, bound);
  collect_io(graph, input_shapes);
  sort_from_output();
}

void OnnxGraphView::collect_constants(const onnx::GraphProto& graph, const std::vector<OnnxTensor>& bound) {
  for (int i = 0; i < graph.initializer_size(); ++i) {
    const auto& init = graph.initializer(i);
    if (init.name().empty()) throw InputError(file_ + ": initializer " + std::to_string(i) + " has no name");
    constants_[init.name()] = tensor_from_proto(init, file_ + ": initializer " + quoted(init.name()));
  }
  std::set<std::string> inputs;
  for (const auto& in : graph.input()) inputs.insert(in.name());
  for (const OnnxTensor& t : bound) {
    if (!inputs.count(t.name)) {
      throw InputError(file_ + ": constant binding " + quoted(t.name) + " names no graph input");
    }
    constants_[t.name] = t;
  }
  for (const auto* node : all_nodes_) {
    for (const auto& out : node->output()) {
      if (out.empty()) continue;
      if (producer_.count(out) || constants_.count(out)) {
        throw InputError(file_ + ": " + describe_node(*node) + ": output " + quoted(out) +
                         " is already defined by another node or an initializer");
      }
      producer_[out] = node;
    }
    if (node->op_type() == "Constant" && (node->domain().empty() || node->domain() == "ai.onnx") &&
        node->output_size() == 1) {
      constants_[node->output(0)] = constant_node_value(*node, file_);
      producer_.erase(node->output(0));
    }
  }
  // Cast / ConstantOfShape of constants are constants (torch.onnx writes them
  // around quantized layers); repeated until nothing changes, so a chain folds
  // whatever the order of the nodes in the file.
  // Only what some node or graph output reads is folded (lazy): an unused
  // ConstantOfShape costs nothing, however large it claims to be.
  std::set<std::string> consumed;
  for (const auto* node : all_nodes_) consumed.insert(node->input().begin(), node->input().end());
  for (const auto& out : graph.output()) consumed.insert(out.name());
  const auto lookup = [this](const std::string& name) { return constant(name); };
  std::int64_t folded_elements = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto* node : all_nodes_) {
      if (node->output_size() != 1 || constants_.count(node->output(0))) continue;
      if (!consumed.count(node->output(0))) continue;
      if (auto folded = fold_constant_node(*node, lookup, file_, opset_)) {
        // Each fold is bounded by its input or by ConstantOfShape's cap; the
        // sum is bounded too, so a chain of casts cannot multiply it.
        folded_elements += folded->elements();
        if (folded_elements > kMaxFoldedElements) {
          throw InputError(file_ + ": " + describe_node(*node) + ": constant folding exceeds " +
                           std::to_string(kMaxFoldedElements) + " elements (2^28) in all");
        }
        constants_[node->output(0)] = std::move(*folded);
        producer_.erase(node->output(0));
        changed = true;
      }
    }
  }
}

namespace {

std::string dims_x(const std::vector<std::int64_t>& dims) {
  std::string text;
  for (std::size_t d = 0; d < dims.size(); ++d) text += (d ? "x" : "") + std::to_string(dims[d]);
  return text;
}

// The input's static shape: `given` (--input-shape) when the caller names
// the input, checked against the file's static dimensions; else the file's,
// with a symbolic leading batch dimension taken as 1.
std::vector<std::int64_t> static_input_shape(const onnx::TensorShapeProto& shape, const std::string& where,
                                             const std::string& name,
                                             const std::map<std::string, std::vector<std::int64_t>>& given) {
  const int rank = shape.dim_size();
  const auto it = given.find(name);
  std::vector<std::int64_t> file_dims;  // 0: dynamic
  for (int d = 0; d < rank; ++d) {
    const auto& dim = shape.dim(d);
    file_dims.push_back(dim.has_dim_value() && dim.dim_value() > 0 ? dim.dim_value() : 0);
    if (dim.has_dim_value() && dim.dim_value() <= 0) {
      throw InputError(where + ": dimension " + std::to_string(d) + " is " + std::to_string(dim.dim_value()) +
                       "; expected a positive size");
    }
  }
  if (it != given.end()) {
    bool agrees = static_cast<int>(it->second.size()) == rank;
    for (int d = 0; agrees && d < rank; ++d) agrees = file_dims[d] == 0 || file_dims[d] == it->second[d];
    if (!agrees) {
      std::string file_text;
      for (int d = 0; d < rank; ++d) {
        const auto& dim = shape.dim(d);
        file_text += (d ? "x" : "") +
                     (file_dims[d] ? std::to_string(file_dims[d]) : (dim.dim_param().empty() ? "?" : dim.dim_param()));
      }
      throw InputError(where + ": --input-shape " + name + "=" + dims_x(it->second) + " does not fit the file's " +
                       file_text + " (same rank; static dimensions must agree)");
    }
    return it->second;
  }
  for (int d = 0; d < rank; ++d) {
    if (file_dims[d] != 0) continue;
    if (d == 0 && rank >= 2) {
      file_dims[0] = 1;  // a symbolic batch dimension: npusim runs batch 1
      continue;
    }
    const auto& dim = shape.dim(d);
    const std::string got = dim.dim_param().empty() ? "unknown" : quoted(dim.dim_param());
    throw InputError(where + ": dimension " + std::to_string(d) + " is " + got + "; give its size with --input-shape " +
                     name + "=D0xD1x... (only a leading batch dimension may be symbolic without it)");
  }
  return file_dims;
}

}  // namespace

void OnnxGraphView::collect_io(const onnx::GraphProto& graph,
                               const std::map<std::string, std::vector<std::int64_t>>& input_shapes) {
  for (const auto& [name, dims] : input_shapes) {
    const bool runtime_input =
        std::any_of(graph.input().begin(), graph.input().end(),
                    [&, &name = name](const auto& in) { return in.name() == name && !constants_.count(name); });
    if (!runtime_input) {
      throw InputError(file_ + ": --input-shape names " + quoted(name) + ", which is not a runtime input of the graph");
    }
  }
  std::vector<std::string> runtime;
  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& in : graph.input()) {
    if (constants_.count(in.name())) continue;
    runtime.push_back(in.name());
    input = &in;
  }
  if (runtime.empty()) throw InputError(file_ + ": the graph has no runtime input (every input is a constant)");
  if (runtime.size() > 1) {
    throw InputError(file_ + ": the graph has " + std::to_string(runtime.size()) + " runtime inputs (" +
                     join_names(runtime) + "); npusim networks have exactly one input");
  }
  input_.name = input->name();
  const std::string where = file_ + ": graph input " + quoted(input_.name);
  if (!input->type().has_tensor_type()) throw InputError(where + ": expected a tensor type");
  const auto& tensor_type = input->type().tensor_type();
  input_.data_type = tensor_type.elem_type();
  if (!tensor_type.has_shape()) throw InputError(where + ": no shape given; npusim needs static input shapes");
  input_.shape = static_input_shape(tensor_type.shape(), where, input_.name, input_shapes);

  if (graph.output_size() != 1) {
    throw InputError(file_ + ": the graph has " + std::to_string(graph.output_size()) +
                     " outputs; npusim networks have exactly one output");
  }
  const auto& out = graph.output(0);
  output_ = out.name();
  if (out.type().has_tensor_type()) {
    output_type_ = out.type().tensor_type().elem_type();
    if (out.type().tensor_type().has_shape()) {
      std::vector<std::int64_t> shape;
      bool known = true;
      for (const auto& dim : out.type().tensor_type().shape().dim()) {
        known = known && dim.has_dim_value();
        shape.push_back(dim.dim_value());
      }
      if (known) output_shape_ = shape;
    }
  }
}

void OnnxGraphView::sort_from_output() {
  if (constants_.count(output_) || output_ == input_.name) {
    // Nothing to compute; the importer adds a pass-through layer.
    consumers_[output_] = 1;
    return;
  }
  if (!producer_.count(output_)) {
    throw InputError(file_ + ": the graph output " + quoted(output_) + " is produced by no node");
  }
  enum class Mark { none, open, done };
  std::map<const onnx::NodeProto*, Mark> mark;
  // Iterative depth-first search: (node, next input to visit).
  std::vector<std::pair<const onnx::NodeProto*, int>> stack{{producer_.at(output_), 0}};
  mark[stack.back().first] = Mark::open;
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next == node->input_size()) {
      mark[node] = Mark::done;
      order_.push_back(node);
      stack.pop_back();
      continue;
    }
    const std::string& name = node->input(next++);
    if (name.empty() || name == input_.name || constants_.count(name)) continue;
    const auto it = producer_.find(name);
    if (it == producer_.end()) {
      throw InputError(file_ + ": " + describe_node(*node) + ": input " + quoted(name) +
                       " is neither a graph input, an initializer nor the output of a node (missing initializer?)");
    }
    Mark& m = mark[it->second];
    if (m == Mark::open) {
      throw InputError(file_ + ": the graph has a cycle: " + describe_node(*node) + " reads " + quoted(name) +
                       ", which depends on the node's own output");
    }
    if (m == Mark::none) {
      m = Mark::open;
      stack.emplace_back(it->second, 0);
    }
  }
  for (const auto* node : order_) {
    for (const auto& name : node->input()) {
      if (!name.empty()) ++consumers_[name];
    }
  }
  ++consumers_[output_];
}

const OnnxTensor* OnnxGraphView::constant(const std::string& name) const {
  const auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : &it->second;
}

int OnnxGraphView::consumers(const std::string& name) const {
  const auto it = consumers_.find(name);
  return it == consumers_.end() ? 0 : it->second;
}

OnnxAttributes::OnnxAttributes(const onnx::NodeProto& node, const std::string& file) : node_(node), file_(file) {}

namespace {
const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}
}  // namespace

std::string OnnxAttributes::where(const std::string& attribute) const {
  return file_ + ": " + describe_node(node_) + ": attribute " + attribute;
}

bool OnnxAttributes::has(const std::string& name) const { return find_attribute(node_, name) != nullptr; }

std::int64_t OnnxAttributes::integer(const std::string& name, std::int64_t fallback) const {
  const auto* a = find_attribute(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_INT) throw InputError(where(name) + ": expected an integer");
  return a->i();
}

float OnnxAttributes::real(const std::string& name, float fallback) const {
  const auto* a = find_attribute(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_FLOAT) throw InputError(where(name) + ": expected a float");
  return a->f();
}

std::string OnnxAttributes::text(const std::string& name, const std::string& fallback) const {
  const auto* a = find_attribute(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_STRING) throw InputError(where(name) + ": expected a string");
  return a->s();
}

std::vector<std::int64_t> OnnxAttributes::integers(const std::string& name, std::vector<std::int64_t> fallback) const {
  const auto* a = find_attribute(node_, name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto_AttributeType_INTS) {
    throw InputError(where(name) + ": expected a list of integers");
  }
  return {a->ints().begin(), a->ints().end()};
}

}  // namespace npusim
