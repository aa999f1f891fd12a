#include "models/onnx/onnx_import.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_builder.h"
#include "models/onnx/onnx_constant_fold.h"
#include "models/onnx/onnx_fusion.h"
#include "models/onnx/onnx_graph.h"
#include "models/onnx/onnx_model.h"
#include "models/onnx/onnx_proto.h"
#include "models/onnx/onnx_reader.h"
#include "models/onnx/onnx_shape_fold.h"

namespace npusim {
namespace {

// The newest default-domain opset whose operator semantics the importer
// knows: that of Debian's libonnx 1.12 (its backend tests are the conformance
// suite). A newer opset may have changed an operator silently.
constexpr std::int64_t kMaxKnownOpset = 17;

std::int64_t default_opset(const onnx::ModelProto& model, const std::string& path) {
  for (const auto& o : model.opset_import()) {
    if (!o.domain().empty() && o.domain() != "ai.onnx") continue;
    if (o.version() < 1 || o.version() > kMaxKnownOpset) {
      throw InputError(path + ": opset_import: default-domain opset " + std::to_string(o.version()) +
                       " is not supported (expected 1 to " + std::to_string(kMaxKnownOpset) + ", ONNX 1.12)");
    }
    return o.version();
  }
  if (model.opset_import_size() == 0) throw InputError(path + ": the model imports no opset");
  return 0;
}

bool default_domain(const onnx::NodeProto& node) { return node.domain().empty() || node.domain() == "ai.onnx"; }

bool known_op(const onnx::NodeProto& node) {
  return default_domain(node) && (node.op_type() == "Constant" || is_float_op(node.op_type()) ||
                                  is_quant_op(node.op_type()) || is_foldable_op(node.op_type()));
}

// Shape arithmetic the graph view could not fold because it starts from a
// runtime tensor's shape (Shape(x) -> Gather -> Unsqueeze -> Concat ->
// Reshape, as torch.onnx writes a flatten): Shape of a runtime value is its
// (static) shape, and a foldable node whose inputs are all constants by now
// is evaluated. Returns whether `node` was folded. Values carrying a
// DequantizeLinear's integers are left to the op mappers.
bool fold_in_builder(OnnxBuilder& b, const onnx::NodeProto& node) {
  if (!default_domain(node) || !is_foldable_op(node.op_type()) || node.output_size() != 1) return false;
  std::optional<OnnxTensor> folded;
  if (node.op_type() == "Shape" && node.input_size() == 1) {
    folded = shape_tensor(node, b.input(node, 0)->shape, b.file());
    folded->name = node.output(0);
  } else {
    const auto lookup = [&b](const std::string& name) -> const OnnxTensor* {
      const OnnxValue* v = b.find_value(name);
      return v && v->is_constant() && !v->dequantized ? v->constant.get() : nullptr;
    };
    folded = fold_constant_node(node, lookup, b.file(), b.view().opset());
  }
  if (!folded) return false;
  OnnxValue v;
  v.shape = folded->dims;
  v.data_type = folded->data_type;
  v.constant = std::make_shared<OnnxTensor>(std::move(*folded));
  b.set_output(node, 0, std::move(v));
  return true;
}

// Ops whose output has the shape of their first input (or, for the
// elementwise binary ones, of the larger input): an unsupported one gets a
// stand-in output, its input under the same shape, so that the nodes after it
// are still checked and reported, not hidden behind the first failure. The
// import fails anyway; the stand-in never reaches a graph.
bool shape_preserving(const std::string& op) {
  static const std::set<std::string> ops = {"BatchNormalization",
                                            "Sigmoid",
                                            "HardSigmoid",
                                            "HardSwish",
                                            "Relu",
                                            "LeakyRelu",
                                            "PRelu",
                                            "Tanh",
                                            "Erf",
                                            "Elu",
                                            "Selu",
                                            "Softplus",
                                            "Gelu",
                                            "Clip",
                                            "Neg",
                                            "Abs",
                                            "Exp",
                                            "Log",
                                            "Sqrt",
                                            "Reciprocal",
                                            "Softmax",
                                            "LogSoftmax",
                                            "Mul",
                                            "Add",
                                            "Sub",
                                            "Div",
                                            "Pow",
                                            "Dropout",
                                            "Identity",
                                            "Cast",
                                            "LRN",
                                            "InstanceNormalization",
                                            "LayerNormalization",
                                            "QuantizeLinear",
                                            "DequantizeLinear"};
  return ops.count(op) > 0;
}

// Gives the outputs of a node that could not be mapped a stand-in when its
// op keeps the shape, else marks them poisoned (their readers are skipped).
void stand_in_or_poison(OnnxBuilder& b, const onnx::NodeProto& node) {
  if (shape_preserving(node.op_type()) && node.output_size() >= 1) {
    const OnnxValue* larger = nullptr;
    for (int k = 0; k < std::min(node.input_size(), 2); ++k) {
      const OnnxValue* v = b.has_input(node, k) ? b.find_value(node.input(k)) : nullptr;
      if (v && !v->is_constant() && (!larger || element_count(v->shape) > element_count(larger->shape))) larger = v;
    }
    if (larger) {
      OnnxValue out = *larger;
      out.direct_layer = -1;
      out.pad.reset();
      b.set_output(node, 0, std::move(out));
      return;
    }
  }
  b.poison_outputs(node);
}

// Maps every node the output depends on; collects what the IR cannot
// represent, for every node, before failing.
void map_nodes(OnnxBuilder& b, const OnnxGraphView& view) {
  std::vector<std::string> unsupported;
  const OnnxFusions fusions = find_fusions(view);
  for (const auto* node : view.all_nodes()) {
    if (!known_op(*node) && !fusions.covered.count(node)) {
      unsupported.push_back(describe_node(*node) +
                            (node->domain().empty() ? "" : " in domain \"" + node->domain() + "\""));
    }
  }
  for (const auto* node : view.order()) {
    if (b.is_poisoned(*node)) {
      b.poison_outputs(*node);
      continue;
    }
    if (const auto fused = fusions.anchors.find(node); fused != fusions.anchors.end()) {
      if (!b.find_value(fused->second.input)) {  // behind a node that could not be mapped
        b.poison_outputs(*node);
        continue;
      }
      try {
        map_fused_gelu(b, *node, fused->second);
      } catch (const OnnxUnsupported& e) {
        unsupported.push_back(describe_node(*node) + ": " + e.what());
        b.poison_outputs(*node);
      }
      continue;
    }
    if (fusions.covered.count(node)) continue;  // an inner node of a fused pattern
    if (!known_op(*node)) {
      stand_in_or_poison(b, *node);
      continue;
    }
    try {
      if (fold_in_builder(b, *node)) continue;
      if (is_float_op(node->op_type()))
        map_float_node(b, *node);
      else if (is_quant_op(node->op_type()))
        map_quant_node(b, *node);
      else
        throw OnnxUnsupported("only of constants (folded at import); this input is computed at run time");
    } catch (const OnnxUnsupported& e) {
      unsupported.push_back(describe_node(*node) + ": " + e.what());
      stand_in_or_poison(b, *node);
    }
  }
  if (unsupported.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < unsupported.size(); ++i) list += (i ? "; " : "") + unsupported[i];
  throw InputError(view.file() + ": " + std::to_string(unsupported.size()) + " unsupported node" +
                   (unsupported.size() == 1 ? "" : "s") + ": " + list);
}

// The graph output must be the last layer's output, and the graph needs at
// least one layer: a pass-through reshape when the output is an earlier
// tensor (or the input itself).
const OnnxValue& finish_output(OnnxBuilder& b, const OnnxGraphView& view) {
  const OnnxValue* out = b.find_value(view.output_name());
  if (!out) throw InputError(view.file() + ": graph output \"" + view.output_name() + "\" is not computed");
  if (out->is_constant()) {
    throw InputError(view.file() + ": graph output \"" + view.output_name() +
                     "\" is a constant; npusim needs it computed from the graph input");
  }
  if (const auto& declared = view.declared_output_shape(); declared && *declared != out->shape) {
    throw InputError(view.file() + ": graph output \"" + view.output_name() + "\": mismatched shapes: declared " +
                     dims_text(*declared) + ", the nodes compute " + dims_text(out->shape));
  }
  const auto& layers = b.graph().layers;
  const int producer = b.tensors()[static_cast<std::size_t>(out->tensor)].layer;
  const bool last = !layers.empty() && producer == static_cast<int>(layers.size()) - 1;
  const OnnxDims canonical = canonical_dims(out->shape);
  if (out->view == OnnxView::accumulator) {
    if (!last) throw InputError(view.file() + ": the int32 accumulator output must be the graph's last layer");
    return *out;
  }
  if (last && b.tensors()[static_cast<std::size_t>(out->tensor)].dims == canonical) return *out;
  Layer layer;
  layer.name = view.output_name();
  layer.type = LayerType::reshape;
  layer.inputs = {b.tensors()[static_cast<std::size_t>(out->tensor)].name};
  layer.output_dims = canonical;
  OnnxValue v = *out;
  v.tensor = b.add_layer(std::move(layer));
  v.direct_layer = -1;
  b.set_value(view.output_name(), std::move(v));
  return *b.find_value(view.output_name());
}

bool carries_quantization(OnnxBuilder& b) {
  for (const auto& t : b.tensors()) {
    if (t.quant) return true;
  }
  for (const auto& lq : b.layer_quant()) {
    if (lq) return true;
  }
  return false;
}

// Whether the file holds the tensor behind `v` as UINT8: its own type, or for
// the real view (a DequantizeLinear output) the type the file quantized it to.
bool file_uint8(const OnnxValue& v, const OnnxIrTensor& t) {
  constexpr int kUint8 = static_cast<int>(OnnxElementType::uint8);
  return v.view == OnnxView::real && t.quant_type != 0 ? t.quant_type == kUint8 : v.data_type == kUint8;
}

OnnxTensorInfo info_of(const std::string& name, const OnnxValue& v, const OnnxIrTensor& t) {
  OnnxTensorInfo info;
  info.name = name;
  info.data_type = v.data_type;
  info.shape = v.shape;
  info.view = v.view;
  if (t.quant) {
    const bool uint8 = file_uint8(v, t);
    info.scale = t.quant->scale;
    info.zero_point = t.quant->zero_point + (uint8 ? 128 : 0);
  }
  return info;
}

}  // namespace

OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options) {
  onnx::ModelProto model;
  read_model_proto(path, model);
  std::vector<OnnxTensor> bound;
  for (const auto& file : options.constant_input_files) bound.push_back(read_onnx_tensor_file(file));
  bound.insert(bound.end(), options.constant_inputs.begin(), options.constant_inputs.end());
  OnnxGraphView view(model.graph(), default_opset(model, path), path, bound, options.input_shapes);
  if (options.rows_as_batch)
    view.split_rows(options.row);
  else if (options.row != 0)
    throw InputError(path + ": row " + std::to_string(options.row) + " given without rows_as_batch");
  OnnxBuilder b(view);
  map_nodes(b, view);
  const OnnxValue& out = finish_output(b, view);

  OnnxImport result;
  Graph& graph = b.graph();
  graph.name = !model.graph().name().empty() ? model.graph().name() : std::filesystem::path(path).stem().string();
  const bool integer_input = b.find_value(view.input().name)->view == OnnxView::integer;
  if (integer_input && !b.tensors()[0].quant) {
    // Integers without a scale: the values themselves (scale 1).
    const bool uint8 = view.input().data_type == static_cast<int>(OnnxElementType::uint8);
    b.tensors()[0].quant = OnnxQuant{1.0, uint8 ? -128 : 0};
  }
  if (carries_quantization(b)) result.model.quantized = build_file_quantized_graph(b);
  result.input = info_of(view.input().name, *b.find_value(view.input().name), b.tensors()[0]);
  result.output = info_of(view.output_name(), out, b.tensors()[static_cast<std::size_t>(out.tensor)]);
  result.rows = {view.row_batch().rows, view.row_batch().transposed, view.row_batch().model_per_row};
  if (result.model.quantized) {
    // Tensors whose quantization was inherited: read it from the graph.
    const auto& qg = *result.model.quantized;
    const int layer = b.tensors()[static_cast<std::size_t>(out.tensor)].layer;
    const QuantParams& q = layer >= 0 ? qg.layers[static_cast<std::size_t>(layer)].output_quant : qg.input_quant;
    const bool uint8 = file_uint8(out, b.tensors()[static_cast<std::size_t>(out.tensor)]);
    result.output.scale = q.scale;
    result.output.zero_point = q.zero_point + (uint8 ? 128 : 0);
  }
  result.model.graph = std::move(graph);
  return result;
}

LoadedModel load_onnx_model(const std::string& path) { return import_onnx(path).model; }

}  // namespace npusim
