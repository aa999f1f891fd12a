#include "models/onnx/onnx_builder.h"

#include <utility>

#include "models/input_error.h"
#include "models/onnx/onnx_proto.h"

namespace npusim {

bool operator==(const OnnxQuant& a, const OnnxQuant& b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

OnnxDims canonical_dims(const OnnxDims& shape) {
  OnnxDims d = shape;
  if (d.size() >= 2 && d[0] == 1) d.erase(d.begin());
  while (d.size() > 3) {
    d[1] *= d[0];
    d.erase(d.begin());
  }
  while (d.size() < 3) d.push_back(1);
  return d;
}

std::int64_t element_count(const OnnxDims& dims) {
  std::int64_t n = 1;
  for (const auto d : dims) n *= d;
  return n;
}

std::string dims_text(const OnnxDims& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

OnnxBuilder::OnnxBuilder(const OnnxGraphView& view) : view_(view) {
  const OnnxGraphInput& in = view.input();
  graph_.input_name = in.name;
  graph_.input_dims = canonical_dims(in.shape);
  used_names_[in.name] = 1;
  tensors_.push_back(OnnxIrTensor{in.name, graph_.input_dims, -1, std::nullopt, {}, 0});
  OnnxValue v;
  v.tensor = 0;
  v.shape = in.shape;
  v.data_type = in.data_type;
  const bool integer = in.data_type == static_cast<int>(OnnxElementType::uint8) ||
                       in.data_type == static_cast<int>(OnnxElementType::int8);
  if (!integer && in.data_type != static_cast<int>(OnnxElementType::float32)) {
    throw InputError(view.file() + ": graph input \"" + in.name + "\": element type " + onnx_type_name(in.data_type) +
                     " is not supported (expected FLOAT, UINT8 or INT8)");
  }
  v.view = integer ? OnnxView::integer : OnnxView::real;
  values_[in.name] = std::move(v);
}

std::string OnnxBuilder::where(const onnx::NodeProto& node) const { return file() + ": " + describe_node(node) + ": "; }

bool OnnxBuilder::has_input(const onnx::NodeProto& node, int index) const {
  return index >= 0 && index < node.input_size() && !node.input(index).empty();
}

const OnnxValue* OnnxBuilder::find_value(const std::string& name) const {
  const auto it = values_.find(name);
  if (it != values_.end()) return &it->second;
  if (const OnnxTensor* c = view_.constant(name)) {
    // Constants enter the value table on first use.
    OnnxValue v;
    v.constant = std::make_shared<OnnxTensor>(*c);
    v.shape = c->dims;
    v.data_type = c->data_type;
    auto& values = const_cast<std::map<std::string, OnnxValue>&>(values_);
    return &values.emplace(name, std::move(v)).first->second;
  }
  return nullptr;
}

const OnnxValue* OnnxBuilder::input(const onnx::NodeProto& node, int index, bool required) const {
  if (!has_input(node, index)) {
    if (required) throw InputError(where(node) + "input " + std::to_string(index) + " is required");
    return nullptr;
  }
  const OnnxValue* v = find_value(node.input(index));
  if (!v) throw InputError(where(node) + "input \"" + node.input(index) + "\" is not defined");
  return v;
}

const OnnxValue& OnnxBuilder::runtime_input(const onnx::NodeProto& node, int index, bool allow_pad) const {
  const OnnxValue& v = *input(node, index);
  if (v.is_constant()) {
    throw OnnxUnsupported("input " + std::to_string(index) + " (\"" + node.input(index) +
                          "\") is a constant; npusim needs it computed from the graph input");
  }
  if (v.pad && !allow_pad) {
    throw OnnxUnsupported("reads the output of " + v.pad->node +
                          ", whose zero padding npusim folds only into a Conv that reads it");
  }
  return v;
}

const OnnxTensor& OnnxBuilder::constant_input(const onnx::NodeProto& node, int index, const std::string& what) const {
  const OnnxValue& v = *input(node, index);
  if (!v.is_constant()) {
    throw OnnxUnsupported(what + " (input " + std::to_string(index) + ", \"" + node.input(index) +
                          "\") must be a constant (an initializer)");
  }
  return *v.constant;
}

void OnnxBuilder::set_output(const onnx::NodeProto& node, int index, OnnxValue value) {
  if (index >= node.output_size() || node.output(index).empty()) return;
  values_[node.output(index)] = std::move(value);
}

void OnnxBuilder::set_value(const std::string& name, OnnxValue value) { values_[name] = std::move(value); }

bool OnnxBuilder::is_poisoned(const onnx::NodeProto& node) const {
  for (const auto& name : node.input()) {
    if (poisoned_.count(name)) return true;
  }
  return false;
}

void OnnxBuilder::poison_outputs(const onnx::NodeProto& node) {
  for (const auto& name : node.output()) poisoned_[name] = true;
}

std::string OnnxBuilder::layer_name(const onnx::NodeProto& node) const {
  return !node.name().empty() ? node.name() : node.output_size() > 0 ? node.output(0) : node.op_type();
}

int OnnxBuilder::add_layer(Layer layer) {
  std::string name = layer.name.empty() ? "layer" : layer.name;
  if (used_names_.count(name)) {
    int& n = used_names_[name];
    std::string candidate;
    do {
      candidate = name + "_" + std::to_string(n++);
    } while (used_names_.count(candidate));
    name = candidate;
  }
  used_names_[name] = 1;
  layer.name = name;
  tensors_.push_back(
      OnnxIrTensor{name, layer.output_dims, static_cast<int>(graph_.layers.size()), std::nullopt, {}, 0});
  graph_.layers.push_back(std::move(layer));
  layer_quant_.emplace_back();
  return static_cast<int>(tensors_.size()) - 1;
}

int OnnxBuilder::with_dims(const OnnxValue& value, const OnnxDims& dims) {
  const OnnxIrTensor& t = tensors_.at(static_cast<std::size_t>(value.tensor));
  if (t.dims == dims) return value.tensor;
  if (element_count(t.dims) != element_count(dims)) {
    throw std::logic_error("onnx import: reshape of " + t.name + " " + dims_text(t.dims) + " to " + dims_text(dims) +
                           " changes the element count");
  }
  Layer layer;
  layer.name = t.name + "_reshape";
  layer.type = LayerType::reshape;
  layer.inputs = {t.name};
  layer.output_dims = dims;
  return add_layer(std::move(layer));
}

OnnxValue OnnxBuilder::layer_value(int tensor, OnnxDims shape, int data_type, OnnxView view, bool direct) const {
  OnnxValue v;
  v.tensor = tensor;
  v.shape = std::move(shape);
  v.data_type = data_type;
  v.view = view;
  v.direct_layer = direct ? tensors_.at(static_cast<std::size_t>(tensor)).layer : -1;
  return v;
}

void OnnxBuilder::set_quant(int tensor, const OnnxQuant& quant, const std::string& where, int data_type) {
  OnnxIrTensor& t = tensors_.at(static_cast<std::size_t>(tensor));
  if (t.quant_type == 0) t.quant_type = data_type;
  if (!t.quant) {
    t.quant = quant;
    t.quant_source = where;
    return;
  }
  if (!(*t.quant == quant)) {
    throw InputError(where + ": quantization (scale " + std::to_string(quant.scale) + ", zero point " +
                     std::to_string(quant.zero_point) + " in int8 terms) differs from the one " + t.quant_source +
                     " gives the same tensor (scale " + std::to_string(t.quant->scale) + ", zero point " +
                     std::to_string(t.quant->zero_point) + "); npusim keeps one quantization per tensor");
  }
}

}  // namespace npusim
